"""Trajectories of loyalty, trust and dependence, and cumulative probabilities over time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from patronage.errors import InputError, listed
from patronage.reporting.plots.style import (
    STEP_LABEL,
    VARIABLES,
    context,
    label_zero_lines,
    new_figure,
    partner_colors,
    partner_legend,
    select_runs,
    shown_note,
    style,
    titled,
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
    # A realigned partner's loyalty and trust are toward its new patron: drawn apart (dashed)
    # from its scores toward the incumbent, never averaged with them into one line.
    data = data.assign(moved=(data["patron"] != results.incumbent).to_numpy())
    grouped = data.groupby(["moved", "partner", "step"], sort=True)[list(VARIABLES)]
    q = {level: grouped.quantile(level) for level in (0.1, 0.5, 0.9)}
    count = grouped.size()
    # runs needed to draw a group's median at a step: 5, or a tenth of a large batch (every
    # run of a batch of fewer than 5)
    enough = max(1, min(len(runs), max(5, int(0.1 * len(runs)))))

    fig = new_figure(8.0, 9.5)
    axes = fig.subplots(len(VARIABLES), 1, sharex=True)
    for ax, var in zip(axes, VARIABLES, strict=True):
        for pid in partners:
            for moved in (False, True):
                if (moved, pid) not in count.index.droplevel(2):
                    continue
                shown = count.loc[(moved, pid)] >= enough
                steps = shown.index.to_numpy()[shown.to_numpy()]
                if not len(steps):
                    continue
                median = q[0.5].loc[(moved, pid)][var].reindex(steps).to_numpy()
                if not moved:
                    ax.fill_between(
                        steps,
                        q[0.1].loc[(moved, pid)][var].reindex(steps).to_numpy(),
                        q[0.9].loc[(moved, pid)][var].reindex(steps).to_numpy(),
                        color=colors[pid],
                        alpha=0.15,
                        linewidth=0,
                    )
                ax.plot(
                    steps,
                    median,
                    color=colors[pid],
                    linewidth=1.3 if moved else 1.8,
                    linestyle="--" if moved else "-",
                    label="_after" if moved else pid,
                )
        ax.set_ylim(-0.02, 1.02)
        style(ax, None, f"{var} (0-1)", f"{var.capitalize()}: median and 10-90% band")
    style(axes[-1], STEP_LABEL, None)
    partner_legend(axes[0])
    titled(
        fig,
        f"Loyalty, trust and dependence over time ({where_label or 'all runs'})",
        [
            context(results, len(runs), where_label),
            shown_note(results, partners),
            "Solid: runs where the partner is still with the incumbent (median, 10-90% band); "
            "dashed: runs where it has realigned,",
            f"its scores now toward its new patron (drawn where at least {enough} runs are in "
            "the group). Look for where the solid line falls before it ends.",
        ],
    )
    return fig


# --- 2. cumulative probabilities ----------------------------------------------------------------


def cumulative(
    results: Results,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
    partners: Sequence[str] | None = None,
) -> Figure:
    """Cumulative probability of realignment and of collapse by each step, per partner (all,
    or `partners`): the share of runs whose first such event came at or before the step."""
    colors = colors or partner_colors(results.partners)
    drawn = list(partners) if partners is not None else results.partners
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
        at_zero = []
        for pid in drawn:
            when = np.sort(first.loc[first["partner"] == pid, "step"].to_numpy(dtype=float))
            share = np.searchsorted(when, steps, side="right") / n if n else np.zeros_like(steps)
            ax.step(steps, share, where="post", color=colors[pid], linewidth=1.8, label=pid)
            if not len(when):
                at_zero.append(pid)
        label_zero_lines(ax, at_zero, f"no {noun} in any run")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, results.steps)
        style(ax, None, f"P({noun} by step) (0-1)", f"Cumulative probability of {noun}")
    style(axes[-1], STEP_LABEL, None)
    partner_legend(axes[0])
    titled(
        fig,
        f"Realigned / collapsed by each step ({where_label or 'all runs'})",
        [
            context(results, n, where_label),
            shown_note(results, drawn),
            "Share of runs in which each partner has realigned (collapsed) at or before each step.",
            "Look for the steepest rise: the months in which partners leave.",
        ],
    )
    return fig
