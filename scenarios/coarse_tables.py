"""Regenerate the coarse tables of docs/REPRODUCTION.md from the current code, in one go.

    ./fem-assb exec python3 scenarios/coarse_tables.py [--only NAME,...] [--results DIR] [--groups N]

Runs (or resumes) each coarse study below with N single-rank groups (default 2: one per core)
and rewrites the block
between `<!-- coarse:NAME -->` and `<!-- /coarse:NAME -->` in docs/REPRODUCTION.md: a table of
capacity [mAh/cm²] / energy density [Wh/kg] and a line naming the commit, the date and the
command. Without the markers the table is printed only.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fem_assb.io.atomic import atomic_write_text  # noqa: E402

REPRO = ROOT / "docs" / "REPRODUCTION.md"
R = "structure.channel.radius_um"
I = "steps.1.current_mA_cm2"  # noqa: E741
F = "structure.layers.1.thickness_fraction"
REV = "structure.reverse"
T = "materials.electrolyte_transference"

#: name → (study file, row parameter, column parameters, row label)
TABLES = {
    "perforated": ("scenarios/perforated/coarse.toml", R, [I], "r [µm]"),
    "layered": ("scenarios/layered/coarse.toml", F, [REV, I], "f_L60"),
    "perforated-lib": ("scenarios/perforated_lib/coarse.toml", R, [I], "r [µm]"),
    "perforated-lib-tplus": ("scenarios/perforated_lib/tplus_coarse.toml", T, [R], "t+"),
}


def commit() -> str:
    """The checked-out commit, read from .git (the runtime image has no git)."""
    git = ROOT / ".git"
    if git.is_file():  # a worktree: "gitdir: PATH"
        git = Path(git.read_text().split(":", 1)[1].strip())
    head = (git / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return head[:7]
    ref = head.split(" ", 1)[1]
    for base in (git, git.parent.parent if "worktrees" in git.parts else git):
        if (base / ref).is_file():
            return (base / ref).read_text().strip()[:7]
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line[:7]
    return "unknown"


def run_study(study: str, out: Path, groups: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "commit.txt").write_text(commit() + "\n")  # the code that produced the results
    from fem_assb.launcher import mpirun_command

    cmd = [sys.executable, "-m", "fem_assb", "sweep", str(ROOT / study), "-o", str(out), "--group-size", "1"]
    if groups > 1:
        cmd = [*mpirun_command(groups), *cmd]
    subprocess.run(cmd, cwd=ROOT, check=False)


def _label(key: str, value) -> str:
    return {I: f"{value:g} mA/cm²", REV: "reversed" if value else "normal", R: f"r = {value:g} µm"}.get(key, f"{value}")


def table(out: Path, row: str, cols: list[str], row_label: str) -> str:
    results = [json.loads(f.read_text()) for f in sorted((out / "cases").glob("*/result.json"))]
    if not results:
        return "(no finished cases)\n"
    cells, rows, columns = {}, set(), []
    for r in results:
        p, s = r["params"], r["result"]
        col = tuple(p[c] for c in cols)
        if col not in columns:
            columns.append(col)
        rows.add(p[row])
        mark = " †" if s.get("electrolyte_depleted") else ""
        cells[p[row], col] = f"{s['capacity_mAh_cm2']:.3f} / {s['energy_density_Wh_kg']:.1f}{mark}"
    columns.sort(key=lambda c: tuple(float(v) for v in c))
    head = [row_label] + [", ".join(_label(k, v) for k, v in zip(cols, c)) for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rv in sorted(rows):
        lines.append("| " + " | ".join([f"{rv:g}" if isinstance(rv, float) else str(rv)]
                                         + [cells.get((rv, c), "–") for c in columns]) + " |")
    failed = len(list((out / "cases").glob("*/error.json")))
    note = f"; {failed} case(s) failed (error.json)" if failed else ""
    if any("†" in v for v in cells.values()):
        note += "; † the electrolyte depleted (the run ended there, near its cut-off)"
    return "\n".join(lines) + f"\n\ncapacity [mAh/cm²] / energy density [Wh/kg]{note}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated names of " + ", ".join(TABLES))
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "coarse", help="where the sweeps write")
    ap.add_argument("--no-run", action="store_true", help="only rebuild the tables from finished sweeps")
    ap.add_argument("--groups", type=int, default=2, help="single-rank groups running cases side by side")
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(TABLES)
    for name in names:
        study, row, cols, label = TABLES[name]
        out = a.results / name
        if not a.no_run:
            run_study(study, out, a.groups)
        made = (out / "commit.txt").read_text().strip() if (out / "commit.txt").is_file() else "unknown"
        stamp = f"commit {made}, {time.strftime('%Y-%m-%d')}"
        block = (f"Regenerated by `scenarios/coarse_tables.py` ({stamp}) from `{study}`:\n\n"
                 + table(out, row, cols, label))
        print(f"--- {name}\n{block}")
        begin, end = f"<!-- coarse:{name} -->", f"<!-- /coarse:{name} -->"
        text = REPRO.read_text()  # now, not before the sweep: edits made while it ran stay
        if begin in text:
            text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda m: f"{begin}\n{block}{end}", text,
                          flags=re.S)
            atomic_write_text(REPRO, text)


if __name__ == "__main__":
    main()
