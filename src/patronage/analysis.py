"""Summaries of a batch: realignment and collapse probabilities with honest intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .results import Results

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


def long_finals(results: Results) -> pd.DataFrame:
    """One row per (run, partner): final status and patron, first realign and collapse steps."""
    runs = results.runs
    params = [c for c in runs.columns if c.startswith("param.")]
    frames = []
    for pid in results.partners:
        frame = runs[["run_id", *params]].copy()
        frame["partner"] = pid
        for f in (
            "status",
            "patron",
            "loyalty",
            "dependence",
            "trust",
            "strength",
            "realign_step",
            "collapse_step",
        ):
            frame[f] = runs[f"{pid}.{f}"].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def first_realignments(results: Results) -> pd.DataFrame:
    """The first realignment of each (run, partner): when and to whom."""
    ev = results.events
    ev = ev[ev["kind"] == "realign"]
    return ev.drop_duplicates(["run_id", "partner"], keep="first")[
        ["run_id", "partner", "step", "to"]
    ]


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


def summarize(results: Results, by: list[str] | None = None, groups: bool = False) -> pd.DataFrame:
    """Per partner (and per value of the `by` columns, default the swept fields).

    Columns: runs, p_realign with its Wilson 95% interval, p_collapse with its interval,
    the most frequent new patron (of first realignments), and the median step of first
    realignment. With `groups`, also a row per group of partners (the PMF umbrella):
    the chance that any of its members realigns (collapses).
    """
    by = results.sweep_columns if by is None else by
    finals = long_finals(results)
    first = first_realignments(results).rename(columns={"to": "new_patron"})
    finals = finals.merge(
        first[["run_id", "partner", "new_patron"]], how="left", on=["run_id", "partner"]
    )
    if groups and results.groups:
        finals = pd.concat([finals, group_finals(finals, results.groups)], ignore_index=True)
    finals["realigned"] = finals["realign_step"].notna()
    finals["collapsed"] = finals["collapse_step"].notna()
    keys = [*by, "partner"]
    grouped = finals.groupby(keys, sort=True, dropna=False)
    out = grouped.agg(
        runs=("run_id", "size"),
        realigned=("realigned", "sum"),
        collapsed=("collapsed", "sum"),
        median_realign_step=("realign_step", "median"),
    ).reset_index()
    top = (
        finals.dropna(subset=["new_patron"])
        .groupby(keys, sort=True)["new_patron"]
        .agg(lambda s: s.value_counts().sort_index().idxmax())
        .rename("top_new_patron")
    )
    out = out.merge(top.reset_index(), how="left", on=keys)
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
    ]
    return out[order]
