"""`fem-assb check`: validate a scenario file without running it."""


def register(sub):
    p = sub.add_parser("check", help="validate a scenario TOML file without running it",
                       description="Validate a scenario file: every key, type, range and material name. "
                                   "Exit code 0 when valid, 2 with one line naming the key when not.")
    p.add_argument("scenario", nargs="?", help="scenario TOML file")
    p.add_argument("--keys", action="store_true", help="list every accepted key with unit, range and default")
    p.set_defaults(func=run)


def run(args):
    from fem_assb.config.scenario import Scenario, load_scenario
    from fem_assb.config.schema import describe
    from fem_assb.errors import InputError
    from fem_assb.parallel import log

    if args.keys:
        log("\n".join(describe(Scenario)))
        return 0
    if not args.scenario:
        raise InputError("check needs a SCENARIO.toml (or --keys)")
    sc = load_scenario(args.scenario)
    s = sc.structure
    if s.image:  # the size comes from the image, which check does not read
        what = f"image {s.image} at {s.voxel_um:g} µm voxels"
    else:
        what = (f"{s.size_um[0]:g}×{s.size_um[1]:g}×{s.size_um[2]:g} µm at {s.voxel_um:g} µm voxels, "
                f"{len(s.layers)} generated layer(s)")
    log(f"{args.scenario}: ok — '{sc.name}', materials {sc.materials.set}, {what}, {len(sc.steps)} step(s)")
    return 0
