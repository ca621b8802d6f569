"""Comparisons at their edges: when runs are paired and when not (and why, word for word),
the notes printed under a table, batches with failed runs or an empty sample, and every
refusal of mismatched batches with its exact message.
"""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from analysis_fixtures import REPS, STEPS, variant

from patronage.analysis.compare import compare, notes
from patronage.analysis.matching import pairing
from patronage.errors import InputError
from patronage.reporting.comparison import display, render_comparison
from patronage.results.folder import Results

UNPAIRED_METHOD = (
    "unpaired: two-proportion z test (Fisher's exact test where an expected count is below 5) "
    "and Newcombe's (1998) hybrid score interval (method 10), because "
)
PAIRED_METHOD = (
    "paired: McNemar's test (exact binomial on the discordant pairs when fewer than 25, else "
    "chi-square with continuity correction) and Newcombe's (1998b) paired score interval "
    "(method 10), because "
)
PAIRED_REASON = (
    "both batches used batch seed 0 and the same design (2 points x 15 replicates), so run k "
    "of A and run k of B share their random numbers"
)
DESIGNS_DIFFER = "the designs differ (sweeps, samples or replicates)"


def describe(results: Results, extra: str = "") -> str:
    return (
        f"{results.path} (syria_withdrawal{extra}; {results.manifest.runs.done} runs, "
        f"{results.steps} steps, seed {results.seed})"
    )


def holm_note(n: int) -> str:
    return (
        "diff = p_b - p_a with a 95% interval; p_holm: p-values Holm-adjusted across all "
        f"{n} rows of this table"
    )


# --- pairing ----------------------------------------------------------------------------------


def test_same_seed_and_design_pair(base, cut):
    assert pairing(base, cut) == (True, PAIRED_REASON)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"seed": 1}, "the batch seeds differ (A 0, B 1)"),
        ({"seed_derivation": "something else"}, "the batches derive their run seeds differently"),
        ({"replicates": 10}, DESIGNS_DIFFER),
        ({"sweeps": {"withdrawal.level": [0, 0.5]}}, DESIGNS_DIFFER),
        ({"points": [{"withdrawal.level": 0}, {"withdrawal.level": 0.5}]}, DESIGNS_DIFFER),
    ],
    ids=["seed", "derivation", "replicates", "sweeps", "points"],
)
def test_what_stops_pairing(base, cut, changes, reason):
    assert pairing(base, variant(cut, **changes)) == (False, reason)
    assert pairing(variant(cut, **changes), base) == (False, reason.replace("A 0, B 1", "A 1, B 0"))


def test_no_common_run_id_stops_pairing(base, cut):
    assert pairing(base, variant(cut, keep_runs=lambda r: r["run_id"] < 0)) == (
        False,
        "no run id is in both batches",
    )


def test_one_point_one_replicate_is_said_in_the_singular(base):
    one = variant(base, keep_runs=lambda r: r["run_id"] == 0, replicates=1, points=[{}])
    assert pairing(one, one)[1] == (
        "both batches used batch seed 0 and the same design (1 point x 1 replicate), so run k of "
        "A and run k of B share their random numbers"
    )


def test_same_seed_and_points_but_other_replicates_compare_unpaired(base, reps10):
    """Run k of a 15-replicate batch and run k of a 10-replicate one are different design
    points: pairing them would give a wrong McNemar test and interval."""
    frame = compare(base, reps10)
    assert frame.attrs["paired"] is False and not frame["paired"].any()
    assert frame.attrs["paired_reason"] == DESIGNS_DIFFER
    assert set(frame["test"]) <= {"z test", "Fisher exact"}
    assert (frame["n_a"] == REPS).all() and (frame["n_b"] == 10).all()
    assert frame["only_a"].isna().all() and frame["only_b"].isna().all()
    assert notes(frame) == [
        f"A: {describe(base)}",
        f"B: {describe(reps10)}",
        UNPAIRED_METHOD + DESIGNS_DIFFER,
        holm_note(len(frame)),
    ]
    with pytest.raises(InputError) as info:
        compare(base, reps10, paired=True)
    assert str(info.value) == f"compare: cannot pair the runs: {DESIGNS_DIFFER}"


# --- notes ------------------------------------------------------------------------------------


