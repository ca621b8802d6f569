"""Factors of a sensitivity analysis: scenario inputs varied over a range.

A factor is a dotted path of the scenario (as for `--set` and sweeps) with a low and a high
value. `--factors coefficients` names every model coefficient over its studied range, which
the schema carries (`Coefficients.studied_ranges`) and docs/model.md tabulates. A factor
whose field holds whole numbers (a step) is run at the nearest whole number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patronage.errors import InputError
from patronage.experiments.design import parse_sample
from patronage.scenario.loader import LoadedScenario, override_scenario
from patronage.scenario.schema import Coefficients

FACTOR_SETS = ("coefficients",)


@dataclass(frozen=True)
class Factor:
    """An input varied over [low, high]; `whole` when its field takes whole numbers."""

    path: str
    low: float
    high: float
    whole: bool = False

    def value(self, x: float) -> float | int:
        """The value run for a sampled x."""
        return round(x) if self.whole else float(x)

    def to_dict(self) -> dict[str, Any]:
        """The factor as plain data, for the study's settings file."""
        return {"path": self.path, "low": self.low, "high": self.high, "whole": self.whole}


def coefficient_factors() -> list[Factor]:
    """Every coefficient over its studied range, in the schema's order."""
    return [
        Factor(f"coefficients.{name}", low, high)
        for name, (low, high) in Coefficients.studied_ranges().items()
    ]


def parse_factors(given: list[str], sets: list[str]) -> list[Factor]:
    """Factors from `--factor PATH=LOW:HIGH` (repeatable) and `--factors SET`; a path given
    both ways takes the explicit range."""
    factors: dict[str, Factor] = {}
    for name in sets:
        if name not in FACTOR_SETS:
            raise InputError(
                f"must be one of {', '.join(FACTOR_SETS)}, got '{name}'", source="--factors"
            )
        factors.update({f.path: f for f in coefficient_factors()})
    for text in given:
        path, (low, high) = parse_sample(text, source="--factor")
        if low == high:
            raise InputError(f"LOW must be below HIGH, got '{text}'", source="--factor", field=path)
        factors[path] = Factor(path, low, high)
    if len(factors) < 2:
        raise InputError(
            "a sensitivity analysis needs at least two factors: give --factor PATH=LOW:HIGH "
            "(repeatable) or --factors coefficients",
            source="--factor",
        )
    return list(factors.values())


def checked(loaded: LoadedScenario, factors: list[Factor]) -> list[Factor]:
    """The factors with `whole` set for whole-number fields; both ends of every range are
    checked against the scenario's schema before anything runs."""
    out = []
    for f in factors:
        for end in (f.low, f.high):
            value = round(end) if float(end).is_integer() else end
            override_scenario(loaded, {f.path: value})
        out.append(
            Factor(f.path, f.low, f.high, whole=whole_number_field(loaded, f.path, f.low, f.high))
        )
    return out


def whole_number_field(loaded: LoadedScenario, path: str, low: float, high: float) -> bool:
    """Whether the field refuses a value with a fractional part (a step, a count)."""
    middle = (low + high) / 2
    if float(middle).is_integer():
        middle += 0.5 if middle + 0.5 <= high else -0.5
    try:
        override_scenario(loaded, {path: middle})
    except InputError as exc:
        if "whole number" in exc.message:
            return True
        raise
    return False
