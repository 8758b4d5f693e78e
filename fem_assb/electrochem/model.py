"""The coupled model (SI units; unknowns φ_e [V] on the SE, φ_s [V] and x = c/c_max on the CAM).

    SE:   ∫ κ ∇φ_e·∇v dx − Σ_Γ w i v − ∫_anode i_a v ds = 0
    CAM:  ∫ σ(x) ∇φ_s·∇v dx + Σ_Γ w i v + ∫_CC i_cc v ds = 0
    Li:   F [∫ c_max (x − x_n)/Δt w dx + ∫ c_max D(x) ∇x·∇w dx] + Σ_Γ w i_BV w_i = 0

Σ_Γ is the nodal (vertex-rule) interface sum over node pairs with weights w (domains.py).
i = i_BV (+ C_DL ∂(φ_s − φ_e)/∂t with the double layer) is the current from CAM into SE:
i_BV = i0 [exp(αFη/RT) − exp(−(1−α)Fη/RT)], η = φ_s − φ_e − U(x), i0 = i00 c_e^α c^α (c_max − c)^(1−α),
so discharge (i_cc > 0) gives i_BV < 0 and lithiates the CAM. Li-metal anode: i_a = i0_a
[exp(α_a F η_a/RT) − exp(−(1−α_a)F η_a/RT)], η_a = −φ_e. The applied current density I (per
geometric area) leaves through the current collector (collector.py): into an equipotential
foil (default), or as i_cc = I A / A_C on every CAM facet there (`uniform`).
The Li balance is multiplied by F so all equations balance currents (A) and the monolithic
Jacobian is evenly scaled. Backward Euler; with test functions 1 the equations give
∫ I dt = F ΔLi exactly (Li mass lumped with the same vertex rule).

With `surface_layer` > 0 (the scenario default) each interface pair carries a sub-grid 1D
diffusion layer (surface_layer.py): i_BV then sees the layer's surface stoichiometry, not the
node's, so Li penetration depths far below the mesh size (√(D t) ≈ 0.1–1 µm for seed 001) are
resolved; with fast diffusion the layer is flat and the model is the plain one.

The concentration factors of i0 are smoothed near x = 0 and 1 (kinetics.py), and Newton iterates
and the step predictor limit each node's move there (`limit_stoichiometry_step`).
"""
from __future__ import annotations

import numpy as np

from fem_assb.electrochem.domains import Domains, vertex_to_dof
from fem_assb.electrochem.kinetics import limit_stoichiometry_step, sigmoid, softplus
from fem_assb.materials.functions import UFL
from fem_assb.materials.types import MaterialSet
from fem_assb.units import F, R

