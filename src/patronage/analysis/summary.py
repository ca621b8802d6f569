"""Summaries of a batch: realignment and collapse probabilities with honest intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from patronage.analysis.binning import binned, needs_bins
from patronage.analysis.stats import wilson_interval
from patronage.model.outcomes import ALIGNED, COLLAPSED, HEDGING, REALIGNED

if TYPE_CHECKING:
    from patronage.results.folder import Results


def group_finals(finals: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (run, group) that reads as a partner named `<group> (any)`: it realigns
    (collapses) when any member does, at the first member's step, to that member's patron."""
    rows = []
    for group, members in groups.items():
        part = finals[finals["partner"].isin(members)]
        first = part.sort_values(["run_id", "realign_step", "partner"], na_position="last")
        first = first.drop_duplicates("run_id", keep="first").set_index("run_id")
        agg = part.groupby("run_id").agg(collapse_step=("collapse_step", "min"))
        frame = first.drop(columns=["collapse_step"]).join(agg).reset_index()
        frame["partner"] = f"{group} (any)"
        rows.append(frame)
    return pd.concat(rows, ignore_index=True) if rows else finals.iloc[0:0]


def summarize(
    results: Results, by: list[str] | None = None, groups: bool = False, bins: int | None = None
) -> pd.DataFrame:
    """Per partner (and per value of the `by` columns, default the swept fields).

    Columns: runs, p_realign with its Wilson 95% interval, p_collapse with its interval,
    the most frequent new patron (of first realignments), and the median step of first
    realignment. With `groups`, also a row per group of partners (the PMF umbrella):
    the chance that any of its members realigns (collapses). With `bins`, a numeric `by`
    column that is not swept and has more distinct values than that is split into
    equal-count bins.

    P(realign) and P(collapse) count what ever happened before the horizon, so a partner
    that realigns and later collapses counts in both. The `final.<state>` columns are the
    shares of runs in each state at the horizon instead, adding to 1 per row: aligned,
    hedging (undecided when the runs stop), realigned to each patron (`final.<patron>`) and
    collapsed. Group rows have no final shares.
    """
    by = results.sweep_columns if by is None else by
    finals = results.finals()
    if bins is not None:  # a sweep's grid is kept; sampled values are binned
        for column in by:
            if column not in results.sweep_columns and needs_bins(finals[column], bins):
                finals[column] = binned(finals[column], bins)
    first = results.first_events("realign").rename(columns={"to": "new_patron"})
    finals = finals.merge(
        first[["run_id", "partner", "new_patron"]], how="left", on=["run_id", "partner"]
    )
    if groups and results.groups:
        finals = pd.concat([finals, group_finals(finals, results.groups)], ignore_index=True)
    finals["realigned"] = finals["realign_step"].notna()
    finals["collapsed"] = finals["collapse_step"].notna()
    keys = [*by, "partner"]
    grouped = finals.groupby(keys, sort=True, dropna=False, observed=True)
    out = grouped.agg(
        runs=("run_id", "size"),
        realigned=("realigned", "sum"),
        collapsed=("collapsed", "sum"),
        median_realign_step=("realign_step", "median"),
    ).reset_index()
    # The most frequent new patron of each row (ties: the first by name), counted at once
    # rather than group by group: a 100,000-partner batch has that many groups.
    counts = (
        finals.dropna(subset=["new_patron"])
        .groupby([*keys, "new_patron"], sort=False, dropna=False, observed=True)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["count", "new_patron"], ascending=[False, True], kind="stable")
        .drop_duplicates(keys)
        .rename(columns={"new_patron": "top_new_patron"})
    )
    out = out.merge(counts[[*keys, "top_new_patron"]], how="left", on=keys)
    out = out.merge(final_shares(finals, keys), how="left", on=keys)
    # a plain float column (NaN when nothing realigned), as before the steps were Int32
    out["median_realign_step"] = out["median_realign_step"].astype("float64")
    out["p_realign"] = out["realigned"] / out["runs"]
    out["p_realign_low"], out["p_realign_high"] = wilson_interval(out["realigned"], out["runs"])
    out["p_collapse"] = out["collapsed"] / out["runs"]
    out["p_collapse_low"], out["p_collapse_high"] = wilson_interval(out["collapsed"], out["runs"])
    order = [
        *by,
        "partner",
        "runs",
        "p_realign",
        "p_realign_low",
        "p_realign_high",
        "p_collapse",
        "p_collapse_low",
        "p_collapse_high",
        "top_new_patron",
        "median_realign_step",
        "realigned",
        "collapsed",
        *(c for c in out.columns if c.startswith("final.")),
    ]
    return out[order]


def final_state(status: pd.Series, patron: pd.Series) -> pd.Series:
    """Each run's state at the horizon: its status, or for the realigned its new patron."""
    return status.where(status != REALIGNED, patron)


def final_shares(finals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Shares of runs per state at the horizon, one `final.<state>` column each (aligned,
    hedging, then the patrons realigned to, sorted, then collapsed); rows add up to 1."""
    members = finals[~finals["partner"].str.endswith(" (any)")].copy()
    members["state"] = final_state(members["status"], members["patron"])
    counts = members.groupby([*keys, "state"], sort=True, observed=True).size()
    table = counts.unstack("state", fill_value=0)
    table = table.div(table.sum(axis=1), axis=0)
    fixed = [ALIGNED, HEDGING]
    patrons = sorted(c for c in table.columns if c not in (*fixed, COLLAPSED))
    order = [ALIGNED, HEDGING, *patrons, COLLAPSED]
    table = table.reindex(columns=order, fill_value=0.0)
    table.columns = [f"final.{c}" for c in order]
    return table.reset_index()
