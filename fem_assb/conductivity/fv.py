"""Face-based two-point-flux finite volumes on the voxel grid (the GeoDict/TauFactor view:
voxels conduct only through shared faces).

Unknowns are the voxels of the spanning clusters (6-connectivity). The conductance of a face
between voxels c and d is g = h² / (h/(2σ_c) + R_cd + h/(2σ_d)) — harmonic averaging plus an
optional contact resistance R (Ω m²) between two phases; a boundary face at x = 0 or x = L
has g = 2 σ_c h (0 where a detached collector contact insulates x = L). The matrix is
assembled directly as distributed CSR in PETSc (each rank builds the rows of its slab of
x-layers; no unstructured mesh) and solved with CG and AMG (BoomerAMG, or GAMG if hypre is
missing).
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from fem_assb import linear_solvers
from fem_assb.conductivity import common
from fem_assb.phases import Phase


def _slab_bounds(counts: np.ndarray, size: int) -> np.ndarray:
    """Split x-layers into `size` slabs with about equal numbers of unknowns."""
    cum = np.concatenate([[0], np.cumsum(counts)])
    targets = cum[-1] * np.arange(size + 1) / size
    b = np.searchsorted(cum, targets).clip(0, counts.size)
    b[0], b[-1] = 0, counts.size
    return np.maximum.accumulate(b)


def solve_fv(labels: np.ndarray, h_um: float, sigma: dict, U: float = 1.0, axis: str = "x",
             contact: dict | None = None, rtol: float = 1e-10, comm=None,
             cc_delaminated: np.ndarray | None = None) -> common.ConductivityResult:
    """Effective conductivity along `axis` of a voxel image (labels as Phase values);
    `cc_delaminated` (ny, nz) insulates those pixels of the x = L face (axis x only)."""
    from mpi4py import MPI
    from petsc4py import PETSc

    from fem_assb.errors import InputError

    if cc_delaminated is not None and axis != "x":
        raise InputError(f"a detached collector contact insulates part of x = L: axis = '{axis}' is out of range, "
                         "accepted 'x'")
    comm = comm or MPI.COMM_WORLD
    t0 = time.perf_counter()
    lab = np.moveaxis(labels, "xyz".index(axis), 0)
    table = common.phase_sigma_table(sigma)
    ref = common.reference_phase(sigma)
    sig_ref = table[int(ref)]
    h = h_um * 1e-6
    nx, ny, nz = lab.shape
    ref_group = [ref] + ([Phase.SE_PASSIVE, Phase.SEPARATOR] if ref == Phase.SE else [])

    # rank 0: spanning clusters → a shared memory-mapped mask; per-layer unknown counts
    path = None
    stats = None
    if comm.rank == 0:
        conducting = table[lab] > 0
        active = common.spanning_mask(conducting, common.FACE, cc_delaminated)
        in_ref = np.isin(lab, ref_group)
        stats = (float(in_ref.mean()), float((active & in_ref).sum() / max(in_ref.sum(), 1)),
                 active.sum(axis=(1, 2)))
        if comm.size > 1:
            fd, path = tempfile.mkstemp(suffix=".npy", dir=os.environ.get("FEM_ASSB_TMP", tempfile.gettempdir()))
            os.close(fd)
            np.save(path, active)
    eps, perc, counts = comm.bcast(stats, root=0)
    path = comm.bcast(path, root=0)
    if comm.size > 1:
        active = np.load(path, mmap_mode="r")
    comm.barrier()
    if comm.rank == 0 and path:
        os.unlink(path)  # the open memory maps keep the data
    n_total = int(counts.sum())
    if n_total == 0:
        return common.not_percolating(ref, sig_ref, eps, axis, "fv", time.perf_counter() - t0)

    bounds = _slab_bounds(counts, comm.size)
    l0, l1 = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    layer_off = np.concatenate([[0], np.cumsum(counts)])
    lo, hi = max(l0 - 1, 0), min(l1 + 1, nx)
    act = np.asarray(active[lo:hi])
    sig = table[np.asarray(lab[lo:hi])] * act
    phs = np.asarray(lab[lo:hi])
    gid = np.full(act.shape, -1, np.int64)
    for i in range(lo, hi):  # global unknown numbers of the slab and its halo layers
        m = act[i - lo]
        gid[i - lo][m] = layer_off[i] + np.arange(int(m.sum()))

    rc = np.zeros((max(Phase) + 1, max(Phase) + 1))
    for (a, b), r in (contact or {}).items():
        rc[int(a), int(b)] = rc[int(b), int(a)] = r

    own = slice(l0 - lo, l1 - lo)
    rows_g = gid[own]
    n_local = int(counts[l0:l1].sum())
    first = int(layer_off[l0])
    diag = np.zeros(act.shape)
    cols, vals, rows = [], [], []
    transverse = {}
    for ax in range(3):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[ax], b[ax] = slice(0, -1), slice(1, None)
        ta, tb = tuple(a), tuple(b)
        both = act[ta] & act[tb]
        sa, sb = sig[ta][both], sig[tb][both]
        g = h * h / (h / (2 * sa) + rc[phs[ta][both], phs[tb][both]] + h / (2 * sb))
        ga, gb = gid[ta][both], gid[tb][both]
        # each face adds to the diagonal of both cells and couples them
        tmp = np.zeros(act[ta].shape)
        tmp[both] = g
        diag[ta] += tmp
        diag[tb] += tmp
        rows += [ga, gb]
        cols += [gb, ga]
        vals += [-g, -g]
        if ax:
            transverse[ax] = (ga, gb, g)
    # Dirichlet faces at x = 0 (φ = U) and x = L (φ = 0)
    gb0 = 2 * sig[0 - lo] * h if l0 == 0 else None
    gbL = 2 * sig[nx - 1 - lo] * h if l1 == nx else None
    if gbL is not None and cc_delaminated is not None:
        gbL = np.where(cc_delaminated, 0.0, gbL)
    if gb0 is not None:
        diag[0 - lo] += gb0
    if gbL is not None:
        diag[nx - 1 - lo] += gbL
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    vals = np.concatenate(vals)
    keep = (rows >= first) & (rows < first + n_local)
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    dmask = act[own]
    rows = np.concatenate([rows, rows_g[dmask]])
    cols = np.concatenate([cols, rows_g[dmask]])
    vals = np.concatenate([vals, diag[own][dmask]])
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows - first, minlength=n_local))]).astype(PETSc.IntType)

    A = PETSc.Mat().createAIJ(size=((n_local, n_total), (n_local, n_total)),
                              csr=(indptr, cols.astype(PETSc.IntType), vals), comm=comm)
    A.assemble()
    rhs = A.createVecRight()
    if gb0 is not None:
        m0 = act[0 - lo]
        rhs.setValues(gid[0 - lo][m0].astype(PETSc.IntType), (gb0[m0] * U).astype(float))
    rhs.assemble()
    x = A.createVecRight()
    ksp = PETSc.KSP().create(comm)
    ksp.setOperators(A)
    ksp.setType("cg")
    linear_solvers.configure(ksp, "fv", linear_solvers.amg_options())
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=2000)
    ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    ksp.solve(rhs, x)
    reason = ksp.getConvergedReason()
    its = ksp.getIterationNumber()
    res = ksp.getResidualNorm() / max(rhs.norm(), 1e-300)
    if reason < 0:
        from fem_assb.errors import SolverError

        raise SolverError(f"conductivity solve did not converge (PETSc reason {reason}, {its} iterations, "
                          f"relative residual {res:.2e})")

    # gather the potentials of the slab and its halo layers
    phi_full = np.zeros(act.shape)
    need = gid[act]
    scatter_is = PETSc.IS().createGeneral(need.astype(PETSc.IntType), comm=comm)
    out = PETSc.Vec().createSeq(need.size)
    sc = PETSc.Scatter().create(x, scatter_is, out, None)
    sc.scatter(x, out)
    phi_full[act] = out.getArray()

    I0 = IL = 0.0
    if gb0 is not None:
        I0 = float(np.sum(gb0[act[0 - lo]] * (U - phi_full[0 - lo][act[0 - lo]])))
    if gbL is not None:
        IL = float(np.sum(gbL[act[nx - 1 - lo]] * phi_full[nx - 1 - lo][act[nx - 1 - lo]]))
    # transverse mean currents: Σ over owned faces of (flux × h); a face is owned by its lower cell
    order_need = np.argsort(need)
    need_sorted = need[order_need]
    vals_sorted = out.getArray()[order_need]

    def phi_at(ids):
        return vals_sorted[np.searchsorted(need_sorted, ids)]

    def mean_current(ax):  # Σ (face current × h) over faces whose lower cell is owned
        ga, gb, g = transverse[ax]
        mine = (ga >= first) & (ga < first + n_local)
        return float(np.sum(g[mine] * (phi_at(ga[mine]) - phi_at(gb[mine]))) * h)

    jy, jz = mean_current(1), mean_current(2)
    I0, IL, jy, jz = (comm.allreduce(v) for v in (I0, IL, jy, jz))
    L, Ayz = nx * h, ny * nz * h * h
    return common.make_result(
        I0, IL, jy, jz, U, L, Ayz, L * Ayz, ref, sig_ref, eps, perc, axis=axis, discretization="fv",
        dofs=n_total, iterations=its, residual=res, wall_time=time.perf_counter() - t0)
