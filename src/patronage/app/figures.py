"""The page's figures: the live run's network and traces, the ensemble and tipping curves.

Matplotlib figures built without pyplot (as in reporting.plots), with the colours of
`patronage plot`: partners by their sorted position, patrons by their position in the
scenario (incumbent first), collapsed partners grey.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch

from patronage.app.live import PartnerState
from patronage.app.panel import PanelStats
from patronage.app.tipping import FIELD, TippingStats
from patronage.reporting.plots.style import partner_colors, patron_palette
from patronage.reporting.plots.tipping import draw_curves
from patronage.scenario.schema import Scenario

TRACED = ("loyalty", "trust", "dependence")
FONT = 8
DPI = 80


def _figure(width: float, height: float, margins: dict[str, float]) -> Figure:
    """A figure with fixed margins: redrawn at every step, so no layout engine (it costs more
    than the drawing)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(**margins)
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (drawn where it is called: the panel's worker thread)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def network_key(scenario: Scenario) -> tuple:
    """What the network figure shows of a scenario (patrons, partners, who watches whom)."""
    watches = tuple((p.id, tuple(sorted(p.watches.items()))) for p in scenario.partners)
    return (tuple(scenario.patron_ids()), watches)


def network_layout(scenario: Scenario, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Spring layout of the watch network with a fixed seed (as `patronage plot`)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(scenario.partner_ids())
    for p in scenario.partners:
        for other, weight in p.watches.items():
            graph.add_edge(p.id, other, weight=float(weight))
    pos = nx.spring_layout(graph, seed=seed, weight="weight")
    return {k: (float(v[0]), float(v[1])) for k, v in pos.items()}


def network(
    scenario: Scenario,
    states: Sequence[PartnerState],
    step: int,
    layout: dict[str, tuple[float, float]],
) -> Figure:
    """Partners filled with their patron at `step`, ringed in their own colour; arrows from
    watcher to watched, width by weight."""
    fill = patron_palette(scenario.patron_ids())
    ring = partner_colors(scenario.partner_ids())
    fig = _figure(5.0, 4.2, {"left": 0.01, "right": 0.72, "bottom": 0.01, "top": 0.93})
    ax = fig.subplots()
    for p in scenario.partners:
        for other, weight in sorted(p.watches.items()):
            ax.add_patch(
                FancyArrowPatch(
                    layout[p.id],
                    layout[other],
                    arrowstyle="-|>",
                    mutation_scale=10,
                    linewidth=0.5 + 3.0 * float(weight),
                    color="0.6",
                    connectionstyle="arc3,rad=0.12",
                    shrinkA=13,
                    shrinkB=13,
                    zorder=1,
                )
            )
    xy = np.array([layout[s.partner] for s in states])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=520,
        c=[fill.get(s.patron, "#999999") for s in states],
        edgecolors=[ring[s.partner] for s in states],
        linewidths=2.5,
        zorder=2,
    )
    for s, (x, y) in zip(states, xy, strict=True):
        ax.text(
            x,
            y - 0.12,
            f"{s.partner}\n{s.patron}" + (" (hedging)" if s.status == "hedging" else ""),
            ha="center",
            va="top",
            fontsize=FONT,
            zorder=3,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.8},
        )
    shown = [p for p in fill if p in {s.patron for s in states}]
    ax.legend(
        handles=[Patch(facecolor=fill[p], edgecolor="0.3", label=p) for p in shown],
        fontsize=FONT,
        title="patron (fill)",
        title_fontsize=FONT,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    ax.set_xlim(xy[:, 0].min() - 0.4, xy[:, 0].max() + 0.4)
    ax.set_ylim(xy[:, 1].min() - 0.45, xy[:, 1].max() + 0.3)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(f"Alignment network at step {step} (month {step})", fontsize=FONT + 2)
    return fig


def traces(series: pd.DataFrame, partners: Sequence[str], horizon: int) -> Figure:
    """Loyalty, trust and dependence of each partner over the steps run so far."""
    colours = partner_colors(partners)
    fig = _figure(
        5.0, 3.6, {"left": 0.12, "right": 0.74, "bottom": 0.12, "top": 0.97, "hspace": 0.15}
    )
    axes = fig.subplots(len(TRACED), 1, sharex=True)
    for ax, variable in zip(axes, TRACED, strict=True):
        for pid, rows in series.groupby("partner", sort=True):
            ax.plot(rows["step"], rows[variable], color=colours[str(pid)], linewidth=1.4)
        ax.set_ylabel(variable, fontsize=FONT + 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, max(horizon, 1))
        ax.tick_params(labelsize=FONT)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("step (months)", fontsize=FONT + 1)
    handles = [Patch(color=colours[p], label=p) for p in partners]
    fig.legend(handles=handles, fontsize=FONT, loc="upper right")
    return fig


def cumulative(stats: PanelStats) -> Figure:
    """P(first realignment by step t) per partner (solid); P(collapse by t) dashed."""
    colours = partner_colors(stats.partners)
    fig = _figure(5.0, 3.4, {"left": 0.11, "right": 0.97, "bottom": 0.13, "top": 0.91})
    ax = fig.subplots()
    steps = np.arange(stats.horizon + 1)
    for j, pid in enumerate(stats.partners):
        ax.plot(steps, stats.cumulative_realign[:, j], color=colours[pid], label=pid, lw=1.6)
        if stats.cumulative_collapse[-1, j] > 0:
            ax.plot(steps, stats.cumulative_collapse[:, j], color=colours[pid], ls="--", lw=1.2)
    ax.set_xlim(0, stats.horizon)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step (months)", fontsize=FONT + 1)
    ax.set_ylabel("share of runs", fontsize=FONT + 1)
    ax.tick_params(labelsize=FONT)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"Cumulative realignment (solid) and collapse (dashed), {stats.runs:,} runs",
        fontsize=FONT + 1,
    )
    ax.legend(fontsize=FONT, loc="upper left")
    return fig


def tipping(stats: TippingStats, level: float | None) -> Figure:
    """P(realign by the horizon) against the withdrawal level, with Wilson 95% bands: the
    curves of `patronage plot`'s tipping curve, at the page's size; the page's own level
    dotted (None: a range, not marked)."""
    fig = _figure(7.0, 3.8, {"left": 0.09, "right": 0.75, "bottom": 0.12, "top": 0.92})
    ax = fig.subplots()
    colours = partner_colors(stats.partners)
    draw_curves(ax, stats.points(), stats.partners, colours, f"{FIELD} (swept value)")
    if level is not None:
        ax.axvline(level, color="0.3", linestyle=":", linewidth=1.2, zorder=0)
    ax.set_xlim(-0.02, 1.02)
    ax.set_title(
        f"P(realign by step {stats.horizon}), {stats.runs_per_level:,} runs per level",
        fontsize=FONT + 1,
    )
    return fig
