"""The statistics behind compare and summary against published worked examples, hand
computations, an independent implementation and scipy; and their edges: empty samples give
NaN (never a ZeroDivisionError), intervals stay inside [-1, 1], tests switch method exactly
at their documented thresholds."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from patronage.analysis.stats import (
    EXACT_MCNEMAR_BELOW,
    FISHER_BELOW,
    holm,
    mcnemar_test,
    newcombe_independent,
    newcombe_paired,
    two_proportion_test,
    wilson_interval,
)

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


def _newcombe_paired_reference(
    a: int, b: int, c: int, d: int, z: float = 1.959963984540054
) -> tuple[float, float, float]:
    """Newcombe (1998b) method 10 written out again from the paper's formulas."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = _wilson_by_quadratic(a + b, n, z)
    l2, u2 = _wilson_by_quadratic(a + c, n, z)
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


# --- edges: empty samples, bounds, thresholds ---------------------------------------------------


def all_nan(values) -> bool:
    return all(math.isnan(v) for v in values)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(3, 10, 0, 0), (0, 0, 3, 10), (0, 0, 0, 0)])
def test_an_empty_sample_gives_nan_not_an_error(k1, n1, k2, n2):
    """A batch with no runs for a partner or a swept value: no difference, no test."""
    assert all_nan(newcombe_independent(k1, n1, k2, n2))
    p, name = two_proportion_test(k1, n1, k2, n2)
    assert math.isnan(p) and name == "-"


def test_no_pairs_give_nan():
    assert all_nan(newcombe_paired(0, 0, 0, 0))


def test_one_run_each_is_enough():
    """Samples of one are small, not empty: they get an interval and a test."""
    d, lo, hi = newcombe_independent(1, 1, 0, 1)
    assert d == 1.0 and -1.0 < lo < 1.0 and hi == 1.0
    assert two_proportion_test(1, 1, 0, 1) == (1.0, "Fisher exact")
    assert two_proportion_test(0, 1, 1, 1) == (1.0, "Fisher exact")
    d, lo, hi = newcombe_paired(1, 0, 0, 0)
    assert d == 0.0 and lo < 0.0 < hi
    z2 = 1.959963984540054**2
    assert wilson_interval([1], [1])[0][0] == pytest.approx(1 / (1 + z2))
    assert wilson_interval([0], [1])[1][0] == pytest.approx(z2 / (1 + z2))


