"""Dense random packings of non-overlapping spheres and their voxelisation.

Algorithm: particles are placed at random at their final radii and the harmonic overlap
energy E = ½ Σ max(0, r_i + r_j − d_ij)² is minimised with FIRE (Bitzek et al., PRL 97
(2006) 170201), the standard tool for soft-sphere jamming. When E reaches zero (every pair
overlap ≤ `tol` — a fraction of a voxel, invisible in the voxel image) the packing is
non-overlapping at the target fraction. Above the jamming density (≈ 64 % for monodisperse
spheres; higher for broad or multimodal distributions) this cannot happen: the packer then
reports the largest fraction it reached without overlap (radii scaled down until the worst
overlap vanishes).

The box is periodic in y and z and, unless `wall_x` is set, in x; with `wall_x` the spheres
stay inside 0 ≤ x ≤ L (a flat current collector pressed against the packing).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass
class SpherePacking:
    centers: np.ndarray  # (n, 3) µm
    radii: np.ndarray  # (n,) µm
    box: np.ndarray  # (3,) µm
    wall_x: bool
    max_overlap: float  # µm, largest pair overlap left
    iterations: int

    @property
    def fraction(self) -> float:
        """Analytic volume fraction (spheres cut by walls not corrected)."""
        return float(np.sum(4.0 / 3.0 * np.pi * self.radii ** 3) / np.prod(self.box))

    def reachable_fraction(self, tol: float, rng: np.random.Generator) -> float:
        """The largest fraction this jammed packing relaxes to without overlap: radii are
        shrunk in 1 % steps and re-relaxed from the jammed positions until they fit."""
        packing, scale = self, 1.0
        while packing.max_overlap > tol and scale > 0.5:
            scale *= 0.99
            packing = pack_spheres(self.radii * scale, self.box, rng, tol, self.wall_x, 3000, packing.centers)
        return self.fraction * scale ** 3


def sample_radii(target_fraction: float, box, diameters, number_ratio, spread: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Radii (µm) of a size distribution filling `target_fraction` of the box volume.

    Particle numbers per class follow `number_ratio`; each diameter varies by a normal
    relative `spread` truncated at ±2σ (so radii stay positive). Particles are drawn until
    the summed sphere volume reaches the target.
    """
    diameters = np.asarray(diameters, float)
    ratio = np.asarray(number_ratio if len(number_ratio) else np.ones_like(diameters), float)
    p = ratio / ratio.sum()
    target = target_fraction * float(np.prod(box))
    mean_vol = float(np.sum(p * np.pi / 6 * diameters ** 3))
    n_est = int(target / mean_vol * 1.2) + 16
    classes = rng.choice(len(diameters), size=n_est, p=p)
    factor = 1.0 + spread * np.clip(rng.standard_normal(n_est), -2.0, 2.0) if spread else np.ones(n_est)
    r = 0.5 * diameters[classes] * factor
    vol = np.cumsum(4.0 / 3.0 * np.pi * r ** 3)
    n = int(np.searchsorted(vol, target)) + 1
    while n > len(r):  # rare: extend
        extra = sample_radii(target_fraction, box, diameters, number_ratio, spread, rng)
        r = np.concatenate([r, extra])
        vol = np.cumsum(4.0 / 3.0 * np.pi * r ** 3)
        n = int(np.searchsorted(vol, target)) + 1
    return np.sort(r[:n])[::-1].copy()  # large first: deterministic order


def _period(box, wall_x):
    per = np.array(box, float)
    if wall_x:
        per[0] = 3.0 * box[0]  # no wrap in x while 0 ≤ x ≤ L
    return per


