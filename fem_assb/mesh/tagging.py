"""Facet tags from cell phases: CAM|SE interfaces (active or passivated), CAM on the current
collector (x = L; in contact, or detached where a collector mask says so), SE on the Li anode
(x = 0), other outer faces. Works on any tagged mesh (hex or tet, node- or face-connected,
mesh/voxel.py) and in parallel: only owned facets are tagged, each from its (one or two,
ghosts included) neighbouring cells.

On a face-connected voxel mesh the SE and the CAM cells share no vertices, so a CAM|SE
interface is a pair of coincident "twin" facets, one on each side; the SE-side facet carries
the interface tag. Twins are found geometrically among facets with one local cell.
"""
from __future__ import annotations

import numpy as np

from fem_assb.phases import ELECTRON_CONDUCTORS, ION_CONDUCTORS, Facet, Phase


def facet_cells(mesh) -> tuple[np.ndarray, np.ndarray]:
    """(first, second) local cell of every local facet (second = −1 for one cell)."""
    tdim = mesh.topology.dim
    mesh.topology.create_entities(tdim - 1)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    offsets, links = f2c.offsets, f2c.array
    n_adj = np.diff(offsets)
    first = links[offsets[:-1]]
    second = np.where(n_adj == 2, links[np.minimum(offsets[:-1] + 1, links.size - 1)], -1)
    return first, second


def twin_facets(mesh) -> np.ndarray:
    """For every local facet, the other local facet at the same place (the other side of a
    split, mesh/voxel.py), or −1. Conforming meshes have none."""
    import dolfinx.mesh
    from scipy.spatial import cKDTree

    tdim = mesh.topology.dim
    first, second = facet_cells(mesh)
    twin = np.full(first.size, -1, np.int32)
    lone = np.flatnonzero(second < 0).astype(np.int32)
    if lone.size < 2:
        return twin
    mid = dolfinx.mesh.compute_midpoints(mesh, tdim - 1, lone)
    x = mesh.geometry.x
    scale = np.ptp(x, axis=0).max() if x.size else 1.0
    pairs = cKDTree(mid).query_pairs(1e-9 * scale, output_type="ndarray")
    twin[lone[pairs[:, 0]]] = lone[pairs[:, 1]]
    twin[lone[pairs[:, 1]]] = lone[pairs[:, 0]]
    return twin


def tag_facets(mesh, cell_phase: np.ndarray, x_min: float, x_max: float, tol: float,
               cc_delaminated: np.ndarray | None = None, pixel: float = 0.0):
    """MeshTags of the owned facets. `cell_phase[c]` is the phase of local cell c;
    `cc_delaminated[j, k]` marks the collector pixels (edge `pixel`, m) at y ∈ [j, j+1)·pixel,
    z ∈ [k, k+1)·pixel whose CAM facets lost contact."""
    import dolfinx.mesh

    tdim = mesh.topology.dim
    cell_of, second = facet_cells(mesh)
    twin = twin_facets(mesh)
    n_owned = mesh.topology.index_map(tdim - 1).size_local
    # the cell across: the second cell of a shared facet, or the cell of the twin facet
    across = np.where(second >= 0, second, np.where(twin >= 0, cell_of[np.maximum(twin, 0)], -1))[:n_owned]
    first, second, twin = cell_of[:n_owned], second[:n_owned], twin[:n_owned]
    p1 = cell_phase[first]
    p2 = np.where(across >= 0, cell_phase[np.maximum(across, 0)], -1)

    ion = np.isin(p1, ION_CONDUCTORS), np.isin(p2, ION_CONDUCTORS)
    ele = np.isin(p1, ELECTRON_CONDUCTORS), np.isin(p2, ELECTRON_CONDUCTORS)
    passive = (p1 == Phase.SE_PASSIVE) | (p2 == Phase.SE_PASSIVE)
    # a shared facet either way round; of a twin pair only the SE side
    interface = np.where(second >= 0, (ion[0] & ele[1]) | (ele[0] & ion[1]), (twin >= 0) & ion[0] & ele[1])

    values = np.zeros(n_owned, np.int32)
    values[interface & ~passive] = Facet.INTERFACE
    values[interface & passive] = Facet.PASSIVATED

    exterior = np.zeros(n_owned, bool)
    ext = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    exterior[ext[ext < n_owned]] = True
    exterior &= twin < 0
    facets = np.flatnonzero(exterior)
    mid = dolfinx.mesh.compute_midpoints(mesh, tdim - 1, facets.astype(np.int32))
    at0, atL = np.abs(mid[:, 0] - x_min) < tol, np.abs(mid[:, 0] - x_max) < tol
    ph = p1[facets]
    values[facets] = Facet.OUTER
    values[facets[at0 & np.isin(ph, ION_CONDUCTORS)]] = Facet.ANODE
    cc = atL & np.isin(ph, ELECTRON_CONDUCTORS)
    values[facets[cc]] = Facet.CAM_CC
    if cc_delaminated is not None and cc.any():
        j = np.clip((mid[cc, 1] / pixel).astype(int), 0, cc_delaminated.shape[0] - 1)
        k = np.clip((mid[cc, 2] / pixel).astype(int), 0, cc_delaminated.shape[1] - 1)
        values[facets[cc][cc_delaminated[j, k]]] = Facet.CC_DELAMINATED

    keep = np.flatnonzero(values)
    return dolfinx.mesh.meshtags(mesh, tdim - 1, keep.astype(np.int32), values[keep])
