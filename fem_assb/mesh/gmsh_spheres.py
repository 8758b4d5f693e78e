"""Sphere packing → conforming tetrahedral mesh with gmsh (OpenCASCADE).

The composite box, the spheres (with their periodic images, since the packings are periodic)
and optionally an SE channel cylinder and the separator box are fragmented into one conformal
geometry; every piece is classified by the inputs it came from (separator box; channel → SE; a
sphere → CAM; else SE). Element size is `size` at particle surfaces, growing to 2.5 × size
away from them. Meshing runs on rank 0 (its memory grows with the mesh); DOLFINx then
distributes the mesh. Facet tags come from the same `tag_facets` as voxel meshes.

OpenCASCADE cannot mesh spheres that touch at a point, so radii are reduced to leave a gap
of `gap_um` (default 0.3 × the element size; smaller gaps give overlapping surface meshes)
between the closest pair (if gmsh still finds overlapping surface meshes, as in dense packings
of a few hundred spheres, it retries once with twice the gap, saying so); the CAM volume
change is reported in `info["cam_fraction_reduction"]`.
"""
from __future__ import annotations

import time

import numpy as np

from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.mesh.tagging import tag_facets
from fem_assb.parallel import log
from fem_assb.phases import Phase
from fem_assb.units import UM



def _images(centers, radii, box):
    """Periodic copies of spheres that cross the box faces."""
    out_c, out_r = [], []
    for c, r in zip(centers, radii):
        shifts = [[0.0], [0.0], [0.0]]
        for a in range(3):
            if c[a] - r < 0:
                shifts[a].append(box[a])
            if c[a] + r > box[a]:
                shifts[a].append(-box[a])
        for sx in shifts[0]:
            for sy in shifts[1]:
                for sz in shifts[2]:
                    out_c.append(c + np.array([sx, sy, sz]))
                    out_r.append(r)
    return np.array(out_c), np.array(out_r)


def build_gmsh_mesh(centers_um, radii_um, box_um, separator_um: float = 0.0, channel=None,
                    size_um: float = 1.0, gap_um: float | None = None, comm=None) -> TaggedMesh:
    import dolfinx.fem
    import dolfinx.mesh
    import gmsh
    from mpi4py import MPI

    from fem_assb import fenicsx

    comm = comm or MPI.COMM_WORLD
    gap_um = 0.3 * size_um if gap_um is None else gap_um
    box = np.asarray(box_um, float)
    info = {"kind": "gmsh", "separator_um": float(separator_um), "length_um": float(separator_um + box[0]),
            "composite_um": float(box[0]), "area_um2": float(box[1] * box[2]), "gmsh_size_um": size_um,
            "voxel_um": size_um}
    t0 = time.perf_counter()
    error = None
    if comm.rank == 0:
        # surface meshes across a narrow gap can overlap: one retry with twice the gap
        for gap in (gap_um, 2 * gap_um):
            failure = _mesh_rank0(centers_um, radii_um, box, separator_um, channel, size_um, gap, info)
            error = failure and (f"gmsh could not mesh the packing ({failure}) with a {gap:g} µm gap "
                                 "between particles; try a smaller mesh.gmsh_size_um or the voxel route")
            if not failure:
                break
            if gap == gap_um:
                log(f"gmsh: {failure} with a {gap:g} µm gap between particles; retrying with "
                    f"{2 * gap:g} µm (more CAM volume removed: info['cam_fraction_reduction'])", c=comm)
    error = comm.bcast(error, root=0)
    if error:
        from fem_assb.errors import SolverError

        raise SolverError(error)
    info = comm.bcast(info, root=0)
    partitioner = fenicsx.cell_partitioner(dolfinx.mesh.GhostMode.shared_facet)
    mesh, ct, _ = fenicsx.model_to_mesh(gmsh.model if comm.rank == 0 else None, comm, 0, 3, partitioner)
    if comm.rank == 0:
        gmsh.finalize()
    info["gmsh_seconds"] = comm.bcast(time.perf_counter() - t0, root=0)
    mesh.geometry.x[:] *= UM
    # phases on owned and ghost cells: owned values from the tags, ghosts by a DG0 scatter
    V = dolfinx.fem.functionspace(mesh, ("DG", 0))
    fn = dolfinx.fem.Function(V)
    fn.x.array[V.dofmap.list[ct.indices, 0]] = ct.values - 1
    fn.x.scatter_forward()
    n_cells = mesh.topology.index_map(3).size_local + mesh.topology.index_map(3).num_ghosts
    phase = np.rint(fn.x.array[V.dofmap.list[:n_cells, 0]]).astype(np.int32)
    cell_tags = dolfinx.mesh.meshtags(mesh, 3, np.arange(n_cells, dtype=np.int32), phase)
    ft = tag_facets(mesh, phase, 0.0, info["length_um"] * UM, 1e-3 * size_um * UM)
    return TaggedMesh(mesh, cell_tags, ft, info)


