"""Face-based two-point-flux finite volumes on the voxel grid (the GeoDict/TauFactor view:
voxels conduct only through shared faces).

Unknowns are the voxels of the spanning clusters (6-connectivity). The conductance of a face
between voxels c and d is g = h² / (h/(2σ_c) + R_cd + h/(2σ_d)) — harmonic averaging plus an
optional contact resistance R (Ω m²) between two phases; a boundary face at x = 0 or x = L
has g = 2 σ_c h (0 where a detached collector contact insulates x = L). Each rank works on a
slab of x-layers (about equal numbers of conducting voxels) and reads only that slab and one
layer on either side: it labels the clusters of its slab, and rank 0 joins clusters that meet
across slab faces (union–find over cluster numbers, not voxels) to find the spanning ones. The
matrix rows are built as distributed CSR straight from the 7-point stencil of the slab's active
voxels (no unstructured mesh, no list of faces) and solved with CG and AMG (BoomerAMG, or GAMG
if hypre is missing).
"""
from __future__ import annotations

import time

import numpy as np

from fem_assb import linear_solvers
from fem_assb.conductivity import common
from fem_assb.phases import Phase


def _slab_bounds(counts: np.ndarray, size: int) -> np.ndarray:
    """Split x-layers into `size` slabs of at least one layer with about equal numbers of
    conducting voxels."""
    cum = np.concatenate([[0], np.cumsum(counts)])
    targets = cum[-1] * np.arange(size + 1) / size
    b = np.searchsorted(cum, targets).clip(0, counts.size)
    b[0], b[-1] = 0, counts.size
    b = np.maximum.accumulate(b)
    k = np.arange(size + 1)
    return np.minimum(np.maximum(b, k), counts.size - size + k)  # no empty slab


def _shift(layer, comm, upward: bool):
    """Send `layer` to the next rank up (`upward`) or down and receive the other neighbour's
    (None where there is none): the layers next to a slab face."""
    from mpi4py import MPI

    up = comm.rank + 1 if comm.rank + 1 < comm.size else MPI.PROC_NULL
    down = comm.rank - 1 if comm.rank > 0 else MPI.PROC_NULL
    return comm.sendrecv(layer, dest=up if upward else down, source=down if upward else up)


