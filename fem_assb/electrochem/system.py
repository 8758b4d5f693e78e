"""The discrete cell problem: everything a solver needs of the coupled model at one time level.

The model (model.py) holds the fields, the weak forms and the nodal interface kinetics; this
object turns them into one block system of currents (A) and owns all of its parts:
- the residual vector: the DOLFINx forms, plus the interface rows (each SE|CAM node pair couples
  φ_e, φ_s and x, and c_e with a liquid electrolyte) and the equipotential collector's star of
  contact conductances (collector.py), both added outside the weak form;
- the Jacobian: one PETSc AIJ matrix with room preallocated for those extra couplings;
- the sub-grid surface layers (surface_layer.py): condensed out of residual and Jacobian and
  back-substituted when the iterate moves;
- the iterate's update: how far a Newton step moves each kind of unknown, and the move itself,
  each node's x limited near 0 and 1 (kinetics.limit_stoichiometry_step);
- the split of the unknowns into potentials, stoichiometry and electrolyte Li+ that the block
  preconditioner needs, the Newton system in the form it needs (`newton_system`: with a liquid
  electrolyte, Li+ rows without migration), and the linearisation K + M d/dt about a state that
  impedance needs.
A solver (newton.py) sees only these operations.
"""
from __future__ import annotations

import numpy as np

from fem_assb.electrochem.kinetics import limit_stoichiometry_step

#: largest move per iterate of a potential [V], of x, and (relative) of the electrolyte's Li+
#: concentration (it must stay positive)
MAX_MOVE = {"potential": 0.5, "stoichiometry": 0.25, "concentration": 0.5}


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


