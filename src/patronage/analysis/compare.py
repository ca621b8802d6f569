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

import numpy as np
import pandas as pd

from patronage.analysis.stats import (
    EXACT_MCNEMAR_BELOW,
    holm,
    mcnemar_test,
    newcombe_independent,
    newcombe_paired,
    two_proportion_test,
)
from patronage.errors import InputError
from patronage.results.folder import Results, open_results
from patronage.results.params import matching_column, matching_value, show_value

OUTCOMES = ("realign", "collapse")

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


# --- what is compared -------------------------------------------------------------------------


def outcomes(results: Results, horizon: int | None = None) -> pd.DataFrame:
    """One row per (run, partner): swept values, whether it realigned and collapsed by the
    horizon (its first such event at a step <= horizon), the steps, and the new patron."""
    horizon = results.steps if horizon is None else horizon
    finals = results.finals()
    params = [c for c in finals.columns if c.startswith("param.")]
    out = finals[["run_id", *params, "partner"]].copy()
    for outcome in OUTCOMES:
        step = finals[f"{outcome}_step"].astype("float64").to_numpy()
        step = np.where(step <= horizon, step, np.nan)
        out[f"{outcome}_step"] = step
        out[outcome] = ~np.isnan(step)
    first = results.first_events("realign").rename(columns={"to": "new_patron"})
    first = first[first["step"] <= horizon]
    out = out.merge(
        first[["run_id", "partner", "new_patron"]], how="left", on=["run_id", "partner"]
    )
    return out


def pairing(a: Results, b: Results) -> tuple[bool, str]:
    """Whether run k of A and run k of B share their seed (common random numbers), and why."""
    ma, mb = a.manifest, b.manifest
    if ma["seed"] != mb["seed"]:
        return False, f"the batch seeds differ (A {ma['seed']}, B {mb['seed']})"
    if ma.get("seed_derivation") != mb.get("seed_derivation"):
        return False, "the batches derive their run seeds differently"
    keys = ("sweeps", "samples", "n_samples", "replicates", "seed")
    da, db = ({k: m["design"].get(k) for k in keys} for m in (ma, mb))
    if da != db or ma.get("points") != mb.get("points"):
        return False, "the designs differ (sweeps, samples or replicates)"
    ids = np.intersect1d(a.runs["run_id"].to_numpy(), b.runs["run_id"].to_numpy())
    if len(ids) == 0:
        return False, "no run id is in both batches"
    n_points = len(ma.get("points") or [{}])
    reps = ma["design"]["replicates"]
    return True, (
        f"both batches used batch seed {ma['seed']} and the same design "
        f"({n_points} point{'s' * (n_points != 1)} x {reps} replicate{'s' * (reps != 1)}), "
        "so run k of A and run k of B share their random numbers"
    )


def _resolved_value(results: Results, dotted: str) -> Any:
    """The value of a dotted scenario field in a batch's resolved scenario (or KeyError)."""
    node: Any = results.resolved
    for part in dotted.split("."):
        if isinstance(node, dict):
            node = node[part]
        elif isinstance(node, list):
            match = [x for x in node if isinstance(x, dict) and str(x.get("id")) == part]
            if match:
                node = match[0]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(dotted)
        else:
            raise KeyError(dotted)
    return node


def _fmt_values(values) -> str:
    return ", ".join(show_value(v) for v in values) or "none"


Keep = dict[str, list[Any]] | None


