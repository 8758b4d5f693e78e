"""Time-step control of one protocol step (backward Euler).

After an accepted step Δt is scaled so that the cell voltage changes by about `max_dU_V` (in a
voltage hold: the current by about `max_dI_rel` of itself) and no node's stoichiometry by more
than `max_dx` (at most ×2, and ×0.5 after a step that needed many
Newton iterations). The first step after a change of the current is exempt from the voltage
rule: its change is mostly the instantaneous ohmic and kinetic jump, which no Δt makes smaller
(seed 002: 0.37 V at 0.5C through 425 µm of β-Li3PS4; the rule shrank Δt from 1 s to ≈ 2 ms,
and ≈ 15 steps went into growing it back). A failed step is retried with Δt/4 (the caller
stops below `dt_min_s`). A step that crosses a voltage to be located (the cut-off or a snapshot
voltage) by more than `cutoff_tol_V` is retried with the Δt that the secant through the last
two voltages predicts. If the first step of a current step crosses it, the retry uses
`dt_min_s` at once: a voltage passed in the instantaneous jump (seed 002 at 0.5C starts 0.37 V
below the OCV, past the 3.75 and 3.6 V snapshots) is reached at t = 0 whatever Δt. After the
first step of a current step Δt is at least `dt_initial_s` again: cuts that Newton needed to get
over the jump say nothing about the steps after it.
"""
from __future__ import annotations

#: the secant's Δt is kept within these fractions of the overshooting trial's
SECANT_RANGE = (0.05, 0.95)


class StepControl:
    """Δt decisions within one protocol step; `sv` is the scenario's [solver] table. A new
    object per protocol step (nothing of it outlives an accepted step, so checkpoints need none
    of it)."""

    def __init__(self, sv, duration_s: float | None = None):
        self.sv, self.duration_s = sv, duration_s
        self._located = False  # the last trial overshot a voltage to be located
        self._jump_dt = None  # Δt before a first step was cut to dt_min_s to see whether it jumps

    def trial(self, dt_next: float, t_in_step: float) -> float | None:
        """Δt of the next trial from the proposed one, or None when the step's duration is reached."""
        dt = min(dt_next, self.sv.dt_max_s)
        if self.duration_s is not None:
            left = self.duration_s - t_in_step
            if left <= 1e-9 * self.duration_s:
                return None
            dt = min(dt, left)
        return dt

    def after_failure(self, dt: float) -> float | None:
        """Δt to retry a failed trial with, or None when it would fall below dt_min_s."""
        dt = dt / 4
        return dt if dt >= self.sv.dt_min_s else None

    def locate(self, goal: float, falling: bool, v_before: float, v: float, dt: float, first: bool) -> float | None:
        """None to accept a trial that reached voltage `v` from `v_before` over Δt; else the Δt
        to retry with, because it passed `goal` by more than the tolerance."""
        sv = self.sv
        crossed = v < goal if falling else v > goal
        if not crossed or abs(v - goal) <= sv.cutoff_tol_V or dt <= sv.dt_min_s * 1.0001:
            return None  # not crossed, close enough, or crossed even with the smallest step: accept
        self._located = True
        if first:
            self._jump_dt = dt
            return sv.dt_min_s
        target = goal + (0.5 if falling else -0.5) * sv.cutoff_tol_V
        frac = (v_before - target) / (v_before - v)
        return max(dt * min(max(frac, SECANT_RANGE[0]), SECANT_RANGE[1]), sv.dt_min_s)

    def after_accept(self, dt_next: float, dt: float, dV: float, dx: float, newton_its: int, first: bool,
                     dI_rel: float = 0.0) -> float:
        """The proposed Δt after accepting a step of Δt that changed the voltage by dV, the
        current by dI_rel of itself (voltage holds) and the stoichiometry by at most dx;
        `dt_next` is the proposal it ran with."""
        sv = self.sv
        if self._jump_dt is not None:  # the jump is taken: go on with the step size it interrupted
            dt_next, self._jump_dt = max(self._jump_dt, sv.dt_initial_s), None
            self._located = False
            return dt_next
        if self._located:  # after a located approach keep the reduced step
            self._located = False
            return dt_next
        factor = 2.0
        if abs(dV) > 0 and not first:  # an ohmic jump does not shrink with Δt
            factor = min(factor, 0.9 * sv.max_dU_V / abs(dV))
        if dI_rel > 0 and not first:
            factor = min(factor, 0.9 * sv.max_dI_rel / dI_rel)
        if dx > 0:
            factor = min(factor, 0.9 * sv.max_dx / dx)
        if newton_its > 0.75 * sv.newton_max_it:
            factor = min(factor, 0.5)
        elif newton_its >= 0.5 * sv.newton_max_it:
            factor = min(factor, 1.0)
        dt_next = min(max(dt * max(factor, 0.2), sv.dt_min_s), sv.dt_max_s)
        if first:  # Newton's trouble with a current jump is over after its first step
            dt_next = max(dt_next, min(sv.dt_initial_s, sv.dt_max_s))
        return dt_next
