"""Overrides by dotted path: `--set PATH=VALUE`, design points, the place a path names.

Paths name list items by their id (`partners.hezbollah.dependence`) or position; values
are read as YAML. Writing a value copies only the containers on its path, so the parsed
file is never changed in place and a design of thousands of points stays cheap.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from patronage.errors import InputError, listed
from patronage.scenario.paths import list_index

PathKey = tuple[str | int, ...]

# What PyYAML's safe constructors raise, as plain Python errors rather than YAMLError, for a
# value its explicit tag does not fit: `!!int soon` (ValueError), `!!bool maybe` (KeyError),
# `!!int ''` (IndexError), `!!timestamp soon` (AttributeError).
TAG_ERRORS = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError)


def split_override(text: str) -> tuple[str, Any]:
    """Split `path=value`; the value is read as YAML (numbers, lists, strings). Errors name
    `--set`, where overrides come from."""
    if "=" not in text:
        raise InputError(f"expected PATH=VALUE, got '{text}'", source="--set")
    dotted, raw = text.split("=", 1)
    dotted = dotted.strip()
    if not dotted:
        raise InputError(f"expected PATH=VALUE, got '{text}'", source="--set")
    return dotted, parse_value(raw, dotted)


def parse_value(raw: str, dotted: str, option: str = "--set") -> Any:
    """A value given on the command line parsed as safe YAML, or one clear error naming it
    (`option`: --set, --sweep)."""
    try:
        value = yaml.safe_load(raw)
    except (yaml.YAMLError, *TAG_ERRORS):
        raise InputError(f"cannot read value '{raw}'", source=option, field=dotted) from None
    return raw if value is None and raw.strip() not in ("", "null", "~") else value


def apply_override(
    data: dict[str, Any],
    dotted: str,
    value: Any,
    touched: list[PathKey] | None = None,
) -> dict[str, Any]:
    """Return a copy of `data` with the field at `dotted` set; list items are named by id.

    Only the containers on the path are copied (the rest is shared, and never written in
    place), so a design of thousands of points costs no copy of a whole scenario each.
    `touched`, if given, receives the path written (with list indices), so that errors in
    overridden fields can be blamed on the override rather than on the file.
    """
    if "[" in dotted or "]" in dotted:
        example = re.sub(r"\[\d*\]", ".<id>", dotted)
        raise InputError(
            f"list items are named by their id, not by [index]: write {example}",
            source="--set",
            field=dotted,
        )
    out = copy.copy(data)
    parts = dotted.split(".")
    node: Any = out
    walked: list[str] = []
    loc: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        walked.append(part)
        if isinstance(node, list):
            index = list_index(node, part)
            if index is None:
                ids = [str(item["id"]) for item in node if isinstance(item, dict) and "id" in item]
                count = f"{len(node)} item{'s' * (len(node) != 1)}, numbered from 0"
                raise InputError(
                    f"no item with id '{part}' (ids: {listed(ids)}; {count})",
                    source="--set",
                    field=".".join(walked[:-1]) or dotted,
                )
            loc.append(index)
            if last:
                node[index] = value
            else:
                node[index] = copy.copy(node[index])
                node = node[index]
        elif isinstance(node, dict):
            loc.append(part)
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node[part] = copy.copy(node[part])
                node = node[part]
        else:
            raise InputError(
                f"'{'.'.join(walked[:-1])}' is a value, not a section", source="--set", field=dotted
            )
    if touched is not None:
        touched.append(tuple(loc))
    return out


def assign(
    data: dict[str, Any], assignments: dict[str, Any]
) -> tuple[dict[str, Any], list[PathKey]]:
    """A copy of `data` with values set at dotted paths, and where they were written."""
    touched: list[PathKey] = []
    for dotted, value in assignments.items():
        data = apply_override(data, dotted, value, touched=touched)
    return data, touched


def locate(data: dict[str, Any], dotted: str) -> PathKey:
    """Where a dotted path (list items by id) sits in the parsed file (list items by index)."""
    touched: list[PathKey] = []
    apply_override(data, dotted, None, touched=touched)
    return touched[-1]
