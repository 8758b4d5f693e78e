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
    from fem_assb.electrochem.outputs import write_csv
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
