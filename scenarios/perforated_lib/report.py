"""Report of the liquid-electrolyte perforated studies: seed 001 Fig. 4 (capacity and gain vs
channel radius at 1–8 mA/cm²) and Fig. 5 (the transference-number sweep at 8 mA/cm²: capacity and
gain vs radius per t+, utilization and c_e / c_e,0 along x at r = 0)."""
from __future__ import annotations

from pathlib import Path

from fem_assb.io.tables import write_csv
from fem_assb.io.atomic import atomic_write_text
from fem_assb.study.report import gains, line_plot, markdown_table, profile_plot

R = "param.structure.channel.radius_um"
I = "param.steps.1.current_mA_cm2"  # noqa: E741
T = "param.materials.electrolyte_transference"
CAP, E, THEO = "capacity_mAh_cm2", "energy_density_Wh_kg", "theoretical_capacity_mAh_cm2"
C0 = 1000.0  # mol/m³, the initial c_e of the set (1 M)


def _lines(rows, group, fmt, value):
    out = {}
    for g in sorted({r[group] for r in rows}):
        pts = sorted((r for r in rows if r[group] == g), key=lambda r: r[R])
        out[fmt(g)] = ([p[R] for p in pts], [p[value] for p in pts], None)
    return out


def report(study_dir: Path, rows, spec):
    rows = [r for r in rows if r.get(CAP) is not None]
    if not rows:
        return
    sweep = T in rows[0]
    group, fmt = (T, lambda g: f"t+ = {g:g}") if sweep else (I, lambda g: f"{g:g} mA/cm²")
    for r in rows:
        r["_group"] = r[group]
    gains(rows, R, 0, "_group", [CAP, E])
    fig = "fig5" if sweep else "fig4"
    line_plot(study_dir / f"{fig}a_capacity.png", _lines(rows, group, fmt, CAP), "r_channel [µm]",
              "capacity [mAh/cm²]", f"Seed 001 {fig[:3].title()}. {fig[3]}a (LIB)")
    line_plot(study_dir / f"{fig}b_capacity_gain.png", _lines(rows, group, fmt, CAP + ".gain"), "r_channel [µm]",
              "capacity gain vs r = 0 [mAh/cm²]", f"Seed 001 {fig[:3].title()}. {fig[3]}b (LIB)")
    r0 = sorted((r for r in rows if r[R] == 0), key=lambda r: r[group])
    profile_plot(study_dir, r0, lambda r: fmt(r[group]), study_dir / f"{fig}cd_profiles_r0.png",
                 f"Seed 001 {fig[:3].title()}. {fig[3]}c/d: r = 0 at cut-off", right=("c_e_mol_m3", "c_e / c_e,0", 1 / C0))
    rows.sort(key=lambda r: (r[group], r[R]))
    cols = ["case", group, R, THEO, CAP, CAP + ".gain", E, E + ".gain", "mean_utilization",
            "electrolyte.c_e_range_mol_m3", "steps", "wall_time_s"]
    write_csv(study_dir / "perforated_lib.csv", cols, [{c: r.get(c) for c in cols} for r in rows])
    md = [f"## Seed 001 perforated cathodes with a liquid electrolyte ({spec.study.name})", "",
          markdown_table(rows, [("t+" if sweep else "I [mA/cm²]", group, "g"), ("r [µm]", R, "g"),
                                ("Q_theo [mAh/cm²]", THEO, ".3f"), ("Q [mAh/cm²]", CAP, ".3f"),
                                ("ΔQ", CAP + ".gain", "+.3f"), ("E [Wh/kg]", E, ".1f"),
                                ("ΔE [Wh/kg]", E + ".gain", "+.1f"), ("utilization", "mean_utilization", ".3f")])]
    if sweep:  # Fig. 5b: from which t+ do channels stop paying off?
        md += ["", "| t+ | best channel gain [mAh/cm²] | at r [µm] |", "|---|---|---|"]
        for g in sorted({r[T] for r in rows}):
            best = max((r for r in rows if r[T] == g and r[R] > 0), key=lambda r: r[CAP + ".gain"], default=None)
            if best:
                md.append(f"| {g:g} | {best[CAP + '.gain']:+.3f} | {best[R]:g} |")
    atomic_write_text(study_dir / "report.md", "\n".join(md) + "\n")
