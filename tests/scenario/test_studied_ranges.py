"""The studied range of every coefficient: docs/model.md's table and the schema agree."""

from __future__ import annotations

import re

from conftest import ROOT

from patronage.scenario.schema import Coefficients

ROW = re.compile(r"^\| `(\w+)` \| [^|]+ \| [^|]+ \| ([0-9.]+)-([0-9.]+) \|")


def documented_ranges() -> dict[str, tuple[float, float]]:
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    table = text.split("### 7.12 Coefficients", 1)[1].split("\n\n---", 1)[0]
    return {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in map(ROW.match, table.splitlines())
        if m
    }


def test_every_coefficient_has_a_studied_range_in_docs_and_schema():
    schema = Coefficients.studied_ranges()
    assert set(schema) == set(Coefficients.model_fields)
    assert documented_ranges() == schema


def test_studied_ranges_are_valid_values_and_contain_the_default():
    defaults = Coefficients()
    for name, (low, high) in Coefficients.studied_ranges().items():
        assert low < high, name
        Coefficients(**{name: low})  # both ends pass the schema's own bounds
        Coefficients(**{name: high})
        assert low <= getattr(defaults, name) <= high, name
