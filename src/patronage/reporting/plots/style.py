"""Colours, sizes and selections shared by every figure: one colour per partner everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from patronage.errors import InputError
from patronage.results.folder import Results
from patronage.results.params import matching_column, matching_value, show_value

# Okabe & Ito (2008), black moved late and yellow last (weak on white paper).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# Paul Tol's "muted" qualitative scheme (https://personal.sron.nl/~pault/).
TOL_MUTED = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
# Paul Tol's "high-contrast" scheme plus black: batches in side-by-side figures.
BATCH_COLOURS = ("#004488", "#BB5566", "#DDAA33", "#000000")
BATCH_MARKERS = ("o", "s", "^", "D", "v", "P")
COLLAPSED_COLOUR = "#DDDDDD"
ALONE_COLOUR = "#FFFFFF"
HEATMAP = "cividis"
VARIABLES = ("loyalty", "trust", "dependence")
STEP_LABEL = "step (months)"
TITLE_SIZE = 12
LABEL_SIZE = 10
TICK_SIZE = 9


# --- colours and selections -------------------------------------------------------------------


# Twelve partner colours of distinct hue, colour-blind safe pairwise among the first eight
# (Okabe & Ito without their sky blue and yellow, which sit too close to blue and to white,
# then Paul Tol's olive, wine, teal, purple, sky and grey): the first seven (every bundled
# scenario) differ in hue by at least 15 degrees, or are black.
PARTNER_PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#000000",  # black
    "#999933",  # olive
    "#882255",  # wine
    "#44AA99",  # teal
    "#AA4499",  # purple
    "#88CCEE",  # sky
    "#777777",  # grey
)


def partner_colors(partners: Sequence[str]) -> dict[str, str]:
    """A colour per partner by its sorted position: the same partners give the same colours
    in every figure; distinct for up to twelve partners, then the palette repeats."""
    palette = PARTNER_PALETTE
    return {p: palette[i % len(palette)] for i, p in enumerate(sorted(set(partners)))}


CAPTION_SIZE = 8


def titled(fig: Figure, title: str, caption: list[str]) -> None:
    """A short title on top, the details below the panels in a small caption."""
    fig.suptitle(title, fontsize=TITLE_SIZE)
    text = "\n".join(line for line in caption if line)
    lines = text.count("\n") + 1
    bottom = min(0.3, (0.12 + 0.16 * lines) / fig.get_figheight())
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, bottom, 1, 1 - bottom))
    fig.text(0.01, 0.01, text, fontsize=CAPTION_SIZE, color="0.25", va="bottom", ha="left")


def caption_of(fig: Figure) -> str:
    """The title and caption of a figure made by `titled`, as one text (for tests, alt text)."""
    return " ".join(t.get_text() for t in fig.texts)  # the suptitle is one of them


def label_zero_lines(ax, at_zero: list[str], what: str) -> None:
    """Name the partners whose curve lies on zero: one line hides the others there."""
    if not at_zero:
        return
    names = ", ".join(at_zero) if len(at_zero) <= 6 else f"{len(at_zero)} partners"
    ax.text(
        0.99,
        0.035,
        f"at 0 ({what}): {names}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=TICK_SIZE - 1,
        color="0.3",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.8", "pad": 2.0},
    )


def patron_colors(results: Results) -> dict[str, str]:
    """A colour per patron by its position in the scenario (incumbent first)."""
    return patron_palette(list(results.manifest.patrons))


def patron_palette(patrons: Sequence[str]) -> dict[str, str]:
    """Colours of patrons in canonical order (incumbent first), `none` and `collapsed`: the
    network's fills, shared with the interactive page."""
    colours = {p: TOL_MUTED[i % len(TOL_MUTED)] for i, p in enumerate(patrons)}
    colours.setdefault("none", ALONE_COLOUR)
    colours["collapsed"] = COLLAPSED_COLOUR
    return colours


def union_partners(results_list: Sequence[Results]) -> list[str]:
    """Every partner in any of the batches, so compared plots share one order."""
    return sorted({p for r in results_list for p in r.partners})


def new_figure(width: float, height: float) -> Figure:
    """A figure not tied to a GUI backend, so plotting works headless."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def default_where(results: Results) -> dict[str, Any]:
    """The design point shown by default: the last value of each swept field."""
    return {name: values[-1] for name, values in results.design.sweeps.items()}


def select_runs(results: Results, where: dict[str, Any] | None = None) -> tuple[pd.DataFrame, str]:
    """The runs at a design point (`where`: field -> value; None: the default point) and a
    label for titles, e.g. "withdrawal.level = 1"."""
    where = default_where(results) if where is None else where
    runs = results.runs
    mask = np.ones(len(runs), dtype=bool)
    for name, value in where.items():
        col = name if name.startswith("param.") else f"param.{name}"
        if col not in runs.columns:
            raise InputError(
                f"not a field of this batch's design: {name}", source=str(results.path)
            )
        hit = (matching_column(runs[col]) == matching_value(value)).to_numpy()
        if not hit.any():
            values = ", ".join(show_value(v) for v in sorted(runs[col].unique()))
            raise InputError(
                f"{name} = {show_value(value)} is not in this batch (its values: {values})",
                source=str(results.path),
            )
        mask &= hit
    parts = [f"{k.removeprefix('param.')} = {show_value(v)}" for k, v in where.items()]
    samples = results.design.samples
    if samples:
        parts.append(f"pooled over sampled {', '.join(samples)}")
    if not where and results.design.sweeps:
        parts.append("pooled over all swept values")
    return runs[mask], "; ".join(parts)


def batch_label(results: Results) -> str:
    """The scenario's name and its --set overrides: "syria_withdrawal (budget_cut.level=0.4)"."""
    overrides = results.manifest.scenario.overrides
    return f"{results.name} ({', '.join(overrides)})" if overrides else results.name


def batch_labels(results_list: Sequence[Results]) -> list[str]:
    """A label per batch, with its folder name added where labels would repeat."""
    labels = [batch_label(r) for r in results_list]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} [{r.path.name}]" for lab, r in zip(labels, results_list, strict=True)]
    return labels


def context(results: Results, n_runs: int, where_label: str) -> str:
    """The caption line saying which batch and how many runs a plot shows."""
    extra = f", {where_label}" if where_label else ""
    return f"{batch_label(results)}: {n_runs} runs{extra}"


def partner_legend(ax) -> None:
    """The partner legend, outside the axes so it hides no data."""
    ax.legend(fontsize=TICK_SIZE, title="partner", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def style(ax, xlabel: str | None, ylabel: str | None, title: str | None = None) -> None:
    """Apply the house labels and font sizes to an axes."""
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if title:
        ax.set_title(title, fontsize=LABEL_SIZE + 1)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)


def final_states(results: Results) -> pd.DataFrame:
    """One row per (run, partner) with whether it ever realigned."""
    finals = results.finals()
    finals["realigned"] = finals["realign_step"].notna()
    return finals


def shown_note(results: Results, drawn: Sequence[str]) -> str:
    """A caption line when a figure shows some of a batch's partners ("" when all)."""
    if len(drawn) >= len(results.partners):
        return ""
    return (
        f"{len(drawn)} of {len(results.partners):,} partners shown: those likeliest to realign "
        "or collapse."
    )
