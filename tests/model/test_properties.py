"""Property tests: for any valid scenario, scores stay in [0, 1] and nothing is NaN.

Scenarios come from the hypothesis strategy in conftest.py: 1-6 partners with random
scores, watches, offers and affinities, 0-3 rivals, a random withdrawal (targets, level,
start, ramp, redirection), budget cut, timeline of events and coefficients anywhere in their
allowed ranges. Each example is run for 30 steps. derandomize=True keeps CI reproducible.
"""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patronage.model.agents import STATUSES
from patronage.model.model import SERIES_FIELDS, AllianceModel
from patronage.scenario.loader import check_references
from patronage.scenario.schema import NONE_PATRON, Scenario

SERIES_COLUMNS = ["step", "partner", *SERIES_FIELDS, "status", "patron"]

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def valid(data: dict) -> Scenario:
    scenario = Scenario.model_validate(data)
    assert check_references(scenario) is None
    return scenario


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_scores_stay_in_range_and_finite(scenario_strategy, data, seed):
    scenario = valid(data.draw(scenario_strategy))
    model = AllianceModel(scenario, rng=seed)
    model.run()
    df = pd.DataFrame(model.series, columns=SERIES_COLUMNS)
    assert len(df) == (scenario.steps + 1) * len(scenario.partners)
    numeric = df[["loyalty", "dependence", "trust", "expected", "support", "strength", "gap"]]
    assert not numeric.isna().any().any()
    assert all(math.isfinite(v) for v in numeric.to_numpy().ravel())
    for score in ("loyalty", "dependence", "trust"):
        assert df[score].between(0.0, 1.0).all(), score
    assert (df.strength >= 0).all()
    assert (df.support >= 0).all()
    assert set(df.status) <= set(STATUSES)
    assert set(df.patron) <= {*scenario.patron_ids(), NONE_PATRON}
    # the final state of the agents agrees with the last row of the series
    for partner in model.partners:
        assert 0.0 <= partner.loyalty <= 1.0
        assert 0.0 <= partner.dependence <= 1.0
        assert 0.0 <= partner.trust <= 1.0
        assert partner.strength >= 0.0
        assert partner.status in STATUSES
    # a collapsed partner stays collapsed
    for _, rows in df.groupby("partner"):
        statuses = rows.sort_values("step").status.tolist()
        if "collapsed" in statuses:
            first = statuses.index("collapsed")
            assert set(statuses[first:]) == {"collapsed"}


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_every_change_of_status_or_patron_is_an_event(scenario_strategy, data, seed):
    """Events and series tell the same story: one event per change, none without one."""
    scenario = valid(data.draw(scenario_strategy))
    model = AllianceModel(scenario, rng=seed).run()
    df = pd.DataFrame(model.series, columns=SERIES_COLUMNS)
    changes = set()
    for partner, rows in df.groupby("partner"):
        rows = rows.sort_values("step")
        state = list(zip(rows.status, rows.patron, strict=True))
        for step, before, after in zip(rows.step.iloc[1:], state, state[1:], strict=False):
            if before != after:
                changes.add((partner, int(step)))
    events = [(e.partner, e.step) for e in model.events]
    assert len(events) == len(set(events)), "at most one event per partner and step"
    assert set(events) == changes
