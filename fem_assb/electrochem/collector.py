"""The current collector at x = L: how the applied current I (A/m² of geometric area A) enters
the CAM that touches it.

- equipotential (the default): the metal foil is one conductor (aluminium ≈ 3.5e5 S/cm, 10^7 ×
  any CAM), so all CAM on it sits at one collector potential V — up to a contact resistance R_c
  — and only the total current I·A is prescribed. Current gathers where the CAM network conducts
  best; with few contacts it focuses on a few bottlenecks (seed 002 §4.4.1), and a CAM fragment
  on the collector takes only what its own kinetics draw. The cell voltage is V − φ_anode.
- uniform: the same current density I·A/A_C on every CAM facet on the collector and the voltage
  as the area mean of φ_s there — SPEC §3 read literally, and this code's only condition before
  2026-12. A fragment detached from the particle network must take its contact's share of the
  current even when full, which is why voxel meshes then drop such fragments
  (`mesh.collector_fragment_share`).

Equipotential, algebraically: the collector potential φ_cc is an unknown of its own (one DG0
dof on a one-cell mesh, so it joins the DOLFINx block system as a fourth field), joined to every
CAM node k on the collector by the contact conductance G_k = w_k / R_c (w_k the node's share of
the contact area, vertex rule); the applied current leaves the cell through it:

    row k:     + G_k (φ_k − φ_cc)                      (current from node k into the foil, A)
    row φ_cc:  + Σ_k G_k (φ_cc − φ_k) + I·A        (galvanostatic)
               G_total (φ_cc − V)                 (voltage hold: the current I·A = Σ_k G_k (φ_k − φ_cc) follows)

A star of conductances: symmetric and inside the potential block the AMG already treats
(Newton preallocates its entries; the φ_cc row couples to all collector nodes). With the default
R_c = 1e-4 Ω cm² the contact drop at 10 mA/cm² is 1 µV and w/R_c is ≈ 50 × the conductance σ h
of a 2 µm CAM cell at σ = 2e-2 S/cm: a perfect contact. Larger values model a real one.
"""
from __future__ import annotations

import numpy as np

KINDS = ("equipotential", "uniform")


class Collector:
    def __init__(self, doms, phi_s, kind: str, contact_ohm_m2: float):
        import dolfinx.fem
        import dolfinx.la
        import dolfinx.mesh
        import ufl
        from mpi4py import MPI

        if kind not in KINDS:
            raise ValueError(f"collector kind {kind!r}: accepted {', '.join(KINDS)}")
        self.kind, self.comm = kind, doms.comm
        self.area, self.area_cc = doms.area_geometric, doms.area_cc
        self.phi_s = phi_s
        V_s = phi_s.function_space
        self._phi_cc_mean = dolfinx.fem.form(phi_s * doms.ds_cc)
        w = dolfinx.fem.Function(V_s)
        dolfinx.fem.assemble_vector(w.x.array, dolfinx.fem.form(ufl.TestFunction(V_s) * doms.ds_cc))
        w.x.scatter_reverse(dolfinx.la.InsertMode.add)
        n_own = V_s.dofmap.index_map.size_local
        #: owned CAM dofs on the collector, their contact areas (m²) and conductances (S)
        self.dofs = np.flatnonzero(w.x.array[:n_own] > 0).astype(np.int32)
        self.w = w.x.array[self.dofs].copy()
        self.G = self.w / contact_ohm_m2
        self.G_total = self.comm.allreduce(float(self.G.sum()))
        self.phi = self.phi_n = None
        self.forms = None
        if kind == "uniform":
            return
        one = dolfinx.mesh.create_box(self.comm, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [1, 1, 1],
                                      dolfinx.mesh.CellType.hexahedron)
        Q = dolfinx.fem.functionspace(one, ("DG", 0))
        self.phi = dolfinx.fem.Function(Q, name="phi_cc")
        self.phi_n = dolfinx.fem.Function(Q)
        self.owner = self.comm.allreduce(self.comm.rank if Q.dofmap.index_map.size_local else -1, op=MPI.MAX)
        zero = dolfinx.fem.Constant(one, 0.0)
        dx = ufl.Measure("dx", domain=one)
        v, u = ufl.TestFunction(Q), ufl.TrialFunction(Q)
        #: (residual, diagonal Jacobian) forms that give φ_cc its place in the block system; both
        #: are zero, the star's rows and entries are added by Newton
        self.forms = (zero * v * dx, zero * u * v * dx)

    @property
    def owns_phi(self) -> bool:
        return self.comm.rank == self.owner

    def boundary_current_density(self, i_app: float) -> float:
        """Current density (A/m²) of the ds term on the collector facets: I·A/A_C for the
        uniform condition, 0 for the equipotential one (its current leaves through φ_cc)."""
        return i_app * self.area / self.area_cc if self.kind == "uniform" else 0.0

    def potential(self) -> float:
        """Collector potential φ_cc (V): the unknown, or the area mean of φ_s (uniform kind)."""
        import dolfinx.fem

        if self.kind == "equipotential":
            return self.comm.bcast(float(self.phi.x.array[0]) if self.owns_phi else None, root=self.owner)
        return self.comm.allreduce(dolfinx.fem.assemble_scalar(self._phi_cc_mean)) / self.area_cc

    def star_rows(self, i_app: float, hold_V: float | None = None) -> tuple[np.ndarray, float]:
        """Equipotential residual rows (A): the owned collector nodes' (order of `dofs`) and the
        φ_cc row's (summed over ranks; added by its owner). Under a voltage hold the φ_cc row
        fixes the potential instead, G_total (φ_cc − V), and the current follows."""
        flow = self.G * (self.phi_s.x.array[self.dofs] - self.potential())
        if hold_V is not None:
            return flow, self.G_total * (self.potential() - hold_V)
        return flow, i_app * self.area - self.comm.allreduce(float(flow.sum()))

    def current(self) -> float:
        """The current through the foil, A/m² of geometric area (> 0 on discharge)."""
        flow = self.G * (self.phi_s.x.array[self.dofs] - self.potential())
        return self.comm.allreduce(float(flow.sum())) / self.area

    def current_density(self, i_app: float) -> np.ndarray:
        """Current density from the CAM into the collector at the owned collector dofs (A/m² of
        contact, order of `dofs`): what seed 002 Fig. 9 maps on the collector face."""
        if self.kind == "uniform":
            return np.full(self.dofs.size, self.boundary_current_density(i_app))
        return self.star_rows(i_app)[0] / self.w

    def summary(self, i_app: float, contact_ohm_cm2: float) -> dict:
        """What summary.json reports: the kind, R_c and, under current, how strongly the current
        focuses on the collector (largest node current density over the mean I·A/A_C)."""
        from mpi4py import MPI

        out = {"kind": self.kind, "contact_resistance_ohm_cm2": contact_ohm_cm2 if self.kind == "equipotential"
               else None, "current_density_max_over_mean": None}
        if i_app:
            i = self.current_density(i_app)
            top = self.comm.allreduce(float(np.abs(i).max(initial=0.0)), op=MPI.MAX)
            out["current_density_max_over_mean"] = top / abs(i_app * self.area / self.area_cc)
        return out
