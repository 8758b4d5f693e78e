"""The cache folder for generated structures and meshes (content-addressed by hashes)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """`$FEM_ASSB_CACHE/kind` (default `./.cache/fem_assb/kind`)."""
    root = Path(os.environ.get("FEM_ASSB_CACHE", Path.cwd() / ".cache" / "fem_assb"))
    d = root / kind
    d.mkdir(parents=True, exist_ok=True)
    return d


def digest(obj) -> str:
    """A short stable hash of JSON-serialisable data."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
