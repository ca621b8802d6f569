"""The page's controls: withdrawal, partners' scores, coefficients, reset, download, save.

Every control writes one dotted path of the scenario (the paths of `--set`); the bounds of
its slider come from `ranges` (the documented ranges, widened to the file's own value).
"""

from __future__ import annotations

import math
from typing import Any, cast

import solara

from patronage.app.ranges import PARTNER_SCORES, coefficient_range, slider_bounds
from patronage.app.save import save_batch
from patronage.app.settings import Settings
from patronage.scenario.paths import value_at
from patronage.scenario.ranges import RANGE_KEYS
from patronage.scenario.schema import Coefficients, Partner

SAVE_RUNS = 1000


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step > 0 else 2


def _slug(path: str) -> str:
    return "control-" + path.replace(".", "-").replace("_", "-")


@solara.component
def Slider(
    settings: solara.Reactive,
    path: str,
    label: str,
    low: float,
    high: float,
    whole: bool = False,
) -> None:
    """A slider for the number at `path`, rounded to its step (so the page shows what runs);
    for a ranged input (`{low, mode, high}`, drawn per run), one slider for each."""
    value = _get(settings.value.data(), path)
    if isinstance(value, dict):
        solara.Text(f"{label}: a range, drawn per run")
        for key in RANGE_KEYS:
            if key in value:
                Slider(settings, f"{path}.{key}", f"{label} {key}", low, high, whole)
        return
    if isinstance(value, bool) or not isinstance(value, int | float | None):
        solara.Text(f"{label}: {value} (not a number: edit it in the file)")
        return
    bounds = slider_bounds(low, high, value)
    digits = 0 if whole else _decimals(bounds.step)

    def chosen(new: float) -> None:
        rounded = int(new) if whole else round(float(new), digits)
        if rounded != value:
            settings.set(settings.value.with_value(path, rounded))

    shown = label if value is None else f"{label} = {value:.{digits}f}"
    with solara.Div(classes=[_slug(path)]):
        if whole:
            solara.SliderInt(
                shown,
                value=int(value or 0),
                min=int(bounds.low),
                max=int(bounds.high),
                on_value=chosen,
                thumb_label=False,
            )
        else:
            solara.SliderFloat(
                shown,
                value=float(value if value is not None else bounds.low),
                min=bounds.low,
                max=bounds.high,
                step=bounds.step,
                on_value=chosen,
                thumb_label=False,
            )


@solara.component
def Controls(
    settings: solara.Reactive,
    runs: solara.Reactive,
    seed: solara.Reactive,
    tipping_runs: solara.Reactive,
) -> None:
    """The side panel: runs, seed and one control per editable scenario input."""
    s = settings.value
    scenario = s.base.scenario
    data = s.data()
    partners = scenario.partner_ids()
    solara.Markdown("**Withdrawal**")
    Slider(settings, "withdrawal.level", "level", 0.0, 1.0)
    Slider(settings, "withdrawal.start", "start (step)", 0, scenario.steps, whole=True)
    Slider(settings, "withdrawal.ramp", "ramp (steps)", 0, scenario.steps, whole=True)
    targets = data.get("withdrawal", {}).get("targets") or []
    by_id = {t["id"]: t for t in targets if isinstance(t, dict) and "id" in t}

    def set_targets(ids: list[str]) -> None:
        chosen = [by_id.get(pid, {"id": pid}) for pid in partners if pid in ids]
        settings.set(settings.value.with_value("withdrawal.targets", chosen))

    with solara.Div(classes=[_slug("withdrawal.targets")]):
        solara.SelectMultiple(
            "targets",
            values=[t for t in by_id if t in partners],
            all_values=partners,
            on_value=set_targets,
        )
    with Section("redirect (share of freed support)"):
        for pid in partners:
            Slider(settings, f"withdrawal.redirect.{pid}", pid, 0.0, 1.0)
    with Section("partners' scores"):
        PartnerScores(settings, partners)
    with Section("coefficients (documented ranges)"):
        for name in Coefficients.model_fields:
            low, high = coefficient_range(name)
            Slider(settings, f"coefficients.{name}", name, low, high)
    solara.Markdown("**Runs**")
    solara.InputInt("ensemble runs (N)", value=runs)
    solara.InputInt("tipping runs per level", value=tipping_runs)
    solara.InputInt("seed", value=seed)
    with solara.Row():
        solara.Button("Reset to the file", on_click=lambda: settings.set(settings.value.reset()))
    Download(settings)
    Save(settings, runs, seed)


@solara.component
def Section(title: str, children: list | None = None) -> None:
    """A titled group of controls, drawn only while open (each slider costs a redraw)."""
    opened = solara.use_reactive(False)
    solara.Checkbox(label=title, value=opened)
    if opened.value:
        solara.Column(children=children or [], style={"padding-left": "12px"})


@solara.component
def PartnerScores(settings: solara.Reactive, partners: list[str]) -> None:
    """Edit one partner's scores at a time, so the panel stays short."""
    editing = solara.use_reactive(partners[0])
    solara.Select("partner", values=partners, value=editing)
    if editing.value in partners:
        for score, (low, high) in PARTNER_SCORES.items():
            Slider(settings, f"partners.{editing.value}.{score}", score, low, high)


@solara.component
def Download(settings: solara.Reactive) -> None:
    """Download the edited scenario as YAML, to run it later from the command line."""
    s = settings.value
    name = f"{s.base.scenario.name}-edited.yaml"
    solara.FileDownload(
        lambda: s.yaml_text().encode("utf-8"),
        filename=name,
        label="Download scenario (YAML)",
        mime_type="application/x-yaml",
    )


@solara.component
def Save(settings: solara.Reactive, runs: solara.Reactive, seed: solara.Reactive) -> None:
    """Run the current settings as a normal batch into a folder the user names."""
    folder = solara.use_reactive("")
    # (folder, settings, runs, seed) to run, or None
    request = solara.use_reactive(cast(tuple[str, Settings, int, int] | None, None))
    outcome = solara.use_reactive("")

    def run_request(cancel) -> None:
        job = request.value
        if job is None:
            return
        out, chosen, n, batch_seed = job
        outcome.set(f"running {n:,} runs into {out} ...")
        outcome.set(save_batch(chosen, out, n, batch_seed))
        request.set(None)

    solara.use_thread(run_request, [request.value], intrusive_cancel=False)
    solara.Markdown("**Save as a batch**")
    solara.InputText("result folder (new)", value=folder, continuous_update=True)
    solara.Button(
        "Run and save",
        on_click=lambda: request.set((folder.value, settings.value, runs.value, seed.value)),
        disabled=not folder.value.strip() or request.value is not None,
    )
    if outcome.value:
        with solara.Div(classes=["save-outcome"]):
            solara.Text(outcome.value)


def _get(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (list items named by id, as in `--set`), or its default."""
    try:
        value = value_at(data, path)
    except KeyError:
        value = None
    return _default(data, path) if value is None else value


def _default(data: dict[str, Any], path: str) -> Any:
    """What the schema gives a field the file leaves out (the value the model runs with)."""
    parts = path.split(".")
    if parts[0] == "coefficients":
        return Coefficients.model_fields[parts[1]].default
    if parts[:2] == ["withdrawal", "redirect"]:
        return 0.0
    if parts[0] == "partners" and len(parts) == 3:
        if parts[2] == "trust":  # default: the trust prior
            return _get(data, "coefficients.trust_prior")
        return Partner.model_fields[parts[2]].default
    return None
