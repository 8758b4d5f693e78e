"""Newton's method on the monolithic block system, with a direct or an iterative linear solver.

The Jacobian is one PETSc AIJ matrix: the DOLFINx blocks of the volume/boundary forms plus the
nodal interface couplings (each SE|CAM node pair couples φ_e, φ_s and x at that point) and the
equipotential collector's star of contact conductances (collector.py), which are added into
room preallocated for them.

Linear solvers (both inside GMRES, with the preconditioner reused across Newton iterations and
time steps and rebuilt only when the Krylov iteration count exceeds `reuse_limit` or a solve
fails — refactorising costs ~15× a solve with an existing factorisation):
- direct: LU of the whole Jacobian (MUMPS, else SuperLU_DIST: linear_solvers.py) (robust; memory and time grow fast with size).
- iterative: GMRES preconditioned by a two-way field split, multiplicative (potentials first).
  The potential block [φ_e, φ_s] is one symmetric positive definite "two-domain Laplacian"
  joined by the interface conductance ∂i/∂η > 0: one AMG V-cycle (BoomerAMG, or GAMG where
  PETSc has no hypre: linear_solvers.py). The concentration block (lumped
  mass/Δt + diffusion) is strongly diagonal: block-Jacobi ILU. Inexact Newton: the Krylov
  tolerance follows the residual decrease (Eisenstat–Walker type), floored at `lin_rtol`.

Convergence: the Newton update is below `atol` in every field (volts for potentials, the
stoichiometry for x, relative for a liquid electrolyte's c_e). Updates are damped so potentials
move ≤ 0.5 V, x ≤ 0.25 and c_e by ≤ 50 % per iteration, limited per node near x = 0 and 1
(model.limit_stoichiometry_step), then backtracked (halving) until the residual 2-norm
decreases (all rows are currents in A). With a liquid electrolyte the field split has a third
block, c_e, with its own AMG.
"""
from __future__ import annotations

import numpy as np

from fem_assb import linear_solvers
from fem_assb.electrochem.model import ElectrochemModel, limit_stoichiometry_step

MAX_DPHI, MAX_DS = 0.5, 0.25
#: largest relative move of the electrolyte's Li+ concentration per iterate (it must stay positive)
MAX_DCE = 0.5
#: `linear = "auto"` uses MUMPS below this many unknowns: the AMG-preconditioned GMRES was
#: already 2× faster per discharge at 10 k unknowns and 4× at 40 k (3D LU fill grows fast)
DIRECT_BELOW = 5_000
LINE_SEARCH_HALVINGS = 4


class NewtonResult:
    def __init__(self, converged, iterations, linear_iterations, reason=""):
        self.converged, self.iterations, self.linear_iterations, self.reason = (
            converged, iterations, linear_iterations, reason)


def _preallocated_like(A0, forms, extra_diag, extra_off):
    """An AIJ matrix with A0's layout, local-to-global map and pattern, plus room for
    `extra_diag` / `extra_off` more entries per owned row in the diagonal / off-diagonal block
    (A0 is assembled once to reveal its pattern: DOLFINx preallocates without inserting)."""
    from petsc4py import PETSc

    from fem_assb import fenicsx

    fenicsx.assemble_matrix(A0, forms)
    A0.assemble()
    indptr, cols, _ = A0.getValuesCSR()
    lo, hi = A0.getOwnershipRange()
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    diag = np.bincount(rows, weights=((cols >= lo) & (cols < hi)), minlength=indptr.size - 1).astype(PETSc.IntType)
    off = (np.diff(indptr) - diag).astype(PETSc.IntType)
    n_loc = hi - lo
    nnz = (np.minimum(diag + extra_diag, n_loc).astype(PETSc.IntType), (off + extra_off).astype(PETSc.IntType))
    A = PETSc.Mat().createAIJ(A0.getSizes(), nnz=nnz, comm=A0.comm)
    A.setLGMap(*A0.getLGMap())
    A.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
    return A


