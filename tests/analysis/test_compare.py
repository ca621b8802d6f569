"""Comparing two batches: paired (common random numbers) against unpaired comparisons,
refusals of mismatched batches. The statistics themselves: test_stats.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_fixtures import LEVELS, REPS
from scipy import stats

from patronage.analysis.compare import compare, notes
from patronage.analysis.stats import (
    holm,
    mcnemar_test,
    newcombe_independent,
    newcombe_paired,
    two_proportion_test,
)
from patronage.cli import main as cli
from patronage.errors import InputError
from patronage.reporting.comparison import render_comparison
from patronage.results.folder import Results

# --- batches: paired and unpaired ------------------------------------------------------------


def _runs_outcome(results: Results, partner: str, level: float, outcome: str, horizon=None):
    finals = results.finals()
    rows = finals[(finals["param.withdrawal.level"] == level) & (finals["partner"] == partner)]
    step = rows[f"{outcome}_step"].astype(float)
    horizon = results.steps if horizon is None else horizon
    return rows["run_id"].to_numpy(), (step <= horizon).to_numpy()


def test_same_seed_and_design_compare_run_by_run(base, cut):
    frame = compare(base, cut)
    assert frame.attrs["paired"] is True
    assert frame["paired"].all()
    assert set(frame["test"]) <= {"McNemar exact", "McNemar chi2 (cc)"}
    assert list(frame.columns[:3]) == ["param.withdrawal.level", "partner", "outcome"]
    assert len(frame) == len(LEVELS) * len(base.partners) * 2
    assert (frame["n_a"] == REPS).all() and (frame["n_b"] == REPS).all()
    # discordant pairs and the difference agree
    assert ((frame["k_b"] - frame["k_a"]) == (frame["only_b"] - frame["only_a"])).all()
    assert np.allclose(frame["diff"], (frame["only_b"] - frame["only_a"]) / frame["n_a"])
    for row in frame.itertuples():
        assert row.p_value == pytest.approx(mcnemar_test(row.only_a, row.only_b)[0])
        assert row.diff_low <= row.diff + 1e-12 and row.diff <= row.diff_high + 1e-12
    # one row by hand from the runs tables, joined on run_id
    row = frame[
        (frame["param.withdrawal.level"] == 1)
        & (frame["partner"] == "assad")
        & (frame["outcome"] == "realign")
    ].iloc[0]
    ids_a, xa = _runs_outcome(base, "assad", 1.0, "realign")
    ids_b, xb = _runs_outcome(cut, "assad", 1.0, "realign")
    assert (ids_a == ids_b).all()
    assert row.only_a == int((xa & ~xb).sum()) and row.only_b == int((~xa & xb).sum())
    both, neither = int((xa & xb).sum()), int((~xa & ~xb).sum())
    want = newcombe_paired(both, row.only_b, row.only_a, neither)
    assert (row["diff"], row.diff_low, row.diff_high) == pytest.approx(want)
    text = render_comparison(frame, "table")
    assert "paired: McNemar" in text and "share their random numbers" in text
    assert f"Holm-adjusted across all {len(frame)} rows" in text


def test_different_seeds_compare_as_independent_samples(base, cut_seed1):
    frame = compare(base, cut_seed1)
    assert frame.attrs["paired"] is False
    assert not frame["paired"].any()
    assert frame["only_a"].isna().all()
    assert "seeds differ" in frame.attrs["paired_reason"]
    for row in frame.itertuples():
        p, name = two_proportion_test(row.k_b, row.n_b, row.k_a, row.n_a)
        assert row.test == name and row.p_value == pytest.approx(p)
        table = [[row.k_b, row.n_b - row.k_b], [row.k_a, row.n_a - row.k_a]]
        if name == "Fisher exact":
            assert row.p_value == pytest.approx(min(1.0, stats.fisher_exact(table)[1]))
        else:
            chi2 = stats.chi2_contingency(table, correction=False)
            assert row.p_value == pytest.approx(chi2.pvalue)
        want = newcombe_independent(row.k_b, row.n_b, row.k_a, row.n_a)
        assert (row.diff, row.diff_low, row.diff_high) == pytest.approx(want)
    assert "unpaired: two-proportion z test" in "\n".join(notes(frame))
    with pytest.raises(InputError, match="cannot pair the runs: the batch seeds differ"):
        compare(base, cut_seed1, paired=True)


def test_pairing_can_be_declined(base, cut):
    frame = compare(base, cut, paired=False)
    assert frame.attrs["paired"] is False and not frame["paired"].any()
    assert "unpaired comparison asked for" in frame.attrs["paired_reason"]


def test_holm_column_covers_the_whole_table(base, cut_seed1):
    frame = compare(base, cut_seed1)
    assert np.allclose(frame["p_holm"], holm(frame["p_value"]), equal_nan=True)
    assert (frame["p_holm"] >= frame["p_value"] - 1e-15).all()


def test_median_step_and_new_patrons(base, cut):
    frame = compare(base, cut)
    row = frame[
        (frame["param.withdrawal.level"] == 1)
        & (frame["partner"] == "assad")
        & (frame["outcome"] == "realign")
    ].iloc[0]
    runs = base.runs[base.runs["param.withdrawal.level"] == 1]
    finals = base.finals()
    assad = finals[(finals["param.withdrawal.level"] == 1) & (finals["partner"] == "assad")]
    assert row.median_step_a == pytest.approx(assad["realign_step"].dropna().median())
    ev = base.events
    first = ev[(ev["kind"] == "realign") & (ev["partner"] == "assad")].drop_duplicates("run_id")
    first = first[first["run_id"].isin(runs["run_id"])]
    shares = first["to"].value_counts(normalize=True)
    top, share = shares.index[0], shares.iloc[0]
    assert row.new_patrons_a.startswith(f"{top} {share:.2f}")
    collapse_rows = frame[frame["outcome"] == "collapse"]
    assert (collapse_rows["new_patrons_a"] == "-").all()


# --- refusals and their ways out --------------------------------------------------------------


def test_different_partners_are_refused_and_compared_with_common(base, no_hamas):
    with pytest.raises(InputError, match=r"only in A: hamas; only in B: none"):
        compare(base, no_hamas)
    with pytest.raises(InputError, match=r"only in A: none; only in B: hamas"):
        compare(no_hamas, base)
    frame = compare(base, no_hamas, common=True)
    assert "hamas" not in set(frame["partner"])
    assert set(frame["partner"]) == set(base.partners) - {"hamas"}
    assert any("left out only in A: hamas" in line for line in notes(frame))
    assert frame.attrs["left_out"] == {"only_a": ["hamas"], "only_b": []}


def test_different_horizons_are_refused_unless_cut(base, short):
    with pytest.raises(
        InputError, match=r"different horizons \(A 48 steps, B 24 steps\).*--horizon"
    ):
        compare(base, short)
    with pytest.raises(InputError, match="between 0 and 24"):
        compare(base, short, horizon=25)
    frame = compare(base, short, horizon=24)
    assert frame.attrs["horizon"] == 24
    assert any("cut to a horizon of 24 steps" in line for line in notes(frame))
    row = frame[
        (frame["param.withdrawal.level"] == 1)
        & (frame["partner"] == "assad")
        & (frame["outcome"] == "realign")
    ].iloc[0]
    _, xa = _runs_outcome(base, "assad", 1.0, "realign", horizon=24)
    _, xb = _runs_outcome(short, "assad", 1.0, "realign")
    assert (row.k_a, row.k_b) == (int(xa.sum()), int(xb.sum()))
    # events after step 24 in A do not count
    ev = base.events
    late = ev[(ev["kind"] == "realign") & (ev["step"] > 24)]
    if len(late):
        assert compare(base, base)["k_a"].sum() > compare(base, short, horizon=24)["k_a"].sum()


def test_sweep_mismatch_is_refused_or_compared_on_common_ground(base, unswept, other_levels):
    with pytest.raises(InputError, match=r"sweeps withdrawal\.level .* but B sweeps nothing"):
        compare(base, unswept)
    frame = compare(base, unswept, common=True)  # B's own level is 1
    assert set(frame["param.withdrawal.level"]) == {1.0}
    assert frame.attrs["paired"] is False
    assert any("compared at B's own value withdrawal.level = 1" in n for n in notes(frame))
    with pytest.raises(InputError, match=r"only in A: 1; only in B: 0.5"):
        compare(base, other_levels)
    frame = compare(base, other_levels, common=True)
    assert set(frame["param.withdrawal.level"]) == {0.0}


# --- the command ------------------------------------------------------------------------------


def test_cli_compare_formats_and_refusal(base, cut, no_hamas, tmp_path, capsys):
    out = tmp_path / "diff.json"
    assert (
        cli.main(["compare", str(base.path), str(cut.path), "--format", "json", "--out", str(out)])
        == 0
    )
    records = json.loads(out.read_text())
    assert len(records) == len(LEVELS) * len(base.partners) * 2
    assert all(r["paired"] is True for r in records)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left behind
    capsys.readouterr()

    assert cli.main(["compare", str(base.path), str(cut.path), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| withdrawal.level | partner | outcome |")
    assert "- paired: McNemar" in md and "Holm-adjusted" in md

    assert cli.main(["compare", str(base.path), str(no_hamas.path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "only in A: hamas" in err[0] and "--common" in err[0]
    assert cli.main(["compare", str(base.path), str(no_hamas.path), "--common"]) == 0
    assert "left out only in A: hamas" in capsys.readouterr().out
