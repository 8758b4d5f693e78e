"""How to start an MPI job from Python with the MPI at hand — Open MPI's mpirun or MPICH's Hydra
mpiexec — without initialising MPI in the starting process (a singleton's environment would leak
into the job)."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

#: environment variables by which a launcher tells a process it is one rank of a job
LAUNCHER_PREFIXES = ("OMPI_", "PMIX_", "PRTE_", "PMI_", "HYDI_", "HYDRA_", "MPI_LOCALNRANKS", "MPI_LOCALRANKID")
#: Open MPI settings of the user's (the host entry sets them), not of a running job
USER_SETTINGS = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "OMPI_MCA_smsc", "OMPI_MCA_btl")


@functools.lru_cache(maxsize=1)
def _launcher() -> tuple[str, bool]:
    """(path of mpirun, whether it is Open MPI's): the one next to this Python first (a virtual
    environment's MPICH wheel), then PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpirun")
    path = here if os.access(here, os.X_OK) else shutil.which("mpirun") or shutil.which("mpiexec")
    if path is None:
        from fem_assb.errors import InputError

        raise InputError("no mpirun or mpiexec found next to this Python or on PATH: install an MPI launcher")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return path, "Open MPI" in version or "Open RTE" in version or "prterun" in version


def mpirun_command(n: int) -> list[str]:
    """The command prefix that starts `n` ranks. Open MPI's ranks are left unbound (concurrent
    jobs must not be pinned to the same cores); Hydra does not bind unless asked."""
    path, open_mpi = _launcher()
    return [path, "-n", str(n)] + (["--bind-to", "none"] if open_mpi else [])


def outside_mpi_env(env: dict | None = None) -> dict:
    """`env` (default os.environ) without a launcher's variables: a child started from a rank
    with them would try to join the running job (MPICH's singleton start aborts)."""
    return {k: v for k, v in (os.environ if env is None else env).items()
            if k in USER_SETTINGS or not k.startswith(LAUNCHER_PREFIXES)}