def test_paired_notes_are_exactly_these(base, cut):
    """No note on rows left out when every run has its pair."""
    frame = compare(base, cut)
    assert notes(frame) == [
        f"A: {describe(base)}",
        f"B: {describe(cut, ' with budget_cut.level=0.4')}",
        PAIRED_METHOD + PAIRED_REASON,
        holm_note(len(frame)),
    ]
    assert frame.attrs["a"] == describe(base) and frame.attrs["horizon"] == STEPS
    assert frame.attrs["left_out"] == {"only_a": [], "only_b": []}


def test_declined_pairing_says_so(base, cut):
    frame = compare(base, cut, paired=False)
    reason = "unpaired comparison asked for, although " + PAIRED_REASON
    assert frame.attrs["paired_reason"] == reason
    assert notes(frame)[2] == UNPAIRED_METHOD + reason
    assert compare(base, cut, paired=True).attrs["paired"] is True


def test_failed_runs_are_left_out_of_a_paired_comparison_with_a_note(base, cut):
    failed = {3, 4, 20}  # two at level 0 (runs 0-14), one at level 1 (runs 15-29)
    b = variant(cut, keep_runs=lambda r: ~r["run_id"].isin(failed))
    frame = compare(base, b)
    assert frame.attrs["paired"] is True
    n_partners = len(base.partners)
    assert notes(frame)[4:] == [
        f"{len(failed) * n_partners} run-partner rows without a pair in the other batch (failed "
        "runs) were left out"
    ]
    level = frame["param.withdrawal.level"]
    assert (frame.loc[level == 0, "n_a"] == REPS - 2).all()
    assert (frame.loc[level == 1, "n_b"] == REPS - 1).all()


def test_an_empty_sample_gives_nan_rows_not_an_error(base, reps10):
    """B has no runs at level 1 (all failed): those rows have n_b = 0 and no difference or
    test; Holm adjusts over the rows that have a p-value; the table still prints."""
    b = variant(reps10, keep_runs=lambda r: r["param.withdrawal.level"] == 0)
    frame = compare(base, b)
    empty = frame[frame["param.withdrawal.level"] == 1]
    assert len(empty) == 2 * len(base.partners)
    assert (empty["n_b"] == 0).all() and (empty["k_b"] == 0).all() and (empty["n_a"] == REPS).all()
    for col in ("p_b", "diff", "diff_low", "diff_high", "p_value", "p_holm"):
        assert empty[col].isna().all(), col
    assert (empty["test"] == "-").all()
    n_tested = int(frame["p_value"].notna().sum())
    assert n_tested == len(frame) - len(empty)
    assert notes(frame)[3] == holm_note(n_tested)
    shown = display(frame)[frame["param.withdrawal.level"] == 1]
    assert (shown["B"] == "-").all() and (shown["B - A [95% CI]"] == "-").all()
    assert (shown["p"] == "-").all() and (shown["p (Holm)"] == "-").all()
    assert "nan" not in render_comparison(frame, "table")


# --- refusals ---------------------------------------------------------------------------------


