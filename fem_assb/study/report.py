"""Collecting a study's case results into one flat table and calling its report hook."""
from __future__ import annotations

import importlib
from pathlib import Path

from fem_assb.errors import InputError


def flatten(d: dict, prefix: str = "") -> dict:
    """Scalar leaves of nested dicts as dotted keys (lists of ≤ 3 numbers kept as text)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[key] = v
        elif isinstance(v, list) and len(v) <= 3 and all(isinstance(x, (int, float)) for x in v):
            out[key] = " ".join(f"{x:g}" for x in v)
    return out


def table(results: list[dict]) -> list[dict]:
    rows = []
    for r in results:
        row = {"case": r["case"], "index": r["index"]}
        row.update({f"param.{k}": (" ".join(f"{x:g}" for x in v) if isinstance(v, list) and all(
            isinstance(x, (int, float)) for x in v) else v) for k, v in r["params"].items()})
        row.update(flatten(r["result"]))
        rows.append(row)
    return rows


def build_report(study_dir: Path) -> dict:
    """table.csv (+ the study's own figures and markdown); returns counts."""
    from fem_assb.io.tables import write_csv
    from fem_assb.study.runner import collect
    from fem_assb.study.spec import load_study

    if not (study_dir / "study.toml").is_file():
        raise InputError(f"{study_dir}: not a study folder (no study.toml; run `fem-assb sweep` first)")
    spec, cases = load_study(study_dir / "study.toml")
    results = collect(study_dir)
    rows = table(results)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    write_csv(study_dir / "table.csv", cols, rows)
    failed = sorted(p.parent.name for p in (study_dir / "cases").glob("*/error.json"))
    for stale in study_dir.glob("*.png"):  # figures of an earlier (partial) report: the hook redraws what the cases allow
        stale.unlink()
    if spec.study.report:
        mod, _, fn = spec.study.report.partition(":")
        try:
            hook = getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as e:
            raise InputError(f"{study_dir}/study.toml: report = '{spec.study.report}' cannot be loaded: {e}") from None
        hook(study_dir, rows, spec)
    return {"cases": len(cases), "finished": len(results), "failed": failed}


# --- helpers for study report hooks -------------------------------------------------------------

def aggregate(rows: list[dict], by: list[str], values: list[str]) -> list[dict]:
    """Mean, standard deviation and count of `values` over rows sharing the `by` columns."""
    import numpy as np

    groups: dict = {}
    for r in rows:
        key = tuple(r.get(b) for b in by)
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        row = dict(zip(by, key))
        row["n"] = len(rs)
        for v in values:
            xs = np.array([float(r[v]) for r in rs if r.get(v) is not None], float)
            xs = xs[np.isfinite(xs)]
            row[v] = float(xs.mean()) if xs.size else float("nan")
            row[v + ".std"] = float(xs.std(ddof=1)) if xs.size > 1 else 0.0
        out.append(row)
    return out


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """columns: (header, key, format)."""
    head = "| " + " | ".join(h for h, _, _ in columns) + " |"
    sep = "|" + "---|" * len(columns)
    lines = [head, sep]
    for r in rows:
        cells = []
        for _, k, fmt in columns:
            v = r.get(k)
            cells.append("–" if v is None or (isinstance(v, float) and v != v) else format(v, fmt))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def line_plot(path: Path, series: dict, xlabel: str, ylabel: str, title: str = "", logy: bool = False,
              extra=None) -> None:
    """series: label → (x, y, yerr or None)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for label, (x, y, err) in series.items():
        ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=3, label=label)
    if extra:
        extra(ax)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def gains(rows: list[dict], key: str, ref, by: str, values: list[str]) -> None:
    """Adds `V.gain` = V − V(reference) to each row, the reference being the row with the same
    `by` value and `key` == ref (e.g. the unperforated cathode at the same current)."""
    refs = {r[by]: r for r in rows if r[key] == ref}
    for r in rows:
        base = refs.get(r[by])
        for v in values:
            r[v + ".gain"] = float(r[v]) - float(base[v]) if base else float("nan")


def profile_plot(study_dir: Path, rows: list[dict], label, path: Path, title: str,
                 right: tuple[str, str, float] = ("cumulative_capacity_mAh_cm2", "cumulative capacity [mAh/cm²]", 1.0)
                 ) -> None:
    """Utilization (left) and, right, a second profile.csv column (default the cumulative
    capacity; `right` = (column, label, factor)) along x at cut-off, one line per row."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = [(r, study_dir / "cases" / r["case"] / "profile.csv") for r in rows]
    files = [(r, f) for r, f in files if f.is_file()]
    if not files:  # none of these cases has finished: no empty figure
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for r, f in files:
        with open(f) as fh:
            prof = list(csv.DictReader(fh))
        x = [float(p["x_um"]) for p in prof]
        axes[0].plot(x, [float(p["utilization"]) for p in prof], label=label(r))
        axes[1].plot(x, [float(p[right[0]]) * right[2] for p in prof], label=label(r))
    axes[0].set_ylabel("mean CAM utilization at cut-off")
    axes[1].set_ylabel(right[1])
    for ax in axes:
        ax.set_xlabel("x from separator [µm]")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_current(study_dir: Path, row: dict, path: Path, title: str) -> str | None:
    """PNG of |ionic current density| in the SE at cut-off (the case's electrolyte.xdmf); returns
    a one-line reason when it cannot be rendered (no display, missing fields) instead of failing
    the whole report."""
    from fem_assb.errors import SolverError
    from fem_assb.io.render import render_in_subprocess

    xdmf = study_dir / "cases" / row["case"] / "electrolyte.xdmf"
    if not xdmf.is_file():
        return f"{path.name}: {xdmf} missing"
    try:
        render_in_subprocess("fem_assb.io.fields:render_field",
                             {"xdmf": str(xdmf), "name": "ionic_current_density_magnitude", "png": str(path),
                              "title": title, "label": "|j| [mA/cm²]", "scale": 0.1})
    except (SolverError, InputError) as e:
        return f"{path.name}: {e}"
    return None
