"""Protocol steps as objects: what each step holds fixed and when it ends, in SI.

A scenario's `[[steps]]` tables become these (`from_scenario`); the time stepping
(simulation.py) asks a step for its controls, the current that flowed, the voltage to locate and
whether it has ended, and knows nothing else about the kinds of step — as PyBaMM's experiment
steps carry their own termination. A CC-CV charge is a `Galvanostatic` charge to a voltage
followed by a `VoltageHold` at it.
"""
from __future__ import annotations

from dataclasses import dataclass

from fem_assb.errors import InputError
from fem_assb.units import MA_CM2


@dataclass
class Step:
    """The common part: an optional duration (s); `current` in A/m², > 0 on discharge."""

    duration_s: float | None = None

    kind = ""
    current = 0.0  # the applied current (0 for rest; a hold's follows from the voltage)
    until_V = None  # the cut-off voltage to be located, if any
    hold_V = None  # the cell voltage held, if any

    @property
    def falling(self) -> bool:
        """The voltage moves down (a discharge), for locating voltages."""
        return self.current > 0.0

    def current_now(self, collector) -> float:
        """The current (A/m²) that flowed during the time step just solved."""
        return self.current

    def end_reason(self, voltage: float, current: float) -> str | None:
        """Why the step ends after a time step that reached `voltage` with `current`, or None."""
        return None


@dataclass
class Rest(Step):
    kind = "rest"


@dataclass
class Galvanostatic(Step):
    """Constant current to a cut-off voltage (`until_V`, None: none) or for a duration."""

    current: float = 0.0
    until_V: float | None = None

    @property
    def kind(self) -> str:
        return "discharge" if self.current > 0 else "charge"

    def end_reason(self, voltage, current):
        if self.until_V is not None and (voltage <= self.until_V if self.falling else voltage >= self.until_V):
            return f"cut-off {self.until_V:g} V"
        return None


@dataclass
class VoltageHold(Step):
    """Constant cell voltage (the equipotential collector's potential) until |current| falls to
    `until_current` (A/m²) or for a duration."""

    hold_V: float = 0.0
    until_current: float | None = None

    kind = "hold"

    @property
    def falling(self) -> bool:
        return False

    def current_now(self, collector) -> float:
        return collector.current()

    def end_reason(self, voltage, current):
        if self.until_current is not None and abs(current) <= self.until_current:
            return f"current cut-off {self.until_current / MA_CM2:g} mA/cm²"
        return None


def from_scenario(sc, mats, one_c_mA_cm2: float, ocv0: float) -> list[Step]:
    """The scenario's `[[steps]]` as step objects, with the checks that need the materials (exit
    2 if bad); `one_c_mA_cm2` is the current of a 1C step, `ocv0` the initial OCV (V)."""
    out = []
    for k, st in enumerate(sc.steps, 1):
        where = f"[steps.{k}]"
        duration = st.duration_h * 3600 if st.duration_h is not None else None
        if st.kind == "rest":
            out.append(Rest(duration))
            continue
        if st.kind == "hold":
            if sc.collector.kind != "equipotential":
                raise InputError(f"{where} kind = \"hold\" needs [collector] kind = \"equipotential\" (the cell "
                                 f"voltage is the collector's potential), not {sc.collector.kind!r}")
            until = st.until_current_mA_cm2 if st.until_c_rate is None else st.until_c_rate * one_c_mA_cm2
            out.append(VoltageHold(duration, st.voltage_V, until * MA_CM2 if until is not None else None))
            continue
        i_mA = st.current_mA_cm2 if st.current_mA_cm2 is not None else st.c_rate * one_c_mA_cm2
        sign = 1.0 if st.kind == "discharge" else -1.0
        until = st.until_V if st.until_V is not None else (mats.cutoff_V if st.kind == "discharge" else None)
        if k == 1 and until is not None:
            if st.kind == "discharge" and until >= ocv0:
                raise InputError(f"{where} until_V = {until:g} V is not below the initial OCV {ocv0:.3f} V: "
                                 "a discharge would end at once; accepted until_V < OCV")
            if st.kind == "charge" and until <= ocv0:
                raise InputError(f"{where} until_V = {until:g} V is not above the initial OCV {ocv0:.3f} V: "
                                 "accepted until_V > OCV for a charge")
        out.append(Galvanostatic(duration, sign * i_mA * MA_CM2, until))
    return out


def check_protocol(sc, source: str) -> None:
    """The protocol's checks that need the materials only (cut-offs against the initial OCV), so
    that bad input stops before a structure is built or a results folder is touched."""
    from fem_assb.materials.library import resolve

    mats = resolve(sc.materials)
    try:
        from_scenario(sc, mats, 1.0, float(mats.cam.ocv(mats.cam.x0)))
    except InputError as e:
        raise InputError(f"{source}: {e}") from None
