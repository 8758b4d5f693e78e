"""Running a protocol (protocol.py: galvanostatic, rest and voltage-hold steps) on the coupled model: each protocol step
advances by backward-Euler time steps whose size stepping.StepControl chooses; a failed step
(Newton not converged, or a converged state with x_Li more than X_TOLERANCE outside [0, 1]) is
undone and retried, and the run stops with a one-line report when Δt would fall below
`dt_min_s`. Cut-off and snapshot voltages are located, not overshot.
"""
from __future__ import annotations

import time
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fem_assb.electrochem import checkpoint
from fem_assb.electrochem.kinetics import X_TOLERANCE
from fem_assb.electrochem.protocol import Step, from_scenario
from fem_assb.electrochem.stepping import StepControl
from fem_assb.errors import InputError, SolverError
from fem_assb.parallel import peak_memory_mb, progress_logger
from fem_assb.units import F, MAH_CM2, MA_CM2, OHM_CM2

#: a liquid electrolyte counts as depleted below this share of its initial c_e (stop at once), or
#: below STARVED when the time step cannot get past it
DEPLETED, STARVED = 1e-3, 0.05


def remaining_step_time(t_in_step: float, t_full: float, voltage: float, slope: float | None,
                        until_V: float | None) -> float:
    """Simulated seconds left in a galvanostatic step: to its full theoretical charge (t_full),
    or sooner to until_V if the voltage, moving at `slope` (V/s), reaches it first."""
    left = max(t_full - t_in_step, 0.0)
    if until_V is not None and slope:
        to_cut = (until_V - voltage) / slope
        if to_cut > 0:
            left = min(left, to_cut)
    return left


def prepare_folder(out: Path, resume: bool, comm, scenario_file: str | None = None) -> bool:
    """Get a results folder ready for a run (its lock held by the caller); False when `resume`
    finds it finished. A fresh run first removes a stale summary.json, which must not pass for
    this run's, and keeps a copy of the scenario file."""
    import shutil

    out = Path(out)
    if resume:
        if (out / "summary.json").is_file():
            return False
        if not checkpoint.exists(out):
            raise InputError(f"{out}: no checkpoint to resume from (run without --resume)")
    elif comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").unlink(missing_ok=True)
        if scenario_file and Path(scenario_file).resolve() != (out / "scenario.toml").resolve():
            shutil.copyfile(scenario_file, out / "scenario.toml")
    comm.barrier()
    return True


