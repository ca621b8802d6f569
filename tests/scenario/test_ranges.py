"""Uncertain inputs written as ranges: the schema, the loader's checks, the draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from patronage.errors import InputError
from patronage.rng.inputs import draw_inputs, input_counter, quantile
from patronage.scenario.loader import from_text, load
from patronage.scenario.ranges import Distribution, RangedInput

RANGED = """\
name: ranged
incumbent: iran
steps: 24
patrons: [{id: iran}, {id: russia}]
partners:
  - id: assad
    loyalty: {low: 0.3, high: 0.5}
    dependence: {low: 0.5, mode: 0.6, high: 0.7}
    threat: 0.6
    offers: {russia: {low: 0.2, mode: 0.4, high: 0.6}}
  - id: hezbollah
    loyalty: 0.9
    dependence: 0.85
    watches: {assad: {low: 0.5, high: 1.0}}
withdrawal:
  level: 1.0
  start: {low: 1, high: 6}
  ramp: {low: 0, mode: 6, high: 12}
  targets: [{id: assad}]
coefficients:
  w_offer: {low: 0.4, high: 0.6}
"""


def test_a_ranged_scenario_loads_with_each_range_at_its_centre() -> None:
    loaded = from_text(RANGED, "ranged.yaml")
    paths = [r.path for r in loaded.ranges]
    assert paths == [
        "partners.assad.loyalty",
        "partners.assad.dependence",
        "partners.assad.offers.russia",
        "partners.hezbollah.watches.assad",
        "withdrawal.start",
        "withdrawal.ramp",
        "coefficients.w_offer",
    ]
    s = loaded.scenario
    assert s.partners[0].loyalty == pytest.approx(0.4)  # uniform: the midpoint
    assert s.partners[0].dependence == 0.6  # triangular: the mode
    assert s.withdrawal.start == 4 and isinstance(s.withdrawal.start, int)  # round(3.5)
    by_path = {r.path: r.distribution for r in loaded.ranges}
    assert by_path["withdrawal.ramp"] == Distribution(0, 12, 6, integer=True)
    assert not by_path["coefficients.w_offer"].integer


def test_a_scenario_without_ranges_is_read_as_before(minimal_yaml: str) -> None:
    loaded = from_text(minimal_yaml, "minimal.yaml")
    assert loaded.ranges == ()
    assert loaded.data == yaml.safe_load(minimal_yaml)


def test_bundled_ranges_are_read_by_path(syria_path: Path) -> None:
    loaded = load(syria_path, ["partners.assad.loyalty=0.4"])  # --set fixes a range
    paths = [r.path for r in loaded.ranges]
    assert "partners.assad.loyalty" not in paths
    assert "partners.assad.dependence" in paths and "withdrawal.ramp" in paths


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        (
            "loyalty: {low: 0.3, high: 0.5}",
            "loyalty: {low: -0.1, high: 0.5}",
            7,
            "partners[0].loyalty",
            "between 0 and 1, got -0.1 (at the range's low)",
        ),
        (
            "loyalty: {low: 0.3, high: 0.5}",
            "loyalty: {low: 0.3, high: 1.5}",
            7,
            "partners[0].loyalty",
            "between 0 and 1, got 1.5 (at the range's high)",
        ),
        (
            "loyalty: {low: 0.3, high: 0.5}",
            "loyalty: {low: 0.5, high: 0.3}",
            7,
            "partners[0].loyalty",
            "low <= high",
        ),
        (
            "mode: 0.6, high: 0.7",
            "mode: 0.9, high: 0.7",
            8,
            "partners[0].dependence",
            "low <= mode <= high",
        ),
        (
            "loyalty: {low: 0.3, high: 0.5}",
            "loyalty: {low: a, high: 0.5}",
            7,
            "partners[0].loyalty.low",
            "must be a number",
        ),
        (
            "start: {low: 1, high: 6}",
            "start: {low: 1.5, high: 6}",
            17,
            "withdrawal.start.low",
            "whole number",
        ),
        ("steps: 24", "steps: {low: 12, high: 24}", 3, "steps", "--steps"),
    ],
)
def test_a_bad_range_is_one_line_naming_file_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    text = RANGED.replace(old, new)
    assert text != RANGED
    with pytest.raises(InputError) as caught:
        from_text(text, "ranged.yaml")
    message = str(caught.value)
    assert message.startswith(f"ranged.yaml:{line}: {field}: "), message
    assert words in message
    assert "\n" not in message


def test_redirect_shares_are_checked_at_the_ranges_highs() -> None:
    text = RANGED.replace(
        "  targets: [{id: assad}]",
        "  targets: [{id: assad}]\n  redirect: {hezbollah: {low: 0.5, high: 1.2}}",
    )
    with pytest.raises(InputError, match="range's high"):
        from_text(text, "ranged.yaml")


def test_set_fixes_a_ranged_input_and_can_write_one() -> None:
    fixed = from_text(RANGED, "ranged.yaml", ("partners.assad.loyalty=0.45",))
    assert "partners.assad.loyalty" not in [r.path for r in fixed.ranges]
    assert fixed.scenario.partners[0].loyalty == 0.45
    made = from_text(RANGED, "ranged.yaml", ("partners.hezbollah.loyalty={low: 0.8, high: 1}",))
    assert "partners.hezbollah.loyalty" in [r.path for r in made.ranges]


def test_draws_fill_each_distribution_and_whole_numbers_stay_whole() -> None:
    # 20,000 draws: the mean of a uniform on [0, 1] has sd 1/sqrt(12 * 20000) = 0.002, of a
    # triangular (0, 0.2, 1) sd sqrt((1 + 0.04 - 0.2) / 18 / 20000) = 0.0015; 5 sd each.
    keys = np.arange(20_000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    inputs = [
        RangedInput("u", ("u",), Distribution(0.0, 1.0)),
        RangedInput("t", ("t",), Distribution(0.0, 1.0, 0.2)),
        RangedInput("k", ("k",), Distribution(3, 6, None, integer=True)),
        RangedInput("m", ("m",), Distribution(0, 12, 6, integer=True)),
    ]
    drawn = draw_inputs(keys, inputs)
    assert abs(drawn["u"].mean() - 0.5) < 5 * 0.002
    assert abs(drawn["t"].mean() - 1.2 / 3) < 5 * 0.0015
    assert drawn["u"].min() >= 0.0 and drawn["u"].max() < 1.0
    # each of 3..6 equally likely: a share of 1/4, sd sqrt(3/16 / 20000) = 0.0031; 5 sd
    shares = np.bincount(drawn["k"], minlength=7)[3:] / keys.size
    assert drawn["k"].dtype == np.int64 and set(np.unique(drawn["k"])) == {3, 4, 5, 6}
    assert np.all(np.abs(shares - 0.25) < 5 * 0.0031)
    assert drawn["m"].min() >= 0 and drawn["m"].max() <= 12
    assert np.argmax(np.bincount(drawn["m"])) == 6  # the mode is the most likely value
    # a field's draw depends on its path and the run's key only
    again = draw_inputs(keys[:10], inputs[1:2])
    assert np.array_equal(again["t"], drawn["t"][:10])
    assert input_counter("u") != input_counter("t") and input_counter("u") >= 2**63


def test_quantile_ends_and_a_point_range() -> None:
    u = np.array([0.0, 0.5, 1.0 - 2**-53])
    assert quantile(Distribution(0.2, 0.4), u).tolist() == pytest.approx([0.2, 0.3, 0.4])
    assert quantile(Distribution(0.5, 0.5, 0.5), u).tolist() == [0.5, 0.5, 0.5]
    assert quantile(Distribution(0.0, 1.0, 1.0), u)[-1] <= 1.0
