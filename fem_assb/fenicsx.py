"""The one place that knows how DOLFINx 0.9, 0.10 and 0.11 differ.

Each function has the shape of the newest API and maps it onto the older one by what the
installed DOLFINx offers (features, not version numbers). Everything else in fem_assb calls
these instead of the changed DOLFINx functions:
- cell partitioners take `max_facet_to_cell_links` (0.10+);
- `create_submesh` returns EntityMaps (0.10+) instead of arrays;
- the `*_block` PETSc helpers are gone (0.10+): `create_matrix` / `create_vector` /
  `assemble_matrix` / `assemble_vector` take lists of forms or spaces, and vector assembly no
  longer accumulates ghosts;
- `LinearProblem` needs `petsc_options_prefix` (0.10+);
- `io.gmshio.model_to_mesh` became `io.gmsh.model_to_mesh`, returning MeshData (0.10+);
- `element.interpolation_points` became a property (0.10+).

mpi4py's MPI is imported first: DOLFINx linked against the MPICH wheel finds libmpi only after
mpi4py has loaded it.
"""
from __future__ import annotations

import inspect

import mpi4py.MPI  # noqa: F401  (before dolfinx, see the module docstring)
import dolfinx
import dolfinx.cpp
import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import numpy as np

#: the DOLFINx of 0.9 still has the block helpers (and the older behaviour listed above)
_BLOCK_HELPERS = hasattr(dolfinx.fem.petsc, "assemble_matrix_block")


def cell_partitioner(mode):
    """DOLFINx's default cell partitioner for ghost `mode` (facets shared by ≤ 2 cells)."""
    try:
        return dolfinx.cpp.mesh.create_cell_partitioner(mode, 2)
    except TypeError:  # 0.9: no max_facet_to_cell_links
        return dolfinx.cpp.mesh.create_cell_partitioner(mode)


def create_submesh(mesh, dim: int, entities: np.ndarray):
    """(submesh, sub-cell → parent cell, sub-vertex → parent vertex) as int32 arrays over the
    submesh's owned and ghost entities."""
    sub, cell_map, vertex_map, _ = dolfinx.mesh.create_submesh(mesh, dim, entities)

    def as_array(m, d):
        if hasattr(m, "sub_topology_to_topology"):
            imap = sub.topology.index_map(d)
            n = imap.size_local + imap.num_ghosts
            return np.asarray(m.sub_topology_to_topology(np.arange(n, dtype=np.int32), inverse=False), np.int32)
        return np.asarray(m, np.int32)

    return sub, as_array(cell_map, dim), as_array(vertex_map, 0)


def model_to_mesh(model, comm, rank: int, gdim: int, partitioner):
    """(mesh, cell tags, facet tags) of a gmsh model on `rank`."""
    try:
        from dolfinx.io import gmsh as gmsh_io
    except ImportError:  # 0.9
        from dolfinx.io import gmshio

        return gmshio.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
    data = gmsh_io.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
    return data.mesh, data.cell_tags, data.facet_tags


def interpolation_points(element) -> np.ndarray:
    """The reference interpolation points of a DOLFINx finite element."""
    points = element.interpolation_points
    return points() if callable(points) else points


def create_matrix(J: list[list]):
    """One monolithic AIJ matrix for a block of bilinear forms (rows: each rank's owned dofs of
    field 0, field 1, … in turn)."""
    if _BLOCK_HELPERS:
        return dolfinx.fem.petsc.create_matrix_block(J)
    return dolfinx.fem.petsc.create_matrix(J)


def create_vector(spaces: list):
    """A ghosted vector with the layout of `create_matrix`'s rows for the unknowns' `spaces`
    (locally: the owned dofs of each field, then the ghosts of each)."""
    if _BLOCK_HELPERS:
        return dolfinx.cpp.fem.petsc.create_vector_block([(V.dofmap.index_map, V.dofmap.index_map_bs) for V in spaces])
    from petsc4py import PETSc

    return dolfinx.fem.petsc.create_vector(spaces, kind=PETSc.Vec.Type.MPI)


def assemble_matrix(A, J: list[list]) -> None:
    """Add the block forms J into A (not finalised: call A.assemble())."""
    if _BLOCK_HELPERS:
        dolfinx.fem.petsc.assemble_matrix_block(A, J, bcs=[])
    else:
        dolfinx.fem.petsc.assemble_matrix(A, J, bcs=[])


def assemble_vector(b, F: list) -> None:
    """Add the block forms F into b, ghost contributions accumulated on their owners."""
    from petsc4py import PETSc

    if _BLOCK_HELPERS:
        from dolfinx.cpp.la.petsc import get_local_vectors, scatter_local_vectors

        maps = [(L.function_spaces[0].dofmap.index_map, L.function_spaces[0].dofmap.index_map_bs) for L in F]
        parts = get_local_vectors(b, maps)
        for part, L in zip(parts, F):
            dolfinx.fem.assemble_vector(part, L)
        scatter_local_vectors(b, parts, maps)
    else:
        dolfinx.fem.petsc.assemble_vector(b, F)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)


def linear_problem(a, L, bcs, petsc_options: dict, prefix: str):
    """A dolfinx.fem.petsc.LinearProblem with its own PETSc options prefix."""
    LinearProblem = dolfinx.fem.petsc.LinearProblem
    if "petsc_options_prefix" in inspect.signature(LinearProblem.__init__).parameters:
        return LinearProblem(a, L, bcs=bcs, petsc_options=petsc_options, petsc_options_prefix=prefix)
    return LinearProblem(a, L, bcs=bcs, petsc_options=petsc_options)