@dataclass
class RunState:
    """Where a run stands: what a checkpoint stores besides the fields (SI; JSON-able)."""

    protocol_step: int = 0  # index of the protocol step under way
    t: float = 0.0  # s since the start
    t_in_step: float = 0.0  # s since the start of the protocol step
    step: int = 0  # accepted time steps
    dt: float = 0.0  # the next Δt proposed, s
    charge_C: float = 0.0  # ∫ I A dt (> 0 on discharge)
    charge_abs_C: float = 0.0  # ∫ |I| A dt
    energy_J: float = 0.0  # ∫ I U A dt
    newton_its: int = 0
    linear_its: int = 0
    rejected: int = 0  # undone trial steps, and why
    rejected_by_reason: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)  # the time series, one dict per accepted step
    voltage: float = 0.0  # V after the last accepted step
    current: float = 0.0  # A/m² during it
    dV: float = 0.0  # its voltage change, V
    dI_rel: float = 0.0  # its relative current change (voltage holds)
    li0: float | None = None  # Li in the CAM at the start, mol
    salt0: float | None = None  # Li+ in a liquid electrolyte at the start, mol
    salt_source_C: float = 0.0  # charge the reactions put into a liquid electrolyte
    stop_reason: str = ""
    depleted: bool = False  # a liquid electrolyte ran out of Li+
    wall_before: float = 0.0  # wall time of the run before its last resume, s
    snapshots: dict = field(default_factory=dict)  # what was recorded at each snapshot voltage
    has_rates: bool = False  # the checkpoint holds the predictor's rates

    @classmethod
    def from_dict(cls, d: dict) -> "RunState":
        """From a checkpoint's JSON (keys of older versions that are no longer kept are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class Simulation:
    def __init__(self, sc, folder: Path | None = None, resume: bool = False, comm=None):
        """A run of scenario `sc`; with `folder` None nothing is written (no fields, checkpoints
        or tables) and the results stay in memory (`summary`, `rows`, `profile` after run())."""
        from mpi4py import MPI

        from fem_assb.electrochem.domains import build_domains
        from fem_assb.electrochem.model import ElectrochemModel
        from fem_assb.electrochem.newton import Newton
        from fem_assb.electrochem.system import CellSystem
        from fem_assb.materials.library import resolve
        from fem_assb.mesh.build import scenario_mesh
        from fem_assb.microstructure.analysis import theoretical_capacity, volume_fractions
        from fem_assb.phases import ION_CONDUCTORS, Phase

        self.comm = comm or MPI.COMM_WORLD
        self.folder = Path(folder) if folder is not None else None
        self.log = progress_logger(self.comm, self.folder.name if self.folder else sc.name)
        self.sc = sc
        self.t_wall0 = time.perf_counter()
        self.mats = resolve(sc.materials)
        if resume and self.folder is None:
            raise InputError("resume needs the results folder that holds the checkpoint")
        if self.comm.rank == 0 and self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.structure, self.tm = scenario_mesh(sc, sc.separator_um(self.mats), not self.mats.liquid, comm=self.comm)
        self.doms = build_domains(self.tm)
        self.model = ElectrochemModel(self.doms, self.mats, sc.model.double_layer, sc.model.surface_layer,
                                      sc.collector.kind, sc.collector.contact_resistance_ohm_cm2 * OHM_CM2)
        if sc.model.double_layer and self.mats.cam.c_dl == 0 and self.mats.anode.c_dl == 0:
            from fem_assb.parallel import warn

            warn(f"[model] double_layer = true does nothing here: material set {self.mats.name} has no double-layer "
                 "capacitance (CAM and anode C_DL = 0)", self.comm)
        self.newton = Newton(CellSystem(self.model), sc.solver.linear, sc.solver.newton_atol, sc.solver.newton_max_it)
        st = self.structure
        cam = self.mats.cam
        # what the mesh leaves out as inert (mesh/build.py) still counts: mass that carries no current
        inert = self.tm.info.get("inert", {})
        vol_cam = self.doms.volume_cam + inert.get("cam_volume_um3", 0.0) * 1e-18
        vol_se = self.tm.measure_volume(*[p for p in ION_CONDUCTORS if p != Phase.SEPARATOR]) \
            + inert.get("se_volume_um3", 0.0) * 1e-18
        cap_theo = (cam.c_max - cam.c0) * F * vol_cam / self.doms.area_geometric / MAH_CM2
        self.info = {
            "area_m2": self.doms.area_geometric, "volume_cam_m3": vol_cam, "volume_se_m3": vol_se,
            "separator_um": st.separator_um, "composite_um": self.tm.info["composite_um"],
            "theoretical_capacity_mAh_cm2": cap_theo,
            "theoretical_capacity_voxels_mAh_cm2": theoretical_capacity(st.labels, st.voxel_um, cam),
            "volume_fractions": volume_fractions(st.labels),
            "cc_contact_ratio": self.doms.area_cc / self.doms.area_geometric,
            "interface_area_per_area": self.doms.area_interface / self.doms.area_geometric,
            "structure_meta": st.meta, "mesh": {**self.tm.info, **self.tm.counts_cache}, "dofs": self.newton.n_dofs,
        }
        ocv0 = float(cam.ocv(cam.x0))
        from fem_assb.electrochem.outputs import masses_per_area

        rate = self.mats.c_rate_mAh_g
        self.info["one_c_mA_cm2"] = rate * masses_per_area(self.info, self.mats)["cam_g_cm2"] if rate else cap_theo
        self.steps = from_scenario(sc, self.mats, self.info["one_c_mA_cm2"], ocv0)
        self.state = RunState(dt=sc.solver.dt_initial_s, voltage=ocv0)
        if resume:
            if not checkpoint.exists(self.folder):
                raise InputError(f"{self.folder}: no checkpoint to resume from (run without --resume)")
            m = self.model
            rates = None
            if checkpoint.read_state(self.folder).get("has_rates"):  # filled in place by load
                rates = [np.zeros_like(u.x.array) for u in m.unknowns] + ([np.zeros_like(m.layer.y)] if m.layer else [])
            self.state = RunState.from_dict(checkpoint.load(self.folder, self._checkpoint_fields(rates)))
            m.commit()
            m.set_predictor_rates(rates)
            self.log(f"resuming from step {self.state.step} (t = {self.state.t / 3600:.3f} h)")
        else:
            self.model.set_equilibrium(cam.x0)
            self.state.li0 = self.model.lithium()
            self.state.salt0 = self.model.salt()
        from fem_assb.electrochem import exports

        self.exports = exports.make(sc.output.exports, self, resume) if self.folder else []
        #: in memory after run(): the summary, the time series rows, the final profile and the
        #: profiles at the snapshot voltages (profile, collector face) by voltage
        self.summary, self.rows, self.profile, self.snapshot_profiles = None, [], None, {}

    # ------------------------------------------------------------------------------------------
    def _progress(self, step: Step, last_print: dict):
        now = time.perf_counter()
        if now - last_print["wall"] < 2.0:
            return
        s = self.state
        q = s.charge_C / self.doms.area_geometric / MAH_CM2
        here = (s.protocol_step, s.t_in_step, s.voltage)
        before = last_print.get("state")
        slope = None
        if before and before[0] == here[0] and here[1] > before[1]:
            slope = (here[2] - before[2]) / (here[1] - before[1])
        last_print.update(wall=now, state=here)
        eta = ""
        if step.current and s.t_in_step > 0:
            total = self.info["theoretical_capacity_mAh_cm2"] / abs(step.current / MA_CM2) * 3600
            spent = self.state.wall_before + now - self.t_wall0
            left = remaining_step_time(s.t_in_step, total, s.voltage, slope, step.until_V)
            # the mean pace so far: the time steps shorten before a cut-off, hence "~", not "≥"
            eta = f"  ETA ~{spent / s.t_in_step * left / 60:.1f} min" if s.t_in_step > 1e-3 * total else ""
        self.log(f"step {s.step:5d}  t {s.t / 3600:7.3f} h  I {s.current / MA_CM2:6.3f} mA/cm²  "
                 f"U {s.voltage:.4f} V  Q {q:7.4f} mAh/cm²  dt {s.dt:8.2f} s  "
                 f"Newton {self._last_its}{eta}")

    def _checkpoint(self):
        self.state.wall_before = self.state.wall_before + time.perf_counter() - self.t_wall0
        self.t_wall0 = time.perf_counter()
        rates = self.model.predictor_rates()
        self.state.has_rates = rates is not None
        checkpoint.save(self.folder, self._checkpoint_fields(rates), dataclasses.asdict(self.state), self.comm)
        # a resumed run starts with a fresh preconditioner: so does the uninterrupted one, and both
        # compute the same from here on
        self.newton.refresh = True

    def _checkpoint_fields(self, rates: list | None = None) -> dict:
        """Everything a resumed run needs: the fields, the layers and (if any) the predictor's rates."""
        m = self.model
        fields = {"phi_e": m.phi_e, "phi_s": m.phi_s, "s": m.s}
        if m.liquid:
            fields["c_e"] = m.c_e
        if m.collector.phi is not None:
            fields["phi_cc"] = m.collector.phi
        keys = None
        if m.layer:
            keys = np.hstack([checkpoint.dof_keys(m.V_e)[m.pair_e], checkpoint.dof_keys(m.V_c)[m.pair_c]])
            fields["surface_layer"] = checkpoint.PointData(keys, m.layer.y)
        if rates is not None:
            for k, u in enumerate(m.unknowns):
                fields[f"rate_{k}"] = checkpoint.PointData(checkpoint.dof_keys(u.function_space), rates[k])
            if m.layer:
                fields["rate_layer"] = checkpoint.PointData(keys, rates[-1])
        return fields

    def _write_fields(self, t: float) -> None:
        """The ParaView fields at time t (with a results folder that has the fields export)."""
        for e in self.exports:
            e.fields_due(t)

    def run(self) -> dict:
        sv = self.sc.solver
        s = self.state
        self._last_its = 0
        last_print = {"wall": 0.0}
        if s.step == 0:
            self._write_fields(0.0)
        while s.protocol_step < len(self.steps):
            step = self.steps[s.protocol_step]
            ended = self._run_step(step, sv, last_print)
            self._write_fields(s.t)
            if not ended:
                if self.folder:
                    self._checkpoint()  # stopped early (max_steps): resumable with --resume
                break
            if s.depleted:
                break
            s.protocol_step += 1
            self.model.forget_rate()  # the current changes: the old rate is no predictor
            s.t_in_step = 0.0
            s.dt = sv.dt_initial_s
        for e in self.exports:
            e.close()
        return self._finish()

    def _run_step(self, step: Step, sv, last_print) -> bool:
        """Advance one protocol step; False if the run must stop (max_steps)."""
        m, s = self.model, self.state
        control = StepControl(sv, step.duration_s)
        while True:
            if s.step >= sv.max_steps:
                s.stop_reason = f"max_steps = {sv.max_steps} reached"
                return False
            dt = control.trial(s.dt, s.t_in_step)
            if dt is None:
                s.stop_reason = "duration reached"
                return True
            m.set_controls(dt, step.current, step.hold_V)
            m.predict(dt)
            res = self.newton.solve()
            lo, hi = m.stoichiometry_range()
            band = X_TOLERANCE
            if not (res.converged and lo > -band and hi < 1.0 + band):
                self._reject("newton" if not res.converged else "x_range")
                retry = control.after_failure(dt)
                if retry is None:
                    depleted = self._depletion(STARVED)  # the last accepted state: running out of Li+?
                    if depleted:
                        s.stop_reason, s.depleted = depleted, True
                        return True
                    why = res.reason if not res.converged else f"x_Li left (−{band:g}, 1 + {band:g}): [{lo:.6f}, {hi:.6f}]"
                    raise SolverError(f"time step {s.step + 1} at t = {s.t / 3600:.4f} h cannot converge "
                                      f"(U = {s.voltage:.4f} V): {why}; Δt fell below dt_min_s = "
                                      f"{sv.dt_min_s:g} s")
                s.dt = retry
                continue
            V = m.voltage()
            goal = self._next_voltage(step)
            first = s.t_in_step == 0.0
            if goal is not None:
                retry = control.locate(goal, step.falling, s.voltage, V, dt, first)
                if retry is not None:
                    self._reject("voltage_located")
                    s.dt = retry
                    continue
            before = s.voltage
            current = step.current_now(m.collector)
            self._accept(step, dt, V, res, current)
            self._snapshots(step, before, V)
            ended = step.end_reason(V, current)
            if ended:
                s.stop_reason = ended
                return True
            depleted = self._depletion(DEPLETED)
            if depleted:  # the end of this discharge, like a cut-off (and of the protocol)
                s.stop_reason, s.depleted = depleted, True
                return True
            self._progress(step, last_print)
            out_every = self.sc.output.fields_every
            if out_every and s.step % out_every == 0:
                self._write_fields(s.t)
            s.dt = control.after_accept(s.dt, dt, s.dV, self._dx, res.iterations, first, s.dI_rel)
            if sv.checkpoint_every and s.step % sv.checkpoint_every == 0 and self.folder:
                self._checkpoint()  # after the next step size is chosen: a resumed run goes on identically

    def _reject(self, reason: str) -> None:
        """Undo the trial step, counting why (newton | x_range | voltage_located)."""
        self.model.restore()
        self.state.rejected += 1
        by = self.state.rejected_by_reason
        by[reason] = by.get(reason, 0) + 1

    def _next_voltage(self, step: Step) -> float | None:
        """The next voltage to be located: the cut-off or a pending snapshot before it."""
        U = self.state.voltage
        pending = [v for v in self.sc.output.snapshot_V if f"{v:g}" not in self.state.snapshots
                   and (v < U if step.falling else v > U)
                   and (step.until_V is None or (v > step.until_V if step.falling else v < step.until_V))]
        if step.current == 0.0 or not pending:
            return step.until_V
        return max(pending) if step.falling else min(pending)

    def _snapshots(self, step: Step, before: float, V: float) -> None:
        """Fields and profile_<V>V.csv when the voltage passes a requested snapshot voltage during
        a step (e.g. seed 002 Fig. 6, lithiation at 3.75, 3.3 and 2.8 V)."""
        s = self.state
        tol = self.sc.solver.cutoff_tol_V
        for v in self.sc.output.snapshot_V:
            if f"{v:g}" in s.snapshots or step.current == 0.0:
                continue
            if (before > v >= V - tol) if step.falling else (before < v <= V + tol):
                from fem_assb.electrochem import outputs

                s.snapshots[f"{v:g}"] = {"voltage_V": V, "t_s": s.t,
                                     "capacity_mAh_cm2": s.charge_C / self.doms.area_geometric / MAH_CM2}
                prof, face = self._profile(), outputs.collector_face(self.model)
                self.snapshot_profiles[f"{v:g}"] = (prof, face)
                for e in self.exports:
                    e.snapshot(f"{v:g}", prof, face)
                self._write_fields(s.t)

    def _profile(self) -> dict:
        from fem_assb.electrochem import outputs

        bins = self.sc.output.profile_bins_um or self.structure.voxel_um * self.sc.mesh.coarsen
        return outputs.profile(self.model, bins, self.structure.separator_um, self.info["composite_um"])

    def _accept(self, step, dt, V, res, current):
        """Take the trial step of Δt as the new state; `current` (A/m²) flowed during it."""
        m, s = self.model, self.state
        x_old = m.s_n.x.array
        n = m.V_c.dofmap.index_map.size_local
        dx = float(np.abs(m.s.x.array[:n] - x_old[:n]).max(initial=0.0))
        from mpi4py import MPI

        self._dx = self.comm.allreduce(dx, op=MPI.MAX)
        s.salt_source_C = s.salt_source_C + m.salt_source() * dt  # backward Euler, as the balance
        first = s.t_in_step == 0.0  # its change includes the jump of the current
        m.commit(None if first else dt)  # a jump over Δt is no rate to extrapolate
        A = self.doms.area_geometric
        s.step += 1
        s.t += dt
        s.t_in_step += dt
        m.i_app = current  # a hold's current, for the collector outputs
        s.dI_rel = abs(current - s.current) / max(abs(current), 1e-300) if step.hold_V is not None else 0.0
        s.current = current
        s.charge_C += current * A * dt
        s.charge_abs_C += abs(current) * A * dt
        s.energy_J += current * A * dt * 0.5 * (V + s.voltage)
        s.newton_its += res.iterations
        s.linear_its += res.linear_iterations
        self._last_its = res.iterations
        s.dV = V - s.voltage
        s.voltage = V
        util = (m.lithium() - s.li0) / ((self.mats.cam.c_max - self.mats.cam.c0) * self.info["volume_cam_m3"])
        s.rows.append({
            "step": s.step, "protocol_step": s.protocol_step + 1, "kind": step.kind, "t_s": s.t,
            "current_mA_cm2": current / MA_CM2, "voltage_V": V,
            "capacity_mAh_cm2": s.charge_C / A / MAH_CM2, "energy_mWh_cm2": s.energy_J / A / MAH_CM2,
            "mean_utilization": util, "dt_s": dt, "newton_its": res.iterations,
            "linear_its": res.linear_iterations})

    def _depletion(self, limit: float) -> str | None:
        """Where and when a liquid electrolyte ran out of Li+ (c_e below `limit` × its initial value
        somewhere), or None. Depletion ends the run like a cut-off — the voltage collapses right
        after — with this as its stop reason (`fem-assb run` exits 3 with it)."""
        m = self.model
        if not m.liquid:
            return None
        lo, _ = m.electrolyte_range()
        c0 = self.mats.electrolyte.c_e
        if lo >= limit * c0:
            return None
        from mpi4py import MPI

        n = m.V_ce.dofmap.index_map.size_local
        a = m.c_e.x.array[:n]
        here = (float(a.min()), float(m.V_ce.tabulate_dof_coordinates()[int(np.argmin(a)), 0])) if n else (np.inf, 0.0)
        _, x = self.comm.allreduce(here, op=MPI.MIN)
        return (f"electrolyte depleted at t = {self.state.t / 3600:.4f} h "
                f"({self.state.charge_C / self.doms.area_geometric / MAH_CM2:.4f} mAh/cm², U = "
                f"{self.state.voltage:.4f} V): c_e fell to {lo:.3g} mol/m³ ({100 * lo / c0:.2g} % of {c0:g}) at "
                f"x = {x / 1e-6:.1f} µm from the anode")

    # ------------------------------------------------------------------------------------------
    def _finish(self) -> dict:
        from fem_assb.electrochem import outputs
        from fem_assb.io.atomic import atomic_write_json

        s, m, sc = self.state, self.model, self.sc
        A = self.doms.area_geometric
        li_gain = m.lithium() - s.li0
        charge_li = li_gain * F
        balance = abs(s.charge_C - charge_li) / max(abs(s.charge_C), 1e-300) if s.charge_C else 0.0
        prof, face = self._profile(), outputs.collector_face(m)
        mass = outputs.masses_per_area(self.info, self.mats)
        cap = s.charge_C / A / MAH_CM2
        energy = s.energy_J / A / MAH_CM2  # mWh/cm²
        wall = s.wall_before + time.perf_counter() - self.t_wall0
        lo, hi = m.stoichiometry_range()
        memory = self.comm.gather(peak_memory_mb(), root=0)
        electrolyte = {"kind": "liquid" if m.liquid else "solid", "c_e_range_mol_m3": list(m.electrolyte_range())}
        if m.liquid:  # Li+ in the electrolyte changes by exactly what the reactions put in
            salt0 = s.salt0 or 1e-300
            electrolyte["salt_change_relative"] = (m.salt() - salt0) / salt0
            electrolyte["salt_balance_error"] = abs(F * (m.salt() - salt0) - s.salt_source_C) / (F * salt0)
        summary = {
            "scenario": sc.name, "materials": self.mats.name,
            "material_sources": {"references": list(self.mats.references), "cam": self.mats.cam.sources,
                                 "electrolyte": self.mats.electrolyte.sources, "anode": self.mats.anode.sources},
            "complete": s.protocol_step >= len(self.steps) or bool(s.depleted),
            "stop_reason": s.stop_reason, "electrolyte_depleted": bool(s.depleted),
            "capacity_mAh_cm2": cap, "capacity_mAh_g": cap / mass["cam_g_cm2"],
            "energy_mWh_cm2": energy, "energy_density_Wh_kg": energy / mass["total_g_cm2"],
            "theoretical_capacity_mAh_cm2": self.info["theoretical_capacity_mAh_cm2"],
            "mean_utilization": s.rows[-1]["mean_utilization"] if s.rows else 0.0,
            "final_voltage_V": s.voltage, "snapshots": s.snapshots, "x_Li_range": [lo, hi], "time_h": s.t / 3600,
            "steps": s.step, "rejected_steps": s.rejected,
            "rejected_steps_by_reason": s.rejected_by_reason, "newton_iterations": s.newton_its,
            "linear_iterations": s.linear_its, "linear_solver": self.newton.kind, "dofs": self.newton.n_dofs,
            "surface_layer_cells": sc.model.surface_layer, "electrolyte": electrolyte,
            "collector": m.collector.summary(m.i_app, sc.collector.contact_resistance_ohm_cm2),
            "ranks": self.comm.size, "wall_time_s": wall, "charge_balance_error": balance,
            "charge_passed_C_m2": s.charge_C / A, "li_inserted_mol_m2": li_gain / A,
            "masses_g_cm2": mass, "structure": {k: v for k, v in self.info.items() if k != "structure_meta"},
            "structure_meta": self.info["structure_meta"], "peak_memory_mb_per_rank": memory,
            "units": {"capacity_mAh_cm2": "mAh/cm²", "capacity_mAh_g": "mAh per g CAM",
                      "energy_density_Wh_kg": "Wh/kg of anode + separator + cathode (seed 001 SI eq. 3)",
                      "charge_balance_error": "|∫I dt − F ΔLi| / |∫I dt|"},
        }
        self.summary, self.rows, self.profile = summary, s.rows, prof
        for e in self.exports:
            e.finish(prof, face)
        if self.comm.rank == 0 and self.folder:
            if summary["complete"]:
                atomic_write_json(self.folder / "summary.json", summary)  # last: marks a finished result
                for name in (checkpoint.FILE, "status.json"):
                    (self.folder / name).unlink(missing_ok=True)
            else:  # stopped early: a status, never a summary that could pass for a finished run
                atomic_write_json(self.folder / "status.json", {**summary, "resume_with": "--resume"})
        self.comm.barrier()
        return summary
