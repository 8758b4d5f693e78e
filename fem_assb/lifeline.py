"""End the computation with the process the user or the scheduler started.

`./fem-assb` execs podman (or mpirun), so its PID is the one a scheduler signals. SIGTERM reaches
the ranks through podman and mpirun; SIGKILL (Slurm's time limit after its grace period,
`kill -9`) cannot be forwarded, and the container and its ranks would go on computing and
writing results. So the host entry exports its PID as FEM_ASSB_PARENT, and every process of the
run watches it (containers share the host's PID numbering): when it is gone — or its start time
changed, so a reused PID does not count — the process ends at once with exit code 137, like the
killed parent. Results are written atomically and checkpoints are complete files, so nothing
half-written remains that looks finished.
"""
from __future__ import annotations

import os
import threading
import time

PERIOD_S = 0.5


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat, field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def watch(pid: int | None = None, period: float = PERIOD_S) -> bool:
    """Watch `pid` (default FEM_ASSB_PARENT) from a daemon thread; False if there is nothing to watch."""
    pid = pid or int(os.environ.get("FEM_ASSB_PARENT", "0") or 0)
    if pid <= 1 or pid == os.getpid():
        return False
    born = start_time(pid)
    if born is None:  # not visible (another PID namespace) or already gone: nothing to watch
        return False

    def loop():
        while True:
            time.sleep(period)
            if start_time(pid) != born:
                os._exit(137)

    threading.Thread(target=loop, name="fem-assb-lifeline", daemon=True).start()
    return True
