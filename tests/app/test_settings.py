"""The page's settings: chosen values become a scenario file the CLI accepts, refused values
and bad uploads give the loader's one-line message, slider bounds hold the file's values."""

from __future__ import annotations

import pytest

from patronage.app.ranges import coefficient_range, slider_bounds
from patronage.app.settings import bundled_scenarios, load_bundled, load_uploaded
from patronage.cli.main import main
from patronage.errors import InputError
from patronage.scenario.loader import load
from patronage.scenario.schema import Coefficients


def test_chosen_values_download_as_a_file_validate_accepts(syria_path, tmp_path, capsys):
    settings = (
        load_bundled(syria_path)
        .with_value("withdrawal.level", 0.55)
        .with_value("withdrawal.targets", [{"id": "assad"}, {"id": "hamas"}])
        .with_value("partners.hezbollah.loyalty", 0.7)
        .with_value("coefficients.w_fear", 0.8)
    )
    path = tmp_path / "edited.yaml"
    path.write_text(settings.yaml_text())
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out
    scenario = load(path).scenario
    assert scenario.withdrawal.level == 0.55
    assert [t.id for t in scenario.withdrawal.targets] == ["assad", "hamas"]
    assert {p.id: p.loyalty for p in scenario.partners}["hezbollah"] == 0.7
    assert scenario.coefficients.w_fear == 0.8
    # everything not chosen is the file's
    original = load(syria_path).scenario
    assert scenario.events == original.events
    assert scenario.withdrawal.redirect == original.withdrawal.redirect
    assert settings.loaded().scenario == scenario


def test_reset_returns_to_the_files_values(syria_path):
    base = load_bundled(syria_path)
    edited = base.with_value("withdrawal.level", 0.1)
    assert edited.loaded().scenario != base.loaded().scenario
    assert edited.reset().loaded().scenario == base.loaded().scenario


def test_a_refused_value_is_one_line_naming_the_field(syria_path):
    edited = load_bundled(syria_path).with_value("withdrawal.redirect.assad", 0.9)
    with pytest.raises(InputError) as caught:
        edited.loaded()
    message = str(caught.value)
    assert message.startswith(f"{syria_path}:")
    assert "withdrawal.redirect: shares must sum to at most 1" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: x\nsteps: -5\n", "bad.yaml:2: steps: must be between 1 and 100000"),
        (b"\xff\xfe", "bad.yaml: not UTF-8 text"),
        (b"  \n", "bad.yaml: empty file"),
        (b"name: [unclosed\n", "bad.yaml:2: invalid YAML"),
    ],
)
def test_bad_uploads_give_the_loaders_line(content, expected):
    with pytest.raises(InputError) as caught:
        load_uploaded("/some/where/bad.yaml", content)
    assert str(caught.value).startswith(expected)


def test_an_uploaded_file_loads_like_the_file(syria_path):
    uploaded = load_uploaded("syria.yaml", syria_path.read_bytes())
    assert uploaded.loaded().scenario == load(syria_path).scenario


def test_bundled_scenarios_are_listed(syria_path):
    names = [p.name for p in bundled_scenarios(syria_path.parent, syria_path.parent)]
    assert "syria_withdrawal.yaml" in names
    assert len(names) == len(set(names))


def test_every_coefficient_has_a_documented_range_holding_its_default():
    for name, field in Coefficients.model_fields.items():
        low, high = coefficient_range(name)
        assert low <= field.default <= high, name


def test_slider_bounds_widen_to_the_files_value():
    assert (slider_bounds(0.0, 1.0).low, slider_bounds(0.0, 1.0).high) == (0.0, 1.0)
    assert slider_bounds(0.0, 1.0).step == 0.01
    wide = slider_bounds(0.25, 1.0, 1.5)
    assert (wide.low, wide.high) == (0.25, 1.5)


def test_a_ranged_input_stays_a_range_with_its_chosen_ends(syria_path, tmp_path, capsys):
    edited = load_bundled(syria_path).with_value("withdrawal.ramp.high", 10)
    loaded = edited.loaded()
    assert "withdrawal.ramp" in [r.path for r in loaded.ranges]
    assert edited.data()["withdrawal"]["ramp"] == {"low": 3, "mode": 6, "high": 10}
    path = tmp_path / "edited.yaml"
    path.write_text(edited.yaml_text())
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    backwards = load_bundled(syria_path).with_value("withdrawal.ramp.low", 20)
    with pytest.raises(InputError) as caught:
        backwards.loaded()
    assert str(caught.value).startswith(f"{syria_path}:")
    assert "withdrawal.ramp: a range needs low <= high, got low 20" in str(caught.value)
