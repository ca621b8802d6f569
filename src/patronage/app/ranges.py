"""Slider bounds of the page's controls: the documented ranges, kept in this one place.

Coefficients take their studied range, which the schema carries as metadata (docs/model.md,
section 7.12, column "studied range"; `Coefficients.studied_ranges`). A scenario whose value
lies outside a documented range widens that slider to include it, so the file's value can
always be shown and restored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from patronage.scenario.schema import Coefficients

# Partner scores shown as sliders, with the schema's bounds (threat: the 0-2 of its events).
PARTNER_SCORES: dict[str, tuple[float, float]] = {
    "loyalty": (0.0, 1.0),
    "dependence": (0.0, 1.0),
    "trust": (0.0, 1.0),
    "threat": (0.0, 2.0),
    "pressure": (0.0, 1.0),
    "autonomy": (0.0, 1.0),
}


@dataclass(frozen=True)
class Bounds:
    """A slider's range and step."""

    low: float
    high: float
    step: float


def coefficient_range(name: str) -> tuple[float, float]:
    """The studied range of coefficient `name` (docs/model.md, section 7.12)."""
    return Coefficients.studied_ranges()[name]


def slider_bounds(low: float, high: float, value: float | None = None) -> Bounds:
    """Bounds widened to include `value`, with a step of about a hundredth of the range."""
    if value is not None:
        low, high = min(low, float(value)), max(high, float(value))
    span = high - low
    step = 10 ** round(_log10(span / 100)) if span > 0 else 0.01
    return Bounds(low, high, step)


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else -2.0
