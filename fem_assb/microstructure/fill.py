"""Filling the space between CAM particles: binder menisci, void blobs, SE grains, pressed pores.

Each function picks exactly `count` voxels out of an `available` mask, so target fractions
are met to the voxel; randomness comes only from the generator passed in.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from fem_assb.microstructure.packing import SpherePacking


def _take_smallest(score: np.ndarray, available: np.ndarray, count: int) -> np.ndarray:
    """Mask of the `count` available voxels with the smallest score."""
    idx = np.flatnonzero(available)
    if count >= idx.size:
        return available.copy()
    pick = idx[np.argpartition(score.ravel()[idx], count)[:count]]
    out = np.zeros(available.size, bool)
    out[pick] = True
    return out.reshape(available.shape)


def binder_menisci(available: np.ndarray, packing: SpherePacking, h: float, count: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Binder where two particle surfaces come close: the voxels with the smallest sum of
    distances to the two nearest sphere surfaces (a pendular ring, concave towards the pore,
    around each contact; cf. the GeoDict procedure of seed 000 §2.3)."""
    idx = np.flatnonzero(available)
    pts = (np.stack(np.unravel_index(idx, available.shape), 1) + 0.5) * h
    per = np.array(packing.box, float)
    if packing.wall_x:
        per[0] = 3 * packing.box[0]
    tree = cKDTree(np.mod(packing.centers, per), boxsize=per)
    k = min(8, len(packing.radii))
    dist, near = tree.query(np.mod(pts, per), k=k)
    surf = np.sort(dist - packing.radii[near], axis=1)
    score = np.full(available.size, np.inf)
    score[idx] = surf[:, 0] + surf[:, 1] + 1e-9 * rng.random(idx.size)  # random tie-break
    return _take_smallest(score.reshape(available.shape), available, count)


def smooth_field(shape, corr_vox: float, rng: np.random.Generator) -> np.ndarray:
    """Periodic Gaussian random field with Gaussian correlation of width `corr_vox` voxels."""
    noise = rng.standard_normal(shape)
    k = [np.fft.fftfreq(n) for n in shape]
    k2 = k[0][:, None, None] ** 2 + k[1][None, :, None] ** 2 + k[2][None, None, :] ** 2
    filt = np.exp(-2.0 * (np.pi * corr_vox) ** 2 * k2)
    return np.fft.ifftn(np.fft.fftn(noise) * filt).real


def void_blobs(available: np.ndarray, count: int, size_vox: float, rng: np.random.Generator) -> np.ndarray:
    """Void as blobs of about `size_vox` voxels: the `count` available voxels where a smooth
    random field is highest (an excursion set, so voids are compact, not salt-and-pepper)."""
    field = smooth_field(available.shape, max(size_vox / 2.0, 0.5), rng)
    return _take_smallest(-field, available, count)


def distance_to(mask: np.ndarray, reach_vox: int, periodic=(True, True, True)) -> np.ndarray:
    """Euclidean distance (voxels) from every voxel to the nearest voxel of `mask`, wrapping
    around periodic axes (exact up to `reach_vox` voxels across a periodic face)."""
    out = ~mask
    for a, per in enumerate(periodic):
        width = [(0, 0)] * 3
        width[a] = (reach_vox, reach_vox)
        out = np.pad(out, width, mode="wrap") if per else np.pad(out, width, constant_values=True)
    return ndimage.distance_transform_edt(out)[tuple(slice(reach_vox, reach_vox + n) for n in mask.shape)]


def se_grains(available: np.ndarray, count: int, grain_vox: float, rng: np.random.Generator) -> np.ndarray:
    """SE as overlapping round grains of about `grain_vox` voxels (a Boolean model): grain
    centres are a Poisson process in the available space and SE is the union of balls around
    them, grown until exactly `count` voxels are covered; the rest is left as void."""
    n_av = int(available.sum())
    share = min(count / max(n_av, 1), 0.999)
    r = grain_vox / 2.0
    lam = -np.log(1.0 - share) / (4.0 / 3.0 * np.pi * r ** 3)  # grains per voxel
    n_grains = max(1, int(rng.poisson(lam * available.size)))
    seeds = np.zeros(available.shape, bool)
    seeds[tuple(rng.integers(0, n, n_grains) for n in available.shape)] = True
    dist = distance_to(seeds, int(np.ceil(3 * r)) + 1)  # periodic distances
    dist = dist + 1e-6 * rng.random(dist.shape)
    return _take_smallest(dist, available, count)


def pressed_split(available: np.ndarray, cam: np.ndarray, se: np.ndarray, n_cam: int, n_void: int,
                  reach_vox: int, periodic) -> tuple[np.ndarray, np.ndarray]:
    """Close the pores of a packing as pressing does: the `n_void` available voxels farthest
    from any particle stay void, the `n_cam` nearest to a CAM rather than an SE surface
    (smallest d_CAM − d_SE) become CAM, the rest SE. Gaps between CAM particles that are
    narrow against the SE grains thus fill with CAM: the particles fuse into aggregates
    (seed 004). Returns the (CAM, void) masks of the pore."""
    d_cam = distance_to(cam, reach_vox, periodic)
    d_se = distance_to(se, reach_vox, periodic)
    void = _take_smallest(-np.minimum(d_cam, d_se), available, n_void) if n_void else np.zeros_like(available)
    rest = available & ~void
    return _take_smallest(d_cam - d_se, rest, n_cam), void
