"""One writer per results folder.

`DIR/.fem-assb.lock` is created exclusively (O_CREAT | O_EXCL: atomic on local and network
filesystems, no flock needed) and holds the writer's host, PID, the PID's start time and the
command. A second writer finds it and stops with one line naming the folder and the holder. A
lock left by a process that no longer exists on this host (killed, crashed) is stale and taken
over; a lock from another host is respected (its process cannot be checked from here).
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

from fem_assb.errors import InputError
from fem_assb.lifeline import start_time

NAME = ".fem-assb.lock"


class FolderBusy(InputError):
    """Another live process writes into the folder."""


def _alive(holder: dict) -> bool:
    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: assume it is running
    return start_time(int(holder.get("pid", 0))) == holder.get("start")


class FolderLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / NAME
        self.held = False

    def acquire(self) -> None:
        """Take the lock or raise InputError naming the holder."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{self.path.parent}: cannot be created: {e.strerror}") from None
        me = {"host": socket.gethostname(), "pid": os.getpid(), "start": start_time(os.getpid()),
              "since": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv[1:])[:200]}
        for _ in range(2):  # a stale lock is removed once, then the exclusive create decides
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except PermissionError as e:
                raise InputError(f"{self.path.parent}: cannot be written: {e.strerror}") from None
            except FileExistsError:
                holder = self.holder()
                fresh = holder is None and time.time() - self.path.stat().st_mtime < 10.0  # still being written
                if fresh or (holder is not None and _alive(holder)):
                    holder = holder or {}
                    raise FolderBusy(f"{self.path.parent}: in use by {holder.get('command', '?')!r} (pid "
                                     f"{holder.get('pid')} on {holder.get('host')} since {holder.get('since')}); "
                                     "wait for it, or give another folder") from None
                self.path.unlink(missing_ok=True)  # stale: its writer is gone
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self.held = True
            return
        raise FolderBusy(f"{self.path.parent}: another process took the folder at the same moment; try again")

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # being written, or unreadable

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def locked(folder: Path, comm):
    """A context manager holding the folder's lock on rank 0 for all ranks of `comm` (a refusal
    raises FolderBusy, or InputError for an unwritable folder, on every rank)."""
    from contextlib import contextmanager

    @contextmanager
    def manager():
        lock = FolderLock(folder)
        err = None
        if comm.rank == 0:
            try:
                lock.acquire()
            except InputError as e:
                err = (type(e).__name__, str(e))
        err = comm.bcast(err, root=0)
        if err:
            raise (FolderBusy if err[0] == "FolderBusy" else InputError)(err[1])
        try:
            yield lock
        finally:  # no collective here: an exception on one rank must not hang the others
            if comm.rank == 0:
                lock.release()

    return manager()
