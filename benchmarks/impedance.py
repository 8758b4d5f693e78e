"""Benchmark: impedance spectra of the seed-002 electrode (7 MHz → 1 Hz, 56 frequencies), the
MUMPS factorisation of the real/imaginary block system against PRESB-preconditioned FGMRES.

    ./fem-assb exec python3 benchmarks/impedance.py [--cases cut-direct-1r,full4-iterative-1r,...]

Case names are MESH-SOLVER-RANKS: MESH `cut` (a 40×60×60 µm cut on 2 µm hexahedra,
scenarios/delamination/impedance_coarse.toml), `full4` (the 40×150×150 µm electrode on 4 µm
hexahedra, impedance_4um.toml) or `full2` (the same on 2 µm, impedance.toml); SOLVER `direct` or
`iterative`; RANKS `1r`/`2r`. Intact electrode (0 % delamination). Prints a table and writes
benchmarks/out/impedance.json (unknowns, wall time, s per frequency, FGMRES iterations, peak
memory per rank, largest relative deviation from the direct spectrum of the same mesh when that
has been run). Figures, not pass/fail tests.
"""
import argparse
import csv
import json
from pathlib import Path

from runs import ROOT, run_cases, run_cli

HERE = Path(__file__).resolve().parent
STUDIES = {"cut": "impedance_coarse.toml", "full4": "impedance_4um.toml", "full2": "impedance.toml"}
STUDY = """[study]
extends = "{base}"
name = "bench-impedance-{name}"
[base.impedance]
linear = "{solver}"
"""


def spectrum(folder: Path):
    with open(folder / "impedance.csv") as fh:
        rows = list(csv.DictReader(fh))
    return [complex(float(r["re_Z_ohm_cm2"]), -float(r["minus_im_Z_ohm_cm2"])) for r in rows]


def run_case(name: str, out: Path) -> dict:
    mesh, solver, ranks = name.split("-")
    toml = out / f"{name}.toml"
    toml.write_text(STUDY.format(base=ROOT / "scenarios" / "delamination" / STUDIES[mesh], name=name, solver=solver))
    study_dir = out / name
    rc, wall = run_cli(["sweep", str(toml), "-o", str(study_dir), "--case", "0"], out / f"{name}.log",
                       int(ranks.rstrip("r")))
    cases = sorted((study_dir / "cases").glob("0000_*"))
    if rc or not cases:
        return {"case": name, "error": f"exit {rc}, see {out / name}.log", "wall_s": wall}
    s = json.loads((cases[0] / "summary.json").read_text())
    res = {"case": name, "dofs": s["dofs"], "frequencies": s["frequencies"], "solve_wall_s": s["wall_time_s"],
           "seconds_per_frequency": s["wall_time_s"] / s["frequencies"], "process_wall_s": wall,
           "linear": s["linear"], "peak_mb_per_rank": s.get("peak_memory_mb_per_rank"),
           "high_frequency_re_Z_ohm_cm2": s["high_frequency_re_Z_ohm_cm2"],
           "low_frequency_re_Z_ohm_cm2": s["low_frequency_re_Z_ohm_cm2"]}
    ref = sorted((out / f"{mesh}-direct-1r" / "cases").glob("0000_*"))
    if solver != "direct" and ref:
        z, z0 = spectrum(cases[0]), spectrum(ref[0])
        res["max_rel_dev_from_direct"] = max(abs(a - b) / abs(b) for a, b in zip(z, z0))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="cut-direct-1r,cut-iterative-1r,full4-direct-1r,full4-iterative-1r,"
                                       "full2-iterative-1r,full2-iterative-2r")
    a = ap.parse_args()
    run_cases("impedance", a.cases.split(","), run_case)


if __name__ == "__main__":
    main()
