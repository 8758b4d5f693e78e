"""Report hook of the seed 003 Si anode study: σ_eff and τ² per Si size against the paper."""
from __future__ import annotations

from pathlib import Path

from fem_assb.io.atomic import atomic_write_text
from fem_assb.study.report import aggregate, markdown_table

PAPER_mS_cm = {0.8: 0.27, 1.36: 0.84, 9.66: 0.76}
SIGMA_SE_mS_cm = 9.7  # Li5.5PS4.5Cl1.5
D = "param.structure.layers.1.diameters_um"


def si_anodes(study_dir: Path, rows, spec):
    for r in rows:
        r["sigma_mS_cm"] = float(r["conductivity.sigma_eff"]) * 1e3
    agg = aggregate(rows, [D], ["sigma_mS_cm", "conductivity.tau_factor", "structure.volume_fractions.SE",
                                "structure.volume_fractions.void", "conductivity.percolating_fraction"])
    for a in agg:
        a["paper"] = PAPER_mS_cm.get(float(str(a[D]).split()[0]), float("nan"))
        a["paper_tau2"] = a["structure.volume_fractions.SE"] * SIGMA_SE_mS_cm / a["paper"]
    agg.sort(key=lambda a: float(str(a[D]).split()[0]))
    md = ["## Seed 003 Si anode composites (SE2 = 9.7 mS/cm)", "",
          markdown_table(agg, [("d_Si [µm]", D, ""), ("n", "n", "d"), ("SE", "structure.volume_fractions.SE", ".3f"),
                               ("pores", "structure.volume_fractions.void", ".3f"),
                               ("σ_eff [mS/cm]", "sigma_mS_cm", ".3f"), ("±", "sigma_mS_cm.std", ".3f"),
                               ("paper [mS/cm]", "paper", ".2f"), ("τ²", "conductivity.tau_factor", ".1f"),
                               ("paper τ² (ε_SE σ_SE/σ_eff)", "paper_tau2", ".1f")])]
    atomic_write_text(study_dir / "report.md", "\n".join(md) + "\n")
