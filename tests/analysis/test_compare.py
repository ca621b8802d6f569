"""Comparing two batches: the statistics against published and hand-computed values and scipy,
paired (common random numbers) against unpaired comparisons, refusals of mismatched batches.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from analysis_fixtures import LEVELS, REPS, SYRIA, make_batch
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


@pytest.fixture(scope="session")
def cut_seed1(batch_root) -> Results:
    return make_batch(
        batch_root,
        "cut_seed1",
        sets=("budget_cut.level=0.4",),
        sweeps={"withdrawal.level": LEVELS},
        seed=1,
    )


@pytest.fixture(scope="session")
def short(batch_root) -> Results:
    return make_batch(batch_root, "short", sweeps={"withdrawal.level": LEVELS}, steps=24)


@pytest.fixture(scope="session")
def no_hamas(batch_root) -> Results:
    """The scenario without Hamas (and without the watches pointing at it)."""
    data = yaml.safe_load(SYRIA.read_text())
    data["partners"] = [p for p in data["partners"] if p["id"] != "hamas"]
    for p in data["partners"]:
        (p.get("watches") or {}).pop("hamas", None)
    data["events"] = [e for e in data.get("events") or [] if e.get("partner") != "hamas"]
    withdrawal = data.get("withdrawal") or {}
    (withdrawal.get("redirect") or {}).pop("hamas", None)
    withdrawal["targets"] = [t for t in withdrawal.get("targets") or [] if t["id"] != "hamas"]
    path = batch_root / "no_hamas.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return make_batch(batch_root, "no_hamas", sweeps={"withdrawal.level": LEVELS}, scenario=path)


@pytest.fixture(scope="session")
def unswept(batch_root) -> Results:
    return make_batch(batch_root, "unswept", sets=("withdrawal.level=1",))


@pytest.fixture(scope="session")
def other_levels(batch_root) -> Results:
    return make_batch(batch_root, "other_levels", sweeps={"withdrawal.level": [0, 0.5]})


# --- statistics against published and hand-computed values --------------------------------------


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "low", "high"),
    [
        # Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score)
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_independent_matches_published_examples(k1, n1, k2, n2, low, high):
    d, lo, hi = newcombe_independent(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def _wilson_by_quadratic(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson bounds as the roots of (p_hat - p)^2 = z^2 p (1 - p) / n (an independent route)."""
    p = k / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def _newcombe_paired_reference(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """Newcombe (1998b) method 10 written out again from the paper's formulas."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = _wilson_by_quadratic(a + b, n)
    l2, u2 = _wilson_by_quadratic(a + c, n)
    A = a * d - b * c
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        phi = 0.0
    elif A > n / 2:  # noqa: SIM300
        phi = (A - n / 2) / math.sqrt(margins)
    else:
        phi = min(A, 0) / math.sqrt(margins)
    dl = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    du = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return p1 - p2, p1 - p2 - dl, p1 - p2 + du


def test_newcombe_paired_matches_published_example():
    # Cavo et al. (2012) as analysed in Fagerland, Lydersen & Laake (2014), "Recommended
    # tests and confidence intervals for paired binomial proportions", Stat Med 33:2850:
    # Newcombe square-and-add interval -0.0621 (-0.1186 to -0.0046).
    d, lo, hi = newcombe_paired(59, 6, 16, 80)
    assert d == pytest.approx(-0.0621, abs=5e-5)
    assert lo == pytest.approx(-0.1186, abs=5e-5)
    assert hi == pytest.approx(-0.0046, abs=5e-5)


@pytest.mark.parametrize(
    "table", [(12, 9, 2, 21), (14, 5, 0, 22), (59, 6, 16, 80), (3, 0, 0, 7), (0, 4, 9, 30)]
)
def test_newcombe_paired_against_an_independent_implementation(table):
    got = newcombe_paired(*table)
    want = _newcombe_paired_reference(*table)
    assert got == pytest.approx(want, abs=1e-12)
    assert got[1] <= got[0] <= got[2]


def test_paired_interval_is_tighter_than_unpaired_when_outcomes_agree():
    # 40 pairs, 30 concordant yes, 2 discordant one way, 8 concordant no.
    paired = newcombe_paired(30, 2, 0, 8)
    unpaired = newcombe_independent(32, 40, 30, 40)
    assert paired[0] == pytest.approx(unpaired[0])
    assert paired[2] - paired[1] < 0.6 * (unpaired[2] - unpaired[1])


def test_two_proportion_z_test_by_hand_and_against_chi_square():
    # 30/50 against 18/50: pooled 0.48, se = sqrt(0.48 * 0.52 * (2/50)), z = 0.24 / se
    p, name = two_proportion_test(30, 50, 18, 50)
    z = 0.24 / math.sqrt(0.48 * 0.52 * 2 / 50)
    assert name == "z test"
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-12)
    chi2 = stats.chi2_contingency([[30, 20], [18, 32]], correction=False)
    assert p == pytest.approx(chi2.pvalue, rel=1e-10)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(2, 10, 7, 10), (0, 40, 3, 40), (0, 15, 0, 15)])
def test_fisher_exact_test_when_an_expected_count_is_small(k1, n1, k2, n2):
    p, name = two_proportion_test(k1, n1, k2, n2)
    assert name == "Fisher exact"
    _, want = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])
    assert p == pytest.approx(min(1.0, want), rel=1e-12)


def test_mcnemar_exact_below_25_discordant_pairs():
    p, name = mcnemar_test(2, 9)
    assert name == "McNemar exact"
    # 2 * P(X <= 2), X ~ Binomial(11, 1/2) = 2 * (1 + 11 + 55) / 2048
    assert p == pytest.approx(134 / 2048, rel=1e-12)
    assert p == pytest.approx(stats.binomtest(2, 11, 0.5).pvalue, rel=1e-12)
    assert mcnemar_test(0, 0) == (1.0, "McNemar exact")
    assert mcnemar_test(10, 14)[1] == "McNemar exact"  # 24 discordant pairs


def test_mcnemar_chi_square_with_continuity_correction_from_25():
    p, name = mcnemar_test(10, 25)
    assert name == "McNemar chi2 (cc)"
    chi2 = (abs(10 - 25) - 1) ** 2 / 35  # = 5.6
    assert p == pytest.approx(math.erfc(math.sqrt(chi2) / math.sqrt(2)), rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf(5.6, 1), rel=1e-12)
    assert mcnemar_test(12, 13)[1] == "McNemar chi2 (cc)"


def test_holm_adjustment_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max so far 0.06
    got = holm([0.01, 0.04, 0.03, 0.005])
    assert got == pytest.approx([0.03, 0.06, 0.06, 0.02])
    got = holm([0.5, math.nan, 0.2])  # NaN left out: m = 2
    assert got[0] == pytest.approx(0.5) and math.isnan(got[1]) and got[2] == pytest.approx(0.4)
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]


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
