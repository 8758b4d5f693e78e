"""Coarsening a voxel image by an integer factor (majority phase per block)."""
from __future__ import annotations

import numpy as np


def coarsen(labels: np.ndarray, k: int) -> np.ndarray:
    """Each k×k×k block becomes its most frequent phase (ties: the lower phase value).

    The image is cropped to a multiple of k; phase fractions change slightly (report them).
    """
    if k == 1:
        return labels
    n = [s // k for s in labels.shape]
    lab = np.asarray(labels[: n[0] * k, : n[1] * k, : n[2] * k])
    best = np.zeros(n, np.uint8)
    best_count = np.full(n, -1, np.int32)
    for p in np.unique(lab):
        count = (lab == p).reshape(n[0], k, n[1], k, n[2], k).sum(axis=(1, 3, 5))
        better = count > best_count
        best[better], best_count[better] = p, count[better]
    return best
