"""`fem-assb run`: a galvanostatic protocol on a scenario."""


def register(sub):
    p = sub.add_parser("run", help="run a scenario: structure → mesh → coupled electrochemistry → results",
                       description="Discharge/charge/rest a 3D microstructure-resolved cell (SE | CAM composite, "
                                   "SE separator, Li-metal anode) as described by SCENARIO.toml and write "
                                   "RESULTS/: summary.json (capacity, energy density, utilization, charge balance, "
                                   "solver statistics), timeseries.csv, profile.csv, voltage.png, "
                                   "utilization_profile.png, and ParaView fields electrolyte.xdmf and cam.xdmf. "
                                   "summary.json is written last: its presence marks a finished run. Runs in "
                                   "parallel under mpirun (./fem-assb --np N run ...).")
    p.add_argument("scenario", help="scenario TOML file (see `fem-assb check --keys`)")
    p.add_argument("-o", "--output", required=True, help="results folder (created)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the results folder")
    p.set_defaults(func=run)


def run(args):
    import shutil
    from pathlib import Path

    from fem_assb.config.scenario import load_scenario
    from fem_assb.electrochem.simulation import Simulation
    from fem_assb.parallel import comm, log

    sc = load_scenario(args.scenario)
    out = Path(args.output)
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").unlink(missing_ok=True)  # a stale summary must not look like this run's
        shutil.copyfile(args.scenario, out / "scenario.toml")
    comm.barrier()
    sim = Simulation(sc, out, resume=args.resume)
    i = sim.info
    log(f"{sc.name}: {i['mesh']['cells']} cells, {sim.newton.n_dofs} unknowns ({sim.newton.kind} solver), "
        f"{comm.size} rank(s); theoretical capacity {i['theoretical_capacity_mAh_cm2']:.3f} mAh/cm², "
        f"A_C/A_CC {i['cc_contact_ratio']:.3f}")
    s = sim.run()
    log(f"done ({s['stop_reason']}): {s['capacity_mAh_cm2']:.4f} mAh/cm² = {s['capacity_mAh_g']:.1f} mAh/g, "
        f"{s['energy_density_Wh_kg']:.1f} Wh/kg, mean utilization {s['mean_utilization']:.3f}, "
        f"U_end {s['final_voltage_V']:.4f} V")
    log(f"  {s['steps']} steps ({s['rejected_steps']} rejected), {s['newton_iterations']} Newton and "
        f"{s['linear_iterations']} linear iterations, charge balance error {s['charge_balance_error']:.1e}, "
        f"{s['wall_time_s']:.1f} s; results in {out}/")
    return 0 if s["complete"] else 4
