"""The interactive page: scenario, controls, one live run, the ensemble and tipping panels.

Served by `patronage app` (or `solara run patronage/app/app.py`). The scenario comes from
PATRONAGE_APP_SCENARIO (set by `patronage app SCENARIO`), a bundled file or an upload;
every problem with a file or a value is shown as the loader's one-line message. The page
writes nothing but the result folder the user names under "Save".
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import solara

from patronage.app import controls, panel, tipping
from patronage.app.ensemble_panel import EnsemblePanel
from patronage.app.live_panel import LivePanel
from patronage.app.settings import (
    MAX_UPLOAD_BYTES,
    Settings,
    bundled_scenarios,
    load_bundled,
    load_uploaded,
)
from patronage.app.tipping_panel import TippingPanel
from patronage.errors import InputError

SCENARIO_ENV = "PATRONAGE_APP_SCENARIO"
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
    """The scenario named in the environment, if the page was started with one."""
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
    """The interactive page: pick a scenario, edit it, watch one run and the ensemble."""
    settings = solara.use_reactive(solara.use_memo(initial_settings, []))
    message = solara.use_reactive("")  # the last one-line error (bad file, refused value)
    runs = solara.use_reactive(panel.DEFAULT_RUNS)
    seed = solara.use_reactive(0)
    tipping_runs = solara.use_reactive(tipping.DEFAULT_RUNS_PER_LEVEL)
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
            controls.Controls(settings, runs, seed, tipping_runs)
        with solara.Column():
            with solara.Div(classes=["page-message"]):
                if message.value or problem:
                    solara.Error(message.value or problem)
            with solara.Columns([2, 3]):
                LivePanel(good.value, seed.value)
                with solara.Column():
                    EnsemblePanel(good.value, current, runs.value, seed.value)
                    TippingPanel(good.value, current, tipping_runs.value, seed.value)


CSS = """
.controls-card { max-height: 97vh; overflow-y: auto; }
.ensemble-table, .events-table { border-collapse: collapse; font-size: 11px; }
.ensemble-table td, .ensemble-table th, .events-table td, .events-table th {
    padding: 1px 4px; text-align: right; border-bottom: 1px solid #eee; }
.ensemble-table small { color: #666; white-space: nowrap; }
.ensemble-panel, .tipping-panel { overflow-x: auto; }
.tipping-table { border-collapse: collapse; font-size: 11px; }
.tipping-table td, .tipping-table th { padding: 1px 3px; text-align: right; }
.tipping-table .current-level { background: #e8eef8; font-weight: bold; }
.events-wrap { max-height: 220px; overflow-y: auto; }
"""


def _validated(settings: Settings | None) -> tuple[Any, str]:
    if settings is None:
        return None, ""
    try:
        return settings.loaded(), ""
    except InputError as exc:
        return None, str(exc)


@solara.component
def ScenarioPicker(settings: solara.Reactive, message: solara.Reactive) -> None:
    """Choose one of the bundled scenarios, reporting a bad file in one line."""
    files = solara.use_memo(lambda: bundled_scenarios(*scenario_folders()), [])
    names = [p.name for p in files]
    current = Path(settings.value.base.source).name

    def choose(name: str | None) -> None:
        if name not in names:
            return
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
            value=cast(str, current if current in names else None),
            on_value=choose,
        )
    ScenarioUpload(max_bytes=MAX_UPLOAD_BYTES, event_upload=uploaded)
    solara.Text(f"loaded: {settings.value.base.source}")
