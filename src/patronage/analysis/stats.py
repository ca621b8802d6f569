"""The statistics behind the tables, each as published and cited.

Wilson (1927) intervals for one proportion; Newcombe's (1998, 1998b) intervals for the
difference of two proportions, independent or paired; the pooled z test, Fisher's exact
test and McNemar's test; Holm's (1979) step-down adjustment. Tested against the published
worked examples and scipy.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "EXACT_MCNEMAR_BELOW",
    "FISHER_BELOW",
    "Z95",
    "holm",
    "mcnemar_test",
    "newcombe_independent",
    "newcombe_paired",
    "two_proportion_test",
    "wilson_interval",
]

EXACT_MCNEMAR_BELOW = 25  # discordant pairs: exact binomial test below, chi-square from here
FISHER_BELOW = 5  # expected count: Fisher's exact test below

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal


def wilson_interval(successes, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (Wilson 1927); [0, 1] when n = 0.

    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage near 0 and 1,
    where realignment probabilities often are.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # At k = 0 or k = n the bounds equal p up to rounding: keep p inside its own interval.
    low = np.where(n > 0, np.clip(np.minimum(centre - half, p), 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(np.maximum(centre + half, p), 0.0, 1.0), 1.0)
    return low, high


def newcombe_independent(
    k1: int, n1: int, k2: int, n2: int, z: float = Z95
) -> tuple[float, float, float]:
    """Difference p1 - p2 of independent proportions with Newcombe's hybrid score interval.

    Newcombe (1998), "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Stat Med 17:873-890, method 10: the Wilson
    score intervals (l1, u1), (l2, u2) of the two proportions combined by square-and-add,
    L = d - sqrt((p1-l1)^2 + (u2-p2)^2), U = d + sqrt((u1-p1)^2 + (p2-l2)^2).
    Returns (d, L, U); NaNs when a sample is empty.
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    (l1,), (u1,) = wilson_interval([k1], [n1], z)
    (l2,), (u2,) = wilson_interval([k2], [n2], z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def newcombe_paired(
    both: int, first_only: int, second_only: int, neither: int, z: float = Z95
) -> tuple[float, float, float]:
    """Difference p1 - p2 of paired proportions with Newcombe's score interval.

    The 2x2 table of pairs: `both` (yes, yes), `first_only` (yes, no), `second_only`
    (no, yes), `neither`; p1 = (both + first_only) / n, p2 = (both + second_only) / n.
    Newcombe (1998b), "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Stat Med 17:2635-2650, method 10: the Wilson
    intervals of p1 and p2 combined by square-and-add with a correlation term phi,
    L = d - sqrt((p1-l1)^2 - 2 phi (p1-l1)(u2-p2) + (u2-p2)^2),
    U = d + sqrt((u1-p1)^2 - 2 phi (u1-p1)(p2-l2) + (p2-l2)^2),
    where phi is the phi coefficient of the table with its numerator A = ad - bc replaced by
    A - n/2 when A > n/2 and by 0 when 0 <= A <= n/2, and phi = 0 when a margin is empty.
    Returns (d, L, U); NaNs when there are no pairs.
    """
    a, b, c, d_ = both, first_only, second_only, neither
    num: float
    n = a + b + c + d_
    if n <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = (a + b) / n, (a + c) / n
    (l1,), (u1,) = wilson_interval([a + b], [n], z)
    (l2,), (u2,) = wilson_interval([a + c], [n], z)
    margins = (a + b) * (c + d_) * (a + c) * (b + d_)
    if margins == 0:
        phi = 0.0
    else:
        num = a * d_ - b * c
        if num > n / 2:
            num -= n / 2
        elif num >= 0:
            num = 0.0
        phi = num / math.sqrt(margins)
    diff = p1 - p2
    low_sq = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    high_sq = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    low = diff - math.sqrt(max(low_sq, 0.0))
    high = diff + math.sqrt(max(high_sq, 0.0))
    return diff, max(-1.0, low), min(1.0, high)


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, str]:
    """Two-sided p-value of p1 = p2 for independent samples, and the test's name.

    The pooled two-proportion z test (the square of its statistic is Pearson's chi-square of
    the 2x2 table without continuity correction), or Fisher's exact test when an expected
    count of the table is below 5.
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, "-"
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]], dtype=float)
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    if (expected < FISHER_BELOW).any():
        from scipy import stats  # imported on demand: summaries need no scipy

        _, p = stats.fisher_exact(table.astype(int))
        return float(min(1.0, p)), "Fisher exact"
    pooled = (k1 + k2) / total
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    from scipy import stats

    return float(2 * stats.norm.sf(abs(z))), "z test"


def mcnemar_test(first_only: int, second_only: int) -> tuple[float, str]:
    """Two-sided p-value of McNemar's test on the discordant pairs, and the test's name.

    Exact (binomial test of first_only out of first_only + second_only against 1/2) when
    the discordant pairs number fewer than 25; otherwise the chi-square statistic with
    continuity correction, (|b - c| - 1)^2 / (b + c), on 1 degree of freedom.
    """
    from scipy import stats

    b, c = int(first_only), int(second_only)
    m = b + c
    if m == 0:
        return 1.0, "McNemar exact"
    if m < EXACT_MCNEMAR_BELOW:
        return float(stats.binomtest(min(b, c), m, 0.5).pvalue), "McNemar exact"
    chi2 = (abs(b - c) - 1) ** 2 / m
    return float(stats.chi2.sf(chi2, 1)), "McNemar chi2 (cc)"


def holm(p_values) -> np.ndarray:
    """Holm's (1979) step-down adjustment; NaNs are left out (and stay NaN).

    With the m p-values sorted, p_(1) <= ... <= p_(m), the adjusted p_(i) is
    max over j <= i of min(1, (m - j + 1) p_(j)).
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