class ElectrochemModel:
    def __init__(self, doms: Domains, mats: MaterialSet, double_layer: bool = False, surface_layer: int = 0,
                 collector: str = "equipotential", contact_ohm_m2: float = 1e-8):
        import dolfinx.fem
        import ufl
        from petsc4py import PETSc

        self.doms, self.mats = doms, mats
        cam, el, an = mats.cam, mats.electrolyte, mats.anode
        if el.c_e is None:
            from fem_assb.errors import InputError

            raise InputError(f"electrolyte {el.name} has no Li concentration c_e: it cannot be used for "
                             "Butler–Volmer kinetics (choose a material set)")
        self.V_e = dolfinx.fem.functionspace(doms.se_mesh, ("Lagrange", 1))
        self.V_s = dolfinx.fem.functionspace(doms.cam_mesh, ("Lagrange", 1))
        self.V_c = dolfinx.fem.functionspace(doms.cam_mesh, ("Lagrange", 1))
        self.phi_e = dolfinx.fem.Function(self.V_e, name="phi_e")
        self.phi_s = dolfinx.fem.Function(self.V_s, name="phi_s")
        self.s = dolfinx.fem.Function(self.V_c, name="x_Li_mesh")
        self.phi_e_n = dolfinx.fem.Function(self.V_e)
        self.phi_s_n = dolfinx.fem.Function(self.V_s)
        self.s_n = dolfinx.fem.Function(self.V_c)
        from fem_assb.electrochem.collector import Collector

        self.collector = Collector(doms, self.phi_s, collector, contact_ohm_m2)
        cc = self.collector
        self.liquid = mats.liquid
        if self.liquid and surface_layer:
            from fem_assb.errors import InputError

            raise InputError(f"[model] surface_layer = {surface_layer}: the sub-grid surface layers are not built for "
                             "a liquid electrolyte yet; accepted surface_layer = 0")
        self.c_e = self.c_e_n = None
        if self.liquid:
            self.V_ce = dolfinx.fem.functionspace(doms.se_mesh, ("Lagrange", 1))
            self.c_e = dolfinx.fem.Function(self.V_ce, name="c_e")
            self.c_e_n = dolfinx.fem.Function(self.V_ce)
        #: the unknowns (φ_cc for the equipotential collector, then c_e for a liquid electrolyte) and
        #: their previous time level; `kinds` tells the cell system how to damp and measure each
        extra = [(u, u_n, k) for u, u_n, k in ((cc.phi, cc.phi_n, "potential"), (self.c_e, self.c_e_n, "concentration"))
                 if u is not None]
        self.unknowns = [self.phi_e, self.phi_s, self.s] + [e[0] for e in extra]
        self.previous = [self.phi_e_n, self.phi_s_n, self.s_n] + [e[1] for e in extra]
        self.kinds = ["potential", "potential", "stoichiometry"] + [e[2] for e in extra]
        self.double_layer = double_layer
        self.dt = 1.0
        self.i_app = 0.0  # A/m² per geometric area, > 0 on discharge
        self.hold_V = None  # V: the cell voltage held instead of a current (collector.py)
        self._dt_e = dolfinx.fem.Constant(doms.se_mesh, PETSc.ScalarType(1.0))
        self._dt_c = dolfinx.fem.Constant(doms.cam_mesh, PETSc.ScalarType(1.0))
        self._i_cc = dolfinx.fem.Constant(doms.cam_mesh, PETSc.ScalarType(0.0))
        self._dl = 1.0 if double_layer else 0.0

        self.f = F / (R * mats.temperature)
        f = self.f
        eta_a = -self.phi_e
        i_an_far = an.i0 * (ufl.exp(an.alpha * f * eta_a) - ufl.exp(-(1 - an.alpha) * f * eta_a))
        i_an = i_an_far + self._dl * an.c_dl * (-(self.phi_e - self.phi_e_n)) / self._dt_e
        v_e, v_s, w = ufl.TestFunction(self.V_e), ufl.TestFunction(self.V_s), ufl.TestFunction(self.V_c)
        d = doms
        c_max = cam.c_max
        if self.liquid:
            self.porosity, self.efficiency = self._electrolyte_media()
            c_e = self.c_e
            kappa = el.kappa(c_e, UFL)
            t_plus = el.transference(c_e, UFL)
            # diffusional conductivity: i_e = −B κ ∇φ_e + B κ_D ∇ln c_e (concentrated solution theory)
            kappa_d = 2.0 / f * kappa * (1.0 - t_plus) * el.thermodynamic_factor(c_e, UFL)
            B, eps = self.efficiency, self.porosity
            i_e = -B * kappa * ufl.grad(self.phi_e) + B * kappa_d / c_e * ufl.grad(c_e)
            r_e = -ufl.inner(i_e, ufl.grad(v_e)) * d.dx_se - i_an * v_e * d.ds_anode
            w_e = ufl.TestFunction(self.V_ce)
            # Li+ balance × F: storage, diffusion and migration (N = −B D ∇c + t+ i_e/F); Li+ enters at the
            # anode (faradaic current) and leaves at the CAM interface (the pairs' −i_BV rows)
            r_ce = (F * eps * (c_e - self.c_e_n) / self._dt_e * w_e * d.dx_se_lumped
                    + ufl.inner(F * B * el.diffusivity(c_e, UFL) * ufl.grad(c_e) - t_plus * i_e, ufl.grad(w_e)) * d.dx_se
                    - i_an_far * w_e * d.ds_anode)
            self._salt = dolfinx.fem.form(eps * c_e * d.dx_se_lumped)
            self._i_anode_far = dolfinx.fem.form(i_an_far * d.ds_anode)
        else:
            i_e = -el.kappa * ufl.grad(self.phi_e)
            r_e = -ufl.inner(i_e, ufl.grad(v_e)) * d.dx_se - i_an * v_e * d.ds_anode
        self.i_e = i_e  # ionic current density (A/m², UFL) for the outputs
        residuals = [
            r_e,
            cam.sigma(self.s, UFL) * ufl.inner(ufl.grad(self.phi_s), ufl.grad(v_s)) * d.dx_cam
            + self._i_cc * v_s * d.ds_cc,
            F * c_max * (self.s - self.s_n) / self._dt_c * w * d.dx_cam_lumped
            + F * c_max * cam.diffusivity(self.s, UFL) * ufl.inner(ufl.grad(self.s), ufl.grad(w)) * d.dx_cam,
        ]
        if cc.forms:  # φ_cc: a placeholder row and diagonal; Newton adds the star (collector.py)
            residuals.append(cc.forms[0])
        if self.liquid:
            residuals.append(r_ce)
        k_cc = self.unknowns.index(cc.phi) if cc.forms else -1  # its row and column: only the placeholder
        jac = [[(cc.forms[1] if i == j else None) if k_cc in (i, j) else _derivative(Fi, u)
                for j, u in enumerate(self.unknowns)] for i, Fi in enumerate(residuals)]
        self.F_form = dolfinx.fem.form(residuals)
        self.J_form = dolfinx.fem.form(jac)
        self._li = dolfinx.fem.form(c_max * self.s * d.dx_cam_lumped)
        self._i_anode = dolfinx.fem.form(i_an * d.ds_anode)
        self._phi_anode = dolfinx.fem.form(self.phi_e * d.ds_anode)

        # interface node pairs → local dofs of each field
        self.pair_e = vertex_to_dof(self.V_e)[d.pair_se_vertex]
        self.pair_s = vertex_to_dof(self.V_s)[d.pair_cam_vertex]
        self.pair_c = vertex_to_dof(self.V_c)[d.pair_cam_vertex]
        self.pair_w = d.pair_weight
        #: (index among the unknowns, local dofs) of the fields each pair couples, in the order of the
        #: pair rows and block columns: φ_e, φ_s, x, and c_e with a liquid electrolyte
        self.pair_fields = [(0, self.pair_e), (1, self.pair_s), (2, self.pair_c)]
        if self.liquid:
            self.pair_ce = vertex_to_dof(self.V_ce)[d.pair_se_vertex]
            self.pair_fields.append((self.unknowns.index(self.c_e), self.pair_ce))
        # i0 = i00 c_e^α c_max softplus(x)^α softplus(1 − x)^(1−α); c_e^α per pair if it varies
        self.i00_ce = cam.i00 * c_max * (1.0 if self.liquid else el.c_e ** cam.alpha)
        self.layer = None
        if surface_layer:
            from fem_assb.electrochem.surface_layer import SurfaceLayer

            self._node_volume = self._lumped(ufl.TestFunction(self.V_c))
            Q = dolfinx.fem.functionspace(doms.cam_mesh, ("DG", 0))
            h = dolfinx.fem.Function(Q)  # cell size: cube root of the cell volume
            dolfinx.fem.assemble_vector(h.x.array, dolfinx.fem.form(ufl.TestFunction(Q) * doms.dx_cam))
            h.x.array[:] = np.cbrt(h.x.array)
            size = self._lumped(h * ufl.TestFunction(self.V_c))
            area = self._pair_sum(self.pair_w)
            pv = self._node_volume[self.pair_c]
            self.layer = SurfaceLayer(pv, area[self.pair_c], size[self.pair_c] / pv, surface_layer, F * c_max,
                                      cam.diffusivity, cam.x0)

    def _electrolyte_media(self):
        """Porosity ε and transport efficiency B = κ_eff/κ = D_eff/D of each electrolyte cell (DG0 on
        the SE submesh): bulk liquid in resolved pores (1, 1), the homogenised CBD and separator of the
        material set (seed 001: ε 0.5, B 0.12 and 0.5)."""
        import dolfinx.fem

        from fem_assb.phases import Phase

        m = self.mats
        media = {Phase.SE: (1.0, 1.0), Phase.SE_PASSIVE: (1.0, 1.0),
                 Phase.CBD: (m.cbd_porosity, m.cbd_kappa_ratio),
                 Phase.SEPARATOR: (m.separator_porosity, m.separator_kappa_ratio)}
        d = self.doms
        tags = d.tm.cell_tags
        n_parent = d.tm.mesh.topology.index_map(3).size_local + d.tm.mesh.topology.index_map(3).num_ghosts
        phase = np.zeros(n_parent, np.int32)
        phase[tags.indices] = tags.values
        Q = dolfinx.fem.functionspace(d.se_mesh, ("DG", 0))
        out = []
        for k in (0, 1):
            table = np.zeros(int(max(Phase)) + 1)
            for p, v in media.items():
                if v[k] is None:
                    from fem_assb.errors import InputError

                    raise InputError(f"material set {m.name}: a liquid electrolyte needs the CBD porosity and κ ratio")
                table[int(p)] = v[k]
            f = dolfinx.fem.Function(Q)
            n_se = d.se_to_parent.size
            f.x.array[Q.dofmap.list[np.arange(n_se), 0]] = table[phase[d.se_to_parent]]
            out.append(f)
        return out

    def _lumped(self, integrand) -> np.ndarray:
        """Per CAM dof (owned and ghost), summed over all ranks: the vertex-rule integral of
        `integrand` (linear in the CAM test function)."""
        import dolfinx.fem
        import dolfinx.la

        f = dolfinx.fem.Function(self.V_c)
        dolfinx.fem.assemble_vector(f.x.array, dolfinx.fem.form(integrand * self.doms.dx_cam_lumped))
        f.x.scatter_reverse(dolfinx.la.InsertMode.add)
        f.x.scatter_forward()
        return f.x.array

    def _pair_sum(self, values: np.ndarray) -> np.ndarray:
        """Per CAM dof (owned and ghost): the sum of per-pair values over all pairs of all ranks."""
        import dolfinx.fem
        import dolfinx.la

        f = dolfinx.fem.Function(self.V_c)
        np.add.at(f.x.array, self.pair_c, values)
        f.x.scatter_reverse(dolfinx.la.InsertMode.add)
        f.x.scatter_forward()
        return f.x.array

    def _layer_excess(self) -> np.ndarray:
        """Per pair, m³ of stoichiometry × volume: the Li (/ c_max) the layers hold beyond what the
        node's lumped volume at its mesh value counts."""
        return self.pair_w * (self.layer.content() - self.layer.depth * self.s.x.array[self.pair_c])

    # --- controls -------------------------------------------------------------------------------
    def set_controls(self, dt: float, i_app: float, hold_V: float | None = None) -> None:
        """Time step Δt (s) and either the applied current density i_app (A/m², > 0 on
        discharge) or, with the equipotential collector, a held cell voltage hold_V (V)."""
        self.dt, self.i_app, self.hold_V = dt, i_app, hold_V
        self._dt_e.value = dt
        self._dt_c.value = dt
        self._i_cc.value = self.collector.boundary_current_density(i_app)

    # --- nodal interface kinetics ------------------------------------------------------------------
    def interface(self, jacobian: bool = True):
        """Nodal interface currents at the pairs: (i_int, i_bv) and, if asked, the derivatives
        (∂i/∂φ_s = −∂i/∂φ_e = g, ∂i_bv/∂x) used by the Jacobian."""
        cam = self.mats.cam
        a, f = cam.alpha, self.f
        x = self.surface_stoichiometry()
        spx, spy = softplus(x), softplus(1.0 - x)
        i0 = self.i00_ce * spx ** a * spy ** (1 - a)
        if self.liquid:
            ce = self.c_e.x.array[self.pair_ce]
            i0 = i0 * np.maximum(ce, 1e-300) ** a
        U = cam.ocv(x)
        delta = self.phi_s.x.array[self.pair_s] - self.phi_e.x.array[self.pair_e]
        eta = delta - U
        ea, ec = np.exp(a * f * eta), np.exp(-(1 - a) * f * eta)
        i_bv = i0 * (ea - ec)
        c_dl = self._dl * cam.c_dl / self.dt
        delta_n = self.phi_s_n.x.array[self.pair_s] - self.phi_e_n.x.array[self.pair_e]
        i_int = i_bv + c_dl * (delta - delta_n)
        if not jacobian:
            return i_int, i_bv
        g = i0 * f * (a * ea + (1 - a) * ec)
        tiny = 1e-300  # trial iterates far outside [0, 1] underflow the softplus
        di0 = i0 * (a * sigmoid(x) / np.maximum(spx, tiny) - (1 - a) * sigmoid(1.0 - x) / np.maximum(spy, tiny))
        h = 1e-7
        dU = (cam.ocv(x + h) - cam.ocv(x - h)) / (2 * h)
        dibv_dx = di0 * (ea - ec) - g * dU
        if self.liquid:  # i0 ∝ c_e^α: ∂i_bv/∂c_e = α i_bv / c_e
            return i_int, i_bv, g, g + c_dl, dibv_dx, a * i_bv / np.maximum(ce, 1e-300)
        return i_int, i_bv, g, g + c_dl, dibv_dx

    def surface_stoichiometry(self) -> np.ndarray:
        """x_Li at the interface pairs' CAM surface: the outer layer cell, or the node."""
        return self.layer.surface if self.layer else self.s.x.array[self.pair_c]

    def pair_residual(self):
        """Per-area interface rows of each pair (P, k; A/m²) for the equations of `pair_fields` — φ_e,
        φ_s, x and, with a liquid electrolyte, c_e (Li+ leaves with the faradaic current) — and the
        sum of squares of this rank's layer residuals × w (0 without layers)."""
        i_int, i_bv = self.interface(jacobian=False)
        if self.liquid:
            return np.stack([-i_int, i_int, i_bv, -i_bv], axis=1), 0.0
        if not self.layer:
            return np.stack([-i_int, i_int, i_bv], axis=1), 0.0
        r, r_x = self.layer.residual(self.s.x.array[self.pair_c], self.s_n.x.array[self.pair_c], self.dt, i_bv)
        return np.stack([-i_int, i_int, r_x], axis=1), float(np.sum((self.pair_w[:, None] * r) ** 2))

    def pair_jacobian(self):
        """Per-area k × k Jacobian blocks of the pairs (P, k², rows × columns in the order of
        `pair_fields`, row-major) and the corrections (P, k) that turn the residual rows into those
        of the condensed system (None without layers)."""
        if self.liquid:  # rows and columns φ_e, φ_s, x, c_e
            _, i_bv, g, g_dl, dibv, dce = self.interface()
            blocks = np.stack([g_dl, -g_dl, -dibv, -dce, -g_dl, g_dl, dibv, dce, -g, g, dibv, dce,
                               g, -g, -dibv, -dce], axis=1)
            return blocks, None
        _, i_bv, g, g_dl, dibv = self.interface()
        if self.layer:
            x = self.s.x.array[self.pair_c]
            return self.layer.condense(x, self.s_n.x.array[self.pair_c], self.dt, i_bv, g, g_dl, dibv)
        blocks = np.stack([g_dl, -g_dl, -dibv, -g_dl, g_dl, dibv, -g, g, dibv], axis=1)
        return blocks, None

    # --- state ---------------------------------------------------------------------------------
    def set_equilibrium(self, x0: float) -> None:
        """Uniform stoichiometry x0 at rest: φ_e = 0 (the anode's potential), φ_s = U(x0)."""
        self.s.x.array[:] = x0
        self.phi_e.x.array[:] = 0.0
        if self.liquid:
            self.c_e.x.array[:] = self.mats.electrolyte.c_e
        self.phi_s.x.array[:] = float(self.mats.cam.ocv(x0))
        if self.collector.phi is not None:
            self.collector.phi.x.array[:] = float(self.mats.cam.ocv(x0))
        if self.layer:
            self.layer.y[:] = x0
        self.commit()

    def commit(self, dt: float | None = None) -> None:
        """Accept the current state as the previous time level (remembering the rate of change
        over `dt` for the next step's predictor)."""
        pairs = list(zip(self.unknowns, self.previous))
        self._rate = [(new.x.array - old.x.array) / dt for new, old in pairs] if dt else None
        for new, old in pairs:
            old.x.array[:] = new.x.array
        if self.layer:
            self._layer_rate = (self.layer.y - self.layer.y_n) / dt if dt else None
            self.layer.commit()

    def predict(self, dt: float) -> None:
        """Initial guess of the next step: linear extrapolation of the last step's change (the
        current is the same; a changed current resets the rate). Saves Newton iterations."""
        if getattr(self, "_rate", None) is None:
            return
        for u, rate in zip(self.unknowns, self._rate):
            u.x.array[:] += dt * rate
        self.s.x.array[:] = limit_stoichiometry_step(self.s_n.x.array, self.s.x.array)
        if self.liquid:  # an extrapolated electrolyte must not run out of Li+
            self.c_e.x.array[:] = np.maximum(self.c_e.x.array, 0.5 * self.c_e_n.x.array)
        if self.layer and self._layer_rate is not None:
            self.layer.y[:] = limit_stoichiometry_step(self.layer.y, self.layer.y + dt * self._layer_rate)

    def forget_rate(self) -> None:
        self._rate = None

    def predictor_rates(self) -> list[np.ndarray] | None:
        """The step predictor's rates (per unknown, then the layers'), or None: checkpointed, so that
        a resumed run predicts, and so steps, as the uninterrupted one."""
        if getattr(self, "_rate", None) is None:
            return None
        return list(self._rate) + ([self._layer_rate] if self.layer else [])

    def set_predictor_rates(self, rates: list[np.ndarray] | None) -> None:
        self._rate = None if rates is None else rates[:len(self.unknowns)]
        if self.layer:
            self._layer_rate = None if rates is None else rates[len(self.unknowns)]

    def restore(self) -> None:
        """Return to the previous time level (after a rejected step)."""
        for new, old in zip(self.unknowns, self.previous):
            new.x.array[:] = old.x.array
        if self.layer:
            self.layer.restore()

    # --- functionals (summed over ranks) ---------------------------------------------------------
    def integral(self, form) -> float:
        import dolfinx.fem

        return self.doms.comm.allreduce(dolfinx.fem.assemble_scalar(form))

    def voltage(self) -> float:
        """Cell voltage: the collector potential (collector.py) minus φ_anode (= 0)."""
        return self.collector.potential()

    def anode_face_potential(self) -> float:
        """Area-mean φ_e on the SE face at the anode (x = 0), V against Li: where a reference
        electrode at the anode|SE interface would split the cell voltage into its electrodes."""
        return self.integral(self._phi_anode) / self.doms.area_anode

    def lithium(self) -> float:
        """Li in the CAM, mol (vertex-rule integral, as in the Li balance; interface nodes with
        surface layers hold the layers' Li instead of their lumped volume's)."""
        li = self.integral(self._li)
        if self.layer:
            li += self.doms.comm.allreduce(float(np.sum(self._layer_excess()))) * self.mats.cam.c_max
        return li

    def node_stoichiometry(self) -> np.ndarray:
        """x_Li per CAM dof (owned and ghost) as the Li content of the node's volume: at interface
        nodes with surface layers the layers' mean, elsewhere the mesh value."""
        x = self.s.x.array
        if not self.layer:
            return x.copy()
        return x + self._pair_sum(self._layer_excess()) / np.where(self._node_volume > 0, self._node_volume, 1.0)

    def surface_field(self) -> np.ndarray:
        """x_Li per CAM dof with the surface stoichiometry at interface nodes (what the
        Butler–Volmer kinetics see; the layer's outer cell), the mesh value elsewhere."""
        x = self.s.x.array.copy()
        x[self.pair_c] = self.surface_stoichiometry()
        return x

    def interface_current(self) -> float:
        """Total faradaic current from CAM into SE, A."""
        _, i_bv = self.interface(jacobian=False)
        return self.doms.comm.allreduce(float(np.sum(self.pair_w * i_bv)))

    def anode_current(self) -> float:
        return self.integral(self._i_anode)

    def salt(self) -> float:
        """Li+ in the electrolyte, mol (ε c_e with the vertex rule, as in its balance); 0 for a solid one."""
        return self.integral(self._salt) if self.liquid else 0.0

    def salt_source(self) -> float:
        """Net Li+ current into the electrolyte, A: faradaic at the anode minus at the CAM interface."""
        if not self.liquid:
            return 0.0
        _, i_bv = self.interface(jacobian=False)
        return self.integral(self._i_anode_far) + self.doms.comm.allreduce(float(np.sum(self.pair_w * i_bv)))

    def electrolyte_range(self) -> tuple[float, float]:
        """Smallest and largest c_e (mol/m³) over the electrolyte; (c_e, c_e) for a solid one."""
        from mpi4py import MPI

        if not self.liquid:
            return self.mats.electrolyte.c_e, self.mats.electrolyte.c_e
        a = self.c_e.x.array[:self.V_ce.dofmap.index_map.size_local]
        comm = self.doms.comm
        return (comm.allreduce(float(a.min(initial=np.inf)), op=MPI.MIN),
                comm.allreduce(float(a.max(initial=-np.inf)), op=MPI.MAX))

    def stoichiometry_range(self) -> tuple[float, float]:
        from mpi4py import MPI

        n = self.V_c.dofmap.index_map.size_local
        a = self.s.x.array[:n]
        comm = self.doms.comm
        if self.layer and self.layer.y.size:
            a = np.concatenate([a, self.layer.y.ravel()])
        lo = comm.allreduce(float(a.min()) if a.size else np.inf, op=MPI.MIN)
        hi = comm.allreduce(float(a.max()) if a.size else -np.inf, op=MPI.MAX)
        return lo, hi


def _derivative(form, u):
    import ufl
    from ufl.algorithms import expand_derivatives

    d = ufl.derivative(form, u)
    return None if expand_derivatives(d).empty() else d
