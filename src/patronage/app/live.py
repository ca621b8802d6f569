"""One run of the Mesa engine (the reference), stepped by the page: its state at each step.

The run is run k of the ensemble panel's batch (seeded as `patronage batch` seeds run k), so
at the horizon it ends as row k of that batch's runs table. The page steps it from a
playing thread while it draws it from another: every read is a snapshot taken under a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from patronage.engines.plan import single_plan
from patronage.model.model import AllianceModel
from patronage.model.outcomes import COLLAPSED, SERIES_FIELDS
from patronage.rng.seeds import run_seed_sequence
from patronage.scenario.loader import LoadedScenario

SERIES_COLUMNS = ("step", "partner", *SERIES_FIELDS, "status", "patron")
EVENT_COLUMNS = ("step", "partner", "kind", "from", "to", "cause")


@dataclass(frozen=True)
class PartnerState:
    """One partner at one step of a live run, as the page draws it."""

    partner: str
    status: str
    patron: str  # its patron now, or "collapsed"


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of the run after `step` steps (plain tuples: cheap to compare)."""

    step: int
    horizon: int
    states: tuple[PartnerState, ...]
    series: tuple[tuple, ...]  # rows of SERIES_COLUMNS
    events: tuple[tuple, ...]  # rows of EVENT_COLUMNS

    @property
    def finished(self) -> bool:
        """Whether the run has reached its horizon, so the page stops stepping it."""
        return self.step >= self.horizon

    def series_frame(self) -> pd.DataFrame:
        """The series so far as a table, for the trajectory plot."""
        return pd.DataFrame(list(self.series), columns=list(SERIES_COLUMNS))

    def events_frame(self) -> pd.DataFrame:
        """The events so far as a table, for the event log."""
        return pd.DataFrame(list(self.events), columns=list(EVENT_COLUMNS))


def _state(partner) -> PartnerState:
    collapsed = partner.status == COLLAPSED
    return PartnerState(
        partner.partner_id, partner.status, COLLAPSED if collapsed else partner.patron
    )


class LiveRun:
    """A Mesa model stepped one month at a time."""

    def __init__(self, loaded: LoadedScenario, batch_seed: int = 0, run_id: int = 0) -> None:
        self.batch_seed = batch_seed
        self.run_id = run_id
        # run k's scenario: its own draws of the ranged inputs, as a batch's run k has them
        plan = single_plan(loaded, [run_id])
        scenario = plan.scenario(0, plan.draws(plan.keys(batch_seed)))
        rng = np.random.default_rng(run_seed_sequence(batch_seed, run_id))
        self.model = AllianceModel(scenario, rng=rng, collect=False)
        self.lock = threading.Lock()

    def step(self) -> bool:
        """Advance one month; False at the horizon."""
        with self.lock:
            if not self.model.running:
                return False
            self.model.step()
            return True

    @property
    def steps_done(self) -> int:
        """How many steps the model has taken, read under the lock."""
        with self.lock:
            return int(self.model.now)

    def snapshot(self) -> Snapshot:
        """A consistent copy of the model's state for the page to draw, taken under the lock."""
        with self.lock:
            m = self.model
            states = tuple(
                PartnerState(
                    p.partner_id, p.status, COLLAPSED if p.status == COLLAPSED else p.patron
                )
                for p in m.partners
            )
            events = tuple(
                (e.step, e.partner, e.kind, e.origin, e.target or "", e.cause) for e in m.events
            )
            return Snapshot(int(m.now), int(m.horizon), states, tuple(m.series), events)