def _pairs(x, rad, box, wall_x, skin):
    per = _period(box, wall_x)
    tree = cKDTree(np.mod(x, per), boxsize=per)
    pairs = tree.query_pairs(2.0 * rad.max() + skin, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = x[j] - x[i]
    d -= per * np.round(d / per)
    dist = np.sqrt(np.einsum("ij,ij->i", d, d))
    keep = dist < rad[i] + rad[j] + skin
    return i[keep], j[keep], dist[keep]


def pack_spheres(radii: np.ndarray, box, rng: np.random.Generator, tol: float,
                 wall_x: bool = False, max_iter: int = 30000, start: np.ndarray | None = None) -> SpherePacking:
    """Place spheres of the given radii without overlap (to within `tol` µm) by FIRE,
    from random positions or from `start`."""
    box = np.asarray(box, float)
    n = len(radii)
    per = _period(box, wall_x)
    if start is not None:
        x = np.array(start, float)
    else:
        x = rng.random((n, 3)) * box
        if wall_x:
            x[:, 0] = radii + rng.random(n) * np.maximum(box[0] - 2 * radii, 0.0)
    r0 = float(np.median(radii))
    m = (radii / r0) ** 3  # mass ∝ volume: small particles move more
    vel = np.zeros_like(x)
    dt, dt_max, alpha0 = 0.05 * r0, 0.5 * r0, 0.1
    alpha, n_pos = alpha0, 0
    skin = 0.3 * r0
    x_ref, pi = None, None
    worst = np.inf
    history = []
    it = 0
    for it in range(max_iter):
        if pi is None or np.max(np.abs(np.mod(x - x_ref + per / 2, per) - per / 2)) > skin / 4:
            pi, pj, _ = _pairs(x, radii, box, wall_x, skin)
            x_ref = x.copy()
            sr = radii[pi] + radii[pj]
        d = x[pj] - x[pi]
        d -= per * np.round(d / per)
        dist = np.sqrt(np.einsum("ij,ij->i", d, d))
        ov = sr - dist
        mk = ov > 0
        fp = (ov[mk] / np.maximum(dist[mk], 1e-12))[:, None] * d[mk]
        a, b = pi[mk], pj[mk]
        force = np.stack([np.bincount(b, fp[:, k], n) - np.bincount(a, fp[:, k], n) for k in range(3)], 1)
        worst = float(ov[mk].max()) if mk.any() else 0.0
        if wall_x:  # soft walls at x = 0 and x = L
            lo = radii - x[:, 0]
            hi = x[:, 0] + radii - box[0]
            force[:, 0] += np.maximum(lo, 0.0) - np.maximum(hi, 0.0)
            worst = max(worst, float(max(lo.max(), hi.max(), 0.0)))
        if worst <= tol:
            break
        if it % 1000 == 0:  # jammed: the worst overlap stopped shrinking
            history.append(worst)
            if len(history) > 3 and worst > 0.97 * history[-3]:
                break
        power = float(np.sum(force * vel))
        if power > 0:
            vn, fn = np.linalg.norm(vel), np.linalg.norm(force)
            vel = (1 - alpha) * vel + alpha * vn * force / max(fn, 1e-300)
            if n_pos > 5:
                dt, alpha = min(dt * 1.1, dt_max), alpha * 0.99
            n_pos += 1
        else:
            vel[:] = 0.0
            dt, alpha, n_pos = dt * 0.5, alpha0, 0
        vel += force * dt / m[:, None]
        x = x + vel * dt
    x = np.mod(x, per)
    return SpherePacking(centers=x, radii=radii, box=box, wall_x=wall_x, max_overlap=worst, iterations=it + 1)


def _axis_range(c, r, h, n, periodic):
    """Voxel indices whose centres may lie within r of coordinate c (wrapped if periodic)."""
    lo, hi = int(np.floor((c - r) / h - 0.5)), int(np.ceil((c + r) / h - 0.5)) + 1
    idx = np.arange(lo, hi)
    pos = (idx + 0.5) * h
    if periodic:
        idx = np.mod(idx, n)
    else:
        keep = (idx >= 0) & (idx < n)
        idx, pos = idx[keep], pos[keep]
    return idx, pos - c


def voxelize_spheres(packing: SpherePacking, shape, h: float, owner: bool = False) -> np.ndarray:
    """Boolean image of voxels whose centres lie in a sphere (or, with owner=True, the int32
    index of the covering sphere, −1 elsewhere)."""
    out = np.full(shape, -1, np.int32) if owner else np.zeros(shape, bool)
    periodic = (not packing.wall_x, True, True)
    for k, (c, r) in enumerate(zip(packing.centers, packing.radii)):
        (ix, dx), (iy, dy), (iz, dz) = (_axis_range(c[a], r, h, shape[a], periodic[a]) for a in range(3))
        inside = (dx[:, None, None] ** 2 + dy[None, :, None] ** 2 + dz[None, None, :] ** 2) <= r * r
        if owner:
            block = out[np.ix_(ix, iy, iz)]
            block[inside] = k
            out[np.ix_(ix, iy, iz)] = block
        else:
            out[np.ix_(ix, iy, iz)] |= inside
    return out
