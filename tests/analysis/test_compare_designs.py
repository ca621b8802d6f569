"""Comparisons of designs beyond one sweep: Latin hypercube samples (pooled per sweep value),
two sweep columns (the order of the rows, the refusals and the common ground), a sweep wider
than the other batch's, and a horizon cut applied to each batch.
"""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_fixtures import LEVELS, REPS, STEPS, make_batch, variant

from patronage.analysis.compare import compare, notes
from patronage.analysis.matching import outcomes
from patronage.errors import InputError
from patronage.results.folder import Results

SAMPLE_REPS = 4
N_SAMPLES = 3


@pytest.fixture(scope="module")
def lhs(batch_root):
    """withdrawal.level drawn by Latin hypercube: 3 samples x 4 replicates, no sweep."""
    return make_batch(
        batch_root,
        "lhs",
        samples={"withdrawal.level": (0.0, 1.0)},
        n_samples=N_SAMPLES,
        replicates=SAMPLE_REPS,
    )


@pytest.fixture(scope="module")
def lhs_cut(batch_root):
    """The same samples and seed as `lhs` with a budget cut: pairs run by run with lhs."""
    return make_batch(
        batch_root,
        "lhs_cut",
        sets=("budget_cut.level=0.4",),
        samples={"withdrawal.level": (0.0, 1.0)},
        n_samples=N_SAMPLES,
        replicates=SAMPLE_REPS,
    )


@pytest.fixture(scope="module")
def lhs_two(batch_root):
    """Two fields sampled, given out of alphabetical order."""
    return make_batch(
        batch_root,
        "lhs_two",
        samples={"withdrawal.level": (0.0, 1.0), "budget_cut.level": (0.0, 0.5)},
        n_samples=N_SAMPLES,
        replicates=SAMPLE_REPS,
    )


@pytest.fixture(scope="module")
def grid(batch_root):
    """Two sweeps, each given in descending order: run order is not the table's order."""
    return make_batch(
        batch_root,
        "grid_descending",
        sweeps={"withdrawal.level": [1, 0], "withdrawal.start": [6, 0]},
        replicates=3,
    )


@pytest.fixture(scope="module")
def grid_fixed(batch_root):
    """Unswept, at one of grid's points (level 1, start 6)."""
    return make_batch(
        batch_root, "grid_fixed", sets=("withdrawal.level=1", "withdrawal.start=6"), replicates=3
    )


@pytest.fixture(scope="module")
def levels3(batch_root):
    """A wider sweep than base's: 0, 0.5 and 1."""
    return make_batch(batch_root, "levels3", sweeps={"withdrawal.level": [0, 0.5, 1]})


