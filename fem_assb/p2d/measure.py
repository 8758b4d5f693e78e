"""The 3D → P2D bridge: the homogenised cell measured on a voxel structure.

Per region along x (the generated layers, after the structure's reverse / duplicate / crop; one
region for an image or a single layer):
- ε_SE, ε_AM: volume fractions of the ion conductors (SE and passivated SE) and of the CAM;
- τ²_SE, τ²_AM: ε σ_bulk/σ_eff of the region's SE and CAM networks from the face-based FV solve
  across the region (the solver of `fem-assb conductivity`); a network that does not span the
  region has no P2D meaning (exit 2);
- the CAM|SE area: the active voxel faces (passivated ones excluded; the CAM faces on the
  separator included), each counted in the region of its CAM voxel — the raw staircase area,
  which is what the 3D voxel model sees (`corrected` applies the 2/3 correction of
  microstructure/analysis.py for the geometric area of smooth particles);
- D_SCA = 6 V_AM / S_AM-SE and the volume-median particle diameter D50 of the generated size
  distribution (unknown for images).
"""
from __future__ import annotations

import numpy as np

from fem_assb.errors import InputError
from fem_assb.microstructure.analysis import AREA_CORRECTION
from fem_assb.p2d.cell import Cell, Region
from fem_assb.phases import Phase
from fem_assb.units import UM



def region_index(structure, cfg) -> np.ndarray:
    """Region number of each x-layer of the composite image (the generated layers as they end up
    after reverse, duplicate_x and cropping at the collector)."""
    nx = structure.labels.shape[0]
    layers = structure.meta.get("layers")
    if not layers or cfg is None or cfg.image is not None:
        return np.zeros(nx, int)
    idx = np.concatenate([np.full(b - a, k) for k, (a, b) in enumerate(la["x_voxels"] for la in layers)])
    if cfg.reverse:
        idx = idx[::-1]
    idx = np.tile(idx, cfg.duplicate_x)
    idx = idx[:nx]  # the crop at the collector
    # duplicated stacks repeat regions: number the runs of equal layers along x
    return np.concatenate([[0], np.cumsum(idx[1:] != idx[:-1])])


def layer_of_region(structure, cfg, regions: np.ndarray) -> list[int | None]:
    """The generated layer (index into cfg.layers) that each region comes from."""
    if cfg is None or cfg.image is not None or not structure.meta.get("layers"):
        return [None] * (int(regions.max()) + 1)
    idx = np.concatenate([np.full(b - a, k) for k, (a, b) in
                          enumerate(la["x_voxels"] for la in structure.meta["layers"])])
    if cfg.reverse:
        idx = idx[::-1]
    idx = np.tile(idx, cfg.duplicate_x)[: regions.size]
    return [int(idx[np.flatnonzero(regions == k)[0]]) for k in range(int(regions.max()) + 1)]


def d50_volume(layer) -> float:
    """Volume-median diameter (µm) of a generated layer's particle classes (number ratio × d³)."""
    d = np.asarray(layer.diameters_um, float)
    n = np.asarray(layer.number_ratio or [1.0] * d.size, float)
    order = np.argsort(d)
    d, w = d[order], (n * d ** 3)[order]
    cum = np.cumsum(w) / w.sum()
    return float(d[np.searchsorted(cum, 0.5)])


def interface_faces_by_layer(labels: np.ndarray, separator: bool) -> np.ndarray:
    """Active CAM|SE voxel faces per x-layer, each counted at its CAM voxel."""
    cam = labels == Phase.CAM
    se = labels == Phase.SE
    n = np.zeros(labels.shape[0])
    for ax in range(3):
        lo, hi = [slice(None)] * 3, [slice(None)] * 3
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        a = cam[tuple(lo)] & se[tuple(hi)]  # CAM at the lower index
        b = se[tuple(lo)] & cam[tuple(hi)]  # CAM at the upper index
        if ax == 0:
            n[:-1] += a.sum(axis=(1, 2))
            n[1:] += b.sum(axis=(1, 2))
        else:
            n += a.sum(axis=(1, 2)) + b.sum(axis=(1, 2))
    if separator:
        n[0] += cam[0].sum()  # CAM on the SE separator
    return n


