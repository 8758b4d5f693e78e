"""CSV tables: rows of dicts or columns of arrays, floats to 10 significant digits, written
atomically (a reader never sees half a table)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from fem_assb.io.atomic import atomic_write_text


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic_write_text(path, buf.getvalue())


def write_columns(path: Path, data: dict) -> None:
    """One column per key of `data` (equal lengths)."""
    write_csv(path, list(data), [dict(zip(data, v)) for v in zip(*data.values())])
