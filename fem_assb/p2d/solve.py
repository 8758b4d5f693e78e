"""The P2D model run with PyBaMM: its DFN with a lithium-metal counter electrode ("working
electrode": "positive"), single-ion SE (t+ = 1, so c_e stays at the SE's Li concentration and
enters only the exchange current), our material functions (OCV, σ(x), D(x) via the PyBaMM
backend of materials/functions.py), the measured transport efficiencies σ_eff/σ_bulk = ε/τ² of
each region as functions of x (a transport-efficiency submodel of our own replaces PyBaMM's
Bruggeman or constant-tortuosity ones), and Butler–Volmer with i0 = i00 c_e^α c^α (c_max − c)^(1−α)
regularised near x = 0 and 1 exactly as in the 3D model (softplus, electrochem/model.py). PyBaMM's lithium-metal kinetics are symmetric (α = 0.5, as in both seed sets).

The radial mesh is graded towards the particle surface (exponential, `radial_stretch` α, outer
cell ≈ (α/N) e^(−α) r_p): with the seed-001 diffusivity Li penetrates nm to tens of nm into a
particle several µm across, and a uniform mesh overestimates the capacity many times. What PyBaMM
cannot take from the 3D model: the electronic conductivity σ(x) is evaluated at each particle's
surface stoichiometry (PyBaMM's electrode conductivity is a function of the surface value), not
at its mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem_assb.electrochem.kinetics import SATURATION_WIDTH
from fem_assb.p2d.cell import Cell
from fem_assb.parallel import log

LITHIUM_PARTIAL_MOLAR_VOLUME = 1.3e-5  # m³/mol, only enters PyBaMM's Li-metal bookkeeping


@dataclass
class StepSpec:
    """A protocol step in SI: current density (A/m², > 0 discharge), stop voltage, duration."""

    current: float
    until_V: float | None
    duration_s: float | None


@dataclass
class Result:
    t: np.ndarray  # s
    voltage: np.ndarray  # V
    current: np.ndarray  # A/m², > 0 discharge
    charge: np.ndarray  # C/m² passed (discharge positive)
    energy: np.ndarray  # J/m²
    x: np.ndarray  # m, positive-electrode nodes (from the anode, separator included)
    utilization: np.ndarray  # (c̄ − c0)/(c_max − c0) at the end, per x node
    r: np.ndarray  # m, radial nodes of the particle at each x (n_r, n_x) normalised to r/r_p
    stoichiometry: np.ndarray  # x_Li(r, x) at the end, (n_r, n_x)
    li_inserted: float  # mol/m², Li gained by the particles (PyBaMM's inventory)
    stop_reason: str
    wall_s: float
    tolerance: float  # the IDA tolerance (relative and absolute, SI) that solved it


def _efficiency_submodel():
    import pybamm

    class MeasuredEfficiency(pybamm.transport_efficiency.BaseModel):
        """σ_eff/σ_bulk of the SE (electrolyte) or CAM (electrode) network as a function of x:
        'Positive electrode transport efficiency (electrolyte|electrode)'; 1 (SE) and 0 (no
        electrode) in the separator."""

        def get_coupled_variables(self, variables):
            tor = {}
            for domain in self.options.whole_cell_domains:
                if domain == "separator":
                    value = 1.0 if self.component == "Electrolyte" else 0.0
                    tor[domain] = pybamm.FullBroadcast(value, "separator", "current collector")
                else:
                    tor[domain] = pybamm.FunctionParameter(
                        f"Positive electrode transport efficiency ({self.component.lower()})",
                        {"Through-cell distance (x) [m]": pybamm.standard_spatial_vars.x_p})
            variables.update(self._get_standard_transport_efficiency_variables(tor))
            return variables

    return MeasuredEfficiency


def build_model():
    """PyBaMM's half-cell DFN with the measured transport efficiencies."""
    import pybamm

    model = pybamm.lithium_ion.DFN(options={"working electrode": "positive"}, build=False)
    Measured = _efficiency_submodel()
    model.submodels["electrolyte transport efficiency"] = Measured(model.param, "Electrolyte", model.options)
    model.submodels["electrode transport efficiency"] = Measured(model.param, "Electrode", model.options)
    model.build_model()
    return model


