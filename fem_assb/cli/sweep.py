"""`fem-assb sweep` and `fem-assb report`: parameter studies as batches of cases."""


def register(sub):
    p = sub.add_parser("sweep", help="run the cases of a study (a base scenario × parameter values)",
                       description="Expand STUDY.toml into cases and run them under one mpirun: one after "
                                   "another on all ranks, or side by side on rank groups (--group-size). "
                                   "Finished cases (cases/NAME/result.json) are skipped on rerun; a failed case "
                                   "is recorded in cases/NAME/error.json and the sweep goes on. Exit code 0 when "
                                   "every case finished, 5 when some failed.")
    p.add_argument("study", help="study TOML file (see fem_assb/study/spec.py for the format)")
    p.add_argument("-o", "--output", help="study folder (default: results/STUDY_NAME)")
    p.add_argument("--group-size", type=int, help="ranks per case; groups run different cases in parallel, each "
                                                  "taking the next case when free (default: all ranks on each case)")
    p.add_argument("--case", type=_indices, help="run only case I, or cases I,J,... in that order (0-based; "
                                                 "e.g. SLURM_ARRAY_TASK_ID)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.set_defaults(func=run_sweep)

    r = sub.add_parser("report", help="tables, figures and paper comparison of a study folder",
                       description="Collect the finished cases of STUDY_DIR into table.csv and run the study's "
                                   "report hook (figures, report.md comparing with the paper). The PNGs at the top of "
                                   "STUDY_DIR are redrawn from the finished cases each time (old ones are removed).")
    r.add_argument("study_dir", help="folder written by `fem-assb sweep`")
    r.set_defaults(func=run_report)


def _indices(text: str) -> list[int]:
    import argparse

    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': accepted a case index or a comma-separated list") from None


def run_sweep(args):
    from pathlib import Path

    from fem_assb.parallel import comm, log
    from fem_assb.study.runner import done, sweep, write_manifest
    from fem_assb.study.spec import load_study

    spec, cases = load_study(args.study)
    out = Path(args.output or Path("results") / spec.study.name)
    if args.list:
        for c in cases:
            log(f"{c.index:4d}  {'done' if done(out, c) else '    '}  {c.name}")
        return 0
    if comm.rank == 0:
        write_manifest(spec, cases, out, Path(args.study))
    comm.barrier()
    log(f"{spec.study.name}: {len(cases)} case(s) of kind {spec.study.kind} → {out}/")
    totals = sweep(spec, cases, out, args.group_size, args.case)
    return 5 if totals["failed"] else 0


def run_report(args):
    from pathlib import Path

    from fem_assb.parallel import comm, log
    from fem_assb.study.report import build_report

    if comm.rank != 0:
        return 0
    info = build_report(Path(args.study_dir))
    log(f"{args.study_dir}: {info['finished']}/{info['cases']} case(s) in table.csv"
        + (f"; failed: {', '.join(info['failed'])}" if info["failed"] else ""))
    return 0
