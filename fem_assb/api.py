"""The public Python API: scenarios in, results out, without the command line.

    import fem_assb

    sc = fem_assb.load_scenario("scenarios/demo.toml")   # or a dict with the TOML's tables
    result = fem_assb.run(sc)                            # in memory; output="results/x" also writes the folder
    print(result.summary["capacity_mAh_cm2"], result.timeseries["voltage_V"][-1])

Everything runs under MPI as the command line does (`mpirun -n 2 python3 script.py`); every rank
gets the same results. Units are those of the TOML keys and of summary.json (mAh/cm², V, s).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class RunResult:
    """A finished (or stopped) run: summary.json's content, the time series (one array per
    column of timeseries.csv), the utilization profile along x at the end (profile.csv's columns)
    and the results folder, if one was written."""
    summary: dict
    timeseries: dict[str, np.ndarray]
    profile: dict
    folder: Path | None


@dataclass
class ImpedanceResult:
    """The spectrum: Z of the cell and of its anode and separator + cathode sides [Ω cm²] at the
    frequencies f [Hz], and the summary (arcs, high- and low-frequency resistance)."""
    summary: dict
    f_Hz: np.ndarray
    z_ohm_cm2: np.ndarray
    z_anode_ohm_cm2: np.ndarray
    z_cathode_ohm_cm2: np.ndarray


def load_scenario(source, base_dir: str | Path | None = None):
    """A validated Scenario from a TOML file or from a dict of the same tables; relative paths
    in a dict (structure.image) are taken from `base_dir` (default: the working directory).
    Bad input raises fem_assb.errors.InputError with one line naming the key."""
    from fem_assb.config.scenario import Scenario, load_scenario as from_file
    from fem_assb.config.schema import Where, parse
    from fem_assb.errors import InputError

    if isinstance(source, dict):
        if not source:
            raise InputError("scenario dict is empty: a scenario needs at least one table (see `fem-assb check --keys`)")
        sc = parse(Scenario, source, Where("scenario dict"))
        sc.base_dir = Path(base_dir or ".").resolve()
        if sc.structure.image is not None and not Path(sc.structure.image).is_absolute():
            sc.structure.image = str(sc.base_dir / sc.structure.image)
        return sc
    return from_file(source)


def _scenario(scenario):
    return scenario if not isinstance(scenario, (str, Path, dict)) else load_scenario(scenario)


def run(scenario, output: str | Path | None = None, resume: bool = False, comm=None) -> RunResult:
    """Run the scenario's protocol (discharge, charge, rest steps). With `output`, the results
    folder of `fem-assb run` is written too (one writer at a time; `resume` continues from its
    checkpoint); without, nothing is written."""
    from mpi4py import MPI

    from fem_assb.config.preflight import preflight
    from fem_assb.errors import InputError
    from fem_assb.electrochem.outputs import TIMESERIES_COLUMNS
    from fem_assb.electrochem.simulation import Simulation, prepare_folder
    from fem_assb.io.lock import locked

    sc = _scenario(scenario)
    comm = comm or MPI.COMM_WORLD
    preflight(sc, sc.name, comm.size)
    folder = Path(output) if output is not None else None
    if folder is None:
        sim = Simulation(sc, None, comm=comm)
        sim.run()
    else:
        with locked(folder, comm):
            if not prepare_folder(folder, resume, comm):
                raise InputError(f"{folder}: the run is finished (summary.json); nothing to resume")
            sim = Simulation(sc, folder, resume=resume, comm=comm)
            sim.run()
    columns = {c: np.array([row[c] for row in sim.rows]) for c in TIMESERIES_COLUMNS}
    return RunResult(sim.summary, columns, sim.profile, folder)


def impedance(scenario, output: str | Path | None = None, comm=None) -> ImpedanceResult:
    """The small-signal impedance spectrum about the scenario's rest state ([impedance] table);
    with `output`, impedance.csv, nyquist.png and summary.json are written there too."""
    from fem_assb.electrochem.impedance import run_impedance

    summary, sp = run_impedance(_scenario(scenario), output, comm=comm)
    return ImpedanceResult(summary, sp.f, sp.z, sp.z_anode, sp.z_cathode)


def effective_conductivity(image, voxel_um: float, sigma: dict, discretization: str = "fv", axis: str = "x", comm=None) -> dict:
    """Effective conductivity of a labelled voxel image (numpy array of phase labels, see
    fem_assb.phases.Phase) along `axis`: σ_eff [S/cm], σ_eff/σ_bulk, τ², the percolating fraction and
    the solver's figures (fem-assb conductivity's JSON). `sigma` maps phases or phase names to
    S/cm, e.g. {"SE": 1.0, "CAM": 0.0}; the face-based finite volumes ('fv') are the default,
    nodal FEM on face-connected voxels ('fem') the check."""
    from fem_assb.conductivity import solve_image
    from fem_assb.conductivity.common import sigma_si
    from fem_assb.errors import InputError

    if discretization not in ("fv", "fem"):
        raise InputError(f"discretization = {discretization!r}: accepted 'fv' or 'fem'")
    if not voxel_um > 0:
        raise InputError(f"voxel_um = {voxel_um}: accepted > 0 (µm)")
    return solve_image(np.asarray(image), voxel_um, sigma_si(sigma, "sigma"), discretization, axis=axis,
                       comm=comm).to_dict()
