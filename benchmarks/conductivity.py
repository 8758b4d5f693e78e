"""Benchmark: effective ionic conductivity of a random packing (65 % CAM, 15 % void, SE) at 128³,
200³ and 256³ voxels, face-based FV and Q1 FEM, on 1 and 2 ranks.

    ./fem-assb exec python3 benchmarks/conductivity.py [--sizes 128,200,256] [--ranks 1,2] [--disc fv,fem]

Each case is one `fem-assb conductivity` process: the wall time includes reading the image and
building the grid or mesh. Prints a table and writes benchmarks/out/conductivity.json (wall time,
solver time, peak memory per rank, CG iterations, σ_eff/σ_bulk, τ²). Reference points measured on
this kind of machine (issue 4): TauFactor 2 (CPU) 14–35 s at 200³, 38–72 s at 256³ (0.8–1.6 GB);
PoreSpy tortuosity_fd 7–8 s at 128³, 53–66 s at 200³, 145–184 s at 256³ (2.6–7.0 GB).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from runs import run_cases
from structures import ROOT, image
from fem_assb.launcher import mpirun_command


def run_case(name: str, folder: Path) -> dict:
    """Case N-DISC-RANKSr, e.g. 256-fem-1r."""
    n, disc, ranks = name.split("-")
    n, ranks = int(n), int(ranks.rstrip("r"))
    out = folder / f"{name}.json"
    cmd = [sys.executable, "-m", "fem_assb", "conductivity", str(image(n)), "--labels", "0=SE,1=CAM,3=void",
           "--voxel-size", "1.0", "--sigma", "SE=1,CAM=0,void=0", "--discretization", disc, "--json", str(out)]
    if ranks > 1:
        cmd = mpirun_command(ranks) + cmd
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wall = time.perf_counter() - t
    if r.returncode != 0:
        return {"n": n, "disc": disc, "ranks": ranks, "error": (r.stderr.strip().splitlines() or ["?"])[-1]}
    d = json.loads(out.read_text())
    return {"n": n, "disc": disc, "ranks": ranks, "wall_s": wall, "solve_s": d["wall_time"], "dofs": d["dofs"],
            "iterations": d["iterations"], "sigma_eff_rel": d["sigma_eff_rel"], "tau_factor": d["tau_factor"],
            "peak_mb_per_rank": d["peak_memory_mb_per_rank"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="128,200,256")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--disc", default="fv,fem")
    a = ap.parse_args()
    run_cases("conductivity", [f"{n}-{disc}-{r}r" for n in a.sizes.split(",") for disc in a.disc.split(",")
                                for r in a.ranks.split(",")], run_case)


if __name__ == "__main__":
    main()
