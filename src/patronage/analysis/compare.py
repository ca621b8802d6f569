"""Comparing two batches: how much more (or less) each partner realigns or collapses in B.

`compare(a, b)` returns one row per (swept value, partner, outcome) with the probability of
the outcome by the horizon in A and in B, the difference B - A with a 95% interval, a
p-value, its Holm adjustment over the whole table, the median step of the outcome and, for
realignment, the distribution of new patrons.

Two kinds of comparison:

* **paired** (common random numbers): when both batches used the same batch seed and the
  same design, run k of A and run k of B were seeded with the same child seed, so they
  share their random numbers. The runs are then compared pair by pair: McNemar's test
  (exact binomial test on the discordant pairs when they number fewer than 25, otherwise
  the chi-square statistic with continuity correction) and Newcombe's (1998b) score
  interval for a paired difference (method 10). The interval is far tighter than the
  unpaired one whenever the outcomes of paired runs are correlated.
* **unpaired**: otherwise. Two-proportion z test (pooled variance), or Fisher's exact test
  when an expected count of the 2x2 table is below 5; Newcombe's (1998) hybrid score
  interval for independent proportions (method 10).

The `paired` column (and the notes printed with the table) says which was used.

Mismatched batches are refused with an `InputError` rather than compared silently:

* partner sets that differ (``common=True`` compares the partners both have, and the notes
  name those left out);
* horizons that differ (``horizon=N`` cuts both to their first N steps: an outcome counts
  when its first event happened at a step <= N);
* sweeps that differ: one batch sweeps a field and the other does not, or they sweep
  different fields, or the same field over different values. With ``common=True`` two
  batches that sweep the same fields are compared on the values both have, and a swept
  batch is compared with an unswept one at the swept value equal to the unswept scenario's
  own value of that field (when there is one). Different fields are always refused: there
  is no common ground to compare on.

Latin hypercube samples are not grouped on (as in `summary`): they are pooled per sweep
value, and pairing then also requires the same samples (the same design).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from patronage.analysis.matching import OUTCOMES, align_sweeps, filter_runs, outcomes, pairing
from patronage.analysis.stats import (
    EXACT_MCNEMAR_BELOW,
    holm,
    mcnemar_test,
    newcombe_independent,
    newcombe_paired,
    two_proportion_test,
)
from patronage.errors import InputError, listed
from patronage.results.folder import Results, open_results

COLUMNS = [
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


# --- the comparison --------------------------------------------------------------------------


def _distribution(patrons: pd.Series) -> str:
    """'russia 0.62, gulf 0.30, none 0.08': shares of new patrons among the realignments."""
    counts = patrons.dropna().value_counts()
    if counts.empty:
        return "-"
    total = counts.sum()
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count / total:.2f}" for name, count in items)


# --- compare ----------------------------------------------------------------------------------


def compare(
    a: Results | str | Path,
    b: Results | str | Path,
    common: bool = False,
    horizon: int | None = None,
    paired: bool | None = None,
) -> pd.DataFrame:
    """Compare batch B against batch A, per (swept value,) partner and outcome.

    `a` and `b` are Results objects or result folder paths. `common=True` compares on the
    partners (and swept values) both batches have instead of refusing; `horizon=N` cuts both
    batches to their first N steps (required when their horizons differ). `paired=None`
    pairs runs when the batches share seed and design (see the module docstring),
    `paired=False` never does, `paired=True` refuses when they cannot be paired.

    Columns: the sweep columns (param.<field>) when both batches sweep, partner, outcome
    (realign or collapse), n_a, k_a, p_a, n_b, k_b, p_b, diff (= p_b - p_a), diff_low,
    diff_high (Newcombe 95% interval), paired, only_a and only_b (discordant pairs: the
    outcome happened in A's run only / B's run only; NaN when unpaired), test, p_value,
    p_holm (Holm-adjusted across all rows of the table), median_step_a, median_step_b (of
    the outcome's first event, among the runs where it happened) and new_patrons_a,
    new_patrons_b (shares of the first realignments by new patron; "-" on collapse rows).

    `frame.attrs` holds "paired", "paired_reason", "horizon", "notes" (the lines that
    `notes(frame)` returns), "a" and "b" (descriptions of the batches) and "left_out".
    """
    a = a if isinstance(a, Results) else open_results(a)
    b = b if isinstance(b, Results) else open_results(b)
    partners, only_a, only_b, notes = _common_partners(a, b, common)
    horizon, horizon_notes = _common_horizon(a, b, horizon)
    notes += horizon_notes
    keep, cols, sweep_notes = align_sweeps(a, b, common)
    notes += sweep_notes
    sampled = sorted({*a.design.samples, *b.design.samples})
    if sampled:
        notes.append(f"Latin hypercube samples of {', '.join(sampled)} are pooled")

    oa = filter_runs(outcomes(a, horizon), keep, cols)
    ob = filter_runs(outcomes(b, horizon), keep, cols)
    oa = oa[oa["partner"].isin(partners)]
    ob = ob[ob["partner"].isin(partners)]

    can_pair, reason = pairing(a, b)
    if paired is True and not can_pair:
        raise InputError(f"cannot pair the runs: {reason}", source="compare")
    use_pairs = can_pair if paired is None else bool(paired)
    if paired is False and can_pair:
        reason = "unpaired comparison asked for, although " + reason
    joined = _pairs(oa, ob, notes) if use_pairs else None
    rows = _rows(oa, ob, cols, joined)
    frame = pd.DataFrame(rows, columns=[*cols, *COLUMNS])
    frame["p_holm"] = holm(frame["p_value"])
    for col in ("n_a", "k_a", "n_b", "k_b"):
        frame[col] = frame[col].astype("int64")
    n_tests = int(frame["p_value"].notna().sum())
    frame.attrs.update(
        paired=use_pairs,
        paired_reason=reason,
        horizon=horizon,
        a=_describe(a),
        b=_describe(b),
        left_out={"only_a": only_a, "only_b": only_b},
        notes=[
            f"A: {_describe(a)}",
            f"B: {_describe(b)}",
            _method(use_pairs, reason),
            f"diff = p_b - p_a with a 95% interval; p_holm: p-values Holm-adjusted across all "
            f"{n_tests} rows of this table",
            *notes,
        ],
    )
    return frame


def _pairs(oa: pd.DataFrame, ob: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Run k of A joined with run k of B (per partner); a note counts the rows left without
    a pair (runs that failed in one batch)."""
    joined = oa.merge(
        ob[["run_id", "partner", *OUTCOMES, "realign_step", "collapse_step", "new_patron"]],
        on=["run_id", "partner"],
        suffixes=("_a", "_b"),
    )
    dropped = len(oa) + len(ob) - 2 * len(joined)
    if dropped:
        notes.append(
            f"{dropped} run-partner rows without a pair in the other batch (failed runs) "
            "were left out"
        )
    return joined


def _rows(
    oa: pd.DataFrame,
    ob: pd.DataFrame,
    cols: list[str],
    joined: pd.DataFrame | None,
) -> list[dict[str, Any]]:
    """One row per (swept values, partner, outcome), in the order of the swept values and
    then of the partners (whose canonical order is sorted): from the pairs in `joined` when
    given, else from A and B apart. A key that one batch lacks (all its runs there failed)
    gives a row with n = 0."""
    keys = [*cols, "partner"]
    groups_a = dict(iter(oa.groupby(keys)))  # keys are tuples (swept values..., partner)
    groups_b = dict(iter(ob.groupby(keys)))
    all_keys = sorted({*groups_a, *groups_b})
    groups_j = {} if joined is None else dict(iter(joined.groupby(keys)))
    rows = []
    for key in all_keys:
        for outcome in OUTCOMES:
            row: dict[str, Any] = {**dict(zip(keys, key, strict=True)), "outcome": outcome}
            if joined is not None:
                row.update(_paired_row(groups_j.get(key, joined.iloc[:0]), outcome))
            else:
                ga = groups_a.get(key, oa.iloc[:0])
                gb = groups_b.get(key, ob.iloc[:0])
                row.update(_unpaired_row(ga, gb, outcome))
            rows.append(row)
    return rows


def _common_partners(
    a: Results, b: Results, common: bool
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The partners both batches have (refused unless `common` when they differ), those only
    in A, those only in B, and the note saying what was left out."""
    pa, pb = a.partners, b.partners
    only_a = [p for p in pa if p not in pb]
    only_b = [p for p in pb if p not in pa]
    partners = [p for p in pa if p in pb]
    notes: list[str] = []
    if only_a or only_b:
        which = f"only in A: {listed(only_a)}; only in B: {listed(only_b)}"
        if not common:
            raise InputError(
                f"the batches have different partners ({which}); add --common to compare "
                "the partners both have",
                source="compare",
            )
        if not partners:
            raise InputError(f"the batches have no partner in common ({which})", source="compare")
        notes.append(
            f"compared on the {len(partners)} partners both batches have; left out {which}"
        )
    return partners, only_a, only_b, notes


def _common_horizon(a: Results, b: Results, horizon: int | None) -> tuple[int, list[str]]:
    """The horizon both batches are cut to (refused when they differ and none is given)."""
    if horizon is None:
        if a.steps != b.steps:
            raise InputError(
                f"the batches have different horizons (A {a.steps} steps, B {b.steps} steps); "
                f"add --horizon N with N <= {min(a.steps, b.steps)} to cut both to N steps",
                source="compare",
            )
        return a.steps, []
    horizon = int(horizon)
    if horizon < 0 or horizon > min(a.steps, b.steps):
        raise InputError(
            f"must be between 0 and {min(a.steps, b.steps)} (the shorter horizon: A "
            f"{a.steps} steps, B {b.steps} steps), got {horizon}",
            source="--horizon",
        )
    if horizon < max(a.steps, b.steps):
        return horizon, [
            f"both batches cut to a horizon of {horizon} steps (A ran {a.steps}, B "
            f"{b.steps}): outcomes count when their first event came at a step <= {horizon}"
        ]
    return horizon, []


def _paired_row(gj: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """The columns of one row from the joined pairs (run k of A with run k of B)."""
    xa = gj[f"{outcome}_a"].to_numpy(bool)
    xb = gj[f"{outcome}_b"].to_numpy(bool)
    n = len(gj)
    both = int((xa & xb).sum())
    a_only = int((xa & ~xb).sum())
    b_only = int((~xa & xb).sum())
    neither = n - both - a_only - b_only
    diff, low, high = newcombe_paired(both, b_only, a_only, neither)
    # no pairs (every run of one batch failed here): no test, as for an empty unpaired sample
    p, test = mcnemar_test(a_only, b_only) if n else (math.nan, "-")
    counts = {"n_a": n, "k_a": int(xa.sum()), "n_b": n, "k_b": int(xb.sum())}
    return _row(
        counts,
        (diff, low, high),
        (p, test),
        outcome,
        True,
        (gj[f"{outcome}_step_a"], gj[f"{outcome}_step_b"]),
        (gj["new_patron_a"], gj["new_patron_b"]),
        only=(a_only, b_only),
    )


def _unpaired_row(ga: pd.DataFrame, gb: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """The columns of one row from two independent samples."""
    n_a, k_a = len(ga), int(ga[outcome].sum())
    n_b, k_b = len(gb), int(gb[outcome].sum())
    diff, low, high = newcombe_independent(k_b, n_b, k_a, n_a)
    p, test = two_proportion_test(k_b, n_b, k_a, n_a)
    counts = {"n_a": n_a, "k_a": k_a, "n_b": n_b, "k_b": k_b}
    return _row(
        counts,
        (diff, low, high),
        (p, test),
        outcome,
        False,
        (ga[f"{outcome}_step"], gb[f"{outcome}_step"]),
        (ga["new_patron"], gb["new_patron"]),
        only=(math.nan, math.nan),
    )


def _row(
    counts: dict[str, int],
    interval: tuple[float, float, float],
    test: tuple[float, str],
    outcome: str,
    paired: bool,
    steps: tuple[pd.Series, pd.Series],
    new_patrons: tuple[pd.Series, pd.Series],
    only: tuple[float, float],
) -> dict[str, Any]:
    realign = outcome == "realign"
    return {
        **counts,
        "only_a": only[0],
        "only_b": only[1],
        "p_a": counts["k_a"] / counts["n_a"] if counts["n_a"] else math.nan,
        "p_b": counts["k_b"] / counts["n_b"] if counts["n_b"] else math.nan,
        "diff": interval[0],
        "diff_low": interval[1],
        "diff_high": interval[2],
        "paired": paired,
        "test": test[1],
        "p_value": test[0],
        "median_step_a": float(steps[0].median()),  # NaN skipped; NaN when no run had it
        "median_step_b": float(steps[1].median()),
        "new_patrons_a": _distribution(new_patrons[0]) if realign else "-",
        "new_patrons_b": _distribution(new_patrons[1]) if realign else "-",
    }


def _method(use_pairs: bool, reason: str) -> str:
    """The note naming the test and interval used, and why."""
    if use_pairs:
        return (
            "paired: McNemar's test (exact binomial on the discordant pairs when fewer than "
            f"{EXACT_MCNEMAR_BELOW}, else chi-square with continuity correction) and "
            "Newcombe's (1998b) paired score interval (method 10), because " + reason
        )
    return (
        "unpaired: two-proportion z test (Fisher's exact test where an expected count is "
        "below 5) and Newcombe's (1998) hybrid score interval (method 10), because " + reason
    )


def _describe(results: Results) -> str:
    s = results.manifest.scenario
    overrides = s.overrides
    extra = f" with {', '.join(overrides)}" if overrides else ""
    return (
        f"{results.path} ({s.name}{extra}; {results.manifest.runs.done} runs, "
        f"{results.steps} steps, seed {results.seed})"
    )


def notes(frame: pd.DataFrame) -> list[str]:
    """The lines that explain a comparison: the batches, paired or not, Holm, what was left out."""
    return list(frame.attrs.get("notes", []))


__all__ = [
    "compare",
    "notes",
    "outcomes",
    "pairing",
]
