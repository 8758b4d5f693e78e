"""What the benchmarks share: the protocol part of the discharge scenarios and running the CLI
as a separate (optionally MPI) process with its log streamed to a file."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fem_assb.io.atomic import atomic_write_json

ROOT = Path(__file__).resolve().parent.parent

#: solver, output and protocol of a benchmark scenario (format with linear=, layer= and current=)
DISCHARGE = """[solver]
linear = "{linear}"
surface_layer = {layer}
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
        cmd = ["mpirun", "-n", str(ranks), "--bind-to", "none"] + cmd
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


def run_cases(kind: str, names: list[str], run_case) -> None:
    """Run the named cases in benchmarks/out/KIND/ with `run_case(name, out)`, printing each
    result and merging it into benchmarks/out/KIND.json (earlier cases kept)."""
    out = Path(__file__).resolve().parent / "out" / kind
    out.mkdir(parents=True, exist_ok=True)
    path = out.with_suffix(".json")
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in names:
        results[name] = run_case(name, out)
        print(json.dumps(results[name]), flush=True)
        atomic_write_json(path, results)
