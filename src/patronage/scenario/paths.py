"""Dotted field paths into scenario data: `withdrawal.level`, `partners.hezbollah.loyalty`.

List items are named by their id (or, failing that, by their index), so a path reads the
same in `--set`, in sweeps, in the `param.<path>` columns and in comparisons.
"""

from __future__ import annotations

from typing import Any

__all__ = ["list_index", "value_at"]


def list_index(items: list[Any], part: str) -> int | None:
    """The index of the item whose id is `part` (else `part` read as an index), or None."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted path in scenario data (KeyError when there is none)."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, dict):
            node = node[part]
        elif isinstance(node, list):
            index = list_index(node, part)
            if index is None:
                raise KeyError(dotted)
            node = node[index]
        else:
            raise KeyError(dotted)
    return node