class CellSystem:
    """Residual `b`, Jacobian `A` and iterate updates of an ElectrochemModel (module docstring)."""

    def __init__(self, model):
        import dolfinx.cpp
        from petsc4py import PETSc

        from fem_assb import fenicsx

        self.model = model
        self.comm = model.doms.comm
        self.kinds = model.kinds
        self._cpp = dolfinx.cpp
        A0 = fenicsx.create_matrix(model.J_form)
        spaces = [u.function_space for u in model.unknowns]
        self.b, self._bI, self.du = (fenicsx.create_vector(spaces) for _ in range(3))
        self.maps = [(u.function_space.dofmap.index_map, u.function_space.dofmap.index_map_bs)
                     for u in model.unknowns]
        self.sizes = [m.size_local for m, _ in self.maps]
        # local block indices of the interface pairs (fields concatenated, owned + ghost each)
        offs = np.cumsum([0] + [(m.size_local + m.num_ghosts) * bs for m, bs in self.maps])
        self._loc = [np.asarray(dofs + offs[k], PETSc.IntType) for k, dofs in model.pair_fields]
        # the equipotential collector's star (collector.py), in owned rows of the block matrix
        # (each rank owns a contiguous range holding its owned dofs field by field)
        col = model.collector
        start = A0.getOwnershipRange()[0]
        self._first = np.cumsum([0] + [mp.size_local * bs for mp, bs in self.maps])  # owned rows of each field
        self._star_rows = np.asarray(self._first[1] + col.dofs, PETSc.IntType)  # local (owned) row numbers
        self._cc_row = int(self._first[3]) if col.kind == "equipotential" and col.owns_phi else -1
        # interface node pairs: ≤ k more columns per pair a row's dof belongs to (a vertex copy
        # of a face-connected mesh may face several copies on the other side)
        k = len(model.pair_fields)
        per_row = np.rint(self._pair_counts()).astype(np.int64)
        extra_diag, extra_off = k * per_row, k * per_row
        if col.kind == "equipotential":
            self._cc_global = self.comm.bcast(start + self._cc_row if col.owns_phi else None, root=col.owner)
            (extra_diag if col.owns_phi else extra_off)[self._star_rows] += 1
            n_all = self.comm.allreduce(int(col.dofs.size))
            if col.owns_phi:
                extra_diag[self._cc_row] += col.dofs.size
                extra_off[self._cc_row] += n_all - col.dofs.size
        self.A = _preallocated_like(A0, model.J_form, extra_diag, extra_off)
        self.n_dofs = sum(m.size_global for m, _ in self.maps)
        self._L = self._salt_rows() if model.liquid else None
        self._LA = self._Lb = None

    def _salt_rows(self):
        """L = I − T, T taking t+(c_e) × each node's charge row (φ_e) into its Li+ row (c_e).

        The Li+ balance carries the migration flux t+ i_e/F: its rows are ≈ 10⁴ × stronger in φ_e
        than in c_e, and its own block is indefinite where the diffusion potential's share
        t+ κ_D/(F c) exceeds D. Block preconditioners then stall (500 GMRES iterations without
        progress once Δt ≳ 1 s, measured on the LIB perforated case; docs/VERIFICATION.md). L J du =
        L b has the same update; its Li+ rows hold storage, diffusion and the (1 − t+) share of
        the interface and anode currents — the textbook form — up to the variation of t+(c)
        within an element."""
        from petsc4py import PETSc

        m = self.model
        if not np.array_equal(m.V_ce.dofmap.list, m.V_e.dofmap.list):
            raise AssertionError("c_e and φ_e must share their dof numbering")
        lo, hi = self.A.getOwnershipRange()
        k = m.unknowns.index(m.c_e)
        n = self.sizes[0]
        self._salt_rc = (np.asarray(lo + self._first[k] + np.arange(n), PETSc.IntType),
                         np.asarray(lo + self._first[0] + np.arange(n), PETSc.IntType))
        nnz = np.ones(hi - lo, PETSc.IntType)
        nnz[self._first[k]:self._first[k] + n] = 2
        L = PETSc.Mat().createAIJ(self.A.getSizes(), nnz=(nnz, 0), comm=self.comm)
        rows = np.arange(lo, hi, dtype=PETSc.IntType)[:, None]
        L.setValuesRCV(rows, rows, np.ones_like(rows, dtype=float))
        return L

    def _salt_rows_now(self):
        """L (`_salt_rows`) with t+ at the current c_e."""
        from petsc4py import PETSc

        m = self.model
        rows, cols = self._salt_rc
        t_plus = m.mats.electrolyte.transference(m.c_e.x.array[:rows.size])
        self._L.setValuesRCV(rows[:, None], cols[:, None], -np.asarray(t_plus, float)[:, None],
                             addv=PETSc.InsertMode.INSERT_VALUES)
        self._L.assemble()
        return self._L

    def newton_system(self, for_blocks: bool):
        """(operator, right-hand side) of the Newton update after `jacobian()`: A and b, or for
        a block preconditioner with a liquid electrolyte L A and L b (`_salt_rows`)."""
        if self._L is None or not for_blocks:
            return self.A, self.b
        L = self._salt_rows_now()
        if self._LA is None:
            self._LA, self._Lb = L.matMult(self.A), self.b.duplicate()
        else:
            L.matMult(self.A, result=self._LA)
        L.mult(self.b, self._Lb)
        return self._LA, self._Lb

    # --- assembly ------------------------------------------------------------------------------
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

    def _add_pair_rows(self, rows: np.ndarray, weights: np.ndarray | None = None) -> None:
        """b += the per-area pair rows (P, k: the equations of model.pair_fields) × pair
        weights (default the interface areas)."""
        from petsc4py import PETSc

        m = self.model
        w = m.pair_w if weights is None else weights
        parts = self._cpp.la.petsc.get_local_vectors(self._bI, self.maps)
        for p in parts:
            p[:] = 0.0
        for col, (k, idx) in enumerate(m.pair_fields):
            np.add.at(parts[k], idx, w * rows[:, col])
        self._cpp.la.petsc.scatter_local_vectors(self._bI, parts, self.maps)
        self._bI.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.b.axpy(1.0, self._bI)

    def residual(self) -> float:
        """Residual at the current state into `b`; returns the merit norm (the 2-norm of all
        residual rows, the surface layers' included)."""
        from fem_assb import fenicsx

        m = self.model
        with self.b.localForm() as loc:
            loc.set(0.0)
        fenicsx.assemble_vector(self.b, m.F_form)
        rows, layer_sq = m.pair_residual()
        self._add_pair_rows(rows)
        if m.collector.kind == "equipotential":
            flow, cc = m.collector.star_rows(m.i_app, m.hold_V)
            owned = self.b.array
            owned[self._star_rows] += flow
            if self._cc_row >= 0:
                owned[self._cc_row] += cc
            del owned  # hands the array back to PETSc before the norm
        return float(np.sqrt(self.b.norm() ** 2 + self.comm.allreduce(layer_sq)))

    def jacobian(self, merit: float | None = None) -> float:
        """Residual into `b` (unless it already holds the current state's, with merit norm
        `merit`) and Jacobian into `A`; returns the merit norm. With surface layers both are
        those of the condensed system (layer unknowns eliminated)."""
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
        rc = np.stack(self._loc, axis=1)
        if rc.size:
            A.setValuesLocalRCV(rc, rc, m.pair_w[:, None] * blocks, addv=PETSc.InsertMode.ADD_VALUES)
        if m.collector.kind == "equipotential" and self._star_rows.size:
            G, cc = m.collector.G, self._cc_global
            rows = np.asarray(self._star_rows + A.getOwnershipRange()[0], PETSc.IntType)
            add = PETSc.InsertMode.ADD_VALUES
            A.setValuesRCV(rows[:, None], np.stack([rows, np.full_like(rows, cc)], axis=1),
                           np.stack([G, -G], axis=1), addv=add)
            # the φ_cc row: the current balance, or under a voltage hold G_total (φ_cc − V) alone
            # (zeros keep the pattern)
            coupling = -G if m.hold_V is None else np.zeros_like(G)
            A.setValues([cc], np.concatenate([[cc], rows]).astype(PETSc.IntType),
                        np.concatenate([[G.sum()], coupling]), addv=add)  # off-process rows are sent at assembly
        A.assemble()
        return merit

    def field_splits(self) -> list[tuple[str, object]]:
        """Global rows of the potentials ("phi"), the stoichiometry ("c") and, with a liquid
        electrolyte, its Li+ concentration ("ce"), as PETSc index sets."""
        from petsc4py import PETSc

        start = self.A.getOwnershipRange()[0]
        names = {"potential": "phi", "stoichiometry": "c", "concentration": "ce"}
        out = []
        for kind, name in names.items():
            idx = [np.arange(self._first[k], self._first[k + 1]) for k, kk in enumerate(self.kinds) if kk == kind]
            if idx:
                rows = np.asarray(start + np.concatenate(idx), PETSc.IntType)
                out.append((name, PETSc.IS().createGeneral(rows, comm=self.comm)))
        return out

    # --- iterates ------------------------------------------------------------------------------
    def state(self) -> list[np.ndarray]:
        """A copy of the iterate (local arrays of the unknowns)."""
        return [u.x.array.copy() for u in self.model.unknowns]

    def moves(self, du) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
        """Of a Newton update `du` (a block vector): its parts per field (owned + ghost) and, per
        kind of unknown, (largest move over all ranks, largest allowed move); the surface layers
        take their share of the update (back-substitution)."""
        from mpi4py import MPI
        from petsc4py import PETSc

        m = self.model
        du.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        parts = self._cpp.la.petsc.get_local_vectors(du, self.maps)
        size = dict.fromkeys(MAX_MOVE, 0.0)
        for k, kind in enumerate(self.kinds):
            d = parts[k][:self.sizes[k]]
            if kind == "concentration":  # relative moves
                d = d / np.maximum(m.unknowns[k].x.array[:self.sizes[k]], 1e-300)
            size[kind] = max(size[kind], float(np.abs(d).max(initial=0.0)))
        if m.layer:
            m.layer.update(*[parts[k][idx] for k, idx in m.pair_fields])
            size["stoichiometry"] = max(size["stoichiometry"], float(np.abs(m.layer.dy).max(initial=0.0)))
        local = np.array([size[k] for k in MAX_MOVE])
        sizes = np.empty_like(local)
        self.comm.Allreduce(local, sizes, op=MPI.MAX)
        return parts, list(zip(sizes.tolist(), MAX_MOVE.values()))

    def move(self, parts: list[np.ndarray], lam: float, base: list[np.ndarray] | None = None) -> None:
        """u ← base − λ du, each node's x move from base limited near 0 and 1, the surface
        layers moving with it; without `base`, the final update of a converged iteration
        (below the tolerance: no limit needed)."""
        m = self.model
        for k, (u, du) in enumerate(zip(m.unknowns, parts)):
            if base is None:
                u.x.array[:] -= lam * du
            else:
                u.x.array[:] = base[k] - lam * du
        if base is not None:
            s = self.kinds.index("stoichiometry")
            m.s.x.array[:] = limit_stoichiometry_step(base[s], m.s.x.array)
        if m.layer:
            m.layer.step(lam)

    # --- linearisation -------------------------------------------------------------------------
    def linearisation(self):
        """(K, M, r) about the current state: the Jacobian of the steady part, of the time
        derivative (backward Euler with Δt gives K + M/Δt) and the residual's change per A/m² of
        applied current, with a liquid electrolyte all three × L (`_salt_rows`). Leaves the
        controls at Δt = 1 s, 1 A/m²."""
        from petsc4py import PETSc

        m = self.model
        jac = {}
        for dt in (1.0, 0.5):
            m.set_controls(dt, 0.0)
            self.jacobian()
            jac[dt] = self.A.copy()
        rest = self.b.copy()
        m.set_controls(1.0, 1.0)
        self.jacobian()
        r = self.b.copy()
        r.axpy(-1.0, rest)
        M = jac[0.5].copy()
        M.axpy(-1.0, jac[1.0], PETSc.Mat.Structure.SAME_NONZERO_PATTERN)  # (K + 2M) − (K + M)
        K = jac[1.0].copy()
        K.axpy(-1.0, M, PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        if self._L is not None:  # Li+ rows recombined as for the Newton system: the same solution
            L = self._salt_rows_now()
            K, M, Lr = L.matMult(K), L.matMult(M), r.duplicate()
            L.mult(r, Lr)
            r = Lr
        return K, M, r

    def owned_parts(self, vec) -> list[np.ndarray]:
        """Local arrays per field of a block vector (owned + ghost values, ghosts as last updated)."""
        return self._cpp.la.petsc.get_local_vectors(vec, self.maps)