def measure(structure, mats, cfg=None, particle: str | float = "dsca", area: str = "voxel",
            comm=None) -> Cell:
    """The homogenised cell of a structure (`cfg` its StructureConfig when generated).
    `particle`: 'dsca', 'median' or a diameter in µm; `area`: 'voxel' or 'corrected'."""
    from fem_assb.conductivity.fv import solve_fv

    labels, h = structure.labels, structure.voxel_um
    regions = region_index(structure, cfg)
    layers = layer_of_region(structure, cfg, regions)
    if particle == "median" and None in layers:
        raise InputError("[p2d] particle = 'median': the median diameter of an image is unknown; give "
                         "particle_diameter_um")
    faces = interface_faces_by_layer(labels, structure.separator_um > 0)
    factor = AREA_CORRECTION if area == "corrected" else 1.0
    out = []
    for k in range(int(regions.max()) + 1):
        sl = labels[regions == k]
        vol = sl.size * (h * UM) ** 3
        eps_se = float(np.isin(sl, (Phase.SE, Phase.SE_PASSIVE)).mean())
        eps_am = float((sl == Phase.CAM).mean())
        where = f"region {k + 1} (x = {np.flatnonzero(regions == k)[0] * h:g}–{(np.flatnonzero(regions == k)[-1] + 1) * h:g} µm)"
        if eps_am == 0 or eps_se == 0:
            raise InputError(f"p2d: {where} has no {'CAM' if eps_am == 0 else 'SE'}: a P2D region needs both")
        b_se = solve_fv(sl, h, {Phase.SE: 1.0}, comm=comm).sigma_eff_rel
        b_am = solve_fv(sl, h, {Phase.CAM: 1.0}, comm=comm).sigma_eff_rel
        for name, b in (("SE", b_se), ("CAM", b_am)):
            if not b > 0:
                raise InputError(f"p2d: the {name} network does not span {where} (σ_eff = 0): P2D has no meaning "
                                 "for a non-percolating network")
        s_area = float(faces[regions == k].sum()) * (h * UM) ** 2 * factor
        if s_area == 0:
            raise InputError(f"p2d: {where} has no active CAM|SE interface")
        d_sca = 6.0 * eps_am * vol / s_area
        d50 = d50_volume(cfg.layers[layers[k]]) * UM if layers[k] is not None else None
        src = {"eps_se, eps_am": "voxel fractions of the region",
               "tau2_se, tau2_am": "face-based FV solve across the region (ε σ_bulk/σ_eff)",
               "interface_area": f"active CAM|SE voxel faces at the region's CAM, {area} area",
               "d_sca": "6 V_AM / S_AM-SE (seed 004)",
               "d50": "volume median of the generated size classes" if d50 else "unknown (image)"}
        if particle == "dsca":
            radius, src["particle_radius"] = d_sca / 2, "D_SCA / 2"
        elif particle == "median":
            radius, src["particle_radius"] = d50 / 2, "D50 / 2"
        else:
            radius, src["particle_radius"] = float(particle) * UM / 2, "[p2d] particle_diameter_um / 2"
        out.append(Region(thickness=sl.shape[0] * h * UM, eps_se=eps_se, eps_am=eps_am, tau2_se=eps_se / b_se,
                          tau2_am=eps_am / b_am, particle_radius=radius, interface_area=s_area / vol, d_sca=d_sca,
                          d50=d50, sources=src))
    area_m2 = labels.shape[1] * labels.shape[2] * (h * UM) ** 2
    return Cell(mats, structure.separator_um * UM, out, area_m2,
                sources={"separator": "the structure's SE separator", "materials": mats.name})
