"""Scenario → structure → tagged mesh, with the gmsh meshes cached as XDMF.

Voxel meshes are rebuilt from the cached label image (1 byte per voxel; a rebuild is as fast
as reading an XDMF mesh); gmsh meshes are expensive and are cached under
`.cache/fem_assb/meshes/<hash>/mesh.xdmf`, readable with `TaggedMesh.read`. A mesh is written
into a private folder that is then renamed into place, so that a reader never sees a half-written
mesh and two processes storing the same mesh at once never mix their files.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from fem_assb.cache import cache_dir, digest
from fem_assb.errors import InputError
from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.parallel import log


def fragment_share(sc) -> float:
    """`mesh.collector_fragment_share` with its default: fragments matter only under a uniform
    collector current (collector.py)."""
    if sc.mesh.collector_fragment_share is not None:
        return sc.mesh.collector_fragment_share
    return 0.1 if sc.collector.kind == "uniform" else 0.0


def voxel_mesh(structure, mesh_cfg, phases=None, comm=None, fragment_share: float = 0.0,
               cbd_as_se: bool = False) -> TaggedMesh:
    """The hexahedral mesh of a structure (mesh/voxel.py) after the mesh's own changes to the image:
    coarsening or refinement, collector fragments, clusters that carry no current and, with
    `cbd_as_se` (a solid electrolyte, seed 001), the CBD meshed as SE."""
    from mpi4py import MPI

    from fem_assb.mesh.voxel import build_hex_mesh
    from fem_assb.microstructure.coarsen import coarsen, x_padding
    from fem_assb.microstructure.modify import coarsen_collector_mask, drop_collector_fragments, inert_clusters
    from fem_assb.phases import Phase

    comm = comm or MPI.COMM_WORLD
    k = mesh_cfg.coarsen
    nx, ny, nz = structure.labels.shape
    pad = x_padding(nx, k)
    if pad or ny % k or nz % k:
        log(f"mesh: image {structure.labels.shape} is not a multiple of mesh.coarsen = {k}: "
            f"{pad} SE voxel layer(s) added at the separator side (x = 0), {ny % k} voxel(s) cut at "
            f"y = end, {nz % k} at z = end", c=comm)
    labels = structure.labels
    if cbd_as_se and np.any(labels == Phase.CBD):
        labels = np.where(labels == Phase.CBD, np.uint8(Phase.SE), labels)
    labels = coarsen(labels, k)
    lost = structure.cc_delaminated
    if lost is not None and k > 1:
        lost = coarsen_collector_mask(lost, structure.labels[-1] == Phase.CAM, k)
    r = mesh_cfg.refine
    if r > 1:  # the same voxels on finer cells
        labels = labels.repeat(r, 0).repeat(r, 1).repeat(r, 2)
        lost = None if lost is None else lost.repeat(r, 0).repeat(r, 1)
    found = None
    if comm.rank == 0:  # labelling clusters needs the whole image: once, and only the result is sent
        fixed, dropped = drop_collector_fragments(labels, fragment_share)
        dead, inert = inert_clusters(fixed, mesh_cfg.connectivity, lost)
        found = dropped, np.flatnonzero(fixed != labels), np.flatnonzero(dead), inert
    dropped, where, dead, inert = comm.bcast(found, root=0)
    if len(where) or len(dead):
        labels = np.array(labels)
        labels.flat[where] = Phase.SE
        labels.flat[dead] = Phase.VOID
    if dropped["clusters"]:
        log(f"mesh: {dropped['clusters']} CAM fragment(s) at the collector ({dropped['voxels']} voxels, "
            f"{100 * dropped['cam_fraction']:.3f} % of the CAM) turned into SE (mesh.collector_fragment_share)",
            c=comm)
    if inert["se_voxels"] or inert["cam_voxels"]:
        log(f"mesh: left out, as they carry no current: {inert['se_voxels']} SE voxel(s) in {inert['se_clusters']} "
            f"cluster(s) not connected to the separator and {inert['cam_voxels']} CAM voxel(s) in "
            f"{inert['cam_clusters']} cluster(s) not connected to the collector ({mesh_cfg.connectivity} connectivity)",
            c=comm)
    h = structure.voxel_um * k / r
    tm = build_hex_mesh(labels, h, structure.separator_um, mesh_cfg.separator_growth, phases, comm, lost,
                        mesh_cfg.connectivity)
    cell = h ** 3
    tm.info["inert"] = {**inert, "cam_volume_um3": inert["cam_voxels"] * cell, "se_volume_um3": inert["se_voxels"] * cell}
    tm.info["coarsen"] = mesh_cfg.coarsen
    tm.info["refine"] = r
    tm.info["se_padding_voxels"] = pad
    tm.info["collector_fragments"] = dropped
    return tm


def gmsh_mesh(cfg, separator_um: float, mesh_cfg, where: str, comm=None) -> TaggedMesh:
    """Tetrahedral mesh of a single-layer sphere packing (same spheres as the voxel image)."""
    from fem_assb.mesh.gmsh_spheres import build_gmsh_mesh
    from fem_assb.microstructure.generate import grid_shape, layer_seed, pack_layer
    from mpi4py import MPI

    comm = comm or MPI.COMM_WORLD
    layer = cfg.layers[0]
    unsupported = [k for k, bad in [
        ("image", cfg.image is not None), ("layers", len(cfg.layers) != 1),
        ("void_fraction", layer.void_fraction > 0), ("binder_ratio", layer.binder_ratio > 0),
        ("cbd_fraction", layer.cbd_fraction > 0),
        ("delamination_fraction", cfg.delamination_fraction > 0), ("cc_wall", cfg.cc_wall),
        ("cc_delamination_fraction", cfg.cc_delamination_fraction > 0),
        ("cc_crop_um", cfg.cc_crop_um > 0 or cfg.cc_contact_target is not None),
        ("reverse", cfg.reverse), ("duplicate_x", cfg.duplicate_x > 1)] if bad]
    if unsupported:
        raise InputError(f"{where} {unsupported[0]}: mesh.kind = 'gmsh' supports one sphere-packing layer "
                         f"(with an optional channel) only; use mesh.kind = 'voxel'")
    size = mesh_cfg.gmsh_size_um or cfg.voxel_um
    key = digest({"cfg": dataclasses.asdict(cfg), "sep": separator_um, "size": size, "v": 1})
    folder = cache_dir("meshes") / key
    if (folder / "mesh.json").exists():
        return TaggedMesh.read(folder / "mesh.xdmf", comm)
    shape = grid_shape(cfg.size_um, cfg.voxel_um)
    packing = None
    if comm.rank == 0:
        packing = pack_layer(layer, shape, cfg.voxel_um, np.random.default_rng(layer_seed(cfg, 0)), False,
                             f"{where[:-1]}.layers.1]")
    packing = comm.bcast(packing, root=0)
    box = np.array(shape) * cfg.voxel_um
    log(f"meshing {len(packing.radii)} spheres with gmsh (element size {size:g} µm) ...")
    tm = build_gmsh_mesh(packing.centers, packing.radii, box, separator_um, cfg.channel, size, comm=comm)
    _store(tm, folder)
    return tm


def _store(tm: TaggedMesh, folder) -> None:
    """Write `folder`/mesh.xdmf (+ .h5, .json) atomically; the first of concurrent writers wins."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    comm = tm.comm
    tmp = tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.") if comm.rank == 0 else None
    tmp = Path(comm.bcast(tmp, root=0))
    tm.write(tmp / "mesh.xdmf")
    if comm.rank == 0:
        try:
            os.rename(tmp, folder)
        except OSError:  # another process stored this mesh first
            shutil.rmtree(tmp, ignore_errors=True)
    comm.barrier()


def scenario_mesh(sc, separator_um: float, cbd_as_se: bool, phases=None, comm=None):
    """(Structure, TaggedMesh) of a scenario with a separator of `separator_um` (µm); `cbd_as_se`
    meshes the carbon-binder domain as SE (a solid electrolyte fills it, seed 001)."""
    from fem_assb.microstructure.generate import build_structure

    structure = build_structure(sc.structure, separator_um, comm=comm)
    if sc.mesh.kind == "gmsh":
        return structure, gmsh_mesh(sc.structure, separator_um, sc.mesh, "[structure]", comm)
    return structure, voxel_mesh(structure, sc.mesh, phases, comm, fragment_share(sc), cbd_as_se=cbd_as_se)
