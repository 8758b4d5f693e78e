"""Voxel image → conforming hexahedral DOLFINx mesh (one cell per voxel), built in parallel.

Every rank reads only its own slab of x-layers from the (memory-mapped) label image and
passes those cells and node planes to `create_mesh`, which repartitions them with the graph
partitioner; no rank ever holds the whole mesh. Rank 0's memory grows like the other ranks'
(its slab, ~N/P cells), plus the image pages it maps (1 byte per voxel of its slab).

The separator is meshed as a graded stack of full-area hexahedral layers in front of the
composite (x = 0 at the anode): the layer next to the composite is one voxel thick and
layers grow by `growth` towards the anode, so a 425 µm separator costs a handful of layers.
Cells of phases not in `phases` (voids, binder) are left out: they carry no unknowns.

Connectivity. A voxel image is a network of cubes: current and Li pass between two voxels of
one phase only through a shared face, as in the face-based FV solver, GeoDict and BEST. Nodal
(Q1) elements on a plain hex grid also join voxels that touch only along an edge or at a
corner, because those share vertices — on random packings that made the SE network of the
seed-001 L70 layer 12× too conductive. With `connectivity = "face"` (the default) every grid
vertex is split into one copy per face-connected group of the (up to 8) cells around it that
belong to one *group* of phases; cells of different groups never share a vertex. Then:
- within a group, Q1 fields are continuous exactly across shared faces, and voxels that meet
  only at an edge or a corner are separate unless a face-connected path joins them around that
  edge or corner (then they are one piece of material there anyway);
- the ion-conducting phases (SE, separator, passivated SE) and the electron conductors (CAM,
  carbon) are separate groups, so φ_e lives only on the SE network and φ_s, x only on the CAM
  network; their CAM|SE interfaces are pairs of coincident "twin" facets (`tagging.twin_facets`),
  coupled node by node through the Butler–Volmer rows (electrochem/domains.py);
- for an effective conductivity all conducting phases form one group (`groups`), as the FV
  solver couples any two conducting voxels through their shared face.
This keeps the finite-element machinery (sub-grid surface layers, collector, impedance) as it
is: the split is purely a different vertex numbering. A cell-centred two-point-flux scheme
would give the same network but first-order fields and a second implementation of every
operator. `connectivity = "node"` keeps one vertex per grid point, so all phases share vertices
(the mesh before 2026-12), for comparisons.

Parallel: the vertex copies of a node plane follow from the two cell layers around it, so each
rank numbers its own planes (and the first plane of the next rank identically) without
communication beyond an offset scan. The cells are partitioned and ghosted by DOLFINx's graph
partitioner applied to the *unsplit* grid, so that both cells of every CAM|SE twin pair are
present on a rank that owns either (ghost mode shared_facet), and a split mesh has the same
partition as the node-connected one.
"""
from __future__ import annotations

import numpy as np

from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.mesh.tagging import tag_facets
from fem_assb.phases import ELECTRON_CONDUCTORS, ION_CONDUCTORS, Phase
from fem_assb.units import UM

CONNECTIVITIES = ("face", "node")

# DOLFINx hexahedron vertex v = a + 2b + 4c sits at offset (a, b, c)
_HEX_OFFSETS = np.array([[a, b, c] for c in (0, 1) for b in (0, 1) for a in (0, 1)])
# the 12 face adjacencies among the 8 cells around a grid vertex (cell o = a + 2b + 4c at
# offset (a, b, c) from the vertex's lower corner cell): cells differing in one offset bit
_CUBE_EDGES = np.array([(o, o | bit) for bit in (1, 2, 4) for o in range(8) if not o & bit])


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


def electrochemical_groups() -> dict:
    """Phase → vertex group of the coupled model: ion conductors, electron conductors, and
    every other phase on its own."""
    groups = {p: 2 + int(p) for p in Phase}
    groups.update({p: 0 for p in ION_CONDUCTORS})
    groups.update({p: 1 for p in ELECTRON_CONDUCTORS})
    return groups


