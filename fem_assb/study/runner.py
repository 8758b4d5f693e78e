"""Running the cases of a study, one after another on all ranks or side by side on rank groups.

Each case writes into STUDY_DIR/cases/NAME/: `result.json` when it finished (written last and
atomically, so its presence means done), `error.json` when it failed (the sweep goes on).
Rerunning the sweep skips finished cases, so an interrupted sweep completes only what is
missing. `--case I` runs one case (e.g. from a Slurm job array); `--case I,J,...` runs those in
that order. Rank groups take the next case nobody has taken yet when they are free (a claim
file per case and sweep under STUDY_DIR/.claims/), so one long case does not hold back the
cases behind it.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

from fem_assb.errors import InputError, SolverError
from fem_assb.io.atomic import atomic_write_json
from fem_assb.parallel import log


def case_dir(study_dir: Path, case) -> Path:
    return study_dir / "cases" / case.name


def done(study_dir: Path, case) -> bool:
    return (case_dir(study_dir, case) / "result.json").is_file()


def _sigma_eff(st, cc, comm) -> dict:
    """Effective conductivity of a structure with the study's [conductivity] settings."""
    from fem_assb.conductivity.common import parse_contact
    from fem_assb.conductivity import common, solve_image
    from fem_assb.phases import Phase

    sigma = (common.parse_sigma(cc.sigma) if cc.sigma else
             common.sigma_from_material(cc.material) if cc.material else {Phase.SE: 100.0})
    contact = parse_contact(cc.contact_resistance)
    return solve_image(st.labels, st.voxel_um, sigma, cc.discretization, 1.0, cc.axis, contact, comm=comm,
                       cc_delaminated=st.cc_delaminated).to_dict()


def run_conductivity(case, spec, folder: Path, comm) -> dict:
    """Structure → analysis → effective conductivity."""
    from fem_assb.materials.library import resolve
    from fem_assb.microstructure.analysis import analyze
    from fem_assb.microstructure.generate import build_structure

    sc = case.scenario
    st = build_structure(sc.structure, 0.0, comm=comm)
    return {"conductivity": _sigma_eff(st, spec.conductivity, comm),
            "structure": analyze(st.labels, st.voxel_um, resolve(sc.materials).cam, st.cc_delaminated),
            "generation": st.meta}


def run_discharge(case, spec, folder: Path, comm) -> dict:
    """A discharge (resumed from its checkpoint after an interruption); with
    `[conductivity] with_discharge`, also σ_eff of the composite without its separator."""
    from fem_assb.electrochem.simulation import Simulation

    from fem_assb.electrochem import checkpoint

    resume = checkpoint.exists(folder)
    sim = Simulation(case.scenario, folder, resume=resume, comm=comm)
    summary = sim.run()
    if not summary["complete"]:
        raise SolverError(f"case stopped early: {summary['stop_reason']}")
    if spec.conductivity.with_discharge:
        summary["conductivity"] = _sigma_eff(sim.structure, spec.conductivity, comm)
    return summary


def run_impedance(case, spec, folder: Path, comm) -> dict:
    """The impedance spectrum of the case's cell (impedance.csv, nyquist.png in its folder)."""
    from fem_assb.electrochem.impedance import run_impedance as spectrum

    return spectrum(case.scenario, folder, comm=comm)[0]


def run_p2d(case, spec, folder: Path, comm) -> dict:
    """The case's cell through the P2D model, parameters measured on its structure (fem_assb/p2d)."""
    from fem_assb.p2d.run import run_scenario

    return comm.bcast(run_scenario(case.scenario, folder, comm=comm), root=0)


KINDS = {"conductivity": run_conductivity, "discharge": run_discharge, "impedance": run_impedance, "p2d": run_p2d}


def _claims_dir(study_dir: Path, comm) -> Path:
    """A fresh folder for this sweep's claims (a sweep killed earlier leaves its own behind)."""
    import uuid

    path = comm.bcast(study_dir / ".claims" / uuid.uuid4().hex if comm.rank == 0 else None, root=0)
    if comm.rank == 0:
        path.mkdir(parents=True)
    comm.barrier()
    return path


