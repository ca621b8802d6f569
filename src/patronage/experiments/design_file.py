"""Explicit designs read from a file: one column per dotted path, one row per design point.

CSV (a header of paths, then one row per point) or Parquet (one column per path). Cells are
numbers where they read as numbers, otherwise read as a `--set` value would be (a word, a
list, null); an empty CSV cell or a Parquet null means null. Errors name the file and line
(CSV: the line in the file; Parquet: the row, counted from 1).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from patronage.errors import InputError
from patronage.scenario.loader import LoadedScenario, override_scenario

MAX_POINTS = 10_000_000


def read_design(path: str | Path, loaded: LoadedScenario | None = None) -> list[dict[str, Any]]:
    """The design points of a CSV or Parquet file, in file order; with `loaded`, each point
    is checked against the scenario and a bad value is blamed on its line of the file."""
    file = Path(path)
    if not file.is_file():
        raise InputError("no such design file", source=str(file))
    if file.suffix.lower() == ".parquet":
        points = _parquet_points(file)
    elif file.suffix.lower() == ".csv":
        points = _csv_points(file)
    else:
        raise InputError("a design file must end in .csv or .parquet", source=str(file))
    if not points:
        raise InputError("the design has no points (no rows)", source=str(file))
    if loaded is not None:
        for point in points:
            try:
                override_scenario(loaded, point)
            except InputError as exc:
                line = point_line(point)
                raise InputError(
                    exc.message, source=str(file), line=line, field=exc.field
                ) from None
    return [dict(point) for point in points]


class _Point(dict):
    """A design point that remembers the line of the file it came from."""

    line: int | None = None


def point_line(point: dict[str, Any]) -> int | None:
    """The line a design point came from, to point errors at it."""
    return getattr(point, "line", None)


def _csv_points(file: Path) -> list[dict[str, Any]]:
    from patronage.experiments.design import scalar_value

    try:
        with file.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the design: {exc}", source=str(file)) from None
    if not rows:
        raise InputError("empty file: expected a header of dotted paths", source=str(file), line=1)
    header = [name.strip() for name in rows[0]]
    _check_header(header, str(file), 1)
    points: list[dict[str, Any]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} cells where the header has {len(header)}", source=str(file), line=line
            )
        point = _Point(
            {
                name: None
                if cell.strip() == ""
                else _cell(scalar_value, cell.strip(), name, file, line)
                for name, cell in zip(header, row, strict=True)
            }
        )
        point.line = line
        points.append(point)
    return points


def _cell(parse, text: str, name: str, file: Path, line: int) -> Any:
    try:
        return parse(text, name)
    except InputError as exc:
        raise InputError(exc.message, source=str(file), line=line, field=name) from None


def _parquet_points(file: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
    except Exception as exc:  # pyarrow raises many kinds for a file that is not Parquet
        raise InputError(f"cannot read the design as Parquet: {exc}", source=str(file)) from None
    _check_header(table.column_names, str(file), None)
    points: list[dict[str, Any]] = []
    for row, values in enumerate(table.to_pylist(), start=1):
        point = _Point(values)
        point.line = row  # Parquet has no lines: the row, counted from 1
        points.append(point)
        for name, value in point.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(
                    f"must be a finite number, got {value}", source=f"{file}, row {row}", field=name
                )
    return points


def _check_header(names: list[str], where: str, line: int | None) -> None:
    if not names or any(not n for n in names):
        raise InputError("every column needs a dotted path as its name", source=where, line=line)
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})[0]
        raise InputError(f"column {twice} appears twice", source=where, line=line)
