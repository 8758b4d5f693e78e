"""The two field domains of the electrochemical model and the interface that couples them.

Formulation: one tagged parent mesh, split into two submeshes — the SE cells (composite SE,
passivated coating, separator) for φ_e and the CAM cells for φ_s and c — so no unknown lives
on the other phase (≈ 45 % fewer unknowns than fields on the whole mesh). Every volume and
boundary integral is an ordinary form on one submesh.

The CAM|SE interface is coupled node by node: the Butler–Volmer term is integrated with the
vertex (nodal) rule, so its contribution at an interface vertex depends only on φ_s, x_Li at
that vertex's CAM dof and φ_e at its SE dof. Each such pair gets the weight Σ_f |f| / n_v over
the active interface facets f it belongs to. On a face-connected voxel mesh (mesh/voxel.py) the
two sides of an interface facet are coincident twin facets with their own vertex copies, so a
pair joins the SE copy and the CAM copy at one point, and one CAM copy may face several SE
copies (and the other way round); on node-connected and gmsh meshes both sides share the facet
and its vertices. Assembling these pairs directly (model.py)
avoids DOLFINx 0.9 mixed-domain interior-facet integrals, whose element tensors couple all
dofs of both cells in every field (≈ 2.5× the nonzeros in tests) and which need an entity-map
workaround in 0.9. The vertex rule also lets a saturating node shut off its own inflow, and
being the same in every equation it keeps ∫ I dt = F ΔLi exact.

In parallel each rank handles its owned interface facets (the SE side of a twin pair); both
cells of such a facet are local (ghost mode shared_facet of the unsplit grid), so both dofs of
every pair are local (owned or ghost) and partial weights of a pair on several ranks simply add
up in assembly. Passivated facets are skipped:
no current and no Li cross them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_assb.mesh.tagged import TaggedMesh, _facet_areas
from fem_assb.mesh.tagging import twin_facets
from fem_assb.phases import ELECTRON_CONDUCTORS, ION_CONDUCTORS, Facet

#: vertex (nodal, lumped) quadrature for the Li mass and the boundary terms
LUMPED = {"quadrature_rule": "vertex", "quadrature_degree": 1}


@dataclass
class Domains:
    tm: TaggedMesh
    se_mesh: object
    cam_mesh: object
    se_to_parent: np.ndarray  # submesh cell → parent cell
    cam_to_parent: np.ndarray
    dx_se: object
    dx_cam: object
    dx_cam_lumped: object
    dx_se_lumped: object
    ds_anode: object  # on the SE submesh, x = 0
    ds_cc: object  # on the CAM submesh, x = L
    pair_se_vertex: np.ndarray  # interface node pairs: SE-submesh vertex
    pair_cam_vertex: np.ndarray  # ... and CAM-submesh vertex at the same point
    pair_weight: np.ndarray  # m², this rank's share of the nodal interface area
    area_geometric: float  # m², cell cross-section A
    area_cc: float  # m², CAM facets on the current collector (A_C)
    area_anode: float  # m², SE facets on the anode (x = 0)
    area_interface: float  # m², active CAM|SE interface
    volume_cam: float  # m³

    @property
    def comm(self):
        return self.tm.comm


def _submesh(tm: TaggedMesh, phases):
    from fem_assb import fenicsx

    return fenicsx.create_submesh(tm.mesh, 3, tm.cells(*phases))


def _boundary_measure(mesh, x_value: float, tol: float, exclude: np.ndarray | None = None):
    """ds over the owned exterior facets of `mesh` lying on the plane x = x_value, except those
    whose midpoints are in `exclude` (an (n, 3) array, m)."""
    import dolfinx.mesh
    import ufl
    from scipy.spatial import cKDTree

    tdim = mesh.topology.dim
    mesh.topology.create_entities(tdim - 1)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    ext = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    ext = ext[ext < mesh.topology.index_map(tdim - 1).size_local]
    mid = dolfinx.mesh.compute_midpoints(mesh, tdim - 1, ext)[:, 0] if ext.size else np.zeros(0)
    facets = np.sort(ext[np.abs(mid - x_value) < tol]).astype(np.int32)
    if exclude is not None and len(exclude) and facets.size:
        dist, _ = cKDTree(exclude).query(dolfinx.mesh.compute_midpoints(mesh, tdim - 1, facets))
        facets = facets[dist > tol]
    tags = dolfinx.mesh.meshtags(mesh, tdim - 1, facets, np.ones(facets.size, np.int32))
    return ufl.Measure("ds", domain=mesh, subdomain_data=tags, metadata=LUMPED)(1)


def _detached(tm: TaggedMesh) -> np.ndarray:
    """Midpoints (m) of all ranks' CAM facets on the collector that lost contact (Facet.CC_DELAMINATED):
    the submesh's collector measure leaves them out."""
    import dolfinx.mesh

    facets = tm.facet_tags.find(int(Facet.CC_DELAMINATED)).astype(np.int32)
    mid = dolfinx.mesh.compute_midpoints(tm.mesh, 2, facets) if facets.size else np.zeros((0, 3))
    return np.concatenate(tm.comm.allgather(mid))