def _claim(claims: Path, case) -> bool:
    """True for the one rank group that creates the case's claim file first."""
    import os

    try:
        os.close(os.open(claims / str(case.index), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def run_case(case, spec, study_dir: Path, comm) -> str:
    """Run one case on `comm`; returns 'done', 'skipped', 'busy' (another sweep holds it) or 'failed'."""
    from fem_assb.io.lock import FolderBusy, locked

    folder = case_dir(study_dir, case)
    if done(study_dir, case):
        return "skipped"
    try:
        with locked(folder, comm):
            if done(study_dir, case):  # finished by another sweep meanwhile
                return "skipped"
            return _run_locked(case, spec, folder, comm)
    except FolderBusy:
        return "busy"


def _run_locked(case, spec, folder: Path, comm) -> str:
    if comm.rank == 0:
        (folder / "error.json").unlink(missing_ok=True)
    comm.barrier()
    t0 = time.perf_counter()
    error = None
    try:
        result = KINDS[spec.study.kind](case, spec, folder, comm)
    except (InputError, SolverError) as e:
        error = str(e)
    except Exception as e:  # a bug or a library failure: keep the sweep going, keep the trace
        error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    errors = comm.allgather(error)
    error = next((e for e in errors if e), None)
    if comm.rank == 0:
        if error:
            atomic_write_json(folder / "error.json", {"case": case.name, "params": case.params, "error": error})
        else:
            atomic_write_json(folder / "result.json", {"case": case.name, "index": case.index,
                                                       "params": case.params, "wall_time_s": time.perf_counter() - t0,
                                                       "result": result})
    comm.barrier()
    return "failed" if error else "done"


def sweep(spec, cases, study_dir: Path, group_size: int | None = None, only: list[int] | None = None, comm=None):
    """Run the cases (or those listed in `only`); with `group_size`, rank groups run different cases."""
    from mpi4py import MPI

    comm = comm or MPI.COMM_WORLD
    size = comm.size if group_size is None else group_size
    if size < 1 or comm.size % size:
        raise InputError(f"--group-size {size}: accepted a divisor of the number of ranks ({comm.size}), ≥ 1")
    color = comm.rank // size
    n_groups = comm.size // size
    group = comm.Split(color, comm.rank)
    if only is not None and not set(only) <= {c.index for c in cases}:
        raise InputError(f"--case {','.join(map(str, only))}: accepted 0..{len(cases) - 1}")
    by_index = {c.index: c for c in cases}
    todo = cases if only is None else [by_index[i] for i in dict.fromkeys(only)]
    claims = _claims_dir(study_dir, comm) if n_groups > 1 else None
    counts = {"done": 0, "skipped": 0, "busy": 0, "failed": 0}
    for case in todo:
        if claims is not None and not group.bcast(_claim(claims, case) if group.rank == 0 else None, root=0):
            continue
        status = run_case(case, spec, study_dir, group)
        counts[status] += 1
        if group.rank == 0:
            print(f"[group {color}] case {case.index} {case.name}: {status}", flush=True)
    group.Free()
    comm.barrier()
    if claims is not None and comm.rank == 0:
        import shutil

        shutil.rmtree(claims, ignore_errors=True)
    totals = {k: comm.allreduce(v if comm.rank % size == 0 else 0) for k, v in counts.items()}
    busy = f", {totals['busy']} held by another sweep" if totals["busy"] else ""
    log(f"{spec.study.name}: {totals['done']} run, {totals['skipped']} already done{busy}, {totals['failed']} failed "
        f"({len(todo)} case(s))")
    return totals


def write_manifest(spec, cases, study_dir: Path, study_file: Path) -> None:
    """study.toml (the study as run, inherited tables resolved) and cases.json."""
    from fem_assb.io.atomic import atomic_write_text
    from fem_assb.io.toml import dumps
    from fem_assb.study.spec import read_study

    study_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(study_dir / "study.toml", f"# resolved from {study_file}\n" + dumps(read_study(study_file)))
    atomic_write_json(study_dir / "cases.json", [{"index": c.index, "name": c.name, "params": c.params}
                                                 for c in cases])


def collect(study_dir: Path) -> list[dict]:
    """All finished case results (sorted by index) and the failures."""
    rows = []
    for f in sorted((study_dir / "cases").glob("*/result.json")):
        rows.append(json.loads(f.read_text()))
    return sorted(rows, key=lambda r: r["index"])
