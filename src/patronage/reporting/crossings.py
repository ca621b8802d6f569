"""The figure of a tipping search: each partner's curve with its 95% band, the refined
levels, the target and every crossing with its 95% interval."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from patronage.analysis.stats import wilson_interval
from patronage.analysis.tipping_study import TippingStudy
from patronage.reporting.plots.style import TITLE_SIZE, new_figure, partner_colors, style


def crossing_text(row: pd.Series, outcome: str) -> str:
    """One line per crossing, e.g. `pmf_mainstream P(realign) crosses 0.5 upward at
    withdrawal.level 0.72 [0.71, 0.73]`, with as many decimals as the interval needs."""
    digits = decimals(row["high"] - row["low"])
    return (
        f"{row['partner']} P({outcome}) crosses {row['target']:g} {row['direction']} at "
        f"{row['field']} {row['level']:.{digits}f} [{row['low']:.{digits}f}, "
        f"{row['high']:.{digits}f}]"
    )


def decimals(width: float) -> int:
    """Two significant digits of an interval's width, at least two decimals."""
    digits = 2
    while width > 0 and width < 10 ** (1 - digits) and digits < 8:
        digits += 1
    return digits


def crossings_figure(
    curves: pd.DataFrame,
    refined: pd.DataFrame,
    crossings: pd.DataFrame,
    field: str,
    outcome: str,
    target: float,
) -> Figure:
    """One panel per partner: the coarse curve (Wilson 95% band), the refined levels as dots,
    the target as a dashed line, each crossing as a vertical line in its shaded interval."""
    partners = sorted(curves["partner"].unique())
    colours = partner_colors(partners)
    fig = new_figure(7.0, 2.4 * len(partners) + 0.6)
    for i, partner in enumerate(partners):
        ax = fig.add_subplot(len(partners), 1, i + 1)
        curve = curves[curves["partner"] == partner]
        k = (curve["p"] * curve["runs"]).round()
        low, high = wilson_interval(k, curve["runs"])
        colour = colours[partner]
        ax.fill_between(curve["level"], low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(
            curve["level"], curve["p"], color=colour, marker="o", markersize=3, label="coarse scan"
        )
        near = refined[refined["partner"] == partner]
        if not near.empty:
            ax.plot(near["level"], near["p"], "k.", markersize=3, label="refined levels")
        ax.axhline(target, color="0.4", linestyle="--", linewidth=0.8)
        for _, c in crossings[crossings["partner"] == partner].iterrows():
            ax.axvspan(c["low"], c["high"], color="0.6", alpha=0.35, linewidth=0)
            ax.axvline(c["level"], color="0.2", linewidth=0.8)
            ax.annotate(
                f"{c['level']:.{decimals(c['high'] - c['low'])}f}",
                (c["level"], target),
                textcoords="offset points",
                xytext=(3, 6),
                fontsize=8,
            )
        ax.set_ylim(-0.02, 1.02)
        style(ax, field if i == len(partners) - 1 else None, f"P({outcome})", partner)
    fig.suptitle(
        f"Where P({outcome}) crosses {target:g} against {field} (95% band and intervals)",
        fontsize=TITLE_SIZE,
    )
    return fig


def save_crossings_figure(study: TippingStudy, path: Path) -> Path:
    """Draw a finished tipping study and write it as PNG (atomically)."""
    from patronage.reporting.plots import save_figure

    s = study.settings
    figure = crossings_figure(
        study.curves, study.refined, study.crossings, s["field"], s["outcome"], s["target"]
    )
    return save_figure(figure, path, "png")
