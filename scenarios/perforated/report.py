"""Report of the perforated study: seed 001 Fig. 3, 6a–d and S3, and the comparison with the paper."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem_assb.io.tables import write_csv
from fem_assb.io.atomic import atomic_write_text
from fem_assb.study.report import gains, line_plot, markdown_table, profile_plot, render_current

R = "param.structure.channel.radius_um"
I = "param.steps.1.current_mA_cm2"  # noqa: E741
CAP, E, THEO = "capacity_mAh_cm2", "energy_density_Wh_kg", "theoretical_capacity_mAh_cm2"
REL = "conductivity.sigma_eff_rel"


def _by_current(rows, value):
    out = {}
    for i in sorted({r[I] for r in rows}):
        pts = sorted((r for r in rows if r[I] == i), key=lambda r: r[R])
        out[f"{i:g} mA/cm²"] = ([p[R] for p in pts], [p[value] for p in pts], None)
    return out


def report(study_dir: Path, rows, spec):
    rows = [r for r in rows if r.get(CAP) is not None]
    if not rows:
        return
    gains(rows, R, 0, I, [CAP, E])
    r0 = [r for r in rows if r[R] == 0]
    theo0 = r0[0][THEO] if r0 else float("nan")
    geo = {}
    for r in rows:  # structure properties do not depend on the current
        geo.setdefault(r[R], r)
    radii = sorted(geo)
    line_plot(study_dir / "fig3_conductivity_capacity.png",
              {"σ_eff/σ_bulk (SE)": (radii, [geo[x].get(REL, np.nan) for x in radii], None),
               "theoretical capacity / r = 0": (radii, [geo[x][THEO] / theo0 for x in radii], None)},
              "r_channel [µm]", "normalized", "Seed 001 Fig. 3")
    line_plot(study_dir / "figS3a_capacity.png", _by_current(rows, CAP), "r_channel [µm]", "capacity [mAh/cm²]",
              "Seed 001 Fig. S3a (ASSB)")
    line_plot(study_dir / "figS3b_capacity_gain.png", _by_current(rows, CAP + ".gain"), "r_channel [µm]",
              "capacity gain vs r = 0 [mAh/cm²]", "Seed 001 Fig. S3b")
    line_plot(study_dir / "fig6a_energy_density.png", _by_current(rows, E), "r_channel [µm]",
              "energy density [Wh/kg]", "Seed 001 Fig. 6a (ASSB)")
    line_plot(study_dir / "fig6b_energy_gain.png", _by_current(rows, E + ".gain"), "r_channel [µm]",
              "energy density gain vs r = 0 [Wh/kg]", "Seed 001 Fig. 6b")
    currents = sorted({r[I] for r in rows})
    notes = []
    for i in (currents[0], currents[-1]):
        sel = sorted((r for r in rows if r[I] == i), key=lambda r: r[R])
        profile_plot(study_dir, sel, lambda r: f"r = {r[R]:g} µm", study_dir / f"fig6c_profiles_{i:g}mA.png",
                     f"Seed 001 Fig. 6c: utilization along x at {i:g} mA/cm²")
    for rad in (radii[0], radii[-1]):
        row = next((r for r in rows if r[R] == rad and r[I] == currents[-1]), None)
        if row:
            err = render_current(study_dir, row, study_dir / f"fig6d_current_r{rad:g}.png",
                                 f"|j| at cut-off, r = {rad:g} µm, {currents[-1]:g} mA/cm²")
            notes += [err] if err else []
    rows.sort(key=lambda r: (r[I], r[R]))
    cols = ["case", I, R, THEO, REL, CAP, CAP + ".gain", E, E + ".gain", "mean_utilization", "steps", "wall_time_s"]
    write_csv(study_dir / "perforated.csv", cols, [{c: r.get(c) for c in cols} for r in rows])
    top = [r for r in rows if r[I] == currents[-1]]
    best = max(top, key=lambda r: r[E + ".gain"])
    md = [f"## Seed 001 perforated cathodes ({spec.study.name})", "",
          markdown_table(rows, [("I [mA/cm²]", I, "g"), ("r [µm]", R, "g"), ("Q_theo [mAh/cm²]", THEO, ".3f"),
                                ("σ_eff/σ_SE", REL, ".4f"), ("Q [mAh/cm²]", CAP, ".3f"),
                                ("ΔQ", CAP + ".gain", "+.3f"), ("E [Wh/kg]", E, ".1f"),
                                ("ΔE [Wh/kg]", E + ".gain", "+.1f"), ("utilization", "mean_utilization", ".3f")]),
          "", "| quantity | paper | ours |", "|---|---|---|",
          f"| reference theoretical capacity (r = 0) | ≈ 7 mAh/cm² | {theo0:.2f} mAh/cm² |",
          f"| theoretical capacity at r = {radii[-1]:g} µm / r = 0 | 0.72 (r = 36 µm) | "
          f"{geo[radii[-1]][THEO] / theo0:.3f} |",
          f"| largest energy gain at {currents[-1]:g} mA/cm² | ≈ 14 Wh/kg at r = 20 µm (8 mA/cm²) | "
          f"{best[E + '.gain']:+.1f} Wh/kg at r = {best[R]:g} µm |"]
    md += [f"\nNot rendered: {n}" for n in notes]
    atomic_write_text(study_dir / "report.md", "\n".join(md) + "\n")
