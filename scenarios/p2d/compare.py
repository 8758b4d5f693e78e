"""P2D against 3D, case by case: capacity and voltage differences of two study folders whose cases
share their parameters (the P2D study may vary p2d.* keys on top: particle size, interface area).

    python3 scenarios/p2d/compare.py RESULTS_3D RESULTS_P2D [--markdown OUT.md]

For each 3D case and P2D particle choice: capacities (mAh/g), their relative difference, and the
mean and largest |ΔU| of the two discharge curves over their common capacity range.
"""
import argparse
import csv
from pathlib import Path

import numpy as np

from fem_assb.study.runner import collect


def _cases(folder: Path) -> list[dict]:
    """The study's finished cases, each with its folder."""
    return [dict(r, folder=folder / "cases" / r["case"]) for r in collect(folder)]


def _curve(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(folder / "timeseries.csv") as fh:
        rows = list(csv.DictReader(fh))
    return (np.array([float(r["capacity_mAh_cm2"]) for r in rows]), np.array([float(r["voltage_V"]) for r in rows]))


def compare(dir3d: Path, dirp2d: Path) -> list[dict]:
    p2d = _cases(dirp2d)
    rows = []
    for c in _cases(dir3d):
        key = {k: v for k, v in c["params"].items() if k != "realization"}
        for p in p2d:
            pk = {k: v for k, v in p["params"].items() if k != "realization" and not k.startswith("p2d.")}
            if pk != key:
                continue
            q3, u3 = _curve(c["folder"])
            qp, up = _curve(p["folder"])
            top = min(q3[-1], qp[-1])
            grid = np.linspace(0.02 * top, 0.98 * top, 200)
            du = np.abs(np.interp(grid, q3, u3) - np.interp(grid, qp, up))
            a, b = c["result"]["capacity_mAh_g"], p["result"]["capacity_mAh_g"]
            rows.append({**key, "particle": " ".join(str(v) for k, v in p["params"].items() if k.startswith("p2d.")),
                         "particle_um": p["result"]["p2d"]["particle_diameters_um"][0],
                         "capacity_3d_mAh_g": a, "capacity_p2d_mAh_g": b, "difference_percent": 100 * (b / a - 1),
                         "mean_dU_mV": 1e3 * du.mean(), "max_dU_mV": 1e3 * du.max(),
                         "wall_3d_s": c["result"]["wall_time_s"], "wall_p2d_s": p["result"]["wall_time_s"]})
    return rows


def markdown(rows: list[dict]) -> str:
    if not rows:
        return "(no matching cases)\n"
    params = [k for k in rows[0] if "." in k]
    head = params + ["particle", "d [µm]", "3D [mAh/g]", "P2D [mAh/g]", "Δ [%]", "mean |ΔU| [mV]", "max |ΔU| [mV]",
                     "3D / P2D [s]"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        vals = [str(r[k]) for k in params] + [r["particle"], f"{r['particle_um']:.2f}", f"{r['capacity_3d_mAh_g']:.1f}",
                                               f"{r['capacity_p2d_mAh_g']:.1f}", f"{r['difference_percent']:+.1f}",
                                               f"{r['mean_dU_mV']:.0f}", f"{r['max_dU_mV']:.0f}",
                                               f"{r['wall_3d_s']:.0f} / {r['wall_p2d_s']:.1f}"]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_3d", type=Path)
    ap.add_argument("results_p2d", type=Path)
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    a = ap.parse_args()
    text = markdown(compare(a.results_3d, a.results_p2d))
    print(text, end="")
    if a.markdown:
        a.markdown.write_text(text)


if __name__ == "__main__":
    main()
