"""Nodal finite elements (Q1 on voxel hexahedra, P1 on gmsh tetrahedra) for the same problem.

σ is piecewise constant per cell (DG0 from the cell tags); φ is continuous on the mesh. On
voxel images the mesh is face-connected by default (mesh/voxel.py: all conducting phases one
vertex group), so conducting voxels exchange current only through shared faces, as in the FV
solver, and the two converge to the same σ_eff as voxels are split into finer cells;
`connectivity = "node"` also joins voxels that share only an edge or a corner. Clusters not
connected to both electrodes (through faces, or also edges and corners) are removed first.
I is computed from the energy identity I U = ∫ σ |∇φ|² dx, which converges at twice the
rate of a boundary flux; ⟨j_y⟩, ⟨j_z⟩ are cell integrals of −σ ∂φ/∂y, −σ ∂φ/∂z.
"""
from __future__ import annotations

import time

import numpy as np

from fem_assb.conductivity import common
from fem_assb.errors import InputError, SolverError
from fem_assb.mesh.tagged import TaggedMesh
from fem_assb.phases import Phase


def solve_on_mesh(tm: TaggedMesh, sigma: dict, U: float = 1.0, rtol: float = 1e-10, eps=None, perc=None,
                  t0=None) -> common.ConductivityResult:
    """Solve on a tagged mesh whose transport axis is x (coordinates in m)."""
    import dolfinx.fem
    import ufl
    from petsc4py import PETSc

    from fem_assb import fenicsx, linear_solvers

    t0 = t0 or time.perf_counter()
    table = common.phase_sigma_table(sigma)
    ref = common.reference_phase(sigma)
    sig_ref = table[int(ref)]
    if eps is None:  # a tagged mesh as given: measure ε on it, then keep only conducting cells
        x_all = tm.mesh.geometry.x[:, 0]
        length = tm.comm.allreduce(x_all.max(), op=_max()) - tm.comm.allreduce(x_all.min(), op=_min())
        eps = tm.measure_volume(*([ref] + ([Phase.SE_PASSIVE, Phase.SEPARATOR] if ref == Phase.SE else []))) / (
            length * tm.info["area_um2"] * 1e-12)
        perc = float("nan")  # not computed on unstructured meshes
        tm = conducting_submesh(tm, table)
    mesh = tm.mesh
    comm = mesh.comm
    DG0 = dolfinx.fem.functionspace(mesh, ("DG", 0))
    s = dolfinx.fem.Function(DG0)
    s.x.array[DG0.dofmap.list[tm.cell_tags.indices, 0]] = table[tm.cell_tags.values]
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    x = mesh.geometry.x
    x0 = comm.allreduce(x[:, 0].min(), op=_min())
    xL = comm.allreduce(x[:, 0].max(), op=_max())
    tol = 1e-6 * (xL - x0)
    d0 = dolfinx.fem.locate_dofs_geometrical(V, lambda p: np.abs(p[0] - x0) < tol)
    dL = dolfinx.fem.locate_dofs_geometrical(V, lambda p: np.abs(p[0] - xL) < tol)
    bcs = [dolfinx.fem.dirichletbc(PETSc.ScalarType(U), d0, V), dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), dL, V)]
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    # scale the operator to O(1) entries (σ h ~ 1e-8 in SI) so that the Dirichlet rows (diagonal 1)
    # do not dominate the residual norm the Krylov tolerance refers to
    n_cells = mesh.topology.index_map(3).size_global
    h_char = (tm.info["area_um2"] * 1e-12 * (xL - x0) / n_cells) ** (1 / 3)
    scale = dolfinx.fem.Constant(mesh, PETSc.ScalarType(1.0 / (sig_ref * h_char)))
    a = scale * ufl.inner(s * ufl.grad(u), ufl.grad(v)) * ufl.dx
    L = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0)) * v * ufl.dx
    opts = {"ksp_type": "cg", "ksp_rtol": rtol, "ksp_atol": 0.0, "ksp_max_it": 3000,
            "ksp_norm_type": "unpreconditioned"}
    opts.update(linear_solvers.amg_options())
    problem = fenicsx.linear_problem(a, L, bcs, opts, "fem_assb_conductivity_")
    phi = problem.solve()
    ksp = problem.solver
    if ksp.getConvergedReason() < 0:
        raise SolverError(f"conductivity solve did not converge (PETSc reason {ksp.getConvergedReason()})")
    integ = lambda f: comm.allreduce(dolfinx.fem.assemble_scalar(dolfinx.fem.form(f)))  # noqa: E731
    energy = integ(s * ufl.inner(ufl.grad(phi), ufl.grad(phi)) * ufl.dx)
    jy = integ(-s * phi.dx(1) * ufl.dx)
    jz = integ(-s * phi.dx(2) * ufl.dx)
    jx = integ(-s * phi.dx(0) * ufl.dx)  # = I (xL − x0) exactly for the discrete solution
    info = tm.info
    Lx, A = (xL - x0), info["area_um2"] * 1e-12
    I = energy / U
    I_flux = jx / Lx
    n_dofs = V.dofmap.index_map.size_global
    return common.make_result(I, I_flux, jy, jz, U, Lx, A, Lx * A, ref, sig_ref, eps, perc, axis="x",
                              discretization="fem", dofs=n_dofs, iterations=ksp.getIterationNumber(),
                              residual=ksp.getResidualNorm() / max(problem.b.norm(), 1e-300),
                              wall_time=time.perf_counter() - t0)


