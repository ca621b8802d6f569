"""The page's ensemble panel: outcome probabilities of N runs, recomputed off the page's
thread when a control changes (a newer change cancels an older computation)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, cast

import solara

from patronage.app import figures, panel
from patronage.app.settings import Settings


@solara.component
def EnsemblePanel(loaded: Any, settings: Settings, runs: int, seed: int) -> None:
    """The ensemble for the current settings, run off the page's thread; shows its outcomes."""
    # The last finished computation, kept on screen while a newer one runs: its numbers, what
    # they were computed for, the table and the curves (drawn in the worker thread too, so
    # that the page only swaps them in)
    shown = solara.use_reactive(cast(Shown | None, None))

    def compute(cancel) -> None:
        if loaded is None or runs < 1:
            return
        try:
            stats = panel.compute(loaded, runs=runs, seed=seed, cancelled=cancel.is_set)
        except panel.Cancelled:
            return
        curves = figures.png(figures.cumulative(stats))
        if not cancel.is_set():
            shown.set(Shown(stats, describe(settings), panel_table(stats), curves))

    # solara runs this in a thread; new dependencies set `cancel` of the running one first
    state = solara.use_thread(compute, [loaded, runs, seed], intrusive_cancel=False)
    with solara.Card(f"Ensemble ({runs:,} runs, ensemble engine)", classes=["ensemble-panel"]):
        running = state.state in (solara.ResultState.STARTING, solara.ResultState.RUNNING)
        solara.Text("computing..." if running else "", classes=["ensemble-status"])
        if shown.value is None:
            return
        result = shown.value
        solara.HTML(tag="div", unsafe_innerHTML=result.table)
        solara.Text(
            f"{result.stats.runs:,} runs, seed {result.stats.seed}, {result.stats.horizon} "
            f"steps, computed in {result.stats.seconds:.2f} s; for {result.described}",
            classes=["ensemble-caption"],
        )
        solara.Image(result.curves, format="png")


@dataclass(frozen=True)
class Shown:
    """What the ensemble panel shows: its statistics, their description and the table."""

    stats: panel.PanelStats
    described: str
    table: str  # HTML
    curves: bytes  # PNG


def describe(settings: Settings) -> str:
    """The chosen values a computation was for, as `path=value` (as `--set` takes them)."""
    if not settings.chosen:
        return "the file's values"
    return ", ".join(f"{k}={v}" for k, v in settings.chosen.items())


def _short(x: float) -> str:
    """0.603 -> .603 (intervals under each probability, narrow enough for the table)."""
    text = f"{x:.3f}"
    return text[1:] if text.startswith("0.") else text


def panel_table(stats: panel.PanelStats) -> str:
    """P(realign), P(collapse) and final-state shares per partner, with 95% Wilson intervals.

    Each cell carries its unrounded value in `data-value` (6 decimals), for tests and tools.
    """
    columns = [("p_realign", stats.realign), ("p_collapse", stats.collapse)] + [
        (f"final_{s}", prop) for s, prop in stats.shares.items()
    ]
    labels = ["P(realign)", "P(collapse)", *stats.shares]
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    body = []
    for j, pid in enumerate(stats.partners):
        cells = []
        for name, prop in columns:
            low, high = prop.interval
            p = prop.p[j]
            cells.append(
                f'<td data-partner="{pid}" data-field="{name}" data-value="{p:.6f}">'
                f"<b>{p:.3f}</b><br><small>{_short(low[j])}-{_short(high[j])}</small></td>"
            )
        body.append(f"<tr><th>{html.escape(pid)}</th>{''.join(cells)}</tr>")
    return (
        '<table class="ensemble-table"><tr><th></th><th colspan="2">ever (95% Wilson)</th>'
        f'<th colspan="{len(stats.shares)}">final state share (95% Wilson)</th></tr>'
        f"<tr><th>partner</th>{head}</tr>{''.join(body)}</table>"
    )
