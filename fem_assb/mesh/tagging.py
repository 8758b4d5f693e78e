"""Facet tags from cell phases: CAM|SE interfaces (active or passivated), CAM on the current
collector (x = L), SE on the Li anode (x = 0), other outer faces. Works on any tagged mesh
(hex or tet) and in parallel: only owned facets are tagged, each from its (one or two,
ghosts included) neighbouring cells."""
from __future__ import annotations

import numpy as np

from fem_assb.phases import ELECTRON_CONDUCTORS, ION_CONDUCTORS, Facet, Phase


def tag_facets(mesh, cell_phase: np.ndarray, x_min: float, x_max: float, tol: float):
    """MeshTags of the owned facets. `cell_phase[c]` is the phase of local cell c."""
    import dolfinx.mesh

    tdim = mesh.topology.dim
    mesh.topology.create_entities(tdim - 1)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    f2c = mesh.topology.connectivity(tdim - 1, tdim)
    n_owned = mesh.topology.index_map(tdim - 1).size_local
    offsets, links = f2c.offsets[: n_owned + 1], f2c.array
    n_adj = np.diff(offsets)
    first = links[offsets[:-1]]
    second = np.where(n_adj == 2, links[np.minimum(offsets[:-1] + 1, links.size - 1)], -1)
    p1 = cell_phase[first]
    p2 = np.where(second >= 0, cell_phase[np.maximum(second, 0)], -1)

    ion = np.isin(p1, ION_CONDUCTORS), np.isin(p2, ION_CONDUCTORS)
    ele = np.isin(p1, ELECTRON_CONDUCTORS), np.isin(p2, ELECTRON_CONDUCTORS)
    passive = (p1 == Phase.SE_PASSIVE) | (p2 == Phase.SE_PASSIVE)
    interface = (n_adj == 2) & ((ion[0] & ele[1]) | (ele[0] & ion[1]))

    values = np.zeros(n_owned, np.int32)
    values[interface & ~passive] = Facet.INTERFACE
    values[interface & passive] = Facet.PASSIVATED

    exterior = np.zeros(n_owned, bool)
    ext = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    exterior[ext[ext < n_owned]] = True
    facets = np.flatnonzero(exterior)
    mid_x = dolfinx.mesh.compute_midpoints(mesh, tdim - 1, facets.astype(np.int32))[:, 0]
    at0, atL = np.abs(mid_x - x_min) < tol, np.abs(mid_x - x_max) < tol
    ph = p1[facets]
    values[facets] = Facet.OUTER
    values[facets[at0 & np.isin(ph, ION_CONDUCTORS)]] = Facet.ANODE
    values[facets[atL & np.isin(ph, ELECTRON_CONDUCTORS)]] = Facet.CAM_CC

    keep = np.flatnonzero(values)
    return dolfinx.mesh.meshtags(mesh, tdim - 1, keep.astype(np.int32), values[keep])