def refusal(*args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        compare(*args, **kwargs)
    return str(info.value)


def test_partner_refusals(base, no_hamas):
    assert refusal(base, no_hamas) == (
        "compare: the batches have different partners (only in A: hamas; only in B: none); add "
        "--common to compare the partners both have"
    )
    assert refusal(no_hamas, base) == (
        "compare: the batches have different partners (only in A: none; only in B: hamas); add "
        "--common to compare the partners both have"
    )
    frame = compare(base, no_hamas, common=True)
    assert notes(frame)[4] == (
        f"compared on the {len(base.partners) - 1} partners both batches have; left out only in "
        "A: hamas; only in B: none"
    )
    lone = variant(no_hamas, partners=["zz"])
    assert refusal(base, lone, common=True) == (
        f"compare: the batches have no partner in common (only in A: {', '.join(base.partners)}; "
        "only in B: zz)"
    )


def test_horizon_refusals_and_the_cut(base, short):
    assert refusal(base, short) == (
        "compare: the batches have different horizons (A 48 steps, B 24 steps); add --horizon N "
        "with N <= 24 to cut both to N steps"
    )
    for bad in (25, -1):
        assert refusal(base, short, horizon=bad) == (
            f"--horizon: must be between 0 and 24 (the shorter horizon: A 48 steps, B 24 "
            f"steps), got {bad}"
        )
    frame = compare(base, short, horizon=24)
    assert notes(frame)[4:] == [
        "both batches cut to a horizon of 24 steps (A ran 48, B 24): outcomes count when their "
        "first event came at a step <= 24"
    ]
    assert compare(base, short, horizon=0).attrs["horizon"] == 0  # the edges are accepted
    assert notes(compare(base, base, horizon=STEPS))[4:] == []  # no cut: no note


def test_sweep_refusals(base, unswept, other_levels):
    assert refusal(base, unswept) == (
        "compare: A sweeps withdrawal.level (0, 1) but B sweeps nothing; compare batches with "
        "the same --sweep; add --common to compare A at B's own withdrawal.level = 1"
    )
    assert refusal(unswept, base) == (
        "compare: B sweeps withdrawal.level (0, 1) but A sweeps nothing; compare batches with "
        "the same --sweep; add --common to compare B at A's own withdrawal.level = 1"
    )
    assert notes(compare(base, unswept, common=True))[4:] == [
        "A sweeps withdrawal.level (0, 1); compared at B's own value withdrawal.level = 1"
    ]
    assert refusal(base, other_levels) == (
        "compare: the batches sweep withdrawal.level over different values (only in A: 1; only "
        "in B: 0.5); add --common to compare on the values both have"
    )
    assert notes(compare(base, other_levels, common=True))[4:] == [
        "withdrawal.level: compared on the values both batches swept (0); left out: only in A "
        "1, only in B 0.5"
    ]
    disjoint = variant(other_levels, sweeps={"withdrawal.level": [0.25, 0.5]})
    assert refusal(base, disjoint, common=True) == (
        "compare: the batches sweep withdrawal.level over different values (only in A: 0, 1; "
        "only in B: 0.25, 0.5); no value is in both"
    )
    other_field = variant(other_levels, sweeps={"withdrawal.start": [0, 6]})
    assert refusal(base, other_field, common=True) == (
        "compare: the batches sweep different fields (A: withdrawal.level; B: withdrawal.start); "
        "compare batches that sweep the same fields"
    )


def test_an_unswept_batch_outside_the_sweep_is_refused_even_with_common(base, unswept):
    b = Results(unswept.path, unswept.manifest)
    elsewhere = copy.deepcopy(unswept.resolved)  # the scenario as run, with another level
    elsewhere["withdrawal"]["level"] = 0.5
    b.__dict__["resolved"] = elsewhere
    assert refusal(base, b, common=True) == (
        "compare: A sweeps withdrawal.level (0, 1) but B sweeps nothing; compare batches with "
        "the same --sweep; B's own value (withdrawal.level = 0.5) is not among the swept values"
    )


def test_compare_opens_folders_by_path(base, cut):
    frame = compare(str(base.path), cut.path)
    pd.testing.assert_frame_equal(frame, compare(base, cut))
    assert not math.isnan(frame["p_value"].iloc[0])


# --- new patrons ------------------------------------------------------------------------------


def shares_of_new_patrons(results: Results, partner: str, level: float) -> str:
    """Shares of the first realignments by new patron, worked out from the events table:
    largest share first, ties by name; "-" when the partner never realigned."""
    runs = results.runs[results.runs["param.withdrawal.level"] == level]["run_id"]
    ev = results.events
    first = ev[(ev["kind"] == "realign") & (ev["partner"] == partner) & ev["run_id"].isin(runs)]
    counts = first.drop_duplicates("run_id")["to"].value_counts()
    if counts.empty:
        return "-"
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count / counts.sum():.2f}" for name, count in items)


@pytest.mark.parametrize("other", ["cut", "reps10"])  # paired, then unpaired
def test_new_patron_shares_on_realign_rows(base, other, request):
    frame = compare(base, request.getfixturevalue(other))
    realign = frame[frame["outcome"] == "realign"]
    for _, row in realign.iterrows():
        level = row["param.withdrawal.level"]
        assert row["new_patrons_a"] == shares_of_new_patrons(base, row["partner"], level)
    assert (realign["new_patrons_a"] == "-").any() and (realign["new_patrons_a"] != "-").any()
    assert (frame.loc[frame["outcome"] == "collapse", "new_patrons_a"] == "-").all()
    assert frame["paired"].tolist() == [other == "cut"] * len(frame)


def test_a_frame_without_notes_has_none():
    assert notes(pd.DataFrame()) == []
