"""What the benchmarks share: the protocol part of the discharge scenarios and running the CLI
as a separate (optionally MPI) process with its log streamed to a file."""
import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fem_assb.io.atomic import atomic_write_json
from fem_assb.launcher import mpirun_command

ROOT = Path(__file__).resolve().parent.parent

#: solver, output and protocol of a benchmark scenario (format with linear=, layer= and current=)
DISCHARGE = """[model]
surface_layer = {layer}
[solver]
linear = "{linear}"
checkpoint_every = 0
[output]
plots = false
[[steps]]
kind = "discharge"
current_mA_cm2 = {current}
"""


def run_cli(args: list[str], log_path: Path, ranks: int) -> tuple[int, float]:
    """Run `fem-assb ARGS` on `ranks` ranks with its log streamed to `log_path` (long cases can
    be watched); (exit code, wall seconds)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "fem_assb", *args]
    if ranks > 1:
        cmd = mpirun_command(ranks) + cmd
    t = time.perf_counter()
    with open(log_path, "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT)).returncode
    return rc, time.perf_counter() - t


def run_scenario(toml: Path, folder: Path, ranks: int) -> tuple[dict | None, float, str]:
    """Run `fem-assb run TOML -o FOLDER` on `ranks` ranks; (summary or None, wall seconds,
    error text). The log goes to FOLDER.log."""
    log_path = folder.with_name(folder.name + ".log")
    rc, wall = run_cli(["run", str(toml), "-o", str(folder)], log_path, ranks)
    if rc:
        return None, wall, f"exit {rc}, see {log_path}"
    return json.loads((folder / "summary.json").read_text()), wall, ""


def stack() -> tuple[dict, str]:
    """(DOLFINx, PETSc, MPI and linear solvers of this runtime, as `fem-assb info --json` reports
    them; the suffix of result keys: empty for the reference stack — DOLFINx 0.9 with its first-choice
    solvers — else e.g. "@0.11-gamg", so runs on other stacks sit beside the reference's)."""
    r = subprocess.run([sys.executable, "-m", "fem_assb", "info", "--json"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    s = {"dolfinx": info["dolfinx"], "petsc": info["petsc"], "mpi": info["mpi"],
         "amg": info["linear_solvers"]["amg"]["chosen"], "direct": info["linear_solvers"]["direct"]["chosen"]}
    version = ".".join(s["dolfinx"].split(".")[:2])
    reference = version == "0.9" and not os.environ.get("FEM_ASSB_AMG") and not os.environ.get("FEM_ASSB_DIRECT")
    return s, "" if reference else f"@{version}-{s['amg']}-{s['direct']}"


def run_cases(kind: str, names: list[str], run_case) -> None:
    """Run the named cases in benchmarks/out/KIND[SUFFIX]/ with `run_case(name, folder)`,
    printing each result and merging it into benchmarks/out/KIND.json (other keys kept, so runs
    on two stacks at once both land; keys carry the stack's suffix)."""
    info, suffix = stack()
    out = Path(__file__).resolve().parent / "out" / f"{kind}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    path = out.with_name(f"{kind}.json")
    for name in names:
        result = dict(run_case(name, out), stack=info)
        print(json.dumps(result), flush=True)
        with open(out.with_name(f"{kind}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            results = json.loads(path.read_text()) if path.exists() else {}
            results[name + suffix] = result
            atomic_write_json(path, results)
