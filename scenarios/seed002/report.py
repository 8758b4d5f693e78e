"""Report hooks of the seed 002 studies (electrodes, current-collector contact, delamination,
impedance): tables, figures and the comparison with the paper (report.md)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from fem_assb.io.tables import write_csv
from fem_assb.io.atomic import atomic_write_text
from fem_assb.study.report import aggregate, line_plot, markdown_table, profile_plot

C = "param.steps.1.c_rate"
REALIZATION = "param.realization"
CAP = "capacity_mAh_g"
EXPERIMENT_0_1C = 128.0  # mAh/g, seed 002 experiment at 0.1C


def _others(rows, *keys):
    """The varied parameters besides `keys` (C-rate, realization, a sensitivity factor, ...)."""
    return sorted({k for r in rows for k in r if k.startswith("param.")} - set(keys))


def _other_cols(rows, lever):
    """Table columns for the varied parameters besides C-rate, realization and `lever`."""
    return [(k.rsplit(".", 1)[-1], k, "g") for k in _others(rows, C, REALIZATION, lever)]


def _series(rows, key, spread=False, lever=None):
    """Capacity vs `key`, one line per C-rate and per value of any other varied parameter than the
    `lever` behind `key`; with `spread`, rows are aggregate() means and carry the realizations'
    standard deviation as error bars."""
    extra = _others(rows, C, REALIZATION, lever or key)
    out = {}
    for g in sorted({tuple(r.get(k) for k in [C, *extra]) for r in rows}):
        pts = sorted((r for r in rows if tuple(r.get(k) for k in [C, *extra]) == g), key=lambda r: r[key])
        err = [p[CAP + ".std"] for p in pts] if spread else None
        label = ", ".join([f"{g[0]:g}C", *(f"{k.rsplit('.', 1)[-1]} {v:g}" for k, v in zip(extra, g[1:]))])
        out[label] = ([p[key] for p in pts], [p[CAP] for p in pts], err)
    return out


def _loss(rows, key, ref, made_of=()):
    """Capacity loss (%) against the row with `key` == ref that agrees in every other varied
    parameter (C-rate, realization, ...); `made_of`: the parameters `key` is derived from."""
    others = _others(rows, key, *made_of)
    group = lambda r: tuple(r.get(k) for k in others)  # noqa: E731
    base = {group(r): r for r in rows if r[key] == ref}
    for r in rows:
        b = base.get(group(r))
        r["loss_percent"] = 100 * (1 - r[CAP] / b[CAP]) if b else float("nan")


def _write(study_dir, name, rows, cols, md):
    write_csv(study_dir / f"{name}.csv", [c for _, c, _ in cols], [{c: r.get(c) for _, c, _ in cols} for r in rows])
    atomic_write_text(study_dir / "report.md", "\n".join([md[0], "", markdown_table(rows, cols), "", *md[1:]]) + "\n")


def electrodes(study_dir: Path, rows, spec):
    rows = [r for r in rows if r.get(CAP) is not None]
    if not rows:
        return
    names = {(0.46, 1): "standard", (0.38, 1): "low AMSVF", (0.46, 2): "high energy"}
    for r in rows:
        r["electrode"] = names.get((r["param.structure.layers.1.cam_fraction"], r["param.structure.duplicate_x"]), "?")
        r["vs_experiment_percent"] = 100 * (r[CAP] / EXPERIMENT_0_1C - 1)
    _loss(rows, "electrode", "standard", ("param.structure.layers.1.cam_fraction", "param.structure.duplicate_x",
                                         "param.structure.separator_um"))
    for r in rows:
        if r[C] == min(x[C] for x in rows):
            f = study_dir / "cases" / r["case"]
            snaps = sorted(f.glob("profile_*V.csv"), key=lambda p: -float(p.stem[8:-1]))
            if snaps:
                _snap_plot(snaps, study_dir / f"fig6_sandwich_{r['electrode'].replace(' ', '_')}.png",
                           f"Seed 002 Fig. 6: lithiation at {r[C]:g}C, {r['electrode']}")
    rows.sort(key=lambda r: (r["electrode"], r[C]))
    cols = [("electrode", "electrode", ""), ("C-rate", C, "g"), ("Q [mAh/g]", CAP, ".1f"),
            ("vs experiment 128 mAh/g [%]", "vs_experiment_percent", "+.1f"),
            ("loss vs standard [%]", "loss_percent", "+.1f"), ("A_C/A_CC", "structure.cc_contact_ratio", ".3f")]
    _write(study_dir, "electrodes", rows, cols,
           ["## Seed 002 virtual electrodes", "Paper: simulated 0.1C capacity ≈ 20 % above the experimental "
            "128 mAh/g (low AMSVF ≈ 8.5 % above); high-energy cell ≈ 15 % less capacity."])


def _snap_plot(paths, out, title):
    series = {}
    for p in paths:
        with open(p) as fh:
            prof = list(csv.DictReader(fh))
        series[p.stem[8:]] = ([float(q["x_um"]) for q in prof], [float(q["utilization"]) for q in prof], None)
    line_plot(out, series, "x from separator [µm]", "CAM utilization", title)


def cc_contact(study_dir: Path, rows, spec):
    """Capacity loss against the largest contact ratio of the study (the paper's 42 %), per C-rate
    and realization; with several realizations also their mean and spread (Fig. 8 error bars),
    while the maps and profiles show the first realization. The contact is lowered either by
    cropping less (cc_contact_target, the paper's way) or by detaching part of one electrode's
    contact (cc_delamination_fraction, the electrode unchanged)."""
    rows = [r for r in rows if r.get(CAP) is not None]
    if not rows:
        return
    key = "structure.cc_contact_ratio"
    detach = "param.structure.cc_delamination_fraction"
    target = detach if any(detach in r for r in rows) else "param.structure.cc_contact_target"
    sign = 1 if target == detach else -1  # rows in order of falling contact
    ref = min(sign * r[target] for r in rows) * sign
    _loss(rows, target, ref)
    many = len({r.get(REALIZATION) for r in rows}) > 1
    agg = aggregate(rows, _others(rows, REALIZATION), [key, CAP, "loss_percent"])
    line_plot(study_dir / "fig8_capacity_vs_contact.png", _series(agg if many else rows, key, many, target), "A_C/A_CC",
              "capacity [mAh/g]", "Seed 002 Fig. 8" + (f" (mean ± sd of {len(rows) // len(agg)} realizations)"
                                                       if many else ""))
    first = [r for r in rows if r.get(REALIZATION, 0) == min(x.get(REALIZATION, 0) for x in rows)]
    geo = {r[key]: r for r in first}
    xs = sorted(geo)
    line_plot(study_dir / "fig4b_electronic_conductivity.png",
              {"σ_eff/σ (CAM network, x)": (xs, [geo[x].get("conductivity.sigma_eff_rel", np.nan) for x in xs], None)},
              "A_C/A_CC", "σ_eff/σ_CAM", "Seed 002 Fig. 4b")
    low = sorted((r for r in first if r[C] == min(x[C] for x in first)), key=lambda r: -r[key])
    profile_plot(study_dir, low, lambda r: f"A_C/A_CC = {r[key]:.2f}", study_dir / "fig9_profiles.png",
                 f"Seed 002 Fig. 9: utilization at cut-off, {low[0][C]:g}C")
    _face_maps(study_dir, low, study_dir / "fig9_collector_face.png", f"Seed 002 Fig. 9: collector face, {low[0][C]:g}C")
    lever = "detached" if target == detach else "target"
    loss = "loss vs intact [%]" if target == detach else f"loss vs {ref:.0%} [%]"
    extra = _other_cols(rows, target)
    rows.sort(key=lambda r: (r[C], *(r.get(k) for _, k, _ in extra), sign * r[target], r.get(REALIZATION, 0)))
    cols = [("C-rate", C, "g"), *extra, (lever, target, "g"), *([("realization", REALIZATION, "d")] if many else []),
            ("A_C/A_CC", key, ".3f"), ("σ_eff/σ CAM", "conductivity.sigma_eff_rel", ".4f"), ("Q [mAh/g]", CAP, ".1f"),
            (loss, "loss_percent", "+.1f")]
    md = ["## Seed 002 current-collector contact", "Paper: 42 → 30 % ≈ 2 % capacity loss, 11 % ≈ 9 % loss, "
          "1 % drops even at 0.1C; σ_eff of the CAM network falls with the contact area."]
    if target == detach:
        md += ["", "Here the contact falls by detaching part of one electrode's collector contact "
               "(structure.cc_delamination_fraction), so no CAM is removed, unlike the paper's crops."]
    if many:
        agg.sort(key=lambda a: (a[C], *(a.get(k) for _, k, _ in extra), sign * a[target]))
        md += ["", "Mean and standard deviation over the realizations:", "",
               markdown_table(agg, [("C-rate", C, "g"), *extra, (lever, target, "g"), ("n", "n", "d"),
                                    ("A_C/A_CC", key, ".3f"), ("Q [mAh/g]", CAP, ".2f"), ("±", CAP + ".std", ".2f"),
                                    (loss, "loss_percent", "+.2f"), ("±", "loss_percent.std", ".2f")])]
    _write(study_dir, "cc_contact", rows, cols, md)


def _face_maps(study_dir: Path, rows, out: Path, title: str, near_V: float = 3.6):
    """x_Li and the current density into the collector over the collector face (collector.py), one
    row of maps per case, from the cases' collector_<V>V.csv snapshot nearest `near_V` (Fig. 9)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snaps = {float(p.stem[10:-1]) for r in rows for p in (study_dir / "cases" / r["case"]).glob("collector_*V.csv")}
    if not snaps:
        return
    volts = min(snaps, key=lambda v: abs(v - near_V))
    title = f"{title} at {volts:g} V"
    faces = [(r, study_dir / "cases" / r["case"] / f"collector_{volts:g}V.csv") for r in rows]
    faces = [(r, np.genfromtxt(p, delimiter=",", names=True)) for r, p in faces if p.exists()]
    if not faces:
        return
    fig, axes = plt.subplots(len(faces), 2, figsize=(8.4, 3.6 * len(faces)), squeeze=False)
    i_max = max(float(np.percentile(f["current_density_mA_cm2"], 99)) for _, f in faces)
    for (r, f), (ax_x, ax_i) in zip(faces, axes):
        for ax, field, label, lim in ((ax_x, "x_Li", "x_Li", (0.4, 1.0)),
                                      (ax_i, "current_density_mA_cm2", "i into collector [mA/cm²]", (0, i_max))):
            sc = ax.scatter(f["y_um"], f["z_um"], c=f[field], s=4, marker="s", vmin=lim[0], vmax=lim[1], cmap="viridis")
            fig.colorbar(sc, ax=ax, label=label)
            ax.set_aspect("equal")
            ax.set_xlim(0, max(float(g["y_um"].max()) for _, g in faces))
            ax.set_ylim(0, max(float(g["z_um"].max()) for _, g in faces))
            ax.set_xlabel("y [µm]")
            ax.set_ylabel("z [µm]")
            ax.set_title(f"A_C/A_CC = {r['structure.cc_contact_ratio']:.2f}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def delamination(study_dir: Path, rows, spec):
    rows = [r for r in rows if r.get(CAP) is not None]
    if not rows:
        return
    key = "param.structure.delamination_fraction"
    _loss(rows, key, 0.0)
    line_plot(study_dir / "fig10_capacity_vs_delamination.png", _series(rows, key), "passivated fraction",
              "capacity [mAh/g]", "Seed 002 Fig. 10")
    extra = _other_cols(rows, key)
    rows.sort(key=lambda r: (r[C], *(r.get(k) for _, k, _ in extra), r[key]))
    cols = [("C-rate", C, "g"), *extra, ("passivated", key, "g"), ("Q [mAh/g]", CAP, ".1f"),
            ("loss vs 0 % [%]", "loss_percent", "+.1f"), ("U_end [V]", "final_voltage_V", ".3f")]
    _write(study_dir, "delamination", rows, cols,
           ["## Seed 002 particle delamination", "Paper: 75 % passivated ≈ 17 % less capacity at 0.5C."])


def impedance(study_dir: Path, rows, spec):
    from fem_assb.electrochem.impedance import nyquist

    rows = [r for r in rows if r.get("high_frequency_re_Z_ohm_cm2") is not None]
    if not rows:
        return
    key = "param.structure.delamination_fraction"
    spectra = {}
    for r in sorted(rows, key=lambda r: r[key]):
        with open(study_dir / "cases" / r["case"] / "impedance.csv") as fh:
            data = [(float(a["f_Hz"]), float(a["re_Z_ohm_cm2"]), float(a["minus_im_Z_ohm_cm2"]))
                    for a in csv.DictReader(fh)]
        f, re, mim = map(np.array, zip(*data))
        spectra[f"{100 * r[key]:g} % passivated"] = (f, re - 1j * mim)
        res = json.loads((study_dir / "cases" / r["case"] / "result.json").read_text())["result"]
        r["anode_f_Hz"], r["anode_R"] = res["anode_arc"]["f_Hz"], res["anode_arc"]["arc_resistance_ohm_cm2"]
        r["cathode_arcs"] = ", ".join(f"{a['f_Hz']:.3g} Hz / {a['arc_resistance_ohm_cm2']:.1f}"
                                      for a in res["cathode_arcs"]) or "–"
        r["cathode_polarisation"] = (res["low_frequency_re_Z_ohm_cm2"] - res["high_frequency_re_Z_ohm_cm2"]
                                     - res["anode_arc"]["arc_resistance_ohm_cm2"])
    nyquist(study_dir / "fig12_nyquist.png", spectra)
    rows.sort(key=lambda r: r[key])
    cols = [("passivated", key, "g"), ("R(7 MHz) [Ω cm²]", "high_frequency_re_Z_ohm_cm2", ".1f"),
            ("L_sep/κ [Ω cm²]", "separator_resistance_ohm_cm2", ".1f"), ("anode arc f [Hz]", "anode_f_Hz", ".3g"),
            ("anode arc R [Ω cm²]", "anode_R", ".1f"), ("cathode-side arcs f / R [Hz / Ω cm²]", "cathode_arcs", ""),
            ("cathode polarisation [Ω cm²]", "cathode_polarisation", ".1f"),
            ("interface [cm²/cm²]", "interface_area_per_area", ".2f")]
    _write(study_dir, "impedance", rows, cols,
           ["## Seed 002 impedance (Fig. 12)", "Paper: separator ≈ 361 Ω cm² (measured), anode arc ≈ 31 kHz, cathode "
            "arc ≈ 2.5 kHz; the cathode arc grows with delamination, the anode arc does not. Arcs here are "
            "read from the cell's spectrum split at the anode|SE face (a virtual reference electrode): anode side, "
            "and separator + cathode side (all its arcs, high to low frequency). Cathode polarisation = Re Z at the "
            "lowest frequency − R(7 MHz) − anode arc. The NMC622 i00 is read for normalised concentrations "
            "(docs/REPRODUCTION.md); in seed 001's concentration-product reading the cathode charge transfer "
            "moves to ≈ 10 Hz."])
