"""`fem-assb impedance`: the small-signal impedance spectrum of a scenario's cell."""


def register(sub):
    p = sub.add_parser("impedance", help="impedance spectrum about a rest state (Nyquist plot, arc frequencies)",
                       description="Linearise the 3D cell of SCENARIO.toml (structure, materials, mesh; double "
                                   "layers at both electrodes) about a uniform rest state and solve the "
                                   "frequency-domain problem from f_max down to f_min. Writes RESULTS/impedance.csv "
                                   "(f_Hz, re_Z_ohm_cm2, minus_im_Z_ohm_cm2 of the cell, and the same for its anode "
                                   "side and its separator + cathode side, split at the anode|SE face as a "
                                   "reference electrode there would; Ω cm² of geometric area), nyquist.png and "
                                   "summary.json (high-frequency intercept, separator thickness/κ, arcs with "
                                   "frequency and resistance: of the cell, the anode side and the cathode side). "
                                   "Settings come from the scenario's [impedance] table; the options "
                                   "below override them. Runs under mpirun; the solver is a direct factorisation for small cells "
                                   "and PRESB-preconditioned FGMRES above 20000 unknowns (--linear).")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("-o", "--output", required=True, help="results folder (created)")
    p.add_argument("--f-max", type=float, help="highest frequency, Hz (default 7e6)")
    p.add_argument("--f-min", type=float, help="lowest frequency, Hz (default 1)")
    p.add_argument("--per-decade", type=int, help="frequencies per decade (default 8)")
    p.add_argument("--rest-x", type=float, help="CAM stoichiometry x_Li of the rest state, 0 < x < 1 "
                                                "(default: the material set's initial value)")
    p.add_argument("--linear", choices=("auto", "direct", "iterative"),
                   help="direct = MUMPS LU of the real 2 × 2 block system; iterative = FGMRES with the PRESB "
                        "preconditioner (memory ≈ that of a discharge); auto (default) = direct below 20000 unknowns")
    p.set_defaults(func=run)


def run(args):
    import dataclasses

    from fem_assb.config.scenario import ImpedanceConfig, load_scenario
    from fem_assb.config.schema import Where, parse
    from fem_assb.electrochem.impedance import run_impedance
    from fem_assb.parallel import log

    sc = load_scenario(args.scenario)
    raw = {k: v for k, v in {"f_max_Hz": args.f_max, "f_min_Hz": args.f_min, "per_decade": args.per_decade,
                             "rest_x_Li": args.rest_x, "linear": args.linear}.items() if v is not None}
    if raw:
        base = {f.name: getattr(sc.impedance, f.name) for f in dataclasses.fields(ImpedanceConfig)}
        sc.impedance = parse(ImpedanceConfig, {**{k: v for k, v in base.items() if v is not None}, **raw},
                             Where("command line"))
    s, _ = run_impedance(sc, args.output)
    def arcs(found):
        return ", ".join(f"{a['f_Hz']:.3g} Hz ({a['arc_resistance_ohm_cm2']:.3g} Ω cm²)" for a in found) or "none"

    log(f"R(f_max) = {s['high_frequency_re_Z_ohm_cm2']:.2f} Ω cm² (separator thickness/κ "
        f"{s['separator_resistance_ohm_cm2']:.2f}), R(f_min) = {s['low_frequency_re_Z_ohm_cm2']:.2f} Ω cm²\n"
        f"arcs of the cell: {arcs(s['arcs'])}\nanode side: {arcs([s['anode_arc']])}; separator + cathode side: "
        f"{arcs(s['cathode_arcs'])}\n{s['wall_time_s']:.1f} s; results in {args.output}/")
    return 0
