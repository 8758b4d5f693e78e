"""MPI helpers: the communicator, rank-0 output and collective reductions."""
from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD


def is_root(c: MPI.Comm = comm) -> bool:
    return c.rank == 0


def log(*args, c: MPI.Comm = comm, **kwargs) -> None:
    """Print on rank 0 only (progress and summaries)."""
    if c.rank == 0:
        print(*args, **kwargs, flush=True)


def progress_logger(c: MPI.Comm, name: str):
    """A log function for progress lines of one run on `c`: printed by c's rank 0, prefixed with
    [name] when `c` is one of several rank groups (sweep --group-size), so every group reports."""
    prefix = f"[{name}] " if c.size < comm.size else ""
    return lambda msg: log(prefix + msg, c=c)


def warn(msg: str, c: MPI.Comm = comm) -> None:
    """A one-line warning on rank 0's stderr."""
    if c.rank == 0:
        print(f"fem-assb: warning: {msg}", file=sys.stderr, flush=True)


def allsum(x, c: MPI.Comm):
    """Sum a scalar or array over the ranks of `c` (no default: a collective on the wrong
    communicator deadlocks rank groups that run different cases)."""
    if np.isscalar(x):
        return c.allreduce(x, op=MPI.SUM)
    a = np.ascontiguousarray(x)
    out = np.empty_like(a)
    c.Allreduce(a, out, op=MPI.SUM)
    return out


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MiB (Linux ru_maxrss is in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
