"""The few sentences a reader wants first: who realigns or collapses, how likely, when, to
whom, generated from a batch's summary table (never written by hand)."""

from __future__ import annotations

import pandas as pd

from patronage.results.folder import Results
from patronage.results.params import matching_column, matching_value, show_value

__all__ = ["headline"]

LIKELY = 0.05  # below this, a partner is not named as one who realigns or collapses


def _pct(p: float) -> str:
    return f"{p:.0%}"


def _names(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _at_point(results: Results, summary: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows at the strongest swept point (the last value of each swept field)."""
    sweeps = results.design.get("sweeps") or {}
    rows = summary
    for name, values in sweeps.items():
        column = f"param.{name}"
        rows = rows[(matching_column(rows[column]) == matching_value(values[-1])).to_numpy()]
    where = ", ".join(f"{k} = {show_value(v[-1])}" for k, v in sweeps.items())
    return rows, (f"At {where} (the last swept value)" if where else "Over all runs")


def headline(results: Results) -> list[str]:
    """Three to five sentences on one batch, from its summary."""
    summary = results.summary()
    rows, where = _at_point(results, summary)
    n = int(rows["runs"].max()) if len(rows) else 0
    movers = rows[rows["p_realign"] >= LIKELY].sort_values("p_realign", ascending=False)
    sentences = []
    if len(movers):
        parts = []
        for row in movers.head(3).itertuples(index=False):
            to = (
                f", most often to {row.top_new_patron}"
                if isinstance(row.top_new_patron, str)
                else ""
            )
            when = (
                f", by step {row.median_realign_step:g} in half of those runs"
                if pd.notna(row.median_realign_step)
                else ""
            )
            parts.append(
                f"{row.partner} realigns in {_pct(row.p_realign)} of runs "
                f"(95% CI {_pct(row.p_realign_low)}-{_pct(row.p_realign_high)}){to}{when}"
            )
        more = len(movers) - len(parts)
        others = f"{more:,} more partner realigns" if more == 1 else f"{more:,} more realign"
        tail = f" ({others} in at least {_pct(LIKELY)} of runs)" if more else ""
        sentences.append(
            f"{where}, {n} runs of {results.steps} steps: " + "; ".join(parts) + tail + "."
        )
    else:
        sentences.append(
            f"{where}, {n} runs of {results.steps} steps: no partner realigns in as many as "
            f"{_pct(LIKELY)} of runs."
        )
    fallen = rows[rows["p_collapse"] >= LIKELY].sort_values("p_collapse", ascending=False)
    if len(fallen):
        sentences.append(
            "Collapse: "
            + "; ".join(
                f"{r.partner} in {_pct(r.p_collapse)} of runs"
                for r in fallen.head(3).itertuples(index=False)
            )
            + " (a partner can realign and later collapse, so the two can add up to more "
            "than 100%)."
        )
    steady = rows[(rows["p_realign"] < LIKELY) & (rows["p_collapse"] < LIKELY)]["partner"]
    if len(steady):
        names = list(steady)
        shown = _names(names) if len(names) <= 4 else f"{len(names)} partners"
        sentences.append(
            f"{shown} stay with {results.incumbent}: each realigns and collapses in under "
            f"{_pct(LIKELY)} of runs."
        )
    sentences += _tipping(results, summary, movers)
    return sentences[:5]


def _tipping(results: Results, summary: pd.DataFrame, movers: pd.DataFrame) -> list[str]:
    """With one swept field: the lowest value at which the likeliest mover realigns in more
    than half of the runs."""
    sweeps = results.design.get("sweeps") or {}
    if len(sweeps) != 1 or not len(movers):
        return []
    field = next(iter(sweeps))
    column = f"param.{field}"
    partner = movers.iloc[0]["partner"]
    mine = summary[summary["partner"] == partner].sort_values(column)
    over = mine[mine["p_realign"] > 0.5]
    if not len(over):
        return [f"{partner} never realigns in more than half of the runs over {field}."]
    first = over.iloc[0]
    return [
        f"{partner}'s realignment becomes more likely than not from {field} = "
        f"{show_value(first[column])} ({_pct(first['p_realign'])} of runs)."
    ]
