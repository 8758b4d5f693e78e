"""A scenario through the P2D model: structure → measured homogenised cell → PyBaMM → the results
folder of `fem-assb run` (summary.json, timeseries.csv, profile.csv, plots) plus
p2d_parameters.json (every parameter and its source), particles.csv (x_Li along x and r at the
end, seed 004 Fig. 4) and cell.bpx.json (bpx.py). The structure measurement runs on all ranks;
PyBaMM and the files on rank 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem_assb.errors import InputError, SolverError
from fem_assb.units import F, MAH_CM2, MA_CM2

#: relative capacity change under 2× refinement above which a run says it is not converged
REFINEMENT_TOL = 1e-3


def scenario_cell(sc, comm=None):
    """(materials, structure, homogenised cell) of a scenario."""
    from fem_assb.materials.library import resolve
    from fem_assb.microstructure.generate import build_structure
    from fem_assb.p2d.measure import measure

    mats = resolve(sc.materials)
    if mats.liquid:
        raise InputError(f"[materials] set = '{mats.name}': the P2D bridge is built for single-ion solid electrolytes "
                         "(t+ = 1); a liquid electrolyte is not supported yet")
    structure = build_structure(sc.structure, sc.separator_um(mats), comm=comm)
    p = sc.p2d
    particle = p.particle_diameter_um if p.particle_diameter_um is not None else p.particle
    cell = measure(structure, mats, sc.structure, particle, p.interface_area, comm=comm)
    return mats, structure, cell


def masses(cell) -> dict:
    """Masses per area (g/cm²) as for the 3D model (electrochem/outputs.masses_per_area)."""
    from fem_assb.electrochem.outputs import masses_per_area

    info = {"area_m2": 1.0, "volume_cam_m3": sum(r.eps_am * r.thickness for r in cell.regions),
            "volume_se_m3": sum(r.eps_se * r.thickness for r in cell.regions),
            "separator_um": cell.separator / 1e-6,
            "theoretical_capacity_mAh_cm2": cell.theoretical_capacity() / MAH_CM2}
    return masses_per_area(info, cell.mats)


def run_scenario(sc, folder: Path, comm=None) -> dict | None:
    """Run and write the results folder; the summary on rank 0, None elsewhere."""
    from fem_assb.electrochem import outputs
    from fem_assb.io import tables
    from fem_assb.electrochem.protocol import from_scenario
    from fem_assb.io.atomic import atomic_write_json
    from fem_assb.p2d import bpx
    from fem_assb.p2d.solve import StepSpec, run
    from fem_assb.parallel import comm as world
    from fem_assb.parallel import log

    comm = comm or world
    holds = [k for k, st in enumerate(sc.steps, 1) if st.kind == "hold"]
    if holds:
        raise InputError(f"[steps.{holds[0]}] kind = \"hold\": the P2D model runs galvanostatic and rest steps only; "
                         "resolve a voltage hold with `fem-assb run`")
    mats, structure, cell = scenario_cell(sc, comm)
    mass = masses(cell)
    cap_theo = cell.theoretical_capacity() / MAH_CM2  # mAh/cm²
    one_c = mats.c_rate_mAh_g * mass["cam_g_cm2"] if mats.c_rate_mAh_g else cap_theo
    steps = [StepSpec(s.current, s.until_V, s.duration_s)
             for s in from_scenario(sc, mats, one_c, float(mats.cam.ocv(mats.cam.x0)))]
    if comm.rank != 0:
        return None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p = sc.p2d
    params = {**cell.to_dict(), "discretisation": {"radial_points": p.radial_points,
                                                   "radial_stretch": p.radial_stretch, "x_points": p.x_points},
              "particle": p.particle_diameter_um if p.particle_diameter_um is not None else p.particle,
              "interface_area": p.interface_area}
    atomic_write_json(folder / "p2d_parameters.json", params)
    for k, r in enumerate(cell.regions):
        log(f"p2d region {k + 1}: {r.thickness / 1e-6:.1f} µm, ε_SE {r.eps_se:.3f}, ε_AM {r.eps_am:.3f}, "
            f"τ²_SE {r.tau2_se:.3g}, τ²_AM {r.tau2_am:.3g}, D_SCA {r.d_sca / 1e-6:.2f} µm"
            + (f", D50 {r.d50 / 1e-6:.2f} µm" if r.d50 else "") + f", particle {2 * r.particle_radius / 1e-6:.2f} µm", c=comm)
    res = run(cell, steps, p.radial_points, p.radial_stretch, p.x_points)
    change = None
    if p.refinement_check:
        try:
            fine = run(cell, steps, 2 * p.radial_points, p.radial_stretch, 2 * p.x_points)
            change = abs(fine.charge[-1] / res.charge[-1] - 1.0)
        except SolverError as e:  # the result stands; only its check is missing
            log(f"p2d: the refinement check on twice the nodes failed ({e}); refinement_change is null")
        if change is not None and change > REFINEMENT_TOL:
            log(f"p2d: the capacity changes by {change:.1e} on twice the nodes ({2 * p.x_points} in x, "
                f"{2 * p.radial_points} in r): raise [p2d] x_points / radial_points for a converged result")
    q = res.charge / MAH_CM2  # C/m² → mAh/cm²
    e = res.energy / MAH_CM2  # J/m² → mWh/cm²
    rows = [{"t_s": t, "current_mA_cm2": i / MA_CM2, "voltage_V": v, "capacity_mAh_cm2": c, "energy_mWh_cm2": w}
            for t, i, v, c, w in zip(res.t, res.current, res.voltage, q, e)]
    tables.write_csv(folder / "timeseries.csv", list(rows[0]), rows)
    dx = np.gradient(res.x)
    eps_am = np.array([_region_value(cell, xi, "eps_am") for xi in res.x])
    li = res.utilization * (mats.cam.c_max - mats.cam.c0) * eps_am * dx  # mol/m² per node
    prof = {"x_um": (res.x - cell.separator) / 1e-6, "utilization": res.utilization,
            "cumulative_capacity_mAh_cm2": np.cumsum(li) * F / MAH_CM2}
    outputs.write_profile(folder / "profile.csv", prof)
    n_r, n_x = res.stoichiometry.shape
    tables.write_columns(folder / "particles.csv", {
        "x_um": np.repeat(prof["x_um"], n_r), "r_over_rp": res.r.T.ravel(), "x_Li": res.stoichiometry.T.ravel()})
    bpx.write(cell, folder / "cell.bpx.json")
    cap = q[-1]
    summary = {
        "scenario": sc.name, "model": "p2d", "materials": mats.name, "material_references": list(mats.references),
        "stop_reason": res.stop_reason, "complete": True,
        "capacity_mAh_cm2": cap, "capacity_mAh_g": cap / mass["cam_g_cm2"], "energy_mWh_cm2": e[-1],
        "energy_density_Wh_kg": e[-1] / mass["total_g_cm2"], "theoretical_capacity_mAh_cm2": cap_theo,
        "mean_utilization": res.charge[-1] / cell.theoretical_capacity(), "final_voltage_V": float(res.voltage[-1]),
        "time_h": float(res.t[-1] / 3600), "wall_time_s": res.wall_s, "solver_tolerance": res.tolerance,
        "refinement_change": change, "masses_g_cm2": mass,
        "charge_balance_error": abs(res.charge[-1] - F * res.li_inserted) / max(abs(res.charge[-1]), 1e-300),
        "p2d": {"regions": len(cell.regions), "particle_diameters_um": [2 * r.particle_radius / 1e-6 for r in cell.regions],
                "d_sca_um": [r.d_sca / 1e-6 for r in cell.regions],
                "d50_um": [r.d50 / 1e-6 if r.d50 else None for r in cell.regions],
                "tau2_se": [r.tau2_se for r in cell.regions], "tau2_am": [r.tau2_am for r in cell.regions],
                "eps_se": [r.eps_se for r in cell.regions], "eps_am": [r.eps_am for r in cell.regions]},
        "units": {"capacity_mAh_cm2": "mAh/cm²", "capacity_mAh_g": "mAh per g CAM",
                  "refinement_change": "|Q(2× nodes in x and r) / Q − 1| (null: refinement_check = false, or its run failed)",
                  "charge_balance_error": "|∫I dt − F ΔLi| / |∫I dt| (PyBaMM's Li inventory)",
                  "energy_density_Wh_kg": "Wh/kg of anode + separator + cathode (seed 001 SI eq. 3)"},
    }
    if "plots" in sc.output.exports:
        cut = next((s.until_V for s in steps if s.until_V is not None), None)
        outputs.plot_voltage(rows, folder / "voltage.png", f"{sc.name} (P2D)", cut)
        outputs.plot_profile(prof, folder / "utilization_profile.png", f"{sc.name} (P2D): at end of run")
    atomic_write_json(folder / "summary.json", summary)  # last: marks a finished result
    return summary


def _region_value(cell, x: float, name: str) -> float:
    edges = cell.separator + np.cumsum([0.0] + [r.thickness for r in cell.regions])
    k = min(max(int(np.searchsorted(edges, x, side="right")) - 1, 0), len(cell.regions) - 1)
    return getattr(cell.regions[k], name)
