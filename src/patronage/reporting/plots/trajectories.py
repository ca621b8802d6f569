"""Trajectories of loyalty, trust and dependence, and cumulative probabilities over time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from patronage.errors import InputError, listed
from patronage.reporting.plots.style import (
    STEP_LABEL,
    TITLE_SIZE,
    VARIABLES,
    context,
    new_figure,
    partner_colors,
    partner_legend,
    select_runs,
    style,
)
from patronage.results.folder import Results

# --- 1. trajectories --------------------------------------------------------------------------


def trajectories(
    results: Results,
    partners: Sequence[str] | None = None,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """Loyalty, trust and dependence of each partner over time: the median over runs with a
    10-90% band, one panel per variable (from the series table)."""
    partners = list(partners) if partners is not None else results.partners
    unknown = [p for p in partners if p not in results.partners]
    if unknown:
        raise InputError(f"no such partner in this batch: {listed(unknown)}", source="partners")
    colors = colors or partner_colors(results.partners)
    series = results.series
    if series.empty:
        raise InputError(
            "this batch recorded no series (--series none); trajectories need a batch run "
            "with --series all or --series every=K",
            source=str(results.path),
        )
    runs, where_label = select_runs(results, where)
    data = series[series["run_id"].isin(runs["run_id"]) & series["partner"].isin(partners)]
    grouped = data.groupby(["partner", "step"], sort=True)[list(VARIABLES)]
    q = {level: grouped.quantile(level) for level in (0.1, 0.5, 0.9)}

    fig = new_figure(8.0, 9.0)
    axes = fig.subplots(len(VARIABLES), 1, sharex=True)
    for ax, var in zip(axes, VARIABLES, strict=True):
        for pid in partners:
            if pid not in q[0.5].index.get_level_values(0):
                continue
            steps = q[0.5].loc[pid].index.to_numpy()
            colour = colors[pid]
            ax.fill_between(
                steps,
                q[0.1].loc[pid][var].to_numpy(),
                q[0.9].loc[pid][var].to_numpy(),
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
            ax.plot(steps, q[0.5].loc[pid][var].to_numpy(), color=colour, linewidth=1.8, label=pid)
        ax.set_ylim(-0.02, 1.02)
        style(ax, None, f"{var} score (0-1)", f"{var.capitalize()}: median and 10-90% band")
    style(axes[-1], STEP_LABEL, None)
    partner_legend(axes[0])
    fig.suptitle(
        "Loyalty, trust and dependence of each partner over time\n"
        + context(results, len(runs), where_label),
        fontsize=TITLE_SIZE,
    )
    return fig


# --- 2. cumulative probabilities ----------------------------------------------------------------


def cumulative(
    results: Results,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """Cumulative probability of realignment and of collapse by each step, per partner (the
    share of runs whose first such event came at or before the step, from the events)."""
    colors = colors or partner_colors(results.partners)
    runs, where_label = select_runs(results, where)
    n = len(runs)
    steps = np.arange(results.steps + 1)
    fig = new_figure(8.0, 6.5)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, kind, noun in zip(
        axes, ("realign", "collapse"), ("realignment", "collapse"), strict=True
    ):
        first = results.first_events(kind)[["run_id", "partner", "step"]]
        first = first[first["run_id"].isin(runs["run_id"])]
        for pid in results.partners:
            when = np.sort(first.loc[first["partner"] == pid, "step"].to_numpy(dtype=float))
            share = np.searchsorted(when, steps, side="right") / n if n else np.zeros_like(steps)
            ax.step(steps, share, where="post", color=colors[pid], linewidth=1.8, label=pid)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, results.steps)
        style(ax, None, f"P({noun} by step) (0-1)", f"Cumulative probability of {noun}")
    style(axes[-1], STEP_LABEL, None)
    partner_legend(axes[0])
    fig.suptitle(
        "Share of runs in which each partner has realigned / collapsed by each step\n"
        + context(results, n, where_label),
        fontsize=TITLE_SIZE,
    )
    return fig
