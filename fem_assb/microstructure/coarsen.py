"""Coarsening a voxel image by an integer factor, keeping the phase volume fractions."""
from __future__ import annotations

import numpy as np


def coarsen(labels: np.ndarray, k: int) -> np.ndarray:
    """Each k×k×k block becomes one phase; every phase keeps its volume to within rounding.

    The blocks are counted from x = 0, the separator side. When the x length is not a multiple
    of k, the last layer, at the collector, is a slab of the nx mod k remaining voxel layers
    (`layer_voxels` gives every layer's thickness): the grid of an electrode cropped voxel by
    voxel at the collector (cc_contact) is then the same in all crop depths, and no voxel is
    dropped or invented. Earlier variants cut that remainder or filled it with SE at the
    separator side; both shifted the whole grid by one voxel between odd and even crop depths,
    which changed the discretised particles everywhere, not just the contact. Along y and z,
    which only set the area, the remainder comes off the end.

    Plain majority voting does not keep the volumes: at k = 2 one block in ten is a 4:4 tie, and
    with 65 % CAM the mixed blocks lean to the CAM (a 65 % CAM image became 60.8 % with ties sent
    to SE, 66 % with ties split evenly; 70 % at k = 3 and 75 % at k = 4 without ties). Here each
    phase takes the blocks where it holds most voxels first, highest count first (ties in count:
    the larger share of that phase in the surrounding 3×3×3 blocks first), until it has the block
    count of its volume; a block no phase can take any more goes to its majority phase. For two
    phases this is a threshold on the count, so majority blocks keep their phase unless the phase
    is already full. The collector slab is balanced on its own.
    """
    if k == 1:
        return labels
    nx, ny, nz = labels.shape
    lab = np.asarray(labels[:, : ny - ny % k, : nz - nz % k])
    q = nx - nx % k
    parts = [_balanced(lab[:q], (k, k, k))] if q else []
    if q < nx:
        parts.append(_balanced(lab[q:], (nx - q, k, k)))
    return np.concatenate(parts, axis=0).astype(labels.dtype)


def layer_voxels(nx: int, k: int) -> np.ndarray:
    """Thickness in fine voxels of each x layer of `coarsen(labels, k)`, separator side first."""
    return np.array([k] * (nx // k) + ([nx % k] if nx % k else []), np.int64)


def _balanced(lab: np.ndarray, b: tuple[int, int, int]) -> np.ndarray:
    """Volume-balanced coarsening of `lab` by blocks of shape b (a multiple of b along each axis)."""
    nb = b[0] * b[1] * b[2]
    n = [s // f for s, f in zip(lab.shape, b)]
    phases = np.unique(lab)
    count = np.stack([(lab == p).reshape(n[0], b[0], n[1], b[1], n[2], b[2]).sum(axis=(1, 3, 5), dtype=np.int32)
                      for p in phases])
    share = np.stack([_neighbourhood(c) for c in count]).reshape(len(phases), -1)
    count = count.reshape(len(phases), -1)
    deficit = np.rint(count.sum(axis=1) / nb).astype(np.int64)
    orders = [np.lexsort((share[p], count[p]))[::-1] for p in range(len(phases))]
    # where each count level starts in each phase's order (counts descend along it)
    starts = [np.searchsorted(-count[p][o], -np.arange(nb, -1, -1)) for p, o in enumerate(orders)]
    out = np.full(count.shape[1], -1, np.int64)
    for level in range(nb, 0, -1):
        for p, (o, s) in enumerate(zip(orders, starts)):
            if deficit[p] <= 0:
                continue
            i = nb - level
            cand = o[s[i]:s[i + 1]]
            take = cand[out[cand] < 0][: deficit[p]]
            out[take] = p
            deficit[p] -= take.size
    left = out < 0
    out[left] = np.argmax(count[:, left], axis=0)
    return phases[out].reshape(n)


def _neighbourhood(count: np.ndarray) -> np.ndarray:
    """Sum of a per-block count over each block's 3×3×3 neighbourhood (edges replicated)."""
    p = np.pad(count, 1, mode="edge")
    s = p[:-2] + p[1:-1] + p[2:]
    s = s[:, :-2] + s[:, 1:-1] + s[:, 2:]
    return s[:, :, :-2] + s[:, :, 1:-1] + s[:, :, 2:]
