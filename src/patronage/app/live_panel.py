"""The page's live run: step, play, pause, reset; the network, the traces and the events."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import solara

from patronage.app import figures
from patronage.app.live import LiveRun, Snapshot

PLAY_INTERVAL_MS = 250  # between steps while playing


@solara.component_vue("ticker.vue")
def Ticker(active: bool, interval_ms: int, step: int, event_tick: Callable[[dict], None]) -> None:
    """A timer in the browser that calls `event_tick` every `interval_ms` while active, once
    the page shows the step the previous tick made."""


@solara.component
def LivePanel(loaded: Any, seed: int) -> None:
    """One run of the Mesa engine, run k of the ensemble's batch (k chosen on the page)."""
    run_id = solara.use_reactive(0)
    generation = solara.use_reactive(0)  # bumped by Reset: a fresh model of the same run
    live = solara.use_memo(
        lambda: LiveRun(loaded, seed, run_id.value) if loaded else None,
        [loaded, seed, run_id.value, generation.value],
    )
    tick = solara.use_reactive(0)  # the step reached, set after every step: the panel redraws
    playing = solara.use_reactive(False)

    def play_tick(_: dict) -> None:
        """One step per tick of the browser's timer while playing (each a page event, like
        a click on Step, so the page redraws after every step)."""
        if not playing.value or live is None:
            return
        if live.step():
            tick.set(live.steps_done)
        else:
            playing.set(False)

    def step_once() -> None:
        if live is not None and live.step():
            tick.set(live.steps_done)

    def reset() -> None:
        playing.set(False)
        generation.set(generation.value + 1)

    # `tick` is read here: a component redraws when a reactive value it read changes
    snap = solara.use_memo(lambda: live.snapshot() if live else None, [live, tick.value])
    with solara.Card("One run (Mesa engine)", classes=["live-panel"]):
        if live is None or snap is None:
            solara.Text("no valid scenario")
            return
        with solara.Row():
            busy = snap.finished or playing.value
            solara.Button("Step", on_click=step_once, disabled=busy)
            solara.Button("Play", on_click=lambda: playing.set(True), disabled=busy)
            solara.Button("Pause", on_click=lambda: playing.set(False), disabled=not playing.value)
            solara.Button("Reset", on_click=reset)
        Ticker(
            active=playing.value,
            interval_ms=PLAY_INTERVAL_MS,
            step=snap.step,
            event_tick=play_tick,
        )
        with solara.Row(style={"align-items": "center"}):
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f'<span class="step-counter" data-step="{snap.step}">'
                f"step {snap.step} / {snap.horizon}</span>",
            )
            solara.InputInt(f"run (seed {seed})", value=run_id, style={"max-width": "90px"})
        LiveFigures(loaded, snap)
        solara.Markdown(f"**Events so far** ({len(snap.events)})")
        solara.HTML(tag="div", unsafe_innerHTML=events_table(snap), classes=["events-wrap"])


@solara.component
def LiveFigures(loaded: Any, snap: Snapshot) -> None:
    """The network and the traces, redrawn only when what they show has changed."""
    scenario = loaded.scenario
    # What the figures draw of the scenario: its patrons, partners and watch network. Most
    # controls change none of it, so moving them redraws nothing at step 0.
    drawn = figures.network_key(scenario)
    layout = solara.use_memo(lambda: figures.network_layout(scenario), [drawn])
    network = solara.use_memo(
        lambda: figures.network(scenario, snap.states, snap.step, layout),
        [drawn, snap.states, snap.step],
    )
    traces = solara.use_memo(
        lambda: figures.traces(snap.series_frame(), scenario.partner_ids(), snap.horizon),
        [drawn, snap.series, snap.horizon],
    )
    with solara.Div(classes=["live-network"]):
        solara.FigureMatplotlib(network, dependencies=[network], format="png")
    solara.FigureMatplotlib(traces, dependencies=[traces], format="png")


def events_table(snap: Snapshot) -> str:
    """The events so far, newest first: step, partner, kind, from, to and the cause."""
    if not snap.events:
        return "<p>none yet</p>"
    frame = snap.events_frame()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in reversed(snap.events)
    )
    return f'<table class="events-table"><tr>{head}</tr>{rows}</table>'