class Newton:
    def __init__(self, model: ElectrochemModel, linear: str = "auto", atol: float = 1e-10,
                 max_it: int = 12, lin_rtol: float = 1e-8):
        import dolfinx.cpp
        from petsc4py import PETSc

        from fem_assb import fenicsx

        self.model = model
        self.atol, self.max_it, self.lin_rtol = atol, max_it, lin_rtol
        self._cpp = dolfinx.cpp
        A0 = fenicsx.create_matrix(model.J_form)
        spaces = [u.function_space for u in model.unknowns]
        self.b, self.bI, self.du = (fenicsx.create_vector(spaces) for _ in range(3))
        self.maps = [(u.function_space.dofmap.index_map, u.function_space.dofmap.index_map_bs)
                     for u in model.unknowns]
        # local block indices of the interface pairs (fields concatenated, owned + ghost each)
        offs = np.cumsum([0] + [(m.size_local + m.num_ghosts) * bs for m, bs in self.maps])
        self.loc = [np.asarray(dofs + offs[k], PETSc.IntType) for k, dofs in model.pair_fields]
        # the equipotential collector's star (collector.py), in owned rows of the block matrix
        # (each rank owns a contiguous range holding its owned dofs field by field)
        col = model.collector
        start, n_loc = A0.getOwnershipRange()[0], A0.getLocalSize()[0]
        first = np.cumsum([0] + [mp.size_local * bs for mp, bs in self.maps])  # owned rows of each field
        self.star_rows = np.asarray(first[1] + col.dofs, PETSc.IntType)  # local (owned) row numbers
        self.cc_row = int(first[3]) if col.kind == "equipotential" and col.owns_phi else -1
        # interface node pairs: ≤ k more columns per pair a row's dof belongs to (a vertex copy
        # of a face-connected mesh may face several copies on the other side)
        k = len(model.pair_fields)
        per_row = np.rint(self._pair_counts()).astype(np.int64)
        extra_diag, extra_off = k * per_row, k * per_row
        if col.kind == "equipotential":
            self.cc_global = model.doms.comm.bcast(start + self.cc_row if col.owns_phi else None, root=col.owner)
            (extra_diag if col.owns_phi else extra_off)[self.star_rows] += 1
            n_all = model.doms.comm.allreduce(int(col.dofs.size))
            if col.owns_phi:
                extra_diag[self.cc_row] += col.dofs.size
                extra_off[self.cc_row] += n_all - col.dofs.size
        self.A = _preallocated_like(A0, model.J_form, extra_diag, extra_off)
        n_global = sum(m.size_global for m, _ in self.maps)
        self.kind = ("direct" if n_global < DIRECT_BELOW else "iterative") if linear == "auto" else linear
        self.n_dofs = n_global
        self.pc_builds = 0
        self._make_ksp()

    def _pair_counts(self) -> np.ndarray:
        """Per owned row of the block system: the number of interface pairs (of all ranks) its
        dof belongs to."""
        ones = np.ones((self.model.pair_w.size, len(self.model.pair_fields)))
        with self.b.localForm() as loc:
            loc.set(0.0)
        self._add_pair_rows(ones, weights=ones[:, 0])
        counts = self.b.array.copy()
        with self.b.localForm() as loc:
            loc.set(0.0)
        return counts

    def _make_ksp(self):
        """A fresh Krylov solver and preconditioner (also after a failed factorisation, which
        PETSc would otherwise keep reporting)."""
        from petsc4py import PETSc

        if getattr(self, "ksp", None) is not None:
            self.ksp.destroy()
        self.refresh = True  # rebuild the preconditioner at the next solve
        if self.kind == "direct":
            self.reuse_limit = 10
            self.ksp = PETSc.KSP().create(self.model.doms.comm)
            self.ksp.setOperators(self.A)
            self.ksp.setType("gmres")
            self.ksp.setGMRESRestart(100)
            pc = self.ksp.getPC()
            linear_solvers.set_direct(pc, self.model.doms.comm.size)
        else:
            self.reuse_limit = 40
            self.ksp = self.block_amg_ksp(self.A)
        self.ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)

    def block_amg_ksp(self, A, restart: int = 200):
        """GMRES with the field-split block-AMG preconditioner (module docstring) on a matrix
        with the layout of the Jacobian (also K + ωM of the impedance solve)."""
        from petsc4py import PETSc

        comm = self.model.doms.comm
        ksp = PETSc.KSP().create(comm)
        ksp.setOperators(A)
        prefix = f"fem_assb_block_amg_{id(ksp)}_"
        ksp.setOptionsPrefix(prefix)
        # sub-solver options are read at the first solve; a run that stops before it must not end
        # with PETSc's list of unused options
        PETSc.Options()["options_left"] = 0
        opts = PETSc.Options(prefix)
        settings = {"ksp_type": "gmres", "ksp_gmres_restart": restart, "pc_fieldsplit_type": "multiplicative",
                    "fieldsplit_phi_ksp_type": "preonly", **linear_solvers.amg_options("fieldsplit_phi_"),
                    "fieldsplit_c_ksp_type": "preonly", "fieldsplit_c_pc_type": "bjacobi",
                    "fieldsplit_c_sub_pc_type": "ilu"}
        if "concentration" in self.model.kinds:  # the electrolyte's Li+: diffusion (D/h² ≫ 1/Δt), not diagonal
            settings.update({"fieldsplit_ce_ksp_type": "preonly", **linear_solvers.amg_options("fieldsplit_ce_")})
        for key, value in settings.items():
            opts[key] = value
        start = A.getOwnershipRange()[0]
        sizes = [m.size_local * bs for m, bs in self.maps]
        first = np.cumsum([0] + sizes)
        kinds = self.model.kinds
        rows = {kind: np.asarray(start + np.concatenate(
            [np.arange(first[k], first[k + 1]) for k, kk in enumerate(kinds) if kk == kind] or [np.zeros(0, int)]),
            PETSc.IntType) for kind in ("potential", "stoichiometry", "concentration")}
        pc = ksp.getPC()
        pc.setType("fieldsplit")
        splits = [("phi", rows["potential"]), ("c", rows["stoichiometry"])]
        if "concentration" in kinds:
            splits.append(("ce", rows["concentration"]))
        pc.setFieldSplitIS(*[(name, PETSc.IS().createGeneral(idx, comm=comm)) for name, idx in splits])
        ksp.setFromOptions()  # after the splits exist, so their sub-solvers read the options
        return ksp


    def _linear_solve(self) -> tuple[int, int]:
        """Solve J du = F, reusing the preconditioner; (iterations, PETSc reason)."""
        its = 0
        for attempt in (0, 1):
            if self.refresh:
                self.pc_builds += 1
            self.ksp.getPC().setReusePreconditioner(not self.refresh)
            self.ksp.solve(self.b, self.du)
            its += self.ksp.getIterationNumber()
            reason = self.ksp.getConvergedReason()
            fresh = self.refresh
            self.refresh = reason < 0 or self.ksp.getIterationNumber() > self.reuse_limit
            if reason >= 0 or fresh:
                return its, reason
        return its, reason

    def residual(self) -> float:
        """Residual at the current state into self.b; returns the merit norm (the 2-norm of
        all residual rows, the surface layers' included)."""
        from fem_assb import fenicsx

        m = self.model
        with self.b.localForm() as loc:
            loc.set(0.0)
        fenicsx.assemble_vector(self.b, m.F_form)
        rows, layer_sq = m.pair_residual()
        self._add_pair_rows(rows)
        if m.collector.kind == "equipotential":
            flow, cc = m.collector.star_rows(m.i_app)
            owned = self.b.array
            owned[self.star_rows] += flow
            if self.cc_row >= 0:
                owned[self.cc_row] += cc
            del owned  # hands the array back to PETSc before the norm
        return float(np.sqrt(self.b.norm() ** 2 + m.doms.comm.allreduce(layer_sq)))

    def _add_pair_rows(self, rows: np.ndarray, weights: np.ndarray | None = None) -> None:
        """self.b += the per-area pair rows (P, k: the equations of model.pair_fields) × pair
        weights (default the interface areas)."""
        from petsc4py import PETSc

        m = self.model
        w = m.pair_w if weights is None else weights
        parts = self._cpp.la.petsc.get_local_vectors(self.bI, self.maps)
        for p in parts:
            p[:] = 0.0
        for col, (k, idx) in enumerate(m.pair_fields):
            np.add.at(parts[k], idx, w * rows[:, col])
        self._cpp.la.petsc.scatter_local_vectors(self.bI, parts, self.maps)
        self.bI.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.b.axpy(1.0, self.bI)

    def assemble(self, merit: float | None = None) -> float:
        """Residual into self.b (unless the line search left it there, with its merit norm) and
        Jacobian into self.A at the current state; returns the merit norm. With surface layers
        both are those of the condensed system (layer unknowns eliminated)."""
        from petsc4py import PETSc

        from fem_assb import fenicsx

        m = self.model
        if merit is None:
            merit = self.residual()
        blocks, corrections = m.pair_jacobian()
        if corrections is not None:
            self._add_pair_rows(corrections)
        A = self.A
        A.zeroEntries()
        fenicsx.assemble_matrix(A, m.J_form)
        # one dense k × k block per pair: rows and columns of model.pair_fields, row-major
        rc = np.stack(self.loc, axis=1)
        if rc.size:
            A.setValuesLocalRCV(rc, rc, m.pair_w[:, None] * blocks, addv=PETSc.InsertMode.ADD_VALUES)
        if m.collector.kind == "equipotential" and self.star_rows.size:
            G, cc = m.collector.G, self.cc_global
            rows = np.asarray(self.star_rows + A.getOwnershipRange()[0], PETSc.IntType)
            add = PETSc.InsertMode.ADD_VALUES
            A.setValuesRCV(rows[:, None], np.stack([rows, np.full_like(rows, cc)], axis=1),
                           np.stack([G, -G], axis=1), addv=add)
            A.setValues([cc], np.concatenate([[cc], rows]).astype(PETSc.IntType),
                        np.concatenate([[G.sum()], -G]), addv=add)  # off-process rows are sent at assembly
        A.assemble()
        return merit

    def _line_search(self, parts, step: float, rnorm: float) -> float | None:
        """u ← u − λ du with λ = step, halved (at most LINE_SEARCH_HALVINGS times) until the
        merit norm decreases, each node's x move limited near 0 and 1 (limit_stoichiometry_step:
        full steps overshoot and cycle across a saturating node's switch, width SATURATION_WIDTH).
        Returns the merit norm if self.b holds the residual of the accepted state, else None."""
        m = self.model
        base = [u.x.array.copy() for u in m.unknowns]
        lam = step
        for k in range(LINE_SEARCH_HALVINGS + 1):
            for u, u0, du in zip(m.unknowns, base, parts):
                u.x.array[:] = u0 - lam * du
            m.s.x.array[:] = limit_stoichiometry_step(base[2], m.s.x.array)
            if m.layer:
                m.layer.step(lam)
            if k == LINE_SEARCH_HALVINGS:
                return None
            trial = self.residual()
            if np.isfinite(trial) and trial <= (1.0 - 1e-4 * lam) * rnorm:
                return trial
            lam *= 0.5

    def solve(self) -> NewtonResult:
        from mpi4py import MPI
        from petsc4py import PETSc

        m = self.model
        comm = m.doms.comm
        lin_total = 0
        r0 = None
        sizes = [mp.size_local for mp, _ in self.maps]
        merit = None
        for it in range(1, self.max_it + 1):
            rnorm = self.assemble(merit)
            if not np.isfinite(rnorm):
                return NewtonResult(False, it, lin_total, "non-finite residual")
            r0 = r0 or max(rnorm, 1e-300)
            if self.kind == "direct":  # Krylov iterations on a (lagged) LU are cheap: solve tightly
                rtol = self.lin_rtol
            else:  # inexact Newton (Eisenstat–Walker type) for the AMG-preconditioned solves
                rtol = max(self.lin_rtol, min(1e-3, 0.1 * (rnorm / r0) ** 2)) if it > 1 else 1e-3
            self.ksp.setTolerances(rtol=rtol, atol=0.0, max_it=500)
            its, reason = self._linear_solve()
            lin_total += its
            if reason < 0:
                detail = ""
                if self.kind == "direct":
                    F_ = self.ksp.getPC().getFactorMatrix()
                    detail = f", MUMPS INFOG(1) = {F_.getMumpsInfog(1)}"
                self._make_ksp()
                self.refresh = True
                return NewtonResult(False, it, lin_total, f"linear solver failed (PETSc reason {reason}{detail})")
            self.du.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
            parts = self._cpp.la.petsc.get_local_vectors(self.du, self.maps)
            potentials = [k for k, kind in enumerate(m.kinds) if kind == "potential"]
            dphi = comm.allreduce(max(float(np.abs(parts[k][:sizes[k]]).max(initial=0.0)) for k in potentials),
                                  op=MPI.MAX)
            dce = 0.0  # the electrolyte's Li+: relative moves (it must stay positive)
            for k in (k for k, kind in enumerate(m.kinds) if kind == "concentration"):
                c = m.unknowns[k].x.array[:sizes[k]]
                dce = max(dce, float(np.abs(parts[k][:sizes[k]] / np.maximum(c, 1e-300)).max(initial=0.0)))
            dce = comm.allreduce(dce, op=MPI.MAX)
            ds = float(np.abs(parts[2][:sizes[2]]).max(initial=0.0))
            if m.layer:
                m.layer.update(*[parts[k][idx] for k, idx in m.pair_fields])
                ds = max(ds, float(np.abs(m.layer.dy).max(initial=0.0)))
            ds = comm.allreduce(ds, op=MPI.MAX)
            if not (np.isfinite(dphi) and np.isfinite(ds) and np.isfinite(dce)):
                return NewtonResult(False, it, lin_total, "non-finite Newton update")
            damp = min(1.0, MAX_DPHI / max(dphi, 1e-300), MAX_DS / max(ds, 1e-300), MAX_DCE / max(dce, 1e-300))
            if damp == 1.0 and dphi < self.atol and ds < self.atol and dce < self.atol:
                for u, du in zip(m.unknowns, parts):
                    u.x.array[:] -= du
                if m.layer:
                    m.layer.step(1.0)
                return NewtonResult(True, it, lin_total)
            merit = self._line_search(parts, damp, rnorm)
        return NewtonResult(False, self.max_it, lin_total, f"no convergence in {self.max_it} Newton iterations")

