"""Benchmark: full discharges of a seed-001-sized cathode (100×80×80 µm, 65 % CAM, 20 µm separator).

    ./fem-assb exec python3 benchmarks/discharge.py [--cases 2um-1mA-1r,2um-8mA-2r,...]

Case names are VOXEL-CURRENT-RANKS with VOXEL in {2um, 1um}, CURRENT in {1mA, 8mA}, RANKS in
{1r, 2r}, optionally followed by -node for the node-connected mesh (mesh.connectivity; default
face); the default runs all eight. Both resolutions use one structure generated at 1 µm; the
2 µm mesh coarsens it (mesh.coarsen = 2). Prints a table and writes benchmarks/out/discharge.json
(dofs, steps, Newton/linear iterations per step, seconds per step, wall time to cut-off, peak
memory per rank). Figures, not pass/fail tests.
"""
import argparse
from pathlib import Path

from runs import DISCHARGE, run_cases, run_scenario

HERE = Path(__file__).resolve().parent
SCENARIO = """
name = "bench-{name}"
[materials]
set = "nmc811_li6ps5cl_li"
[structure]
size_um = [100, 80, 80]
voxel_um = 1.0
seed = 7
separator_um = 20.0
[[structure.layers]]
cam_fraction = 0.65
diameters_um = [8.0]
diameter_spread = 0.15
[mesh]
coarsen = {coarsen}
connectivity = "{connectivity}"
"""


def run_case(name: str, out: Path, layer: int) -> dict:
    vox, cur, ranks, *conn = name.split("-")
    coarsen = {"2um": 2, "1um": 1}[vox]
    toml = out / f"{name}.toml"
    toml.write_text(SCENARIO.format(name=name, coarsen=coarsen, connectivity=conn[0] if conn else "face") + DISCHARGE.format(
        linear="iterative" if vox == "1um" else "auto", layer=layer, current=float(cur.rstrip("mA"))))
    s, wall, error = run_scenario(toml, out / name, int(ranks.rstrip("r")))
    if error:
        return {"case": name, "error": error, "wall_s": wall}
    return {"case": name, "connectivity": s["structure"]["mesh"]["connectivity"], "surface_layer": layer, "dofs": s["dofs"], "solver": s["linear_solver"], "steps": s["steps"],
            "rejected": s["rejected_steps"], "newton_per_step": s["newton_iterations"] / s["steps"],
            "linear_per_newton": s["linear_iterations"] / max(s["newton_iterations"], 1),
            "seconds_per_step": s["wall_time_s"] / s["steps"], "solve_wall_s": s["wall_time_s"],
            "process_wall_s": wall, "capacity_mAh_cm2": s["capacity_mAh_cm2"],
            "peak_mb_per_rank": s["peak_memory_mb_per_rank"], "charge_balance_error": s["charge_balance_error"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", default="2um-1mA-1r,2um-1mA-2r,2um-8mA-1r,2um-8mA-2r,1um-8mA-2r,1um-1mA-2r,"
                                       "1um-8mA-1r,1um-1mA-1r")
    ap.add_argument("--surface-layer", type=int, default=24, help="model.surface_layer of the runs (0 = none)")
    a = ap.parse_args()
    run_cases("discharge", a.cases.split(","), lambda name, out: run_case(name, out, a.surface_layer))


if __name__ == "__main__":
    main()
