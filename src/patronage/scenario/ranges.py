"""Uncertain inputs: a numeric field of a scenario written as a distribution, not a number.

`loyalty: {low: 0.5, high: 0.7}` is uniform on [low, high]; `{low: 0.5, mode: 0.6, high:
0.7}` is triangular. A whole-number field (a step) is drawn as a whole number. Each run
draws its own values (rng/inputs.py), so a batch carries the analyst's uncertainty about
the inputs into its probabilities.

This module only finds ranges in a parsed file and checks their shape against the schema;
the loader checks their bounds (by validating the scenario at every low and every high)
and keeps the scenario with each range at its centre as the scenario's base.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from patronage.scenario.schema import Scenario

RANGE_KEYS = ("low", "mode", "high")
NOT_RANGED = ("steps", "batch")  # the horizon is --steps; a design is not an input

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Distribution:
    """Uniform on [low, high], or triangular with its peak at `mode`; whole numbers if
    `integer` (the field is a step)."""

    low: float
    high: float
    mode: float | None = None
    integer: bool = False

    @property
    def kind(self) -> str:
        """The distribution's name: uniform, or triangular when a mode is given."""
        return "uniform" if self.mode is None else "triangular"

    @property
    def centre(self) -> float | int:
        """The value a run without draws uses (the mode, or the midpoint)."""
        value = self.mode if self.mode is not None else (self.low + self.high) / 2
        return round(value) if self.integer else value

    def to_dict(self) -> dict[str, Any]:
        """The distribution as plain data, for the manifest."""
        out: dict[str, Any] = {"kind": self.kind, "low": self.low, "high": self.high}
        if self.mode is not None:
            out["mode"] = self.mode
        if self.integer:
            out["integer"] = True
        return out


@dataclass(frozen=True)
class RangedInput:
    """One ranged field: its dotted path (as in --set and the runs table), where it sits
    in the parsed file (list indices), and its distribution."""

    path: str
    loc: PathKey
    distribution: Distribution


class RangeProblem(Exception):
    """A malformed range, at `loc`; the loader turns it into a one-line InputError."""

    def __init__(self, loc: PathKey, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def is_range(node: Any) -> bool:
    """A mapping written with range keys only, low and high among them."""
    return (
        isinstance(node, dict)
        and bool(node)
        and all(isinstance(k, str) and k in RANGE_KEYS for k in node)
        and "low" in node
        and "high" in node
    )


def find_ranges(data: dict[str, Any]) -> list[tuple[PathKey, Any]]:
    """Every range at a numeric field of the schema, in file order, as (loc, its mapping).

    A range anywhere else is left alone: the schema then reports the field's own error.
    """
    found: list[tuple[PathKey, Any]] = []
    _walk(data, (), Scenario, found)
    return found


def _walk(node: Any, loc: PathKey, annotation: Any, found: list[tuple[PathKey, Any]]) -> None:
    if isinstance(node, dict) and is_range(node):
        if _number_type(annotation) is not None:
            if loc and loc[0] in NOT_RANGED:
                raise RangeProblem(loc, _not_ranged(loc[0]))
            found.append((loc, node))
        return
    model = _model(annotation)
    if isinstance(node, dict):
        if model is not None:
            for key, value in node.items():
                if key in model.model_fields and key != "batch":
                    _walk(value, (*loc, key), model.model_fields[key].annotation, found)
            return
        inner = _container_item(annotation, dict)
        if inner is not None:
            for key, value in node.items():
                _walk(value, (*loc, key), inner, found)
    elif isinstance(node, list):
        inner = _container_item(annotation, list)
        if inner is not None:
            for i, item in enumerate(node):
                _walk(item, (*loc, i), inner, found)


def _not_ranged(name: str) -> str:
    if name == "steps":
        return "the horizon cannot be a range; sweep it with --steps"
    return "a batch design cannot hold ranges"


def _strip(annotation: Any) -> list[Any]:
    """The alternatives of an annotation: Annotated and `X | None` unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _strip(arg)]
    return [annotation]


def _number_type(annotation: Any) -> type | None:
    """`int` or `float` if the field holds a number, else None."""
    for option in _strip(annotation):
        if option in (int, float):
            return option
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    for option in _strip(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


def _container_item(annotation: Any, kind: type) -> Any:
    for option in _strip(annotation):
        if typing.get_origin(option) is kind:
            return typing.get_args(option)[-1]
    return None


def field_type(loc: PathKey) -> type | None:
    """The number type (int or float) of the schema field at `loc`, or None."""
    annotation: Any = Scenario
    for part in loc:
        model = _model(annotation)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            continue
        inner = _container_item(annotation, list if isinstance(part, int) else dict)
        if inner is None:
            return None
        annotation = inner
    return _number_type(annotation)


def distribution(loc: PathKey, node: dict[str, Any]) -> Distribution:
    """The distribution written at `loc`, its numbers checked (bounds come later)."""
    integer = field_type(loc) is int
    values: dict[str, float] = {}
    for key in RANGE_KEYS:
        if key not in node:
            continue
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise RangeProblem((*loc, key), f"a range's {key} must be a number, got {value!r}")
        if integer and value != int(value):
            raise RangeProblem((*loc, key), f"this field is a whole number, got {value!r}")
        values[key] = int(value) if integer else float(value)
    low, high, mode = values["low"], values["high"], values.get("mode")
    if low > high:
        raise RangeProblem(loc, f"a range needs low <= high, got low {low!r}, high {high!r}")
    if mode is not None and not low <= mode <= high:
        raise RangeProblem(
            loc, f"a range needs low <= mode <= high, got {low!r}, {mode!r}, {high!r}"
        )
    return Distribution(low, high, mode, integer)


def split_ranges(data: dict[str, Any]) -> tuple[dict[str, Any], tuple[RangedInput, ...]]:
    """A copy of the data with every range at its centre, and the ranges found."""
    found = [(loc, distribution(loc, node)) for loc, node in find_ranges(data)]
    if not found:
        return data, ()
    ranges = []
    for loc, dist in found:
        ranges.append(RangedInput(dotted_path(data, loc), loc, dist))
        data = with_value(data, loc, dist.centre)
    return data, tuple(ranges)


def at_extremes(
    data: dict[str, Any], ranges: tuple[RangedInput, ...]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The data with every range at its low, then with every range at its high."""
    if not ranges:
        return
    for end in ("low", "high"):
        extreme = data
        for r in ranges:
            extreme = with_value(extreme, r.loc, getattr(r.distribution, end))
        yield end, extreme


def dotted_path(data: dict[str, Any], loc: PathKey) -> str:
    """The --set path of `loc`: list items by their id where they have one."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            item = node[part]
            ident = item.get("id") if isinstance(item, dict) else None
            parts.append(str(ident) if isinstance(ident, str) else str(part))
        else:
            parts.append(str(part))
        node = node[part]
    return ".".join(parts)


def with_value(data: dict[str, Any], loc: PathKey, value: Any) -> dict[str, Any]:
    """A copy of `data` with `value` at `loc`: only the containers on the way are copied."""
    out = copy.copy(data)
    node: Any = out
    for part in loc[:-1]:
        node[part] = copy.copy(node[part])
        node = node[part]
    node[loc[-1]] = value
    return out


def covers(designed: PathKey, loc: PathKey) -> bool:
    """Whether a designed field (a sweep or sample) takes over the range at `loc`."""
    return loc[: len(designed)] == designed
