"""The page's tipping panel: P(realign by the horizon) of each partner against the withdrawal
level, recomputed off the page's thread when a control other than the level changes (a
newer change cancels an older computation); moving the level only moves its mark."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, cast

import solara

from patronage.app import figures, panel, tipping
from patronage.app.settings import Settings
from patronage.errors import InputError


@dataclass(frozen=True, eq=False)  # compared by identity: it holds arrays
class Shown:
    """What the panel shows: the counts and the settings they were computed for."""

    stats: tipping.TippingStats
    described: str


@solara.component
def TippingPanel(loaded: Any, settings: Settings, runs_per_level: int, seed: int) -> None:
    """The tipping curves for the current settings, computed off the page's thread."""
    shown = solara.use_reactive(cast(Shown | None, None))
    problem = solara.use_reactive("")
    key = tipping.sweep_key(loaded) if loaded is not None else None

    def compute(cancel) -> None:
        if loaded is None or runs_per_level < 1:
            return
        try:
            stats = tipping.compute(loaded, runs_per_level, seed, cancelled=cancel.is_set)
        except panel.Cancelled:
            return
        except InputError as exc:  # a level the rest of the settings refuse
            problem.set(str(exc))
            return
        if not cancel.is_set():
            problem.set("")
            shown.set(Shown(stats, describe(settings)))

    # solara runs this in a thread; new dependencies set `cancel` of the running one first
    state = solara.use_thread(compute, [key, runs_per_level, seed], intrusive_cancel=False)
    level = tipping.page_level(loaded) if loaded is not None else None
    title = f"Tipping points ({len(tipping.LEVELS)} levels x {runs_per_level:,} runs)"
    with solara.Card(title, classes=["tipping-panel"]):
        running = state.state in (solara.ResultState.STARTING, solara.ResultState.RUNNING)
        solara.Text("computing..." if running else problem.value, classes=["tipping-status"])
        if shown.value is not None:
            TippingView(shown.value, level)


@solara.component
def TippingView(shown: Shown, level: float | None) -> None:
    """The curves (drawn off the page's thread, the last drawing kept meanwhile), the table
    and what they were computed for."""
    image = solara.use_reactive(cast(bytes | None, None))

    def draw(cancel) -> None:
        drawn = figures.png(figures.tipping(shown.stats, level))
        if not cancel.is_set():
            image.set(drawn)

    solara.use_thread(draw, [shown, level], intrusive_cancel=False)
    stats = shown.stats
    if image.value is not None:
        solara.Image(image.value, format="png")
    solara.HTML(tag="div", unsafe_innerHTML=tipping_table(stats, level))
    mark = "" if level is None else f"; the page's level ({level:g}) dotted"
    solara.Text(
        f"{stats.runs_per_level:,} runs per level, common random numbers, seed {stats.seed}, "
        f"{stats.horizon} steps, computed in {stats.seconds:.2f} s; for {shown.described}"
        f"{mark}",
        classes=["tipping-caption"],
    )


def describe(settings: Settings) -> str:
    """The chosen values the curves depend on (all but the swept level), as `--set` takes
    them."""
    kept = {path: value for path, value in settings.chosen.items() if not tipping.sets_level(path)}
    if not kept:
        return "the file's values"
    return ", ".join(f"{k}={v}" for k, v in kept.items())


def tipping_table(stats: tipping.TippingStats, level: float | None) -> str:
    """P(realign by the horizon) per partner (rows) and level (columns), the page's level
    highlighted. Each cell carries its unrounded value in `data-value` (6 decimals) and its
    Wilson 95% interval in its tooltip."""
    p = stats.p
    low, high = stats.interval
    head = "".join(f'<th class="{_current(x, level)}">{x:g}</th>' for x in stats.levels)
    body = []
    for j, pid in enumerate(stats.partners):
        cells = "".join(
            f'<td class="{_current(x, level)}" data-partner="{pid}" data-level="{x:g}" '
            f'data-value="{p[i, j]:.6f}" title="95% Wilson {low[i, j]:.3f}-{high[i, j]:.3f}, '
            f'{stats.runs[i, j]} runs">{p[i, j]:.2f}</td>'
            for i, x in enumerate(stats.levels)
        )
        body.append(f"<tr><th>{html.escape(pid)}</th>{cells}</tr>")
    return (
        '<table class="tipping-table"><tr><th>P(realign) at level</th>'
        f"{head}</tr>{''.join(body)}</table>"
    )


def _current(x: float, level: float | None) -> str:
    return "current-level" if level is not None and abs(x - level) < 1e-9 else ""