def conducting_submesh(tm: TaggedMesh, table: np.ndarray) -> TaggedMesh:
    """The cells with σ > 0 as their own mesh (zero-conductivity phases leave the system)."""
    import dolfinx.mesh

    from fem_assb import fenicsx

    n_local = tm.mesh.topology.index_map(3).size_local
    keep = tm.cell_tags.indices[(table[tm.cell_tags.values] > 0) & (tm.cell_tags.indices < n_local)]
    if tm.comm.allreduce(keep.size) == tm.mesh.topology.index_map(3).size_global:
        return tm
    sub, cell_map, _ = fenicsx.create_submesh(tm.mesh, 3, keep.astype(np.int32))
    phase_of = np.zeros(tm.mesh.topology.index_map(3).size_local + tm.mesh.topology.index_map(3).num_ghosts,
                        np.int32)
    phase_of[tm.cell_tags.indices] = tm.cell_tags.values
    n_sub = sub.topology.index_map(3).size_local + sub.topology.index_map(3).num_ghosts
    ct = dolfinx.mesh.meshtags(sub, 3, np.arange(n_sub, dtype=np.int32), phase_of[cell_map[:n_sub]])
    empty = dolfinx.mesh.meshtags(sub, 2, np.zeros(0, np.int32), np.zeros(0, np.int32))
    return TaggedMesh(sub, ct, empty, tm.info)


def _min():
    from mpi4py import MPI

    return MPI.MIN


def _max():
    from mpi4py import MPI

    return MPI.MAX


def solve_fem_voxels(labels: np.ndarray, h_um: float, sigma: dict, U: float = 1.0, axis: str = "x",
                     contact: dict | None = None, rtol: float = 1e-10, comm=None,
                     connectivity: str = "face") -> common.ConductivityResult:
    """Q1 on the hexahedral mesh of the spanning clusters of a voxel image."""
    from mpi4py import MPI

    from fem_assb.mesh.voxel import build_hex_mesh

    if contact:
        raise InputError("--contact-resistance needs --discretization fv: continuous nodal elements cannot "
                         "carry a potential jump at phase boundaries")
    comm = comm or MPI.COMM_WORLD
    t0 = time.perf_counter()
    lab = np.ascontiguousarray(np.moveaxis(labels, "xyz".index(axis), 0))
    table = common.phase_sigma_table(sigma)
    ref = common.reference_phase(sigma)
    ref_group = [ref] + ([Phase.SE_PASSIVE, Phase.SEPARATOR] if ref == Phase.SE else [])
    active = common.spanning_mask(table[lab] > 0, common.FACE if connectivity == "face" else common.NODE)
    in_ref = np.isin(lab, ref_group)
    eps, perc = float(in_ref.mean()), float((active & in_ref).sum() / max(in_ref.sum(), 1))
    if not active.any():
        return common.not_percolating(ref, table[int(ref)], eps, axis, "fem", time.perf_counter() - t0)
    masked = np.where(active, lab, np.uint8(Phase.VOID)).astype(np.uint8)
    conducting = [p for p in Phase if table[int(p)] > 0]
    tm = build_hex_mesh(masked, h_um, 0.0, phases=conducting, comm=comm, connectivity=connectivity,
                        groups={p: 0 for p in Phase})
    r = solve_on_mesh(tm, sigma, U, rtol, eps, perc, t0)
    r.axis = axis
    return r