def _spanning(lab, table: np.ndarray, l0: int, l1: int, closed_L, comm) -> np.ndarray:
    """Which voxels of layers [l0, l1) conduct in a cluster (6-connected) that touches both
    x = 0 and x = L (not through `closed_L` pixels). Each rank labels the clusters of its slab;
    rank 0 joins the clusters that meet across slab faces (union–find over cluster numbers) and
    returns which are spanning. No rank reads more than its slab and one neighbouring layer."""
    from scipy import ndimage

    nx = lab.shape[0]
    local, k = ndimage.label(table[np.asarray(lab[l0:l1])] > 0)
    offset = int(np.sum(comm.allgather(k)[:comm.rank]))
    ids = np.where(local > 0, local + offset, 0).astype(np.int64)  # global cluster numbers, 0 = none
    # clusters joined across the face below this slab: the layer below as the rank below labelled it
    below = _shift(ids[-1], comm, upward=True)
    pairs = np.zeros((0, 2), np.int64)
    if comm.rank > 0:
        both = (below > 0) & (ids[0] > 0)
        pairs = np.unique(np.stack([below[both], ids[0][both]], axis=1), axis=0)
    at0 = np.unique(ids[0]) if l0 == 0 else np.zeros(0, np.int64)
    at_L = np.unique(ids[-1] if closed_L is None else ids[-1][~closed_L]) if l1 == nx else np.zeros(0, np.int64)
    gathered = comm.gather((k, pairs, at0, at_L), root=0)
    spanning = None
    if comm.rank == 0:
        total = sum(g[0] for g in gathered)
        parent = np.arange(total + 1)

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for _, p, _, _ in gathered:
            for a, b in p:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        roots = parent
        while not np.array_equal(roots[roots], roots):  # pointer jumping to the roots
            roots = roots[roots]
        flag0 = np.zeros(total + 1, bool)
        flagL = np.zeros(total + 1, bool)
        flag0[roots[np.concatenate([g[2] for g in gathered])]] = True
        flagL[roots[np.concatenate([g[3] for g in gathered])]] = True
        spanning = (flag0 & flagL)[roots]
        spanning[0] = False
    spanning = comm.bcast(spanning, root=0)
    return spanning[ids]


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
    lab = labels if axis == "x" else np.moveaxis(np.asarray(labels), "xyz".index(axis), 0)
    table = common.phase_sigma_table(sigma)
    ref = common.reference_phase(sigma)
    sig_ref = table[int(ref)]
    h = h_um * 1e-6
    nx, ny, nz = lab.shape
    ref_group = [ref] + ([Phase.SE_PASSIVE, Phase.SEPARATOR] if ref == Phase.SE else [])

    if comm.size > nx:
        raise InputError(f"{comm.size} ranks for {nx} voxel layers along {axis}: accepted at most one rank per layer")
    # slabs of x-layers with about equal numbers of conducting voxels (each rank counts a share)
    share = np.linspace(0, nx, comm.size + 1).astype(int)
    part = (table[np.asarray(lab[share[comm.rank]:share[comm.rank + 1]])] > 0).sum(axis=(1, 2))
    bounds = _slab_bounds(np.concatenate(comm.allgather(part)), comm.size)
    l0, l1 = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    own_active = _spanning(lab, table, l0, l1, cc_delaminated, comm)
    in_ref = np.isin(np.asarray(lab[l0:l1]), ref_group)
    n_ref, n_ref_active = (comm.allreduce(int(v)) for v in (in_ref.sum(), (own_active & in_ref).sum()))
    eps, perc = n_ref / lab.size, n_ref_active / max(n_ref, 1)
    counts = np.concatenate(comm.allgather(own_active.sum(axis=(1, 2))))
    n_total = int(counts.sum())
    if n_total == 0:
        return common.not_percolating(ref, sig_ref, eps, axis, "fv", time.perf_counter() - t0)

    layer_off = np.concatenate([[0], np.cumsum(counts)])
    first, n_local = int(layer_off[l0]), int(counts[l0:l1].sum())
    lo, hi = max(l0 - 1, 0), min(l1 + 1, nx)
    # the slab and its halo layers (the neighbours' boundary layers), flattened in C order: the
    # unknowns are numbered layer by layer in that order, so a voxel's number is the count of
    # active voxels before it
    up, down = _shift(own_active[-1], comm, upward=True), _shift(own_active[0], comm, upward=False)
    act = np.concatenate(([up[None]] if lo < l0 else []) + [own_active] + ([down[None]] if hi > l1 else [])).ravel()
    phs = np.asarray(lab[lo:hi]).ravel()
    pos = np.flatnonzero(act)
    layer = ny * nz
    mine = pos[(pos >= (l0 - lo) * layer) & (pos < (l1 - lo) * layer)]
    where = (mine // layer + lo, mine // nz % ny, mine % nz)  # x, y, z of each owned unknown
    s_mine, p_mine = table[phs[mine]], phs[mine]

    rc = np.zeros((max(Phase) + 1, max(Phase) + 1))
    for (a, b), r in (contact or {}).items():
        rc[int(a), int(b)] = rc[int(b), int(a)] = r

    # one CSR row per unknown: the 7-point stencil in column order −x, −y, −z, self, +z, +y, +x
    stencil = [(0, -1), (1, -1), (2, -1), None, (2, 1), (1, 1), (0, 1)]
    extent, stride = (nx, ny, nz), (layer, nz, 1)
    cols = np.full((n_local, 7), -1, PETSc.IntType)
    vals = np.zeros((n_local, 7))
    diag = np.zeros(n_local)
    for k, st in enumerate(stencil):
        if st is None:
            continue
        ax, d = st
        ok = (where[ax] + d >= 0) & (where[ax] + d < extent[ax])
        nb = mine[ok] + d * stride[ax]
        ok[ok] = act[nb]
        nb = mine[ok] + d * stride[ax]
        g = h * h / (h / (2 * s_mine[ok]) + rc[p_mine[ok], phs[nb]] + h / (2 * table[phs[nb]]))
        cols[ok, k] = layer_off[lo] + np.searchsorted(pos, nb)
        vals[ok, k] = -g
        diag[ok] += g
    # Dirichlet faces at x = 0 (φ = U) and x = L (φ = 0)
    at0, atL = where[0] == 0, where[0] == nx - 1
    gb0 = 2 * s_mine[at0] * h
    gbL = 2 * s_mine[atL] * h
    if cc_delaminated is not None:
        gbL[cc_delaminated[where[1][atL], where[2][atL]]] = 0.0
    diag[at0] += gb0
    diag[atL] += gbL
    cols[:, 3] = first + np.arange(n_local)
    vals[:, 3] = diag
    valid = cols >= 0
    indptr = np.concatenate([[0], np.cumsum(valid.sum(axis=1))]).astype(PETSc.IntType)
    A = PETSc.Mat().createAIJ(size=((n_local, n_total), (n_local, n_total)),
                              csr=(indptr, cols[valid], vals[valid]), comm=comm)
    A.assemble()
    rhs = A.createVecRight()
    rhs.getArray()[at0] = gb0 * U
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

    phi = x.getArray()
    I0 = float(np.sum(gb0 * (U - phi[at0])))
    IL = float(np.sum(gbL * phi[atL]))

    def mean_current(k):  # Σ (face current × h) over the +y or +z faces of the owned unknowns (same layer: owned)
        has = cols[:, k] >= 0
        return float(np.sum(-vals[has, k] * (phi[has] - phi[cols[has, k] - first])) * h)

    jy, jz = mean_current(5), mean_current(4)
    I0, IL, jy, jz = (comm.allreduce(v) for v in (I0, IL, jy, jz))
    L, Ayz = nx * h, ny * nz * h * h
    return common.make_result(
        I0, IL, jy, jz, U, L, Ayz, L * Ayz, ref, sig_ref, eps, perc, axis=axis, discretization="fv",
        dofs=n_total, iterations=its, residual=res, wall_time=time.perf_counter() - t0)
