"""`fem-assb p2d`: the P2D model of a scenario, its parameters measured on the 3D structure."""


def register(sub):
    p = sub.add_parser("p2d", help="run the pseudo-2D (P2D) model with parameters measured on the 3D structure",
                       description="Build (or read) the scenario's structure, measure ε, τ² of the SE and CAM "
                                   "networks (face-based FV), the CAM|SE interface area, D_SCA and the median "
                                   "particle diameter, and run the homogenised half cell (Li | SE separator | "
                                   "composite regions along x | collector; single-ion SE) with PyBaMM through the "
                                   "scenario's [[steps]]. [p2d] chooses the particle size and the discretisation. "
                                   "Writes RESULTS/: summary.json, timeseries.csv, profile.csv, particles.csv, "
                                   "p2d_parameters.json (every parameter and its source), cell.bpx.json (Battery "
                                   "Parameter eXchange) and plots. The measurement runs in parallel under mpirun.")
    p.add_argument("scenario", help="scenario TOML file (see `fem-assb check --keys`)")
    p.add_argument("-o", "--output", required=True, help="results folder (created)")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from fem_assb.config.scenario import load_scenario
    from fem_assb.p2d.run import run_scenario
    from fem_assb.parallel import log

    sc = load_scenario(args.scenario)
    s = run_scenario(sc, Path(args.output))
    if s is not None:
        log(f"done ({s['stop_reason']}): {s['capacity_mAh_cm2']:.4f} mAh/cm² = {s['capacity_mAh_g']:.1f} mAh/g, "
            f"{s['energy_density_Wh_kg']:.1f} Wh/kg, mean utilization {s['mean_utilization']:.3f}, "
            f"U_end {s['final_voltage_V']:.4f} V, {s['wall_time_s']:.2f} s; results in {args.output}/")
    return 0
