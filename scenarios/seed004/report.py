"""Seed 004 (Iwamoto et al. 2023) report from the 3D study (electrodes.toml) and its P2D twin (p2d.toml):

- Fig. 1 d–f: ε, τ² of SE and NCA, D_SCA (voxel faces and area-corrected) against the SE particle size;
- Fig. 2: capacity against C-rate, 3D model beside P2D with D50, with D_SCA from the voxel faces and with
  the corrected D_SCA (the paper's);
- Fig. 3: discharge curves of the 2 µm SE electrode;
- Fig. 4: Li in the P2D particles along x and r at the end of the 1C discharge, and the 3D utilisation
  along x.

    python3 scenarios/seed004/report.py RESULTS_3D RESULTS_P2D [-o OUT_DIR]

Writes report.md and three PNGs into OUT_DIR (default RESULTS_3D); a missing 3D case leaves its cells empty.
"""
import argparse
import csv
from pathlib import Path

import numpy as np

from fem_assb.study.runner import collect

SE, RATE = "structure.layers.1.se_particle_um", "steps.1.c_rate"
P2D_KINDS = {("dsca", "corrected"): "P2D D_SCA (corrected)", ("dsca", "voxel"): "P2D D_SCA (voxel faces)",
             ("median", "voxel"): "P2D D50"}


def _cases(folder: Path) -> list[dict]:
    """The study's finished cases, each with its folder."""
    return [dict(r, folder=folder / "cases" / r["case"]) for r in collect(folder)]