def test_empty_samples_raise_no_warning():
    """No RuntimeWarning on stderr for a partner without runs: NaN and [0, 1] say it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = wilson_interval([0, 3], [0, 0])
    assert low.tolist() == [0.0, 0.0] and high.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(("k", "n"), [(0, 21), (0, 37), (16, 16), (40, 40)])
def test_wilson_bounds_stay_in_the_unit_interval_despite_rounding(k, n):
    """At these counts the formula gives -1e-17 or 1 + 2e-16: the bounds are clipped."""
    (low,), (high,) = wilson_interval([k], [n])
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert (low if k == 0 else high) == k / n


def test_wilson_interval_edges():
    z = 1.959963984540054
    low, high = wilson_interval([0, 20, 7, 0], [20, 20, 20, 0])
    # k = 0 and k = n: closed forms z^2 / (n + z^2) and n / (n + z^2), the other bound exact
    assert low[0] == 0.0 and high[0] == pytest.approx(z * z / (20 + z * z), rel=1e-12)
    assert high[1] == 1.0 and low[1] == pytest.approx(20 / (20 + z * z), rel=1e-12)
    assert (low[2], high[2]) == pytest.approx(_wilson_by_quadratic(7, 20), rel=1e-12)
    assert (low[3], high[3]) == (0.0, 1.0)  # nothing observed: anything is possible
    # a narrower interval at a smaller z, computed the independent way
    narrow = wilson_interval([7], [20], z=1.0)
    assert (narrow[0][0], narrow[1][0]) == pytest.approx(_wilson_by_quadratic(7, 20, z=1.0))
    assert narrow[1][0] - narrow[0][0] < high[2] - low[2]


def test_newcombe_independent_at_other_z():
    """z is honoured: the interval is the square-and-add of the Wilson bounds at that z."""
    d, lo, hi = newcombe_independent(9, 10, 3, 10, z=1.0)
    l1, u1 = _wilson_by_quadratic(9, 10, z=1.0)
    l2, u2 = _wilson_by_quadratic(3, 10, z=1.0)
    assert d == pytest.approx(0.6)
    assert lo == pytest.approx(0.6 - math.sqrt((0.9 - l1) ** 2 + (u2 - 0.3) ** 2), rel=1e-12)
    assert hi == pytest.approx(0.6 + math.sqrt((u1 - 0.9) ** 2 + (0.3 - l2) ** 2), rel=1e-12)


@pytest.mark.parametrize(
    "table",
    [
        (1, 0, 0, 2),  # ad - bc = 2 > n/2 = 1.5: the numerator becomes 0.5
        (1, 0, 0, 1),  # ad - bc = n/2: the numerator becomes 0
        (1, 1, 1, 2),  # 0 < ad - bc < n/2: 0
        (1, 0, 4, 4),  # ad - bc = 4, just below n/2 = 4.5: 0
        (1, 3, 3, 1),  # ad - bc < 0: kept as it is
        (0, 0, 4, 6),  # an empty margin: phi = 0
        (5, 0, 0, 5),  # all pairs agree
        (0, 7, 0, 0),  # all pairs disagree, one way
    ],
)
def test_newcombe_paired_phi_cases(table):
    got = newcombe_paired(*table)
    assert got == pytest.approx(_newcombe_paired_reference(*table), abs=1e-12)
    assert -1.0 <= got[1] <= got[0] <= got[2] <= 1.0


def test_newcombe_paired_at_other_z():
    table = (12, 9, 2, 21)
    wide, narrow = newcombe_paired(*table), newcombe_paired(*table, z=1.0)
    assert narrow == pytest.approx(_newcombe_paired_reference(*table, z=1.0), abs=1e-12)
    assert narrow[0] == wide[0]
    assert wide[1] < narrow[1] < narrow[0] < narrow[2] < wide[2]


def test_fisher_threshold_is_an_expected_count_below_five():
    """Expected counts of exactly 5 use the z test; 4.5 switches to Fisher's exact test."""
    assert FISHER_BELOW == 5
    assert two_proportion_test(5, 10, 5, 10) == (1.0, "z test")
    p, name = two_proportion_test(4, 10, 5, 10)  # column totals 9 and 11: expected 4.5
    assert name == "Fisher exact"
    assert p == pytest.approx(stats.fisher_exact([[4, 6], [5, 5]])[1], rel=1e-12)


def test_z_test_is_symmetric_and_two_sided():
    p, _ = two_proportion_test(30, 50, 18, 50)
    assert two_proportion_test(18, 50, 30, 50)[0] == pytest.approx(p, rel=1e-12)
    # unequal sample sizes: the pooled standard error uses 1/n1 + 1/n2
    p, name = two_proportion_test(20, 40, 45, 60)
    pooled = 65 / 100
    z = (20 / 40 - 45 / 60) / math.sqrt(pooled * (1 - pooled) * (1 / 40 + 1 / 60))
    assert name == "z test" and p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-12)


def test_mcnemar_threshold_and_symmetry():
    assert EXACT_MCNEMAR_BELOW == 25
    assert mcnemar_test(9, 2) == mcnemar_test(2, 9)
    assert mcnemar_test(25, 10) == mcnemar_test(10, 25)
    p, name = mcnemar_test(0, 24)
    assert name == "McNemar exact" and p == pytest.approx(2 * 0.5**24, rel=1e-12)
    p, name = mcnemar_test(0, 25)
    assert name == "McNemar chi2 (cc)"
    assert p == pytest.approx(stats.chi2.sf((25 - 1) ** 2 / 25, 1), rel=1e-12)
    assert mcnemar_test(12.0, 13.0) == (1.0, "McNemar chi2 (cc)")  # |b - c| - 1 = 0


def test_holm_edges():
    assert holm([]).tolist() == []
    assert np.isnan(holm([math.nan, math.nan])).all()
    assert holm([0.02]).tolist() == [0.02]  # one test: nothing to adjust
    # ties keep their order and share the adjusted value's running maximum
    assert holm([0.01, 0.01, 0.04]) == pytest.approx([0.03, 0.03, 0.04])
    # the running maximum: a later smaller scaled value does not go down
    assert holm([0.001, 0.02, 0.021]) == pytest.approx([0.003, 0.04, 0.04])
