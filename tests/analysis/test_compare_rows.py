"""Every column of a comparison's rows worked out by hand from the batches' tables: counts,
proportions, intervals, tests, median steps and new patrons, paired and unpaired; the
columns' order and types; rows where one batch has no runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import LEVELS, REPS, make_batch, variant

from patronage.analysis.compare import compare, notes
from patronage.analysis.stats import (
    mcnemar_test,
    newcombe_independent,
    newcombe_paired,
    two_proportion_test,
)
from patronage.results.folder import Results

LEVEL = "param.withdrawal.level"
COLUMNS = [
    LEVEL,
    "partner",
    "outcome",
    "n_a",
    "k_a",
    "p_a",
    "n_b",
    "k_b",
    "p_b",
    "diff",
    "diff_low",
    "diff_high",
    "paired",
    "only_a",
    "only_b",
    "test",
    "p_value",
    "p_holm",
    "median_step_a",
    "median_step_b",
    "new_patrons_a",
    "new_patrons_b",
]


def happened(results: Results, level: float, partner: str, outcome: str) -> pd.Series:
    """The step of each run's first `outcome` (NaN when none), indexed by run id."""
    finals = results.finals()
    rows = finals[(finals[LEVEL] == level) & (finals["partner"] == partner)]
    return pd.Series(rows[f"{outcome}_step"].astype(float).to_numpy(), index=rows["run_id"])


def median_or_nan(steps: pd.Series) -> float:
    steps = steps.dropna()
    return float(steps.median()) if len(steps) else math.nan


def same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y)


def test_columns_in_order_and_counts_as_integers(base, cut):
    for frame in (compare(base, cut), compare(base, cut, paired=False)):
        assert list(frame.columns) == COLUMNS
        for col in ("n_a", "k_a", "n_b", "k_b"):
            assert frame[col].dtype == np.int64, col
        collapse = frame[frame["outcome"] == "collapse"]  # new patrons are for realignments
        assert (collapse["new_patrons_a"] == "-").all() and (collapse["new_patrons_b"] == "-").all()
        assert (frame["new_patrons_b"] != "-").any()


def test_unpaired_rows_by_hand(base, cut_seed1):
    frame = compare(base, cut_seed1)
    assert len(frame) == len(LEVELS) * len(base.partners) * 2
    for _, row in frame.iterrows():
        sa = happened(base, row[LEVEL], row["partner"], row["outcome"])
        sb = happened(cut_seed1, row[LEVEL], row["partner"], row["outcome"])
        k_a, k_b = int(sa.notna().sum()), int(sb.notna().sum())
        assert (row.n_a, row.k_a, row.n_b, row.k_b) == (len(sa), k_a, len(sb), k_b)
        assert row.p_a == k_a / len(sa) and row.p_b == k_b / len(sb)
        assert (row["diff"], row.diff_low, row.diff_high) == pytest.approx(
            newcombe_independent(k_b, len(sb), k_a, len(sa))
        )
        assert (row.p_value, row.test) == two_proportion_test(k_b, len(sb), k_a, len(sa))
        assert same(row.median_step_a, median_or_nan(sa))
        assert same(row.median_step_b, median_or_nan(sb))
    # the batches differ where it is checked: some rows have different medians on each side
    assert (frame["median_step_a"] != frame["median_step_b"]).any()


@pytest.mark.parametrize("order", ["base-cut", "cut-base"])
def test_paired_rows_by_hand(order, request):
    """Both ways round: the budget cut only adds outcomes here, so one way has discordant
    pairs in A's favour only and the other in B's only."""
    a, b = (request.getfixturevalue(name) for name in order.split("-"))
    frame = compare(a, b)
    discordant = 0
    for _, row in frame.iterrows():
        sa = happened(a, row[LEVEL], row["partner"], row["outcome"])
        sb = happened(b, row[LEVEL], row["partner"], row["outcome"]).reindex(sa.index)
        xa, xb = sa.notna().to_numpy(), sb.notna().to_numpy()
        both, neither = int((xa & xb).sum()), int((~xa & ~xb).sum())
        a_only, b_only = int((xa & ~xb).sum()), int((~xa & xb).sum())
        discordant += a_only + b_only
        assert (row.n_a, row.n_b) == (REPS, REPS)
        assert (row.k_a, row.k_b) == (both + a_only, both + b_only)
        assert (row.only_a, row.only_b) == (a_only, b_only)
        assert row.p_a == row.k_a / REPS and row.p_b == row.k_b / REPS
        assert (row["diff"], row.diff_low, row.diff_high) == pytest.approx(
            newcombe_paired(both, b_only, a_only, neither)
        )
        assert (row.p_value, row.test) == mcnemar_test(a_only, b_only)
        assert same(row.median_step_a, median_or_nan(sa))
        assert same(row.median_step_b, median_or_nan(sb))
    assert discordant > 0  # the budget cut changes some runs: the pairs are not all alike
    assert (frame["median_step_a"] != frame["median_step_b"]).any()


