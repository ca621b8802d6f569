"""AllianceModel: a Mesa model of a patron, its partners and the withdrawal of patronage."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from patronage.model import rules
from patronage.model.agents import Partner, Patron
from patronage.model.outcomes import COLLAPSED, HEDGING, REALIGNED, SERIES_FIELDS, STATUSES
from patronage.model.withdrawal import withdrawal_schedule
from patronage.rng import streams
from patronage.scenario.loader import LoadedScenario, load
from patronage.scenario.schema import Scenario

DRAW_BLOCK = 64  # steps of random draws generated at once


@dataclass(frozen=True)
class StepDraws:
    """The random numbers of one step, one per partner, in canonical partner order."""

    noise: list[float]
    realign: list[float]
    collapse: list[float]


@dataclass
class EventRecord:
    """One status change of a partner, as the events table records it."""

    step: int
    partner: str
    kind: str
    origin: str | None
    target: str | None
    cause: str
    trigger: str


def as_scenario(scenario: Scenario | LoadedScenario | str | Path) -> Scenario:
    """The scenario itself, from a loaded scenario or a file path."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario
    path = Path(scenario)
    try:
        stat = path.stat()
    except OSError:
        return load(path).scenario  # the loader says what is wrong with the path
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, size: int) -> Scenario:
    """A file parsed once per version of it: mesa.batch_run builds a model per run."""
    return load(path).scenario


