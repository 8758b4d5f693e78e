"""A voxel microstructure: phase labels on a regular grid plus what made it.

`labels[ix, iy, iz]` holds `Phase` values; x runs from the separator (x = 0) to the current
collector. The composite image excludes the separator slab, which is kept as a thickness and
meshed separately (graded cells); `with_separator()` gives the voxel image including it.
Collector delamination is not a phase: `cc_delaminated` marks the pixels of the collector face
(x = L) whose CAM has lost contact with the collector.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fem_assb.phases import Phase


@dataclass
class Structure:
    labels: np.ndarray  # uint8 Phase values, shape (nx, ny, nz)
    voxel_um: float
    separator_um: float = 0.0
    meta: dict = field(default_factory=dict)
    cc_delaminated: np.ndarray | None = None  # bool (ny, nz): collector pixels whose CAM lost contact

    @property
    def shape(self):
        return self.labels.shape

    @property
    def size_um(self):
        return [n * self.voxel_um for n in self.labels.shape]

    def with_separator(self) -> np.ndarray:
        """Voxel image with the separator slab (rounded to whole voxels) at x = 0."""
        n = int(round(self.separator_um / self.voxel_um))
        slab = np.full((n,) + self.labels.shape[1:], Phase.SEPARATOR, np.uint8)
        return np.concatenate([slab, self.labels], axis=0)

    def save(self, path: str | Path) -> None:
        """Write `path` (.npy labels) and `path`.json (voxel size, label table, metadata), atomically."""
        from fem_assb.io.atomic import atomic_write_bytes, atomic_write_json

        import io

        buf = io.BytesIO()
        np.save(buf, self.labels)
        atomic_write_bytes(path, buf.getvalue())
        atomic_write_json(sidecar(path), {
            "voxel_um": self.voxel_um, "separator_um": self.separator_um,
            "labels": {str(int(p)): p.name for p in Phase}, "shape": list(self.labels.shape),
            "meta": self.meta,
            "cc_delaminated_pixels": None if self.cc_delaminated is None
            else np.flatnonzero(self.cc_delaminated).tolist()})

    @classmethod
    def load(cls, path: str | Path) -> "Structure":
        """Read an image written by `save` (labels are our Phase values)."""
        info = json.loads(Path(sidecar(path)).read_text())
        labels = np.load(path)
        return cls(labels, info["voxel_um"], info.get("separator_um", 0.0), info.get("meta", {}),
                   cc_mask(info, labels.shape))


def sidecar(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + ".json")


def cc_mask(info: dict, shape) -> np.ndarray | None:
    """The collector-delamination mask stored in a sidecar's `info` for an image of `shape`."""
    lost = info.get("cc_delaminated_pixels")
    if lost is None:
        return None
    mask = np.zeros(tuple(shape[1:]), bool)
    mask.ravel()[np.asarray(lost, np.int64)] = True
    return mask


def sidecar_collector_mask(path: str | Path, shape) -> np.ndarray | None:
    """The collector-delamination mask in an image's .json sidecar (`structure generate`), if any."""
    side = sidecar(path)
    return cc_mask(json.loads(side.read_text()), shape) if side.is_file() else None
