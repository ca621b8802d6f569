"""Slider bounds of the page's controls: the documented ranges, kept in this one place.

Coefficients take the sweep range that docs/model.md (section 7.12, "basis; how to test")
documents for each; once the schema carries these ranges as metadata, `coefficient_range`
is the one function to switch. A scenario whose value lies outside a documented range
widens that slider to include it, so the file's value can always be shown and restored.
"""

from __future__ import annotations

from dataclasses import dataclass

from patronage.scenario.schema import Coefficients

# docs/model.md, section 7.12: "sweep LOW-HIGH" of each coefficient.
DOCUMENTED_SWEEPS: dict[str, tuple[float, float]] = {
    "trust_prior": (0.6, 0.9),
    "expectation_rate": (0.05, 0.5),
    "trust_fall_rate": (0.15, 0.5),
    "trust_rise_rate": (0.075, 0.3),  # "sweep the fall/rise ratio 1-4" at the default fall 0.3
    "own_shortfall_weight": (0.5, 2.0),
    "peer_weight": (0.0, 2.0),
    "hard_times_discount": (0.0, 1.0),
    "loyalty_rate": (0.03, 0.3),
    "loyalty_trust_weight": (0.0, 1.0),
    "loyalty_pressure_weight": (0.0, 1.0),
    "loyalty_noise": (0.0, 0.05),
    "dependence_rate": (0.01, 0.1),
    "hedge_diversification": (0.0, 0.6),
    "strength_rate": (0.1, 0.5),
    "collapse_rate": (0.1, 0.5),
    "w_loyalty": (0.5, 2.0),  # no sweep documented (the scale of the utilities): 0.5x-2x
    "w_trust": (0.25, 1.0),
    "w_support": (0.25, 1.0),
    "w_affinity": (0.5, 1.5),
    "w_offer": (0.25, 1.0),
    "w_fear": (0.0, 1.0),
    "exit_cost": (0.25, 1.0),
    "hedge_band": (0.0, 0.15),
    "switch_threshold": (0.05, 0.3),
    "switch_steepness": (5.0, 50.0),
    "realign_rate": (0.05, 0.5),
}

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
    """The documented range of coefficient `name` (docs/model.md, section 7.12)."""
    if name not in Coefficients.model_fields:
        raise KeyError(name)
    return DOCUMENTED_SWEEPS[name]


def slider_bounds(low: float, high: float, value: float | None = None) -> Bounds:
    """Bounds widened to include `value`, with a step of about a hundredth of the range."""
    if value is not None:
        low, high = min(low, float(value)), max(high, float(value))
    span = high - low
    step = 10 ** round(_log10(span / 100)) if span > 0 else 0.01
    return Bounds(low, high, step)


def _log10(x: float) -> float:
    import math

    return math.log10(x) if x > 0 else -2.0