def _align_sweeps(a: Results, b: Results, common: bool) -> tuple[Keep, list[str], list[str]]:
    """Restrict the runs of A and B to comparable sweep values.

    Returns (filter, the sweep columns to group by, notes). The filter maps a sweep column to
    the values to keep in both batches; None keeps every run.
    """
    sa, sb = a.design.get("sweeps", {}) or {}, b.design.get("sweeps", {}) or {}
    notes: list[str] = []
    if not sa and not sb:
        return None, [], notes
    if sa and sb and set(sa) != set(sb):
        raise InputError(
            f"the batches sweep different fields (A: {', '.join(sa)}; B: {', '.join(sb)}); "
            "compare batches that sweep the same fields",
            source="compare",
        )
    if sa and sb:
        keep_a: dict[str, list[Any]] = {}
        for name in sa:
            va = list(dict.fromkeys(matching_value(v) for v in sa[name]))
            vb = list(dict.fromkeys(matching_value(v) for v in sb[name]))
            if set(va) == set(vb):
                continue
            only_a = [v for v in va if v not in vb]
            only_b = [v for v in vb if v not in va]
            both = [v for v in va if v in vb]
            if not common or not both:
                hint = (
                    "; add --common to compare on the values both have"
                    if both
                    else "; no value is in both"
                )
                raise InputError(
                    f"the batches sweep {name} over different values (only in A: "
                    f"{_fmt_values(only_a)}; only in B: {_fmt_values(only_b)}){hint}",
                    source="compare",
                )
            keep_a[name] = both
            notes.append(
                f"{name}: compared on the values both batches swept ({_fmt_values(both)}); "
                f"left out: only in A {_fmt_values(only_a)}, only in B {_fmt_values(only_b)}"
            )
        cols = [f"param.{n}" for n in sa]
        if not keep_a:
            return None, cols, notes
        keep = {f"param.{k}": v for k, v in keep_a.items()}
        return keep, cols, notes

    swept, fixed, swept_name, fixed_name = (a, b, "A", "B") if sa else (b, a, "B", "A")
    sweeps = swept.design["sweeps"]
    described = "; ".join(
        f"{k} ({_fmt_values(matching_value(x) for x in v)})" for k, v in sweeps.items()
    )
    at: dict[str, Any] = {}
    for name in sweeps:
        try:
            at[name] = matching_value(_resolved_value(fixed, name))
        except KeyError:
            at[name] = None
    found = all(at[name] in [matching_value(v) for v in sweeps[name]] for name in sweeps)
    if not common or not found:
        where = ", ".join(f"{k} = {show_value(v)}" for k, v in at.items())
        hint = (
            f"; add --common to compare {swept_name} at {fixed_name}'s own {where}"
            if found
            else f"; {fixed_name}'s own value ({where}) is not among the swept values"
        )
        raise InputError(
            f"{swept_name} sweeps {described} but {fixed_name} sweeps nothing; compare "
            f"batches with the same --sweep{hint}",
            source="compare",
        )
    notes.append(
        f"{swept_name} sweeps {described}; compared at {fixed_name}'s own value "
        + ", ".join(f"{k} = {show_value(v)}" for k, v in at.items())
    )
    keep = {f"param.{k}": [v] for k, v in at.items()}
    return keep, list(keep), notes  # the unswept batch gets the value as a column


def _filter(
    frame: pd.DataFrame, keep: dict[str, list[Any]] | None, cols: list[str]
) -> pd.DataFrame:
    """Keep the rows whose swept values are in `keep`; an unswept batch gets the one kept
    value as a constant column (its own scenario value, checked by _align_sweeps)."""
    if keep:
        for col, values in keep.items():
            if col in frame.columns:
                frame = frame[matching_column(frame[col]).isin(values)]
    for col in cols:
        if col not in frame.columns:
            frame = frame.assign(**{col: keep[col][0]})
    return frame


def _distribution(patrons: pd.Series) -> str:
    """'russia 0.62, gulf 0.30, none 0.08': shares of new patrons among the realignments."""
    counts = patrons.dropna().value_counts()
    if counts.empty:
        return "-"
    total = counts.sum()
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count / total:.2f}" for name, count in items)