def _mesh_rank0(centers_um, radii_um, box, separator_um, channel, size_um, gap_um, info) -> str | None:
    """Geometry, tags and tetrahedral mesh in the gmsh model (rank 0); the gmsh error or None."""
    import gmsh

    centers, radii = np.asarray(centers_um, float), np.asarray(radii_um, float).copy()
    # reduce radii so that the closest pair keeps a gap
    from scipy.spatial import cKDTree

    tree = cKDTree(np.mod(centers, box), boxsize=box)
    pairs = tree.query_pairs(2 * radii.max() + gap_um, output_type="ndarray")
    scale = 1.0
    if len(pairs):
        d = centers[pairs[:, 1]] - centers[pairs[:, 0]]
        d -= box * np.round(d / box)
        dist = np.linalg.norm(d, axis=1)
        scale = min(1.0, float(np.min((dist - gap_um) / (radii[pairs[:, 0]] + radii[pairs[:, 1]]))))
    radii *= scale
    info["radius_scale"] = scale
    info["gap_um"] = gap_um
    info["cam_fraction_reduction"] = 1.0 - scale ** 3
    cs, rs = _images(centers, radii, box)
    cs[:, 0] += separator_um

    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("packing")
    occ = gmsh.model.occ
    comp = occ.addBox(separator_um, 0, 0, box[0], box[1], box[2])
    boxes = [(3, comp)]
    if separator_um > 0:
        boxes.append((3, occ.addBox(0, 0, 0, separator_um, box[1], box[2])))
    spheres = [(3, occ.addSphere(*c, r)) for c, r in zip(cs, rs)]
    cyl = []
    if channel is not None and channel.radius_um > 0:
        y0, z0 = (0.0, 0.0) if channel.position == "corner" else (box[1] / 2, box[2] / 2)
        cyl = [(3, occ.addCylinder(separator_um, y0, z0, box[0], 0, 0, channel.radius_um))]
    _, parent_map = occ.fragment(boxes, spheres + cyl)
    occ.synchronize()
    # classify every piece by the inputs it came from (objects first, then tools)
    children = [{t for _, t in m} for m in parent_map]
    in_comp = children[0]
    in_sep = children[1] if separator_um > 0 else set()
    in_sphere = set().union(*children[len(boxes):len(boxes) + len(spheres)]) if spheres else set()
    in_cyl = children[-1] if cyl else set()
    groups = {p: [] for p in Phase}
    for _, tag in gmsh.model.getEntities(3):
        if tag in in_sep:
            groups[Phase.SEPARATOR].append(tag)
        elif tag not in in_comp:
            occ.remove([(3, tag)], recursive=True)
        elif tag in in_cyl:
            groups[Phase.SE].append(tag)
        elif tag in in_sphere:
            groups[Phase.CAM].append(tag)
        else:
            groups[Phase.SE].append(tag)
    occ.synchronize()
    for p, tags in groups.items():
        if tags:
            gmsh.model.addPhysicalGroup(3, tags, int(p) + 1)
    surfaces = [s for t in groups[Phase.CAM] for s in gmsh.model.getBoundary([(3, t)], oriented=False)]
    # near-contacts: surfaces closer than two elements get elements as small as the gap there
    fields = []
    tree2 = cKDTree(cs)
    for i, j in tree2.query_pairs(2 * rs.max() + 2 * size_um, output_type="ndarray"):
        d = np.linalg.norm(cs[j] - cs[i])
        gap = d - rs[i] - rs[j]
        if gap < 2 * size_um:
            mid = cs[i] + (cs[j] - cs[i]) * (rs[i] + 0.5 * gap) / d
            ball = gmsh.model.mesh.field.add("Ball")
            for key, val in (("XCenter", mid[0]), ("YCenter", mid[1]), ("ZCenter", mid[2]),
                             ("Radius", max(2 * gap, 0.5 * size_um)), ("Thickness", size_um),
                             ("VIn", max(0.7 * gap, 0.15 * size_um)), ("VOut", 1e22)):
                gmsh.model.mesh.field.setNumber(ball, key, val)
            fields.append(ball)
    info["near_contacts"] = len(fields)
    f_dist = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(f_dist, "SurfacesList", [abs(s[1]) for s in surfaces])
    f_thr = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(f_thr, "InField", f_dist)
    gmsh.model.mesh.field.setNumber(f_thr, "SizeMin", size_um)
    gmsh.model.mesh.field.setNumber(f_thr, "SizeMax", 2.5 * size_um)
    gmsh.model.mesh.field.setNumber(f_thr, "DistMin", 0.5 * size_um)
    gmsh.model.mesh.field.setNumber(f_thr, "DistMax", 4 * size_um)
    f_min = gmsh.model.mesh.field.add("Min")
    gmsh.model.mesh.field.setNumbers(f_min, "FieldsList", [f_thr] + fields)
    gmsh.model.mesh.field.setAsBackgroundMesh(f_min)
    for opt in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(opt, 0)
    try:
        gmsh.model.mesh.generate(3)
    except Exception as e:  # gmsh reports failures as plain exceptions
        gmsh.finalize()
        return str(e)
    return None
