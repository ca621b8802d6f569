"""How designed values are recorded in the runs table (`param.<path>` columns).

Numbers go in float columns (None as missing), anything else as JSON text; the type of a
column is decided once for the whole design, so every chunk's table agrees.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

__all__ = ["matching_column", "matching_value", "numeric_fields", "param_value", "show_value"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def param_value(value: Any, numeric: bool | None = None) -> float | str | None:
    """How a design value is recorded in the runs table: as a float in a numeric column
    (None as a missing value), as JSON text in any other. `numeric=None`: by the value."""
    if numeric is None:
        numeric = _is_number(value)
    if numeric:
        return None if value is None else float(value)
    return json.dumps(value, sort_keys=True)


def matching_value(value: Any) -> Any:
    """A design value as recorded, rounded so that values read back from tables match."""
    v = param_value(value)
    return round(v, 12) if isinstance(v, float) else v


def numeric_fields(points: list[dict[str, Any]]) -> dict[str, bool]:
    """Whether each designed field takes only numbers (or None) over all points: its column
    type is decided once for the whole batch, so every chunk's table agrees."""
    names = {name for point in points for name in point}
    return {
        name: all(p.get(name) is None or _is_number(p.get(name)) for p in points)
        for name in sorted(names)
    }


def matching_column(column: pd.Series) -> pd.Series:
    """A `param.<path>` column read back, rounded as `matching_value` rounds design values."""
    return column.map(lambda v: round(v, 12) if isinstance(v, float) else v)


def show_value(value: Any) -> str:
    """A design value as people read it: numbers in %g, anything else as text."""
    return f"{value:g}" if _is_number(value) else str(value)