def _median(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.median()) if len(values) else math.nan


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
    notes: list[str] = []

    # partners
    pa, pb = a.partners, b.partners
    only_a = [p for p in pa if p not in pb]
    only_b = [p for p in pb if p not in pa]
    partners = [p for p in pa if p in pb]
    if only_a or only_b:
        listed = (
            f"only in A: {', '.join(only_a) or 'none'}; only in B: {', '.join(only_b) or 'none'}"
        )
        if not common:
            raise InputError(
                f"the batches have different partners ({listed}); add --common to compare "
                "the partners both have",
                source="compare",
            )
        if not partners:
            raise InputError(f"the batches have no partner in common ({listed})", source="compare")
        notes.append(
            f"compared on the {len(partners)} partners both batches have; left out {listed}"
        )

    # horizon
    if horizon is None:
        if a.steps != b.steps:
            raise InputError(
                f"the batches have different horizons (A {a.steps} steps, B {b.steps} steps); "
                f"add --horizon N with N <= {min(a.steps, b.steps)} to cut both to N steps",
                source="compare",
            )
        horizon = a.steps
    else:
        horizon = int(horizon)
        if horizon < 0 or horizon > min(a.steps, b.steps):
            raise InputError(
                f"must be between 0 and {min(a.steps, b.steps)} (the shorter horizon: A "
                f"{a.steps} steps, B {b.steps} steps), got {horizon}",
                source="--horizon",
            )
        if horizon < max(a.steps, b.steps):
            notes.append(
                f"both batches cut to a horizon of {horizon} steps (A ran {a.steps}, B "
                f"{b.steps}): outcomes count when their first event came at a step <= {horizon}"
            )

    # sweeps
    keep, cols, sweep_notes = _align_sweeps(a, b, common)
    notes += sweep_notes
    sampled = sorted({*(a.design.get("samples") or {}), *(b.design.get("samples") or {})})
    if sampled:
        notes.append(f"Latin hypercube samples of {', '.join(sampled)} are pooled")

    oa = _filter(outcomes(a, horizon), keep, cols)
    ob = _filter(outcomes(b, horizon), keep, cols)
    oa = oa[oa["partner"].isin(partners)]
    ob = ob[ob["partner"].isin(partners)]

    # pairing
    can_pair, reason = pairing(a, b)
    if paired is True and not can_pair:
        raise InputError(f"cannot pair the runs: {reason}", source="compare")
    use_pairs = can_pair if paired is None else bool(paired)
    if paired is False and can_pair:
        reason = "unpaired comparison asked for, although " + reason
    joined = oa.iloc[:0]
    if use_pairs:
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

    rows = []
    keys = [*cols, "partner"]
    order = {p: i for i, p in enumerate(partners)}
    groups_a = dict(iter(oa.groupby(keys, sort=False))) if len(oa) else {}
    groups_b = dict(iter(ob.groupby(keys, sort=False))) if len(ob) else {}
    groups_j = dict(iter(joined.groupby(keys, sort=False))) if use_pairs and len(joined) else {}
    all_keys = list(dict.fromkeys([*groups_a, *groups_b]))
    all_keys.sort(key=lambda k: (*(k[:-1] if isinstance(k, tuple) else ()), order[_partner(k)]))
    for key in all_keys:
        ga = groups_a.get(key, oa.iloc[:0])
        gb = groups_b.get(key, ob.iloc[:0])
        sweep_values = dict(zip(cols, key[:-1], strict=True)) if isinstance(key, tuple) else {}
        for outcome in OUTCOMES:
            row: dict[str, Any] = {**sweep_values, "partner": _partner(key), "outcome": outcome}
            if use_pairs:
                gj = groups_j.get(key, joined.iloc[:0])
                xa = gj[f"{outcome}_a"].to_numpy(bool)
                xb = gj[f"{outcome}_b"].to_numpy(bool)
                n = len(gj)
                both = int((xa & xb).sum())
                a_only = int((xa & ~xb).sum())
                b_only = int((~xa & xb).sum())
                neither = n - both - a_only - b_only
                diff, low, high = newcombe_paired(both, b_only, a_only, neither)
                p, test = mcnemar_test(a_only, b_only)
                row.update(
                    n_a=n,
                    k_a=int(xa.sum()),
                    n_b=n,
                    k_b=int(xb.sum()),
                    only_a=a_only,
                    only_b=b_only,
                )
                steps_a, steps_b = gj[f"{outcome}_step_a"], gj[f"{outcome}_step_b"]
                new_a, new_b = gj["new_patron_a"], gj["new_patron_b"]
            else:
                n_a, k_a = len(ga), int(ga[outcome].sum())
                n_b, k_b = len(gb), int(gb[outcome].sum())
                diff, low, high = newcombe_independent(k_b, n_b, k_a, n_a)
                p, test = two_proportion_test(k_b, n_b, k_a, n_a)
                row.update(n_a=n_a, k_a=k_a, n_b=n_b, k_b=k_b, only_a=math.nan, only_b=math.nan)
                steps_a, steps_b = ga[f"{outcome}_step"], gb[f"{outcome}_step"]
                new_a, new_b = ga["new_patron"], gb["new_patron"]
            row["p_a"] = row["k_a"] / row["n_a"] if row["n_a"] else math.nan
            row["p_b"] = row["k_b"] / row["n_b"] if row["n_b"] else math.nan
            row.update(
                diff=diff,
                diff_low=low,
                diff_high=high,
                paired=use_pairs,
                test=test,
                p_value=p,
                median_step_a=_median(steps_a),
                median_step_b=_median(steps_b),
                new_patrons_a=_distribution(new_a) if outcome == "realign" else "-",
                new_patrons_b=_distribution(new_b) if outcome == "realign" else "-",
            )
            rows.append(row)

    frame = pd.DataFrame(rows, columns=[*cols, *COLUMNS])
    frame["p_holm"] = holm(frame["p_value"].to_numpy(float))
    for col in ("n_a", "k_a", "n_b", "k_b"):
        frame[col] = frame[col].astype("int64")
    if use_pairs:
        method = (
            "paired: McNemar's test (exact binomial on the discordant pairs when fewer than "
            f"{EXACT_MCNEMAR_BELOW}, else chi-square with continuity correction) and "
            "Newcombe's (1998b) paired score interval (method 10), because " + reason
        )
    else:
        method = (
            "unpaired: two-proportion z test (Fisher's exact test where an expected count is "
            "below 5) and Newcombe's (1998) hybrid score interval (method 10), because " + reason
        )
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
            method,
            f"diff = p_b - p_a with a 95% interval; p_holm: p-values Holm-adjusted across all "
            f"{n_tests} rows of this table",
            *notes,
        ],
    )
    return frame


def _partner(key: Any) -> str:
    return key[-1] if isinstance(key, tuple) else key


def _describe(results: Results) -> str:
    s = results.manifest["scenario"]
    overrides = s.get("overrides") or []
    extra = f" with {', '.join(overrides)}" if overrides else ""
    return (
        f"{results.path} ({s['name']}{extra}; {results.manifest['runs']['done']} runs, "
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
