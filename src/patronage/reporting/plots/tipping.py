"""Tipping curves: the probability of an outcome against a swept field (a heat map with two)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from patronage.analysis.stats import wilson_interval
from patronage.errors import InputError
from patronage.reporting.plots.style import (
    HEATMAP,
    LABEL_SIZE,
    batch_label,
    final_states,
    label_zero_lines,
    new_figure,
    partner_colors,
    partner_legend,
    shown_note,
    style,
    titled,
)
from patronage.results.folder import Results
from patronage.results.params import show_value

# --- 3. tipping curve -------------------------------------------------------------------------


def curve_field(results: Results, field: str | None) -> str | None:
    """The field a tipping curve is drawn against: `field` when given (with or without its
    "param." prefix), else the batch's one swept or sampled field. None means two swept
    fields, drawn as a heat map; a batch that varies nothing, or several fields without a
    choice, is refused."""
    sweeps = results.design.sweeps
    samples = results.design.samples
    if field is None:
        if len(sweeps) == 2:
            return None
        if len(sweeps) == 1:
            field = next(iter(sweeps))
        elif not sweeps and len(samples) == 1:
            field = next(iter(samples))
        elif not sweeps and not samples:
            raise InputError(
                "this batch sweeps no field; a tipping curve needs a batch run with --sweep "
                "(e.g. --sweep withdrawal.level=0,0.25,0.5,0.75,1)",
                source=str(results.path),
            )
        else:
            raise InputError(
                f"the batch varies {', '.join([*sweeps, *samples])}: say which field to draw "
                "against",
                source="field",
            )
    field = field.removeprefix("param.")
    if field not in sweeps and field not in samples:
        raise InputError(
            f"not a swept or sampled field of this batch: {field}", source=str(results.path)
        )
    return field


def curve_points(results: Results, field: str) -> pd.DataFrame:
    """Runs and realignments by the horizon per (partner, x): x is the swept value, or the
    midpoint of one of ten equal-width bins of a sampled field's range."""
    col = f"param.{field}"
    finals = final_states(results)
    samples = results.design.samples
    if field in samples:
        range_low, range_high = samples[field]
        edges = np.linspace(range_low, range_high, 11)
        idx = np.clip(np.digitize(finals[col].to_numpy(float), edges[1:-1]), 0, 9)
        finals["x"] = (edges[idx] + edges[idx + 1]) / 2
    else:
        finals["x"] = finals[col].astype(float)
    return (
        finals.groupby(["partner", "x"], sort=True)
        .agg(runs=("run_id", "size"), k=("realigned", "sum"))
        .reset_index()
    )


def draw_curves(
    ax, grouped: pd.DataFrame, partners: Sequence[str], colors: dict[str, str], xlabel: str
) -> None:
    """The curves of a `curve_points` table on an axes: P(realign) per partner with its
    Wilson 95% band, partners that never realign named, the house labels and legend (shared
    with the interactive page's tipping panel)."""
    at_zero = []
    for pid in partners:
        g = grouped[grouped["partner"] == pid]
        low, high = wilson_interval(g["k"], g["runs"])
        x = g["x"].to_numpy(float)
        ax.fill_between(x, low, high, color=colors[pid], alpha=0.12, linewidth=0)
        ax.plot(
            x, (g["k"] / g["runs"]).to_numpy(), marker="o", color=colors[pid], label=pid, lw=1.8
        )
        if not g["k"].any():
            at_zero.append(pid)
    label_zero_lines(ax, at_zero, "never realign")
    ax.set_ylim(-0.02, 1.02)
    style(ax, xlabel, "P(realign by the horizon)")
    partner_legend(ax)


def tipping_curve(
    results: Results,
    field: str | None = None,
    colors: dict[str, str] | None = None,
    partners: Sequence[str] | None = None,
) -> Figure:
    """P(realign by the horizon) against a swept field, per partner (all, or `partners`),
    with Wilson 95% bands.

    Without `field`: the batch's one swept field, or with two swept fields a heat map per
    partner (P(realign) over the grid). A sampled (Latin hypercube) field is binned into ten
    equal-width bins. Other swept fields are pooled, and the title says so.
    """
    colors = colors or partner_colors(results.partners)
    drawn = list(partners) if partners is not None else results.partners
    chosen = curve_field(results, field)
    if chosen is None:
        return tipping_heatmap(results, list(results.design.sweeps), drawn)
    grouped = curve_points(results, chosen)
    fig = new_figure(8.0, 5.5)
    ax = fig.subplots()
    binned = chosen in results.design.samples
    xlabel = f"{chosen} ({'binned sampled value' if binned else 'swept value'})"
    draw_curves(ax, grouped, drawn, colors, xlabel)
    per = grouped.groupby("x")["runs"].first()
    runs_note = (
        f"{int(per.min())}" if per.min() == per.max() else f"{int(per.min())}-{int(per.max())}"
    )
    pooled = [f for f in [*results.design.sweeps, *results.design.samples] if f != chosen]
    pooled_note = f"; pooled over {', '.join(pooled)}" if pooled else ""
    titled(
        fig,
        f"Tipping curve: P(realign) against {chosen}",
        [
            f"{batch_label(results)}: {runs_note} runs per value, Wilson 95% bands{pooled_note}; "
            f"realigned by the horizon (step {results.steps}).",
            shown_note(results, drawn),
            "Look for the value where a curve rises steeply: the partner's tipping point.",
        ],
    )
    return fig


def tipping_heatmap(
    results: Results, fields: list[str], partners: Sequence[str] | None = None
) -> Figure:
    """Final-state shares of each partner over a grid of two fields, to see where they tip."""
    fy, fx = fields
    finals = final_states(results)
    cy, cx = f"param.{fy}", f"param.{fx}"
    ys = sorted(finals[cy].unique())
    xs = sorted(finals[cx].unique())
    partners = list(partners) if partners is not None else results.partners
    ncols = min(4, len(partners))
    nrows = math.ceil(len(partners) / ncols)
    fig = new_figure(3.0 * ncols + 1.2, 2.8 * nrows + 1.0)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    table = finals.groupby(["partner", cy, cx])["realigned"].agg(["sum", "size"])
    image = None
    for ax, pid in zip(axes, partners, strict=False):
        grid = np.full((len(ys), len(xs)), np.nan)
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                if (pid, y, x) in table.index:
                    k, n = table.loc[(pid, y, x)]
                    grid[i, j] = k / n if n else np.nan
        image = ax.imshow(grid, cmap=HEATMAP, vmin=0, vmax=1, origin="lower", aspect="auto")
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i, j]
                if not np.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="black" if v > 0.55 else "white",
                    )
        ax.set_xticks(range(len(xs)), [show_value(x) for x in xs])
        ax.set_yticks(range(len(ys)), [show_value(y) for y in ys])
        style(ax, fx, fy, pid)
        ax.grid(False)
    for ax in axes[len(partners) :]:
        ax.set_visible(False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[: len(partners)].tolist(), shrink=0.8)
        bar.set_label(f"P(realign by step {results.steps}) (0-1)", fontsize=LABEL_SIZE)
    n = int(finals.groupby([cy, cx])["run_id"].nunique().min())
    titled(
        fig,
        f"P(realign) over {fy} x {fx}",
        [
            f"{batch_label(results)}: {n} runs per cell; realigned by the horizon (step "
            f"{results.steps}), one panel per partner.",
            "Look for the corner where the colour turns light: both fields push together.",
        ],
    )
    return fig
