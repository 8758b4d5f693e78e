"""Benchmark: the Newton cost of the end of a seed-002 discharge, where CAM surfaces saturate.

    ./fem-assb exec python3 benchmarks/late_discharge.py [--cuts 24x30x30,40x60x60] [--c-rate 0.1] [--split-V 3.3] [--ranks 2]

The intact standard NMC622 | β-Li3PS4 electrode of the coarse delamination study (2 µm voxels
on 2 µm hexahedra, 425 µm separator) is cut to each size (x × y × z in µm) and discharged to
2.6 V. Steps, Newton and linear iterations are counted above and below `--split-V` from the
case's timeseries.csv: below 3.3 V the last ≈ 8 % of the capacity took three quarters of the
Newton iterations before the per-node stoichiometry limit (kinetics.limit_stoichiometry_step).
Writes benchmarks/out/late_discharge.json and prints a table. Figures, not pass/fail tests.
"""
import argparse
import csv
import json
from pathlib import Path

from runs import ROOT, run_cli, run_cases

STUDY = """[study]
extends = "{parent}"
name = "late-discharge-{tag}"
[[study.vary]]
keys = ["steps.1.c_rate"]
values = [[{c_rate}]]
[base.structure]
size_um = [{size}]
{contact}[base.output]
plots = false
snapshot_V = []
"""


def split_counts(timeseries: Path, split_V: float) -> dict:
    """Steps, Newton and linear iterations of the accepted steps above and below split_V."""
    rows = list(csv.DictReader(timeseries.open()))
    out = {}
    for part, keep in (("above", lambda v: v >= split_V), ("below", lambda v: v < split_V)):
        sel = [r for r in rows if keep(float(r["voltage_V"]))]
        out[part] = {"steps": len(sel), "newton": sum(int(r["newton_its"]) for r in sel),
                     "linear": sum(int(r["linear_its"]) for r in sel)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cuts", default="24x30x30,40x60x60", help="cut sizes x×y×z in µm, comma-separated")
    ap.add_argument("--c-rate", type=float, default=0.1, help="discharge C-rate (1C = 200 mAh/g CAM)")
    ap.add_argument("--split-V", type=float, default=3.3, help="voltage [V] splitting early and late counts")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks per run")
    a = ap.parse_args()
    parent = ROOT / "scenarios" / "delamination" / "study_coarse.toml"

    def run_case(tag: str, out: Path) -> dict:
        size = [float(v) for v in tag.split("x")]
        # the full cut's 30 % contact needs crop layers a small cut may not have: as the tests' cut
        contact = "cc_contact_target = 0.44\n" if size[1] * size[2] < 60 * 60 else ""
        study = out / f"{tag}.toml"
        study.write_text(STUDY.format(parent=parent, tag=tag, c_rate=a.c_rate,
                                      size=", ".join(f"{v:g}" for v in size), contact=contact))
        folder = out / tag
        rc, wall = run_cli(["sweep", str(study), "-o", str(folder)], out / f"{tag}.log", a.ranks)
        case = next(folder.glob("cases/*/result.json"), None) if not rc else None
        if case is None:
            return {"error": f"exit {rc}, see {out / tag}.log"}
        res = json.loads(case.read_text())["result"]
        return {"dofs": res["dofs"], "ranks": a.ranks, "c_rate": a.c_rate, "wall_s": round(wall, 1),
                "steps": res["steps"], "rejected": res["rejected_steps"], "newton": res["newton_iterations"],
                "linear": res["linear_iterations"], "capacity_mAh_g": res["capacity_mAh_g"],
                "charge_balance_error": res["charge_balance_error"],
                "split_V": a.split_V, **split_counts(case.with_name("timeseries.csv"), a.split_V)}

    tags = a.cuts.split(",")
    run_cases("late_discharge", tags, run_case)
    results = json.loads((Path(__file__).resolve().parent / "out" / "late_discharge.json").read_text())
    print(f"\n| cut [µm] | unknowns | steps | Newton (≥ {a.split_V:g} V / below) | linear | wall [s] | capacity [mAh/g] |")
    print("|---|---|---|---|---|---|---|")
    for t in tags:
        r = results[t]
        if "error" in r:
            print(f"| {t} | {r['error']} |")
            continue
        print(f"| {t} | {r['dofs']} | {r['steps']} | {r['newton']} ({r['above']['newton']} / {r['below']['newton']}) "
              f"| {r['linear']} | {r['wall_s']} | {r['capacity_mAh_g']:.4f} |")


if __name__ == "__main__":
    main()
