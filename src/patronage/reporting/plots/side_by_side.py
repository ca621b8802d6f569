"""Several batches side by side: their probabilities with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from patronage.analysis.stats import wilson_interval
from patronage.errors import InputError
from patronage.reporting.plots.style import (
    BATCH_COLOURS,
    BATCH_MARKERS,
    TICK_SIZE,
    batch_labels,
    final_states,
    new_figure,
    partner_colors,
    select_runs,
    style,
    titled,
    union_partners,
)
from patronage.results.folder import Results

# --- 4. side by side --------------------------------------------------------------------------


def side_by_side(
    results_list: Sequence[Results],
    where: Sequence[dict[str, Any] | None] | None = None,
    colors: dict[str, str] | None = None,
    partners: Sequence[str] | None = None,
) -> Figure:
    """P(realign) and P(collapse) by the horizon per partner for two or more batches, with
    Wilson 95% intervals; each batch a colour and a marker, partners on the x axis (their
    tick labels in the partner's colour). `where` gives each batch's design point."""
    results_list = list(results_list)
    if not results_list:
        raise InputError("side_by_side needs at least one batch", source="plots")
    where = list(where) if where is not None else [None] * len(results_list)
    colors = colors or partner_colors(union_partners(results_list))
    partners = sorted(partners) if partners is not None else union_partners(results_list)
    labels = batch_labels(results_list)
    fig = new_figure(max(8.0, 1.1 * len(partners) + 3), 7.5)
    axes = fig.subplots(2, 1, sharex=True)
    width = 0.7
    step = width / len(results_list)
    notes = []
    for j, (res, w, label) in enumerate(zip(results_list, where, labels, strict=True)):
        runs, where_label = select_runs(res, w)
        finals = final_states(res)
        finals = finals[finals["run_id"].isin(runs["run_id"]) & finals["partner"].isin(partners)]
        finals["collapsed"] = finals["collapse_step"].notna()
        agg = finals.groupby("partner").agg(
            n=("run_id", "size"), realign=("realigned", "sum"), collapse=("collapsed", "sum")
        )
        notes.append(
            f"{label}: {len(runs)} runs, {res.steps} steps"
            + (f", {where_label}" if where_label else "")
        )
        x = (
            np.array([partners.index(p) for p in agg.index], dtype=float)
            - width / 2
            + step * (j + 0.5)
        )
        for ax, outcome in zip(axes, ("realign", "collapse"), strict=True):
            p = (agg[outcome] / agg["n"]).to_numpy()
            low, high = wilson_interval(agg[outcome], agg["n"])
            ax.errorbar(
                x,
                p,
                # Wilson bounds can sit a rounding error inside p at 0 or 1
                yerr=np.clip([p - low, high - p], 0.0, None),
                fmt=BATCH_MARKERS[j % len(BATCH_MARKERS)],
                color=BATCH_COLOURS[j % len(BATCH_COLOURS)],
                markersize=6,
                capsize=3,
                linewidth=1.4,
                label=label,
            )
    for ax, noun in zip(axes, ("realigning", "collapsing"), strict=True):
        ax.set_ylim(-0.02, 1.02)
        style(ax, None, "probability (0-1)", f"Probability of {noun} by the horizon")
    axes[-1].set_xticks(range(len(partners)), partners, rotation=30, ha="right")
    for tick, pid in zip(axes[-1].get_xticklabels(), partners, strict=True):
        tick.set_color(colors[pid])
    style(axes[-1], "partner", None)
    axes[0].legend(fontsize=TICK_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="batch")
    titled(
        fig,
        "Realignment and collapse per partner, batch by batch",
        [
            *notes,
            "Points: probabilities by the horizon, bars: Wilson 95% intervals. Look for "
            "partners whose bars do not overlap between batches.",
        ],
    )
    return fig
