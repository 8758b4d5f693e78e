"""Voxel image → conforming hexahedral DOLFINx mesh (one cell per voxel), built in parallel.

Every rank reads only its own slab of x-layers from the (memory-mapped) label image and
passes those cells and node planes to `create_mesh`, which repartitions them with the graph
partitioner; no rank ever holds the whole mesh. Rank 0's memory grows like the other ranks'
(its slab, ~N/P cells), plus the image pages it maps (1 byte per voxel of its slab).

The separator is meshed as a graded stack of full-area hexahedral layers in front of the
composite (x = 0 at the anode): the layer next to the composite is one voxel thick and
layers grow by `growth` towards the anode, so a 425 µm separator costs a handful of layers.
Cells of phases not in `phases` (voids, binder) are left out: they carry no unknowns.
"""
from __future__ import annotations

import numpy as np

from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.mesh.tagging import tag_facets
from fem_assb.phases import Phase

UM = 1e-6

# DOLFINx hexahedron vertex v = a + 2b + 4c sits at offset (a, b, c)
_HEX_OFFSETS = np.array([[a, b, c] for c in (0, 1) for b in (0, 1) for a in (0, 1)])


def separator_layers(separator_um: float, h_um: float, growth: float) -> np.ndarray:
    """Layer thicknesses (µm) from the anode (x = 0) to the composite, summing to separator_um."""
    if separator_um <= 0:
        return np.zeros(0)
    w = [h_um]
    while sum(w) < separator_um:
        w.append(w[-1] * growth)
    w = np.array(w)
    w *= separator_um / w.sum()
    return w[::-1]


def build_hex_mesh(labels: np.ndarray, h_um: float, separator_um: float = 0.0, growth: float = 1.5,
                   phases=None, comm=None, cc_delaminated: np.ndarray | None = None) -> TaggedMesh:
    """Tagged hexahedral mesh of a composite image plus a separator slab.

    `labels` may be a memory map: each rank touches only its slab. Coordinates are in metres.
    `cc_delaminated` (ny, nz) marks collector pixels whose CAM lost contact (tagging.py).
    """
    import basix.ufl
    import dolfinx.mesh
    import ufl
    from mpi4py import MPI

    comm = comm or MPI.COMM_WORLD
    phases = np.asarray(phases if phases is not None else
                        [p for p in Phase if p not in (Phase.VOID, Phase.BINDER)], np.uint8)
    nx, ny, nz = labels.shape
    sep = separator_layers(separator_um, h_um, growth)
    ns = sep.size
    xs = np.concatenate([[0.0], np.cumsum(sep), separator_um + h_um * np.arange(1, nx + 1)])
    n_layers = ns + nx
    # node planes 0..n_layers; rank r owns cell layers [l0, l1) and node planes [l0, l1) (+ last)
    bounds = np.linspace(0, n_layers, comm.size + 1).round().astype(int)
    l0, l1 = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    npl = (ny + 1) * (nz + 1)

    cells = []
    for layer in range(l0, l1):
        if layer < ns:
            active = np.ones((ny, nz), bool) if Phase.SEPARATOR in phases else np.zeros((ny, nz), bool)
        else:
            active = np.isin(np.asarray(labels[layer - ns]), phases)
        j, k = np.nonzero(active)
        base = layer * npl + j * (nz + 1) + k
        off = _HEX_OFFSETS[:, 0] * npl + _HEX_OFFSETS[:, 1] * (nz + 1) + _HEX_OFFSETS[:, 2]
        cells.append(base[:, None] + off[None, :])
    cells = np.concatenate(cells) if cells else np.zeros((0, 8), np.int64)

    p_hi = l1 + 1 if comm.rank == comm.size - 1 else l1
    planes = np.arange(l0, p_hi)
    jj, kk = np.meshgrid(np.arange(ny + 1), np.arange(nz + 1), indexing="ij")
    yz = np.stack([jj.ravel() * h_um, kk.ravel() * h_um], 1)
    x = np.empty((planes.size * npl, 3))
    x[:, 0] = np.repeat(xs[planes], npl)
    x[:, 1:] = np.tile(yz, (planes.size, 1))
    x *= UM

    element = basix.ufl.element("Lagrange", "hexahedron", 1, shape=(3,))
    partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet)
    mesh = dolfinx.mesh.create_mesh(comm, cells.astype(np.int64), x, ufl.Mesh(element), partitioner)

    # cell phases from the image at each cell's midpoint (ghost cells included)
    n_cells = mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts
    mid = dolfinx.mesh.compute_midpoints(mesh, 3, np.arange(n_cells, dtype=np.int32)) / UM
    layer = np.searchsorted(xs, mid[:, 0]) - 1
    jc = np.floor(mid[:, 1] / h_um).astype(int)
    kc = np.floor(mid[:, 2] / h_um).astype(int)
    phase = np.full(n_cells, Phase.SEPARATOR, np.int32)
    comp = layer >= ns
    if comp.any():
        flat = np.ravel_multi_index((layer[comp] - ns, jc[comp], kc[comp]), labels.shape)
        order = np.argsort(flat)  # sorted reads keep memory-mapped access sequential
        vals = np.empty(flat.size, np.int32)
        vals[order] = np.asarray(labels.reshape(-1)[flat[order]])
        phase[comp] = vals
    ct = dolfinx.mesh.meshtags(mesh, 3, np.arange(n_cells, dtype=np.int32), phase)
    ft = tag_facets(mesh, phase, 0.0, xs[-1] * UM, 0.25 * h_um * UM, cc_delaminated, h_um * UM)
    info = {"kind": "voxel", "voxel_um": h_um, "separator_um": float(separator_um),
            "separator_layers": int(ns), "length_um": float(xs[-1]), "composite_um": float(nx * h_um),
            "area_um2": float(ny * nz * h_um * h_um), "shape": [int(nx), int(ny), int(nz)]}
    return TaggedMesh(mesh, ct, ft, info)