class AllianceModel(mesa.Model):
    """A patron withdraws support; its partners stay, hedge, realign or collapse.

    `AllianceModel(scenario=path_or_scenario, rng=seed)`; `step()` advances one month and
    `running` turns false at the horizon. Draws come from a counter-based stream keyed by a
    single draw from `self.rng` (streams.py), so a run is a pure function of the scenario and
    the seed, and the ensemble engine reproduces it exactly.
    """

    def __init__(
        self,
        scenario: Scenario | LoadedScenario | str | Path,
        rng: Any = None,
        steps: int | None = None,
        series_every: int | None = 1,
        collect: bool = True,
    ) -> None:
        # The stream key is the first draw of the run's Generator, taken before Mesa uses it
        # (Mesa seeds its random.Random from it), so the key does not depend on Mesa's version.
        rng = np.random.default_rng(rng)
        key = streams.new_key(rng)
        super().__init__(rng=rng)
        # Named `spec`, not `scenario`: Mesa 3.5 has a `Model.scenario` of its own.
        self.spec = as_scenario(scenario)
        s = self.spec
        self.horizon = steps if steps is not None else s.steps
        self.series_every = series_every  # None: no series recorded
        self.collect = collect  # the DataCollector (for Mesa users; our runner does not need it)
        self.offers_version = 0  # bumped by offer events, so partners refresh their options
        self.key = key
        self.incumbent_id = s.incumbent
        self.patron_ids = s.patron_ids()
        self.partner_ids = s.partner_ids()
        index = {pid: i for i, pid in enumerate(self.partner_ids)}
        n = len(self.partner_ids)
        self._set_schedule(index, n)

        specs = {p.id: p for p in s.partners}
        names = {p.id: p.name for p in s.patrons}
        self.patrons = {
            pid: Patron(self, pid, names[pid], pid == s.incumbent) for pid in self.patron_ids
        }
        self.incumbent = self.patrons[s.incumbent]
        self.partners = [Partner(self, specs[pid], index[pid]) for pid in self.partner_ids]
        for partner in self.partners:
            partner.watched = [
                (index[peer], w) for peer, w in sorted(specs[partner.partner_id].watches.items())
            ]
        self._events_by_step: dict[int, list] = {}
        for e in s.events:
            self._events_by_step.setdefault(e.step, []).append(e)
        self._release_id_registry()

        self.now = 0  # steps completed (Mesa 3.5 keeps `time` for itself)
        self.hard_times = 0.0
        self.events: list[EventRecord] = []
        self.series: list[tuple] = []
        self._draw_block: list[StepDraws] = []
        self._draw_block_start = 0
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "aligned": lambda m: m.count_status("aligned"),
                "hedging": lambda m: m.count_status(HEDGING),
                "realigned": lambda m: m.count_status(REALIGNED),
                "collapsed": lambda m: m.count_status(COLLAPSED),
                "mean_trust": lambda m: sum(p.trust for p in m.partners) / len(m.partners),
                "mean_loyalty": lambda m: sum(p.loyalty for p in m.partners) / len(m.partners),
            }
        )
        self.incumbent.allocate()
        for partner in self.partners:
            partner.observe()
        if self.series_every:
            self._record_series()
        if self.collect:
            self.datacollector.collect(self)
        self.running = self.horizon > 0

    def _set_schedule(self, index: dict[str, int], n: int) -> None:
        """Per-partner arrays of the withdrawal schedule and the redirection of freed support."""
        self.withdrawal = withdrawal_schedule(self.spec, index)
        self.fallen = np.zeros(n)  # 1 for partners that collapsed while with the incumbent

    def _release_id_registry(self) -> None:
        """Mesa 3.3 keeps every model in the class-level `Agent._ids`; drop ours at once.

        All agents exist by now, so the counter is no longer needed, and without this
        thousands of runs in one process would keep every finished model alive.
        """
        registry = getattr(mesa.Agent, "_ids", None)
        if isinstance(registry, dict):
            registry.pop(self, None)

    # --- the step ---------------------------------------------------------------------------

    def step(self) -> None:
        """One step: events, draws, allocation, then all partners observe, decide, advance."""
        t = self.now
        self._apply_events(t)
        self.draws = self._draws_for(t)
        w = self.withdrawal
        self.hard_times = float(w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp))
        self.incumbent.allocate()
        for partner in self.partners:
            partner.observe()
        for partner in self.partners:
            partner.decide()
        for partner in self.partners:
            partner.advance()
        self.now = t + 1
        if self.series_every and (self.now % self.series_every == 0 or self.now == self.horizon):
            self._record_series()
        if self.collect:
            self.datacollector.collect(self)
        if self.now >= self.horizon:
            self.running = False

    def _draws_for(self, t: int) -> StepDraws:
        """The draws of step t, generated DRAW_BLOCK steps at a time (one numpy call each)."""
        if not self._draw_block_start <= t < self._draw_block_start + len(self._draw_block):
            n_steps = min(DRAW_BLOCK, max(self.horizon - t, 1))
            block = streams.uniforms(self.key, t, n_steps, len(self.partners))
            noise = streams.box_muller(
                block[:, streams.DRAW_LOYALTY_NOISE_A], block[:, streams.DRAW_LOYALTY_NOISE_B]
            )
            self._draw_block = [
                StepDraws(
                    noise[k].tolist(),
                    block[k, streams.DRAW_REALIGN].tolist(),
                    block[k, streams.DRAW_COLLAPSE].tolist(),
                )
                for k in range(n_steps)
            ]
            self._draw_block_start = t
        return self._draw_block[t - self._draw_block_start]

    def _apply_events(self, t: int) -> None:
        for e in self._events_by_step.get(t, ()):
            partner = self.partners[self.partner_ids.index(e.partner)]
            if e.kind == "offer":
                partner.offers[e.patron] = e.value
                self.offers_version += 1
            elif e.kind == "pressure":
                partner.pressure = e.value
            elif e.kind == "threat":
                partner.threat = e.value

    # --- records ----------------------------------------------------------------------------

    def record_event(
        self,
        partner: Partner,
        kind: str,
        origin: str | None,
        target: str | None,
        cause: str,
        trigger: str,
    ) -> None:
        """Record a partner's status change with its cause and trigger."""
        self.events.append(
            EventRecord(self.now + 1, partner.partner_id, kind, origin, target, cause, trigger)
        )

    def _record_series(self) -> None:
        """State after `self.now` steps (observed support: what it received in that step)."""
        for p in self.partners:
            self.series.append(
                (
                    self.now,
                    p.partner_id,
                    *(float(getattr(p, f)) for f in SERIES_FIELDS),
                    p.status,
                    p.patron,
                )
            )

    def count_status(self, status: str) -> int:
        """How many partners have this status now."""
        assert status in STATUSES
        return sum(1 for p in self.partners if p.status == status)

    def run(self) -> AllianceModel:
        """Step until the horizon and return the model."""
        while self.running:
            self.step()
        return self