def _piecewise(cell: Cell, values: list[float]):
    """A function of x (PyBaMM) equal to values[k] in region k of the composite."""
    edges = cell.separator + np.cumsum([0.0] + [r.thickness for r in cell.regions])

    def f(x, *_):  # some PyBaMM functions of x also get the time
        out = values[-1] + 0 * x
        for k in range(len(values) - 2, -1, -1):
            out = (x < edges[k + 1]) * values[k] + (x >= edges[k + 1]) * out
        return out

    return f


def parameter_values(cell: Cell, lower_V: float, upper_V: float):
    """PyBaMM ParameterValues of the cell (SI; area 1 m²: currents are A/m²)."""
    import pybamm

    from fem_assb.materials.functions import PYBAMM

    m = cell.mats
    cam, el, an = m.cam, m.electrolyte, m.anode
    R = cell.regions
    a = cam.alpha

    def softplus(y):  # as in the 3D model (electrochem/model.py): smooth and positive near 0
        return pybamm.maximum(y, 0) + SATURATION_WIDTH * pybamm.log(1 + pybamm.exp(-abs(y) / SATURATION_WIDTH))

    def i0(c_e, c_s, c_max, T):
        x = c_s / c_max
        return cam.i00 * c_e ** a * c_max * softplus(x) ** a * softplus(1 - x) ** (1 - a)

    return pybamm.ParameterValues({
        "Ambient temperature [K]": m.temperature, "Initial temperature [K]": m.temperature,
        "Reference temperature [K]": m.temperature,
        "Cation transference number": 1.0, "Thermodynamic factor": 1.0,
        "Electrolyte conductivity [S.m-1]": el.kappa,
        "Electrolyte diffusivity [m2.s-1]": 1e-12,  # irrelevant at t+ = 1: c_e stays uniform
        "Initial concentration in electrolyte [mol.m-3]": el.c_e,
        "Exchange-current density for lithium metal electrode [A.m-2]": an.i0,
        "Lithium metal partial molar volume [m3.mol-1]": LITHIUM_PARTIAL_MOLAR_VOLUME,
        "Negative electrode conductivity [S.m-1]": 1.0e7, "Negative electrode thickness [m]": 1e-6,
        "Separator porosity": 1.0, "Separator thickness [m]": cell.separator,
        "Positive electrode thickness [m]": cell.thickness,
        "Positive electrode porosity": _piecewise(cell, [r.eps_se for r in R]),
        "Positive electrode active material volume fraction": _piecewise(cell, [r.eps_am for r in R]),
        "Positive electrode transport efficiency (electrolyte)": _piecewise(cell, [r.eps_se / r.tau2_se for r in R]),
        "Positive electrode transport efficiency (electrode)": _piecewise(cell, [r.eps_am / r.tau2_am for r in R]),
        "Positive particle radius [m]": _piecewise(cell, [r.particle_radius for r in R]),
        "Positive electrode conductivity [S.m-1]": lambda sto, T: cam.sigma(sto, PYBAMM),
        "Positive particle diffusivity [m2.s-1]": lambda sto, T: cam.diffusivity(sto, PYBAMM),
        "Positive electrode OCP [V]": lambda sto: cam.ocv(sto, PYBAMM),
        "Positive electrode OCP entropic change [V.K-1]": 0.0,
        "Positive electrode exchange-current density [A.m-2]": i0,
        "Maximum concentration in positive electrode [mol.m-3]": cam.c_max,
        "Initial concentration in positive electrode [mol.m-3]": cam.c0,
        "Electrode height [m]": 1.0, "Electrode width [m]": 1.0,
        "Nominal cell capacity [A.h]": cell.theoretical_capacity() / 3600.0,
        "Current function [A]": 0.0, "Lower voltage cut-off [V]": lower_V, "Upper voltage cut-off [V]": upper_V,
        "Number of cells connected in series to make a battery": 1,
        "Number of electrodes connected in parallel to make a cell": 1,
    })


