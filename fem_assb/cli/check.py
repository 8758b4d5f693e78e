"""`fem-assb check`: validate a scenario file without running it."""


def register(sub):
    p = sub.add_parser("check", help="validate a scenario TOML file without running it",
                       description="Validate a scenario file: every key, type, range and material name, and "
                                   "what needs no mesh: cut-off voltages against the initial OCV, the image "
                                   "(readable, non-empty, every value mapped) and the memory a run needs against "
                                   "this machine's. Exit code 0 when valid, 2 with one line naming the key when not.")
    p.add_argument("scenario", nargs="?", help="scenario TOML file")
    p.add_argument("--keys", action="store_true", help="list every accepted key with unit, range and default")
    p.add_argument("--force", action="store_true", help="accept a run that needs more memory than this machine has")
    p.set_defaults(func=run)


def run(args):
    from fem_assb.config.preflight import preflight
    from fem_assb.config.scenario import Scenario, load_scenario
    from fem_assb.config.schema import describe
    from fem_assb.errors import InputError
    from fem_assb.parallel import comm, log

    if args.keys:
        log("\n".join(describe(Scenario)))
        return 0
    if not args.scenario:
        raise InputError("check needs a SCENARIO.toml (or --keys)")
    sc = load_scenario(args.scenario)
    est = preflight(sc, args.scenario, comm.size, args.force)
    s = sc.structure
    if s.image:
        what = f"image {s.image} ({'×'.join(map(str, est['shape']))} voxels) at {s.voxel_um:g} µm"
    else:
        what = (f"{s.size_um[0]:g}×{s.size_um[1]:g}×{s.size_um[2]:g} µm at {s.voxel_um:g} µm voxels, "
                f"{len(s.layers)} generated layer(s)")
    log(f"{args.scenario}: ok — '{sc.name}', materials {sc.materials.set}, {what}, {len(sc.steps)} step(s); "
        f"a run needs ≈ {est['memory_GiB']:.2g} GiB of this machine's {est['machine_GiB']:.0f} GiB")
    return 0
