"""What two batches have in common: their runs as outcomes, whether they pair, and the
swept values both have. `compare` builds on these; the rules are in its module docstring."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from patronage.errors import InputError
from patronage.results.folder import Results
from patronage.results.params import matching_column, matching_value, show_value
from patronage.scenario.paths import value_at

__all__ = ["OUTCOMES", "Keep", "align_sweeps", "filter_runs", "outcomes", "pairing"]

OUTCOMES = ("realign", "collapse")


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


def _listed(values) -> str:
    return ", ".join(show_value(v) for v in values) or "none"


Keep = dict[str, list[Any]] | None


def align_sweeps(a: Results, b: Results, common: bool) -> tuple[Keep, list[str], list[str]]:
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
                    f"{_listed(only_a)}; only in B: {_listed(only_b)}){hint}",
                    source="compare",
                )
            keep_a[name] = both
            notes.append(
                f"{name}: compared on the values both batches swept ({_listed(both)}); "
                f"left out: only in A {_listed(only_a)}, only in B {_listed(only_b)}"
            )
        cols = [f"param.{n}" for n in sa]
        if not keep_a:
            return None, cols, notes
        keep = {f"param.{k}": v for k, v in keep_a.items()}
        return keep, cols, notes

    swept, fixed, swept_name, fixed_name = (a, b, "A", "B") if sa else (b, a, "B", "A")
    sweeps = swept.design["sweeps"]
    described = "; ".join(
        f"{k} ({_listed(matching_value(x) for x in v)})" for k, v in sweeps.items()
    )
    at: dict[str, Any] = {}
    for name in sweeps:
        try:
            at[name] = matching_value(value_at(fixed.resolved, name))
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


def filter_runs(
    frame: pd.DataFrame, keep: dict[str, list[Any]] | None, cols: list[str]
) -> pd.DataFrame:
    """Keep the rows whose swept values are in `keep`; an unswept batch gets the one kept
    value as a constant column (its own scenario value, checked by _align_sweeps)."""
    if keep:
        for col, values in keep.items():
            if col in frame.columns:
                frame = frame[matching_column(frame[col]).isin(values)]
    for col in cols:
        if col not in frame.columns and keep is not None:
            frame = frame.assign(**{col: keep[col][0]})
    return frame