def _group_table(phases, groups: dict | None) -> np.ndarray:
    """Group id per phase value (256 entries for uint8 images); −1 for phases without cells."""
    groups = groups or electrochemical_groups()
    table = np.full(256, -1, np.int64)
    for p in phases:
        table[int(p)] = groups[Phase(int(p))]
    return table


class _Planes:
    """Vertex copies of the node planes, from the cell groups of the layers around them."""

    def __init__(self, layer_groups, n_layers: int, ny: int, nz: int, connectivity: str):
        self.layer_groups, self.n_layers = layer_groups, n_layers
        self.ny, self.nz, self.face = ny, nz, connectivity == "face"

    def cells_around(self, p: int) -> np.ndarray:
        """(ny+1, nz+1, 8) groups (−1: no cell) of the cells around each vertex of plane p."""
        g = np.full((2, self.ny + 2, self.nz + 2), -1, np.int64)
        for a, layer in enumerate((p - 1, p)):
            if 0 <= layer < self.n_layers:
                g[a, 1:-1, 1:-1] = self.layer_groups(layer)
        out = np.empty((self.ny + 1, self.nz + 1, 8), np.int64)
        for o, (a, b, c) in enumerate(_HEX_OFFSETS):
            out[..., o] = g[a, b:b + self.ny + 1, c:c + self.nz + 1]
        return out

    def copies(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """For plane p: `root` (nv, 8), the lowest cell of each vertex copy's group of cells,
        and `local` (nv·8,), the copy number (within the plane) of each (vertex, root)."""
        g = self.cells_around(p).reshape(-1, 8)
        active = g >= 0
        label = np.where(active, np.arange(8), 8)
        if not self.face:  # every cell around a vertex shares it
            label = np.where(active, label.min(axis=1, keepdims=True), 8)
        joined = [active[:, u] & active[:, v] & (g[:, u] == g[:, v]) for u, v in _CUBE_EDGES]
        changed = self.face
        while changed:  # min-label propagation over the joined cube edges (≤ 7 sweeps)
            changed = False
            for (u, v), j in zip(_CUBE_EDGES, joined):
                m = np.minimum(label[:, u], label[:, v])
                upd = j & ((label[:, u] != m) | (label[:, v] != m))
                if upd.any():
                    label[upd, u] = label[upd, v] = m[upd]
                    changed = True
        is_root = active & (label == np.arange(8))
        local = np.cumsum(is_root.ravel()) - 1
        return label, local


def build_hex_mesh(labels: np.ndarray, h_um: float, separator_um: float = 0.0, growth: float = 1.5,
                   phases=None, comm=None, cc_delaminated: np.ndarray | None = None,
                   connectivity: str = "face", groups: dict | None = None) -> TaggedMesh:
    """Tagged hexahedral mesh of a composite image plus a separator slab.

    `labels` may be a memory map: each rank touches only its slab (and one layer either side).
    Coordinates are in metres. `cc_delaminated` (ny, nz) marks collector pixels whose CAM lost
    contact (tagging.py). `connectivity` and `groups` (phase → group id; default
    `electrochemical_groups()`) decide which cells share vertices (module docstring).
    """
    import basix.ufl
    import dolfinx.mesh
    import ufl
    from mpi4py import MPI

    from fem_assb import fenicsx

    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity {connectivity!r}: accepted {', '.join(CONNECTIVITIES)}")
    comm = comm or MPI.COMM_WORLD
    phases = np.asarray(phases if phases is not None else
                        [p for p in Phase if p not in (Phase.VOID, Phase.BINDER)], np.uint8)
    table = _group_table(phases, groups)
    nx, ny, nz = labels.shape
    sep = separator_layers(separator_um, h_um, growth)
    ns = sep.size
    xs = np.concatenate([[0.0], np.cumsum(sep), separator_um + h_um * np.arange(1, nx + 1)])
    n_layers = ns + nx
    # node planes 0..n_layers; rank r owns cell layers [l0, l1) and node planes [l0, l1) (+ last)
    bounds = np.linspace(0, n_layers, comm.size + 1).round().astype(int)
    l0, l1 = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    last = comm.rank == comm.size - 1
    npl = (ny + 1) * (nz + 1)

    cache = {}

    def layer_groups(layer: int) -> np.ndarray:
        if layer not in cache:
            if layer < ns:
                cache[layer] = np.full((ny, nz), table[int(Phase.SEPARATOR)], np.int64)
            else:
                cache[layer] = table[np.asarray(labels[layer - ns])]
            for old in [k for k in cache if k < layer - 2]:
                del cache[old]
        return cache[layer]

    planes = _Planes(layer_groups, n_layers, ny, nz, connectivity)
    own_planes = list(range(l0, l1 + 1 if last else l1))
    plane_info = {p: planes.copies(p) for p in own_planes}
    counts = [int(np.count_nonzero(plane_info[p][0] == np.arange(8))) for p in own_planes]
    start = comm.exscan(sum(counts)) if comm.size > 1 else 0
    start = start or 0
    plane_start = dict(zip(own_planes, start + np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)))
    if not last:  # the next rank's first plane, numbered as it numbers it
        plane_info[l1] = planes.copies(l1)
        plane_start[l1] = start + sum(counts)

    # node coordinates of the owned copies, in global-number order
    jj, kk = np.meshgrid(np.arange(ny + 1), np.arange(nz + 1), indexing="ij")
    yz = np.stack([jj.ravel() * h_um, kk.ravel() * h_um], 1)
    x = []
    for p in own_planes:
        label = plane_info[p][0]
        vertex = np.nonzero(label == np.arange(8))[0]  # vertex of each copy, in copy order
        xp = np.empty((vertex.size, 3))
        xp[:, 0] = xs[p]
        xp[:, 1:] = yz[vertex]
        x.append(xp)
    x = (np.concatenate(x) if x else np.zeros((0, 3))) * UM

    cells, grid_cells = [], []
    off = _HEX_OFFSETS[:, 0] * npl + _HEX_OFFSETS[:, 1] * (nz + 1) + _HEX_OFFSETS[:, 2]
    for layer in range(l0, l1):
        j, k = np.nonzero(layer_groups(layer) >= 0)
        vertex2d = j * (nz + 1) + k
        grid_cells.append((layer * npl + vertex2d)[:, None] + off[None, :])
        split = np.empty((j.size, 8), np.int64)
        for v, (ax, by, cz) in enumerate(_HEX_OFFSETS):
            label, local = plane_info[layer + ax]
            node = vertex2d + by * (nz + 1) + cz
            o = (1 - ax) + 2 * (1 - by) + 4 * (1 - cz)  # this cell's place around that vertex
            split[:, v] = plane_start[layer + ax] + local[node * 8 + label[node, o]]
        cells.append(split)
    cells = np.concatenate(cells) if cells else np.zeros((0, 8), np.int64)
    grid_cells = np.concatenate(grid_cells) if grid_cells else np.zeros((0, 8), np.int64)

    element = basix.ufl.element("Lagrange", "hexahedron", 1, shape=(3,))
    graph = fenicsx.cell_partitioner(dolfinx.mesh.GhostMode.shared_facet)

    def partition(comm_, n_parts, cell_types, _cells):
        """Partition and ghost by the unsplit grid (module docstring)."""
        return graph(comm_, n_parts, cell_types, [grid_cells.ravel()])

    mesh = dolfinx.mesh.create_mesh(comm, cells=cells, e=ufl.Mesh(element), x=x, partitioner=partition)

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
            "area_um2": float(ny * nz * h_um * h_um), "shape": [int(nx), int(ny), int(nz)],
            "connectivity": connectivity}
    return TaggedMesh(mesh, ct, ft, info)