def run(cell: Cell, steps: list[StepSpec], radial_points: int = 40, radial_stretch: float = 10.0,
        x_points: int = 40, rtol: float = 1e-8) -> Result:
    """Run the protocol; the result holds the whole time series and the end-of-run profiles.
    The absolute tolerance equals `rtol` in SI units (V, mol/m³); where IDA's error test fails the
    run is repeated at 10× and 100× `rtol` (logged; `Result.tolerance` says which solved it;
    measurements in docs/VERIFICATION.md)."""
    import time

    import pybamm

    t0 = time.perf_counter()
    stops = [s.until_V for s in steps if s.until_V is not None]
    lower = min(stops + [float(cell.mats.cam.ocv(1.0))]) - 0.5
    upper = max(stops + [float(cell.mats.cam.ocv(cell.mats.cam.x0))]) + 0.5
    pv = parameter_values(cell, lower, upper)
    exp_steps = []
    for s in steps:
        kw = {}
        if s.duration_s is not None:
            kw["duration"] = s.duration_s
        if s.until_V is not None:
            kw["termination"] = f"{s.until_V} V"
        if s.current == 0.0:
            exp_steps.append(pybamm.step.rest(**kw))
        else:
            if "duration" not in kw:  # bounded by the charge of the whole CAM, with room
                kw["duration"] = 2.0 * cell.theoretical_capacity() / abs(s.current)
            exp_steps.append(pybamm.step.current(s.current, **kw))
    model = build_model()
    submesh = dict(model.default_submesh_types)
    if radial_stretch > 0:
        submesh["positive particle"] = pybamm.MeshGenerator(
            pybamm.Exponential1DSubMesh, submesh_params={"side": "right", "stretch": radial_stretch})
    var_pts = {"x_n": 5, "x_s": 10, "x_p": x_points, "r_n": 5, "r_p": radial_points}
    for tol in (rtol, 10 * rtol, 100 * rtol):
        sim = pybamm.Simulation(model, parameter_values=pv, experiment=pybamm.Experiment(exp_steps),
                                submesh_types=submesh, var_pts=var_pts,
                                solver=pybamm.IDAKLUSolver(rtol=tol, atol=tol))
        try:
            sol = sim.solve()
            break
        except pybamm.SolverError as e:
            error = str(e).splitlines()[0][:120]
            log(f"p2d: PyBaMM's solver failed at tolerance {tol:g} ({error}); retrying at {10 * tol:g}")
    else:
        from fem_assb.errors import SolverError

        raise SolverError(f"p2d: PyBaMM's solver failed at tolerances {rtol:g} to {100 * rtol:g} ({error}); at very "
                          "high interface current densities its initial state cannot be found — try a lower current")
    t = sol["Time [s]"].entries
    V = sol["Voltage [V]"].entries
    I = sol["Current [A]"].entries
    charge = np.concatenate([[0.0], np.cumsum(0.5 * (I[1:] + I[:-1]) * np.diff(t))])
    energy = np.concatenate([[0.0], np.cumsum(0.5 * (I[1:] * V[1:] + I[:-1] * V[:-1]) * np.diff(t))])
    last = sol.last_state
    cam = cell.mats.cam
    x = last["x_p [m]"].entries[:, -1]
    c_mean = last["R-averaged positive particle concentration [mol.m-3]"].entries[:, -1]
    c_rx = last["Positive particle concentration [mol.m-3]"].entries[:, :, -1]
    r = last["r_p [m]"].entries[:, :, -1] / _piecewise(cell, [g.particle_radius for g in cell.regions])(x)[None, :]
    li = sol["Total lithium in positive electrode [mol]"].entries
    reason = sol.termination or ""
    return Result(t=t, voltage=V, current=I, charge=charge, energy=energy, x=x,
                  utilization=(c_mean - cam.c0) / (cam.c_max - cam.c0), r=r, stoichiometry=c_rx / cam.c_max,
                  li_inserted=float(li[-1] - li[0]), stop_reason=str(reason), wall_s=time.perf_counter() - t0,
                  tolerance=tol)
