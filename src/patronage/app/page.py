"""The interactive page: scenario, controls, one live run and the ensemble panel.

Served by `patronage app` (or `solara run patronage/app/app.py`). The scenario comes from
PATRONAGE_APP_SCENARIO (set by `patronage app SCENARIO`), a bundled file or an upload;
every problem with a file or a value is shown as the loader's one-line message. The page
writes nothing but the result folder the user names under "Save".
"""

from __future__ import annotations

import base64
import html
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara

from patronage.app import controls, figures, panel
from patronage.app.live import LiveRun
from patronage.app.settings import (
    MAX_UPLOAD_BYTES,
    Settings,
    bundled_scenarios,
    load_bundled,
    load_uploaded,
)
from patronage.errors import InputError

SCENARIO_ENV = "PATRONAGE_APP_SCENARIO"
PLAY_INTERVAL = 0.25  # seconds between steps while playing
ROOT_SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"  # a source checkout's


def scenario_folders() -> list[Path]:
    """Where bundled scenarios are found: beside the one given, and the checkout's folder."""
    folders = []
    given = os.environ.get(SCENARIO_ENV)
    if given:
        folders.append(Path(given).resolve().parent)
    folders.append(ROOT_SCENARIOS)
    return folders


def initial_settings() -> Settings | None:
    given = os.environ.get(SCENARIO_ENV)
    if given:
        return load_bundled(given)
    found = bundled_scenarios(*scenario_folders())
    default = next((p for p in found if p.name == "syria_withdrawal.yaml"), None)
    return load_bundled(default or found[0]) if found else None


@solara.component_vue("upload.vue")
def ScenarioUpload(max_bytes: int, event_upload: Callable[[dict], None]) -> None:
    """A file input that reads the file in the browser and sends its bytes to the page."""


@solara.component
def Page() -> None:
    settings = solara.use_reactive(solara.use_memo(initial_settings, []))
    message = solara.use_reactive("")  # the last one-line error (bad file, refused value)
    runs = solara.use_reactive(panel.DEFAULT_RUNS)
    seed = solara.use_reactive(0)
    current = settings.value
    edited, problem = solara.use_memo(lambda: _validated(current), [current])
    good = solara.use_reactive(edited)  # the last valid edit: what the panels show
    if edited is not None and edited is not good.value:
        good.set(edited)
    name = current.base.scenario.name if current else "no scenario"
    solara.Title(f"patronage: {name}")
    solara.Style(CSS)
    if current is None:
        solara.Error("No scenario: start with `patronage app SCENARIO`.")
        return
    title = current.base.scenario.title or name
    with solara.Columns([1, 3], style={"padding": "4px"}):
        with solara.Card("patronage", subtitle=title, classes=["controls-card"]):
            ScenarioPicker(settings, message)
            controls.Controls(settings, runs, seed)
        with solara.Column():
            with solara.Div(classes=["page-message"]):
                if message.value or problem:
                    solara.Error(message.value or problem)
            with solara.Columns([1, 1]):
                LivePanel(good.value, seed.value)
                EnsemblePanel(good.value, current, runs.value, seed.value)


CSS = """
.controls-card { max-height: 97vh; overflow-y: auto; }
.ensemble-table, .events-table { border-collapse: collapse; font-size: 12px; }
.ensemble-table td, .ensemble-table th, .events-table td, .events-table th {
    padding: 2px 6px; text-align: right; border-bottom: 1px solid #eee; }
.ensemble-table small { color: #666; white-space: nowrap; }
.events-wrap { max-height: 220px; overflow-y: auto; }
"""


def _validated(settings: Settings) -> tuple[Any, str]:
    try:
        return settings.loaded(), ""
    except InputError as exc:
        return None, str(exc)


@solara.component
def ScenarioPicker(settings: solara.Reactive, message: solara.Reactive) -> None:
    files = solara.use_memo(lambda: bundled_scenarios(*scenario_folders()), [])
    names = [p.name for p in files]
    current = Path(settings.value.base.source).name

    def choose(name: str) -> None:
        path = files[names.index(name)]
        try:
            settings.set(load_bundled(path))
            message.set("")
        except InputError as exc:
            message.set(str(exc))

    def uploaded(info: dict) -> None:
        name = str(info.get("name") or "upload")
        data = info.get("base64")
        try:
            if data is None:
                raise InputError(
                    f"file is over {MAX_UPLOAD_BYTES} bytes, the limit for uploads to the page",
                    source=Path(name).name,
                )
            settings.set(load_uploaded(name, base64.b64decode(data)))
            message.set("")
        except InputError as exc:
            message.set(str(exc))

    solara.Markdown("**Scenario**")
    if names:
        solara.Select(
            "bundled scenario",
            values=names,
            value=current if current in names else None,
            on_value=choose,
        )
    ScenarioUpload(max_bytes=MAX_UPLOAD_BYTES, event_upload=uploaded)
    solara.Text(f"loaded: {settings.value.base.source}")


