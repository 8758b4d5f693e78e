"""What a run writes into its results folder: one export object per kind of output, chosen by
`[output] exports` (all by default).

The simulation tells every export what happens — fields are due (start, end of each protocol
step, every `fields_every` steps), a snapshot voltage was passed, the run ended — and each
writes its own files: the fields collectively on all ranks, tables and plots on rank 0. A run
without a results folder has none and keeps its results in memory. summary.json is not an
export: it marks a finished run and is always written.
"""
from __future__ import annotations

from fem_assb.electrochem import outputs
from fem_assb.io import tables


class Export:
    """No-op hooks; each export overrides the events it writes at."""

    def __init__(self, sim, resume: bool):
        self.sim = sim
        self.folder = sim.folder
        self.rank0 = sim.comm.rank == 0

    def fields_due(self, t: float) -> None:
        """The 3D fields are due at time t (s)."""

    def snapshot(self, label: str, profile: dict, face: dict | None) -> None:
        """The voltage passed the snapshot voltage `label` (V, as written in file names)."""

    def finish(self, profile: dict, face: dict | None) -> None:
        """The run ended (finished or stopped early) with this final profile and collector face."""

    def close(self) -> None:
        """After the last event (collective)."""


class Fields(Export):
    """electrolyte.xdmf and cam.xdmf (time series, ParaView) and view_fields.py."""

    def __init__(self, sim, resume):
        super().__init__(sim, resume)
        self.writer = outputs.FieldWriter(sim.model, sim.folder, append=resume)

    def fields_due(self, t):
        self.writer.write(t)

    def close(self):
        self.writer.close()


class TimeSeries(Export):
    """timeseries.csv: one row per accepted time step."""

    def finish(self, profile, face):
        if self.rank0:
            tables.write_csv(self.folder / "timeseries.csv", outputs.TIMESERIES_COLUMNS, self.sim.state.rows)


class _Table(Export):
    """A CSV at the end (`stem`.csv) and at each snapshot voltage (`stem`_<V>V.csv)."""

    stem = ""

    def write(self, path, profile: dict, face: dict | None) -> None:
        raise NotImplementedError

    def snapshot(self, label, profile, face):
        if self.rank0:
            self.write(self.folder / f"{self.stem}_{label}V.csv", profile, face)

    def finish(self, profile, face):
        if self.rank0:
            self.write(self.folder / f"{self.stem}.csv", profile, face)


class Profile(_Table):
    """profile.csv: x-profiles of utilization, potentials and c_e."""

    stem = "profile"

    def write(self, path, profile, face):
        outputs.write_profile(path, profile)


class CollectorMap(_Table):
    """collector.csv: the current density over the collector face."""

    stem = "collector"

    def write(self, path, profile, face):
        tables.write_columns(path, face)


class Plots(Export):
    """voltage.png and utilization_profile.png."""

    def finish(self, profile, face):
        sim = self.sim
        if self.rank0 and sim.state.rows:
            cut = next((st.until_V for st in sim.steps if st.until_V is not None), None)
            outputs.plot_voltage(sim.state.rows, self.folder / "voltage.png", sim.sc.name, cut)
            outputs.plot_profile(profile, self.folder / "utilization_profile.png", f"{sim.sc.name}: at end of run")


#: `[output] exports` names → export classes
KINDS = {"timeseries": TimeSeries, "profile": Profile, "collector": CollectorMap, "fields": Fields, "plots": Plots}


def make(names: list[str], sim, resume: bool) -> list[Export]:
    """The chosen exports of a run that writes into `sim.folder` (collective: fields open files)."""
    return [KINDS[name](sim, resume) for name in dict.fromkeys(names)]
