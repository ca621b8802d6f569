"""One run of the Mesa engine (the reference), stepped by the page: its state at each step.

The run is run k of the ensemble panel's batch (seeded as `patronage batch` seeds run k), so
at the horizon it ends as row k of that batch's runs table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from patronage.model.model import AllianceModel
from patronage.model.outcomes import SERIES_FIELDS
from patronage.rng.seeds import run_seed_sequence
from patronage.scenario.schema import Scenario

SERIES_COLUMNS = ("step", "partner", *SERIES_FIELDS, "status", "patron")


@dataclass(frozen=True)
class PartnerState:
    partner: str
    status: str
    patron: str  # its patron now, or "collapsed"


class LiveRun:
    """A Mesa model stepped one month at a time, with what the page shows of it."""

    def __init__(self, scenario: Scenario, batch_seed: int = 0, run_id: int = 0) -> None:
        self.scenario = scenario
        self.batch_seed = batch_seed
        self.run_id = run_id
        rng = np.random.default_rng(run_seed_sequence(batch_seed, run_id))
        self.model = AllianceModel(scenario, rng=rng, collect=False)

    @property
    def step_count(self) -> int:
        return int(self.model.now)

    @property
    def horizon(self) -> int:
        return int(self.model.horizon)

    @property
    def finished(self) -> bool:
        return not self.model.running

    def step(self) -> bool:
        """Advance one month; False at the horizon."""
        if not self.model.running:
            return False
        self.model.step()
        return True

    def states(self) -> list[PartnerState]:
        return [
            PartnerState(
                p.partner_id, p.status, "collapsed" if p.status == "collapsed" else p.patron
            )
            for p in self.model.partners
        ]

    def series(self) -> pd.DataFrame:
        """Loyalty, trust, dependence (and the rest) of every partner at every step so far."""
        return pd.DataFrame(self.model.series, columns=list(SERIES_COLUMNS))

    def events(self) -> pd.DataFrame:
        """The events so far: step, partner, kind, from, to and the cause that tipped it."""
        rows = [
            (e.step, e.partner, e.kind, e.origin, e.target or "", e.cause)
            for e in self.model.events
        ]
        return pd.DataFrame(rows, columns=["step", "partner", "kind", "from", "to", "cause"])