def refusal(*args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        compare(*args, **kwargs)
    return str(info.value)


# --- Latin hypercube samples ------------------------------------------------------------------


def test_samples_are_pooled_and_said_so(lhs, lhs_cut):
    frame = compare(lhs, lhs_cut)
    assert frame.attrs["paired"] is True  # same seed, same samples: common random numbers
    assert notes(frame)[4:] == ["Latin hypercube samples of withdrawal.level are pooled"]
    assert "param.withdrawal.level" not in frame.columns  # not grouped on
    assert list(frame["partner"]) == [p for p in lhs.partners for _ in range(2)]
    assert (frame["n_a"] == N_SAMPLES * SAMPLE_REPS).all()
    assert (frame["n_b"] == N_SAMPLES * SAMPLE_REPS).all()


def test_samples_of_either_batch_are_named_in_alphabetical_order(lhs, lhs_two, unswept):
    pooled = "Latin hypercube samples of budget_cut.level, withdrawal.level are pooled"
    assert notes(compare(lhs, lhs_two))[4:] == [pooled]
    assert notes(compare(lhs_two, lhs))[4:] == [pooled]
    only_b = compare(unswept, lhs)
    assert notes(only_b)[4:] == ["Latin hypercube samples of withdrawal.level are pooled"]
    assert (only_b["n_b"] == N_SAMPLES * SAMPLE_REPS).all()


# --- two sweep columns ------------------------------------------------------------------------


def test_rows_follow_the_swept_values_then_the_partners(grid):
    frame = compare(grid, grid)
    level, start = "param.withdrawal.level", "param.withdrawal.start"
    assert list(frame.columns[:4]) == [level, start, "partner", "outcome"]
    want = [
        (lv, st, partner, outcome)
        for lv in (0, 1)
        for st in (0, 6)
        for partner in grid.partners
        for outcome in ("realign", "collapse")
    ]
    got = list(frame[[level, start, "partner", "outcome"]].itertuples(index=False, name=None))
    assert got == want
    assert (frame["n_a"] == 3).all() and frame.attrs["paired"] is True


def test_two_sweeps_against_other_fields_are_refused(grid, base):
    assert refusal(grid, base, common=True) == (
        "compare: the batches sweep different fields (A: withdrawal.level, withdrawal.start; "
        "B: withdrawal.level); compare batches that sweep the same fields"
    )
    assert refusal(base, grid, common=True) == (
        "compare: the batches sweep different fields (A: withdrawal.level; "
        "B: withdrawal.level, withdrawal.start); compare batches that sweep the same fields"
    )


def test_the_second_of_two_sweeps_is_checked_too(grid):
    """The first field's values agree; the second's do not."""
    other = variant(grid, sweeps={"withdrawal.level": [1, 0], "withdrawal.start": [6, 3]})
    assert refusal(grid, other) == (
        "compare: the batches sweep withdrawal.start over different values (only in A: 0; only "
        "in B: 3); add --common to compare on the values both have"
    )


def test_two_sweeps_against_an_unswept_batch(grid, grid_fixed, unswept):
    swept = "A sweeps withdrawal.level (1, 0); withdrawal.start (6, 0)"
    assert refusal(grid, unswept, common=True) == (
        f"compare: {swept} but B sweeps nothing; compare batches with the same --sweep; B's own "
        "value (withdrawal.level = 1, withdrawal.start = 3) is not among the swept values"
    )
    assert refusal(grid, grid_fixed) == (
        f"compare: {swept} but B sweeps nothing; compare batches with the same --sweep; add "
        "--common to compare A at B's own withdrawal.level = 1, withdrawal.start = 6"
    )
    frame = compare(grid, grid_fixed, common=True)
    assert notes(frame)[4:] == [
        f"{swept}; compared at B's own value withdrawal.level = 1, withdrawal.start = 6"
    ]
    assert set(frame["param.withdrawal.level"]) == {1} and set(frame["param.withdrawal.start"]) == {
        6
    }
    assert (frame["n_a"] == 3).all() and (frame["n_b"] == 3).all()


def test_a_field_the_unswept_batch_lacks(unswept, no_hamas):
    """A sweeps a field of a partner B does not have: B has no value there to compare at."""
    a = variant(unswept, sweeps={"partners.hamas.loyalty": [0.3, 0.6]})
    b = variant(no_hamas, sweeps={})
    assert refusal(a, b, common=True) == (
        "compare: A sweeps partners.hamas.loyalty (0.3, 0.6) but B sweeps nothing; compare "
        "batches with the same --sweep; B's own value (partners.hamas.loyalty = None) is not "
        "among the swept values"
    )


# --- a wider sweep ----------------------------------------------------------------------------


def test_a_wider_sweep_is_compared_on_the_values_both_have(base, levels3):
    assert refusal(base, levels3) == (
        "compare: the batches sweep withdrawal.level over different values (only in A: none; "
        "only in B: 0.5); add --common to compare on the values both have"
    )
    frame = compare(base, levels3, common=True)
    assert notes(frame)[4:] == [
        "withdrawal.level: compared on the values both batches swept (0, 1); left out: only in "
        "A none, only in B 0.5"
    ]
    assert list(frame["param.withdrawal.level"].drop_duplicates()) == [0, 1]
    assert (frame["n_a"] == REPS).all() and (frame["n_b"] == REPS).all()
    assert realign_counts(frame, "k_b") == {
        key: k for key, k in by_hand(levels3, STEPS).items() if key[0] != 0.5
    }


# --- the horizon cut --------------------------------------------------------------------------


def by_hand(results: Results, horizon: int) -> dict[tuple[float, str], int]:
    """Per (level, partner): runs whose first realignment came at a step <= horizon."""
    finals = results.finals()
    counted = finals["realign_step"].astype(float) <= horizon
    return counted.groupby([finals["param.withdrawal.level"], finals["partner"]]).sum().to_dict()


def new_patrons_by_hand(results: Results, partner: str, level: float, horizon: int) -> str:
    """Shares of the first realignments within the horizon by new patron, from the events
    table: largest share first, ties by name; "-" when there is none."""
    runs = results.runs[results.runs["param.withdrawal.level"] == level]["run_id"]
    ev = results.events
    first = ev[(ev["kind"] == "realign") & (ev["partner"] == partner) & ev["run_id"].isin(runs)]
    first = first.drop_duplicates("run_id")
    counts = first[first["step"] <= horizon]["to"].value_counts()
    if counts.empty:
        return "-"
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count / counts.sum():.2f}" for name, count in items)


def realign_counts(frame, column: str) -> dict[tuple[float, str], int]:
    rows = frame[frame["outcome"] == "realign"]
    level = rows["param.withdrawal.level"]
    return {(lv, p): k for lv, p, k in zip(level, rows["partner"], rows[column], strict=True)}


def test_outcomes_are_cut_at_the_batch_horizon_by_default(base):
    pd.testing.assert_frame_equal(outcomes(base), outcomes(base, STEPS))
    assert outcomes(base, 24)["realign"].sum() < outcomes(base)["realign"].sum()


def test_the_horizon_cuts_batch_b_too(base, short):
    """B is the longer batch here: its events after step 24 must not count."""
    frame = compare(short, base, horizon=24)
    assert realign_counts(frame, "k_b") == by_hand(base, 24)
    assert realign_counts(frame, "k_a") == by_hand(short, 24)
    assert by_hand(base, 24) != by_hand(base, STEPS)  # the cut changes something here
    assert frame["median_step_b"].max() <= 24
    rows = frame[frame["outcome"] == "realign"]
    for level, partner, shares in zip(
        rows["param.withdrawal.level"], rows["partner"], rows["new_patrons_b"], strict=True
    ):
        assert shares == new_patrons_by_hand(base, partner, level, 24), (level, partner)


@pytest.mark.parametrize("horizon", [23, 24, 25, 34])
def test_an_event_at_the_horizon_counts(base, horizon):
    """Realignments at steps 23, 24 and 34 in this batch (34 the only one at level 0 for
    pmf_leadership): each counts, with its new patron, when the horizon is its step."""
    steps = base.finals()["realign_step"].astype(float)
    assert (steps == horizon).any()
    frame = compare(base, base, horizon=horizon)
    assert realign_counts(frame, "k_a") == by_hand(base, horizon)
    assert realign_counts(frame, "k_b") == by_hand(base, horizon)
    rows = frame[frame["outcome"] == "realign"]
    for side in ("a", "b"):  # a realignment counted has its new patron named
        assert ((rows[f"k_{side}"] == 0) == (rows[f"new_patrons_{side}"] == "-")).all()
    levels = set(compare(base, base, horizon=24)["param.withdrawal.level"])
    assert levels == set(map(float, LEVELS))
