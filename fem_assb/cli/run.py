"""`fem-assb run`: a galvanostatic protocol on a scenario."""


def register(sub):
    p = sub.add_parser("run", help="run a scenario: structure → mesh → coupled electrochemistry → results",
                       description="Discharge/charge/rest a 3D microstructure-resolved cell (SE | CAM composite, "
                                   "SE separator, Li-metal anode) as described by SCENARIO.toml and write "
                                   "RESULTS/: summary.json (capacity, energy density, utilization, charge balance, "
                                   "solver statistics), timeseries.csv, profile.csv, voltage.png, "
                                   "utilization_profile.png, and ParaView fields electrolyte.xdmf and cam.xdmf. "
                                   "summary.json is written last: its presence marks a finished run. One run "
                                   "writes into a folder at a time (a second one exits 2 naming the first); "
                                   "nothing in the folder is removed before the input has been checked. Runs in "
                                   "parallel under mpirun (./fem-assb --np N run ...).")
    p.add_argument("scenario", help="scenario TOML file (see `fem-assb check --keys`)")
    p.add_argument("-o", "--output", required=True, help="results folder (created)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the results folder "
                                                         "(a finished run is left as it is)")
    p.add_argument("--force", action="store_true", help="run even if the estimated memory exceeds this machine's")
    p.add_argument("--max-steps", type=int, help="stop after this many time steps in total, with a checkpoint "
                                                 "(e.g. to fit a batch time limit; continue with --resume); "
                                                 "overrides [solver] max_steps. Exit code 4 when stopped early")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from fem_assb.config.scenario import load_scenario
    from fem_assb.config.preflight import preflight
    from fem_assb.electrochem.simulation import Simulation, prepare_folder
    from fem_assb.errors import InputError, SolverError
    from fem_assb.io.lock import locked
    from fem_assb.parallel import comm, log

    sc = load_scenario(args.scenario)
    if args.max_steps is not None:
        if args.max_steps < 1:
            raise InputError(f"--max-steps = {args.max_steps}: accepted ≥ 1")
        sc.solver.max_steps = args.max_steps
    preflight(sc, args.scenario, comm.size, args.force)  # what needs no mesh, before anything is touched
    out = Path(args.output)
    with locked(out, comm):
        if not prepare_folder(out, args.resume, comm, args.scenario):
            log(f"{out}: the run is finished (summary.json); nothing to resume")
            return 0
        sim = Simulation(sc, out, resume=args.resume)
        i = sim.info
        log(f"{sc.name}: {i['mesh']['cells']} cells, {sim.newton.n_dofs} unknowns ({sim.newton.kind} solver), "
            f"{comm.size} rank(s); theoretical capacity {i['theoretical_capacity_mAh_cm2']:.3f} mAh/cm², "
            f"A_C/A_CC {i['cc_contact_ratio']:.3f}")
        s = sim.run()
    state = "done" if s["complete"] else "stopped early, resume with --resume"
    log(f"{state} ({s['stop_reason']}): {s['capacity_mAh_cm2']:.4f} mAh/cm² = {s['capacity_mAh_g']:.1f} mAh/g, "
        f"{s['energy_density_Wh_kg']:.1f} Wh/kg, mean utilization {s['mean_utilization']:.3f}, "
        f"U_end {s['final_voltage_V']:.4f} V")
    log(f"  {s['steps']} steps ({s['rejected_steps']} rejected), {s['newton_iterations']} Newton and "
        f"{s['linear_iterations']} linear iterations, charge balance error {s['charge_balance_error']:.1e}, "
        f"{s['wall_time_s']:.1f} s; results in {out}/")
    if s["electrolyte_depleted"]:  # the results are written; the exit code says the run ended early
        raise SolverError(s["stop_reason"])
    return 0 if s["complete"] else 4
