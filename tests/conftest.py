"""Shared test helpers. Serial tests run with `pytest -m "not mpi"`; tests marked `mpi` run
under `mpirun -n 2 pytest -m mpi` (the README test command does both)."""
import os
import subprocess
import sys
from pathlib import Path

import mpi4py.MPI  # noqa: F401  (before dolfinx: the MPICH wheel's DOLFINx finds libmpi through it)
import numpy as np
import pytest

from fem_assb.launcher import mpirun_command, outside_mpi_env

ROOT = Path(__file__).resolve().parent.parent
#: [output] exports of test runs: everything but the PNG plots
NO_PLOTS = ["timeseries", "profile", "collector", "fields"]


def run_cli(*args, np_ranks: int = 1, cwd=None, timeout=1800):
    """Run `fem-assb ARGS` as a subprocess (under mpirun when np_ranks > 1)."""
    cmd = [sys.executable, "-m", "fem_assb", *map(str, args)]
    if np_ranks > 1:
        cmd = [*mpirun_command(np_ranks), *cmd]
    env = dict(outside_mpi_env(), PYTHONPATH=str(ROOT), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_smsc="^cma", MPLBACKEND="Agg")
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=timeout)


def serial_result(module: str, function: str, *args, comm):
    """Under mpirun: `module.function(*args)` (JSON-serialisable) computed by a serial process
    outside MPI, started by rank 0 and broadcast to all ranks — the reference of the 1 vs 2 ranks
    tests."""
    import json

    value = None
    if comm.rank == 0:
        code = (f"import json, sys; sys.path.insert(0, '.'); from {module} import {function} as f; "
                f"print(json.dumps(f(*{args!r})))")
        env = outside_mpi_env()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                             check=True)
        value = json.loads(out.stdout.strip().splitlines()[-1])
    return comm.bcast(value, root=0)


@pytest.fixture
def cli():
    return run_cli


def pytest_addoption(parser):
    parser.addoption("--shard", metavar="I/N", default=None,
                     help="run the I-th of N interleaved shards of the selected tests (tests/run-suite "
                          "runs one per core side by side)")


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config, items):
    """--shard I/N keeps every N-th test from the I-th: neighbours (often alike in cost) go to
    different shards."""
    shard = config.getoption("--shard")
    if shard is None:
        return
    try:
        i, n = map(int, shard.split("/"))
        assert 0 <= i < n
    except (ValueError, AssertionError):
        raise pytest.UsageError(f"--shard {shard}: accepted I/N with 0 <= I < N") from None
    config.hook.pytest_deselected(items=[t for k, t in enumerate(items) if k % n != i])
    items[:] = items[i::n]


def pytest_configure(config):
    """Under mpirun each rank gets its own temporary base folder: ranks sharing pytest's default
    one race while cleaning up old runs. Tests that need one folder on all ranks broadcast rank
    0's path."""
    rank = os.environ.get("OMPI_COMM_WORLD_RANK") or os.environ.get("PMI_RANK")
    if rank is not None and config.option.basetemp is None:
        import getpass
        import tempfile

        config.option.basetemp = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}" / f"mpi-rank{rank}"


D_FAST = 1e-8  # cm²/s: "fast" solid diffusion for the reference cases (τ_D = L²/D ≈ 400 s)


def scenario(d: dict):
    from fem_assb.config.scenario import Scenario
    from fem_assb.config.schema import Where, parse

    return parse(Scenario, d, Where("test"))


def planar(tmp: Path, h_um=1.0, cam_um=20.0, sep_um=10.0, current=2.0, **extra):
    """A flat CAM slab on an SE separator: an exactly one-dimensional cell."""
    n = int(round(cam_um / h_um))
    img = tmp / f"slab_{h_um:g}.npy"
    # every rank of an MPI test writes the same file: atomically, so no rank reads a half-written one
    part = img.with_name(f"{img.stem}.{os.getpid()}.npy")
    np.save(part, np.ones((n, 1, 1), np.uint8))
    os.replace(part, img)
    d = {"name": "planar",
         "materials": {"set": "nmc811_li6ps5cl_li", "cam_diffusivity_cm2_s": D_FAST},
         "structure": {"image": str(img), "image_labels": {"1": "CAM"}, "voxel_um": h_um, "separator_um": sep_um},
         "mesh": {"separator_growth": 1.0},
         "steps": [{"kind": "discharge", "current_mA_cm2": current, **extra.pop("step", {})}],
         "solver": {"linear": "direct", **extra.pop("solver", {})},
         "model": extra.pop("model", {}),
         "output": {"exports": NO_PLOTS}}
    return scenario(d)