def _csv(path: Path) -> dict[str, np.ndarray]:
    """The numeric columns of a CSV file."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for k in rows[0]:
        try:
            out[k] = np.array([float(r[k]) for r in rows])
        except ValueError:  # a text column (the step kind)
            pass
    return out


def _key(case) -> tuple:
    p = case["params"]
    kind = (p.get("p2d.particle"), p.get("p2d.interface_area")) if "p2d.particle" in p else "3D"
    return p[SE], p[RATE], P2D_KINDS.get(kind, kind)


def by_key(dir3d: Path, dirp2d: Path) -> dict:
    """3D and P2D cases by (SE particle size, C-rate, model)."""
    return {_key(c): c for c in _cases(dir3d) + _cases(dirp2d)}


def structure_table(cases: dict) -> str:
    lines = ["| SE particles [µm] | ε_SE | τ²_SE | τ²_NCA | D_SCA voxel faces [µm] | D_SCA corrected [µm] | D50 [µm] |",
             "|---|---|---|---|---|---|---|"]
    for se in sorted({k[0] for k in cases}):
        vox = next((c for k, c in cases.items() if k[0] == se and k[2] == "P2D D_SCA (voxel faces)"), None)
        cor = next((c for k, c in cases.items() if k[0] == se and k[2] == "P2D D_SCA (corrected)"), None)
        if vox is None:
            continue
        p = vox["result"]["p2d"]
        d_cor = f"{cor['result']['p2d']['particle_diameters_um'][0]:.2f}" if cor else ""
        lines.append(f"| {se:g} | {p['eps_se'][0]:.3f} | {p['tau2_se'][0]:.2f} | {p['tau2_am'][0]:.2f} | "
                     f"{p['d_sca_um'][0]:.2f} | {d_cor} | {p['d50_um'][0]:.2f} |")
    return "\n".join(lines) + "\n"


def capacity_table(cases: dict) -> str:
    kinds = ["3D"] + list(P2D_KINDS.values())
    lines = ["| SE particles [µm] | C-rate | " + " | ".join(f"{k} [mAh/g]" for k in kinds) + " |",
             "|---|---|" + "---|" * len(kinds)]
    for se, rate in sorted({k[:2] for k in cases}):
        ref = cases.get((se, rate, "3D"))
        cells = []
        for k in kinds:
            c = cases.get((se, rate, k))
            if c is None:
                cells.append("")
                continue
            q = c["result"]["capacity_mAh_g"]
            rel = f" ({100 * (q / ref['result']['capacity_mAh_g'] - 1):+.1f} %)" if ref is not None and k != "3D" else ""
            cells.append(f"{q:.1f}{rel}")
        lines.append(f"| {se:g} | {rate:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plots(cases: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({k[0] for k in cases})
    kinds = ["3D"] + list(P2D_KINDS.values())
    style = {"3D": "o-", "P2D D50": "s--", "P2D D_SCA (voxel faces)": "^:", "P2D D_SCA (corrected)": "v-."}
    fig, axes = plt.subplots(1, len(sizes), figsize=(4 * len(sizes), 3.5), sharey=True)
    for ax, se in zip(np.atleast_1d(axes), sizes):
        for k in kinds:
            pts = sorted((r, c["result"]["capacity_mAh_g"]) for (s, r, kk), c in cases.items() if s == se and kk == k)
            if pts:
                ax.plot(*zip(*pts), style[k], label=k)
        ax.set_xscale("log")
        ax.set_title(f"SE particles {se:g} µm")
        ax.set_xlabel("C-rate")
    np.atleast_1d(axes)[0].set_ylabel("capacity [mAh/g NCA]")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "capacity_vs_rate.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for (se, rate, k), c in sorted(cases.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if se == 2.0:
            ts = _csv(c["folder"] / "timeseries.csv")
            ax.plot(ts["capacity_mAh_cm2"] / c["result"]["masses_g_cm2"]["cam_g_cm2"], ts["voltage_V"],
                    style[k][1:] or "-", color=f"C{sorted({r for _, r, _ in cases}).index(rate)}",
                    label=f"{k}, {rate:g}C" if k == "3D" or rate == 1.0 else None)
    ax.set_xlabel("capacity [mAh/g NCA]")
    ax.set_ylabel("voltage [V]")
    ax.set_title("2 µm SE particles (colour: C-rate)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "curves_2um.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(2, len(sizes), figsize=(4 * len(sizes), 6), sharex=True)
    for j, se in enumerate(sizes):
        for i, k in enumerate(["P2D D50", "P2D D_SCA (corrected)"]):
            c = cases.get((se, 1.0, k))
            ax = axes[i, j]
            if c is None:
                continue
            pa = _csv(c["folder"] / "particles.csv")
            xs, rs = np.unique(pa["x_um"]), np.unique(pa["r_over_rp"])
            d = c["result"]["p2d"]["particle_diameters_um"][0]
            grid = pa["x_Li"].reshape(xs.size, -1)
            im = ax.pcolormesh(xs, pa["r_over_rp"].reshape(xs.size, -1)[0] * d / 2, grid.T, vmin=0.3, vmax=1.0,
                               shading="auto")
            ax.set_title(f"{k}, SE {se:g} µm", fontsize=8)
            ax.set_ylabel("r [µm]")
        axes[-1, j].set_xlabel("x from separator [µm]")
    fig.colorbar(im, ax=axes, label="x_Li at the end of 1C")
    fig.savefig(out / "particles_1C.png", dpi=120)
    plt.close(fig)
    return ["capacity_vs_rate.png", "curves_2um.png", "particles_1C.png"]


def utilisation_table(cases: dict) -> str:
    """Mean utilisation in the separator-side and collector-side thirds at the end of 1C."""
    lines = ["| SE particles [µm] | model | utilisation, separator third | middle | collector third |", "|---|---|---|---|---|"]
    for (se, rate, k), c in sorted(cases.items()):
        if rate != 1.0 or k not in ("3D", "P2D D50", "P2D D_SCA (corrected)"):
            continue
        pr = _csv(c["folder"] / "profile.csv")
        x, u = pr["x_um"], pr["utilization"]
        thirds = np.array_split(np.argsort(x), 3)
        lines.append(f"| {se:g} | {k} | " + " | ".join(f"{u[t].mean():.3f}" for t in thirds) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_3d", type=Path)
    ap.add_argument("results_p2d", type=Path)
    ap.add_argument("-o", "--out", type=Path)
    a = ap.parse_args()
    out = a.out or a.results_3d
    out.mkdir(parents=True, exist_ok=True)
    cases = by_key(a.results_3d, a.results_p2d)
    text = ("## Structures (Fig. 1 d–f)\n\n" + structure_table(cases) +
            "\n## Capacity against C-rate (Fig. 2), relative to 3D\n\n" + capacity_table(cases) +
            "\n## Utilisation at the end of 1C along x (Fig. 4)\n\n" + utilisation_table(cases) +
            "\nPlots: " + ", ".join(plots(cases, out)) + "\n")
    (out / "report.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