def _matched_vertices(mesh, facets: np.ndarray, twins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, nv) of `facets` and of their coincident `twins`, column k of both at the
    same point (the two sides of a split share coordinates, not vertices)."""
    nv = 3 if mesh.topology.cell_name() == "tetrahedron" else 4
    mesh.topology.create_connectivity(2, 0)
    f2v = mesh.topology.connectivity(2, 0).array.reshape(-1, nv)
    a, b = f2v[facets], f2v[twins]
    key = _vertex_coordinates(mesh) @ np.array([1.0, np.pi, np.e])  # distinct for the vertices of a facet
    a = np.take_along_axis(a, np.argsort(key[a], axis=1), 1)
    b = np.take_along_axis(b, np.argsort(key[b], axis=1), 1)
    return a.astype(np.int32), b.astype(np.int32)


def _vertex_coordinates(mesh) -> np.ndarray:
    """Coordinates (m) of every local vertex."""
    import dolfinx.mesh

    n_v = mesh.topology.index_map(0).size_local + mesh.topology.index_map(0).num_ghosts
    mesh.topology.create_connectivity(0, mesh.topology.dim)
    nodes = dolfinx.mesh.entities_to_geometry(mesh, 0, np.arange(n_v, dtype=np.int32), False)
    return mesh.geometry.x[nodes.ravel()]


def build_domains(tm: TaggedMesh) -> Domains:
    import ufl
    from mpi4py import MPI

    from fem_assb.errors import InputError

    mesh = tm.mesh
    comm = mesh.comm
    se_mesh, se_to_parent, se_vmap = _submesh(tm, ION_CONDUCTORS)
    cam_mesh, cam_to_parent, cam_vmap = _submesh(tm, ELECTRON_CONDUCTORS)
    if comm.allreduce(se_to_parent.size) == 0 or comm.allreduce(cam_to_parent.size) == 0:
        raise InputError("the structure needs both SE and CAM cells for an electrochemical run")

    # interface node pairs from the owned active interface facets
    n_pv = mesh.topology.index_map(0).size_local + mesh.topology.index_map(0).num_ghosts
    to_se = np.full(n_pv, -1, np.int32)
    to_cam = np.full(n_pv, -1, np.int32)
    to_se[se_vmap] = np.arange(se_vmap.size, dtype=np.int32)
    to_cam[cam_vmap] = np.arange(cam_vmap.size, dtype=np.int32)
    facets = tm.facet_tags.find(int(Facet.INTERFACE)).astype(np.int32)
    twin = twin_facets(mesh)[facets]
    cam_side = np.where(twin >= 0, twin, facets)  # a twin facet on face-connected meshes, else itself
    se_verts, cam_verts = _matched_vertices(mesh, facets, cam_side)
    nv = se_verts.shape[1]
    area = _facet_areas(mesh, facets) if facets.size else np.zeros(0)
    pairs, inv = np.unique(np.stack([se_verts.ravel(), cam_verts.ravel()], 1), axis=0, return_inverse=True)
    weight = np.bincount(inv.ravel(), weights=np.repeat(area / nv, nv), minlength=len(pairs))
    pair_se, pair_cam = to_se[pairs[:, 0]], to_cam[pairs[:, 1]]
    assert np.all(pair_se >= 0) and np.all(pair_cam >= 0), "interface vertex missing from a submesh"

    x_max = comm.allreduce(mesh.geometry.x[:, 0].max() if mesh.geometry.x.size else -np.inf, op=MPI.MAX)
    tol = 1e-3 * tm.info.get("voxel_um", 1.0) * 1e-6
    dx_se = ufl.Measure("dx", domain=se_mesh, metadata={"quadrature_degree": 2})
    dx_cam = ufl.Measure("dx", domain=cam_mesh, metadata={"quadrature_degree": 2})
    dx_cam_lumped = ufl.Measure("dx", domain=cam_mesh, metadata=LUMPED)
    dx_se_lumped = ufl.Measure("dx", domain=se_mesh, metadata=LUMPED)
    doms = Domains(tm, se_mesh, cam_mesh, se_to_parent, cam_to_parent, dx_se, dx_cam, dx_cam_lumped, dx_se_lumped,
                   _boundary_measure(se_mesh, 0.0, tol), _boundary_measure(cam_mesh, x_max, tol, _detached(tm)),
                   pair_se, pair_cam, weight, tm.info["area_um2"] * 1e-12, tm.facet_area(Facet.CAM_CC),
                   tm.facet_area(Facet.ANODE), comm.allreduce(float(area.sum())), 0.0)
    import dolfinx.fem

    doms.volume_cam = comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(1.0 * dx_cam_lumped)))
    if doms.area_cc == 0:
        raise InputError("no CAM touches the current collector (A_C/A_CC = 0): the cathode cannot be charged "
                         "or discharged; lower cc_crop_um / cc_contact_target / cc_delamination_fraction")
    if doms.area_anode == 0:
        raise InputError("no SE touches the anode at x = 0: add a separator (structure.separator_um > 0)")
    if doms.area_interface == 0:
        raise InputError("the structure has no active CAM|SE interface (everything passivated?)")
    return doms


def vertex_to_dof(V) -> np.ndarray:
    """Local vertex → local dof of a P1 space (owned and ghost)."""
    mesh = V.mesh
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim, 0)
    c2v = mesh.topology.connectivity(tdim, 0)
    n_cells = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    dofs = V.dofmap.list[:n_cells]
    verts = c2v.array.reshape(n_cells, dofs.shape[1])  # P1: one dof per vertex (also on a rank without cells)
    n_v = mesh.topology.index_map(0).size_local + mesh.topology.index_map(0).num_ghosts
    out = np.full(n_v, -1, np.int32)
    out[verts.ravel()] = dofs.ravel()
    return out