# --- new patrons ------------------------------------------------------------------------------


def test_new_patron_shares_largest_first_ties_by_name(base, cut):
    """Assad realigns to Russia in every run of this batch; the copy relabels the first
    realignments of three runs to "turkey" and of three later runs to "gulf": a tie, with
    turkey seen first."""
    events = base.events.copy()
    realign = events[(events["kind"] == "realign") & (events["partner"] == "assad")]
    runs = sorted(realign["run_id"].unique())
    assert len(runs) == 12 and set(realign["to"]) == {"russia"}
    to = events["to"].astype(object)
    to[realign.index[realign["run_id"].isin(runs[:3])]] = "turkey"
    to[realign.index[realign["run_id"].isin(runs[3:6])]] = "gulf"
    events["to"] = to
    relabelled = variant(base)
    relabelled.__dict__["events"] = events
    for other in (cut, variant(cut, replicates=10)):  # paired, then unpaired
        frame = compare(relabelled, other)
        row = frame[(frame[LEVEL] == 1) & (frame["partner"] == "assad")].iloc[0]
        assert row.outcome == "realign"
        assert row.new_patrons_a == "russia 0.50, gulf 0.25, turkey 0.25"
        assert row.new_patrons_b == "russia 1.00"


# --- a batch without runs at a swept value ----------------------------------------------------


def test_an_empty_sample_in_a_gives_nan_rows(base, reps10):
    """The mirror of test_compare_edges' empty B: A has no runs at level 1."""
    a = variant(reps10, keep_runs=lambda r: r[LEVEL] == 0)
    frame = compare(a, base)
    empty = frame[frame[LEVEL] == 1]
    assert len(empty) == 2 * len(base.partners)
    assert (empty["n_a"] == 0).all() and (empty["k_a"] == 0).all()
    assert (empty["n_b"] == REPS).all()
    for col in ("p_a", "diff", "p_value", "p_holm", "median_step_a"):
        assert empty[col].isna().all(), col
    assert (empty["test"] == "-").all()
    assert (empty["p_b"] == empty["k_b"] / REPS).all()


def test_a_paired_key_without_pairs_has_no_test(base, cut):
    """B's runs at level 1 all failed: the pairs there number 0. Those rows get no p-value
    (not McNemar's 1.0 for zero discordant pairs), so Holm adjusts over the other rows only."""
    b = variant(cut, keep_runs=lambda r: r[LEVEL] == 0)
    frame = compare(base, b)
    assert frame.attrs["paired"] is True
    empty = frame[frame[LEVEL] == 1]
    assert len(empty) == 2 * len(base.partners)
    assert (empty[["n_a", "k_a", "n_b", "k_b"]] == 0).all().all()
    for col in ("p_a", "p_b", "diff", "diff_low", "diff_high", "p_value", "p_holm"):
        assert empty[col].isna().all(), col
    assert (empty["test"] == "-").all()
    tested = frame[frame[LEVEL] == 0]
    assert tested["p_value"].notna().all() and (tested["n_a"] == REPS).all()
    assert notes(frame)[3].endswith(f"across all {len(tested)} rows of this table")
    assert notes(frame)[4] == (
        f"{REPS * len(base.partners)} run-partner rows without a pair in the other batch "
        "(failed runs) were left out"
    )


# --- the batches described --------------------------------------------------------------------


def test_batches_described_with_their_overrides(base, batch_root):
    two = make_batch(
        batch_root,
        "cut_two_sets",
        sets=("budget_cut.level=0.4", "withdrawal.start=6"),
        sweeps={"withdrawal.level": LEVELS},
    )
    frame = compare(base, two)
    described = (
        f"{two.path} (syria_withdrawal with budget_cut.level=0.4, withdrawal.start=6; "
        f"{two.manifest.runs.done} runs, {two.steps} steps, seed {two.seed})"
    )
    assert frame.attrs["b"] == described
    assert notes(frame)[1] == f"B: {described}"
    assert frame.attrs["a"] == (
        f"{base.path} (syria_withdrawal; {base.manifest.runs.done} runs, {base.steps} steps, "
        f"seed {base.seed})"
    )
