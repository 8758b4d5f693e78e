"""Damped Newton's method on a CellSystem (system.py), with a direct or an iterative linear solver.

Linear solvers (both inside GMRES, with the preconditioner reused across Newton iterations and
time steps and rebuilt only when the Krylov iteration count exceeds `reuse_limit` or a solve
fails — refactorising costs ~15× a solve with an existing factorisation):
- direct: LU of the whole Jacobian (MUMPS, else SuperLU_DIST: linear_solvers.py) (robust; memory
  and time grow fast with size).
- iterative: GMRES with the system's block-AMG field split (linear_solvers.block_amg_ksp) on
  the system in the form the blocks need (CellSystem.newton_system: the same update).
  Inexact Newton: the Krylov tolerance follows the residual decrease (Eisenstat–Walker type),
  floored at `lin_rtol`.

Convergence: every kind of unknown moves less than `atol` in one update (volts for potentials,
the stoichiometry for x, relative for a liquid electrolyte's c_e). Updates are damped so that no
kind moves more than the system allows per iterate (system.MAX_MOVE), then backtracked (halving)
until the merit norm of the residual (all rows are currents in A) decreases.
"""
from __future__ import annotations

import numpy as np

from fem_assb import linear_solvers
from fem_assb.electrochem.system import CellSystem

#: `linear = "auto"` uses MUMPS below this many unknowns: the AMG-preconditioned GMRES was
#: already 2× faster per discharge at 10 k unknowns and 4× at 40 k (3D LU fill grows fast)
DIRECT_BELOW = 5_000
LINE_SEARCH_HALVINGS = 4


class NewtonResult:
    def __init__(self, converged, iterations, linear_iterations, reason=""):
        self.converged, self.iterations, self.linear_iterations, self.reason = (
            converged, iterations, linear_iterations, reason)


class Newton:
    def __init__(self, system: CellSystem, linear: str = "auto", atol: float = 1e-10,
                 max_it: int = 12, lin_rtol: float = 1e-8):
        self.system = system
        self.atol, self.max_it, self.lin_rtol = atol, max_it, lin_rtol
        self.n_dofs = system.n_dofs
        self.kind = ("direct" if self.n_dofs < DIRECT_BELOW else "iterative") if linear == "auto" else linear
        self.pc_builds = 0
        self.ksp = None
        self._make_ksp()

    def _make_ksp(self):
        """A fresh Krylov solver and preconditioner (also after a failed factorisation, which
        PETSc would otherwise keep reporting)."""
        from petsc4py import PETSc

        if self.ksp is not None:
            self.ksp.destroy()
        self.refresh = True  # rebuild the preconditioner at the next solve
        A = self.system.A
        if self.kind == "direct":
            self.reuse_limit = 10
            self.ksp = PETSc.KSP().create(A.comm)
            self.ksp.setOperators(A)
            self.ksp.setType("gmres")
            self.ksp.setGMRESRestart(100)
            linear_solvers.set_direct(self.ksp.getPC(), A.comm.size)
        else:
            self.reuse_limit = 40
            self.ksp = linear_solvers.block_amg_ksp(A, self.system.field_splits())
        self.ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)

    def _linear_solve(self) -> tuple[int, int]:
        """Solve J du = F, reusing the preconditioner; (iterations, PETSc reason)."""
        its = 0
        op, rhs = self.system.newton_system(for_blocks=self.kind == "iterative")
        self.ksp.setOperators(op)
        for attempt in (0, 1):
            if self.refresh:
                self.pc_builds += 1
            self.ksp.getPC().setReusePreconditioner(not self.refresh)
            self.ksp.solve(rhs, self.system.du)
            its += self.ksp.getIterationNumber()
            reason = self.ksp.getConvergedReason()
            fresh = self.refresh
            self.refresh = reason < 0 or self.ksp.getIterationNumber() > self.reuse_limit
            if reason >= 0 or fresh:
                return its, reason
        return its, reason

    def _line_search(self, parts, step: float, rnorm: float) -> float | None:
        """Move by λ = step along the update, halved (at most LINE_SEARCH_HALVINGS times) until
        the merit norm decreases. Returns the merit norm if the system's residual vector holds
        that of the accepted state, else None."""
        base = self.system.state()
        lam = step
        for k in range(LINE_SEARCH_HALVINGS + 1):
            self.system.move(parts, lam, base)
            if k == LINE_SEARCH_HALVINGS:
                return None
            trial = self.system.residual()
            if np.isfinite(trial) and trial <= (1.0 - 1e-4 * lam) * rnorm:
                return trial
            lam *= 0.5

    def solve(self) -> NewtonResult:
        system = self.system
        lin_total = 0
        r0 = None
        merit = None
        for it in range(1, self.max_it + 1):
            rnorm = system.jacobian(merit)
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
                return NewtonResult(False, it, lin_total, f"linear solver failed (PETSc reason {reason}{detail})")
            parts, moves = system.moves(system.du)
            if not all(np.isfinite(size) for size, _ in moves):
                return NewtonResult(False, it, lin_total, "non-finite Newton update")
            damp = min([1.0] + [limit / max(size, 1e-300) for size, limit in moves])
            if damp == 1.0 and all(size < self.atol for size, _ in moves):
                system.move(parts, 1.0)
                return NewtonResult(True, it, lin_total)
            merit = self._line_search(parts, damp, rnorm)
        return NewtonResult(False, self.max_it, lin_total, f"no convergence in {self.max_it} Newton iterations")