@solara.component
def LivePanel(loaded: Any, seed: int) -> None:
    """One run of the Mesa engine: step, play, pause, reset; network, traces, events."""
    run_id = solara.use_reactive(0)
    generation = solara.use_reactive(0)  # bumped by Reset: a fresh model of the same run
    live = solara.use_memo(
        lambda: LiveRun(loaded.scenario, seed, run_id.value) if loaded else None,
        [loaded, seed, run_id.value, generation.value],
    )
    tick = solara.use_reactive(0)  # bumped after every step, so the figures redraw
    playing = solara.use_reactive(False)
    layout = solara.use_memo(
        lambda: figures.network_layout(loaded.scenario) if loaded else {}, [loaded]
    )

    def play_loop(cancel) -> None:
        while playing.value and live is not None and not cancel.is_set():
            if not live.step():
                break
            tick.set(live.step_count)
            time.sleep(PLAY_INTERVAL)
        if not cancel.is_set():
            playing.set(False)

    solara.use_thread(play_loop, [playing.value, live], intrusive_cancel=False)

    def step_once() -> None:
        live.step()
        tick.set(live.step_count)

    def reset() -> None:
        playing.set(False)
        generation.set(generation.value + 1)
        tick.set(0)

    with solara.Card("One run (Mesa engine)", classes=["live-panel"]):
        if live is None:
            solara.Text("no valid scenario")
            return
        with solara.Row():
            solara.Button("Step", on_click=step_once, disabled=live.finished or playing.value)
            solara.Button(
                "Play", on_click=lambda: playing.set(True), disabled=live.finished or playing.value
            )
            solara.Button("Pause", on_click=lambda: playing.set(False), disabled=not playing.value)
            solara.Button("Reset", on_click=reset)
            solara.InputInt("run", value=run_id, style={"max-width": "80px"})
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f'<span class="step-counter" data-step="{live.step_count}">'
            f"step {live.step_count} / {live.horizon}</span> (run {live.run_id} of seed {seed})",
        )
        states = live.states()
        with solara.Div(classes=["live-network"]):
            solara.FigureMatplotlib(
                figures.network(loaded.scenario, states, live.step_count, layout),
                dependencies=[live, tick.value],
                format="png",
            )
        solara.FigureMatplotlib(
            figures.traces(live.series(), loaded.scenario.partner_ids(), live.horizon),
            dependencies=[live, tick.value],
            format="png",
        )
        events = live.events()
        solara.Markdown(f"**Events so far** ({len(events)})")
        solara.HTML(tag="div", unsafe_innerHTML=_events_table(events), classes=["events-wrap"])


def _events_table(events) -> str:
    if not len(events):
        return "<p>none yet</p>"
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in events.itertuples(index=False)
    )
    head = "".join(f"<th>{c}</th>" for c in events.columns)
    return f'<table class="events-table"><tr>{head}</tr>{rows}</table>'


@solara.component
def EnsemblePanel(loaded: Any, settings: Settings, runs: int, seed: int) -> None:
    stats = solara.use_reactive(None)

    def compute(cancel) -> None:
        if loaded is None:
            return
        try:
            result = panel.compute(loaded.scenario, runs=runs, seed=seed, cancelled=cancel.is_set)
        except panel.Cancelled:
            return
        stats.set((result, _describe(settings)))

    state = solara.use_thread(compute, [loaded, runs, seed], intrusive_cancel=False)
    with solara.Card(f"Ensemble ({runs:,} runs, ensemble engine)", classes=["ensemble-panel"]):
        busy = str(state.state.name).lower()
        if stats.value is None:
            solara.Text(f"computing ({busy})")
            return
        result, described = stats.value
        solara.HTML(tag="div", unsafe_innerHTML=panel_table(result))
        solara.Text(
            f"{result.runs:,} runs, seed {result.seed}, {result.horizon} steps, computed in "
            f"{result.seconds:.2f} s; for {described}",
            classes=["ensemble-caption"],
        )
        solara.FigureMatplotlib(figures.cumulative(result), dependencies=[result], format="png")


def _describe(settings: Settings) -> str:
    if not settings.chosen:
        return "the file's values"
    return ", ".join(f"{k}={v}" for k, v in settings.chosen.items())


def _short(x: float) -> str:
    """0.603 -> .603 (intervals under each probability, narrow enough for the table)."""
    text = f"{x:.3f}"
    return text[1:] if text.startswith("0.") else text


def panel_table(stats: panel.PanelStats) -> str:
    """P(realign), P(collapse) and final-state shares per partner, with 95% Wilson intervals."""
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
