"""Scenario loading: every bad input is one clear line `file:line: field.path: message`."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from conftest import SYRIA

from patronage.errors import InputError
from patronage.scenario.loader import MAX_BYTES, load

# Line numbers below refer to this text (line 1 is `name: tiny`).
BASE = """\
name: tiny
steps: 12
incumbent: iran
patrons:
  - id: iran
  - id: russia
partners:
  - id: assad
    loyalty: 0.4
    dependence: 0.6
  - id: hezbollah
    loyalty: 0.9
    dependence: 0.85
  - id: hamas
    loyalty: 0.4
    dependence: 0.3
    watches: {hezbollah: 0.5}
    offers: {russia: 0.2}
withdrawal:
  level: 1.0
  targets:
    - id: assad
events:
  - {step: 3, kind: offer, partner: assad, patron: russia, value: 0.5}
"""
LINE_OF = {line.strip(): i for i, line in enumerate(BASE.splitlines(), start=1)}


def error_of(path, overrides=()) -> str:
    with pytest.raises(InputError) as info:
        load(path, list(overrides))
    text = str(info.value)
    assert "\n" not in text and text.strip() == text, "one line, no padding"
    assert "Traceback" not in text
    return text


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(old: str) -> int:
    """The line of BASE on which `old` starts (the same line after an edit of it)."""
    return BASE[: BASE.index(old)].count("\n") + 1


def test_base_is_valid(write_scenario):
    loaded = load(write_scenario(BASE))
    assert loaded.scenario.partner_ids() == ["assad", "hamas", "hezbollah"]
    assert len(loaded.sha256) == 64


# --- values out of range, with the line ------------------------------------------------------


def test_out_of_range_value_names_file_line_field_and_values(write_scenario):
    text = edit(
        BASE, "    loyalty: 0.4\n    dependence: 0.3", "    loyalty: 1.4\n    dependence: 0.3"
    )
    path = write_scenario(text)
    line = text.splitlines().index("    loyalty: 1.4") + 1
    assert line == 15
    message = error_of(path)
    assert message == f"{path}:{line}: partners[2].loyalty: must be between 0 and 1, got 1.4"


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("steps: 12", "steps: 0", "steps", ["between 1 and", "got 0"]),
        ("steps: 12", "steps: twelve", "steps", ["whole number", "twelve"]),
        ("  level: 1.0", "  level: -0.5", "withdrawal.level", ["between 0 and 1", "got -0.5"]),
        ("    dependence: 0.85", "    dependence: 2", "partners[1].dependence", ["got 2"]),
        ("offers: {russia: 0.2}", "offers: {russia: 2.5}", "partners[2].offers.russia", ["2.5"]),
        ("    watches: {hezbollah: 0.5}", "    watches: {hezbollah: 7}", "partners[2].watches", []),
        ("kind: offer,", "kind: bribe,", "events[0].kind", ["bribe"]),
        ("  - id: russia", "  - id: Russia", "patrons[1].id", ["lower-case", "Russia"]),
        ("    loyalty: 0.9", "    loyalty: high", "partners[1].loyalty", ["number", "high"]),
        (
            "    dependence: 0.85",
            "    dependence: 0.85\n    allocation: 0",
            "partners[1].allocation",
            ["between 0.001 and 1", "got 0"],
        ),
    ],
)
def test_bad_values(write_scenario, old, new, field, words):
    path = write_scenario(edit(BASE, old, new))
    message = error_of(path)
    line = line_of(old) + new.count("\n")  # the last line of the edit
    assert message.startswith(f"{path}:{line}: {field}"), message
    for word in words:
        assert word in message


def test_missing_required_field(write_scenario):
    path = write_scenario(edit(BASE, "incumbent: iran\n", ""))
    message = error_of(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: incumbent: required field is missing", message)


# --- unknown keys -------------------------------------------------------------------------------


def test_unknown_optional_key_has_did_you_mean(write_scenario):
    text = edit(BASE, "    dependence: 0.85", "    dependence: 0.85\n    alocation: 0.2")
    path = write_scenario(text)
    message = error_of(path)
    assert message.startswith(f"{path}:14: partners[1].alocation: unknown field 'alocation'")
    assert "did you mean 'allocation'" in message


def test_unknown_top_level_key_has_did_you_mean(write_scenario):
    path = write_scenario(BASE.replace("withdrawal:", "withdrawl:"))
    message = error_of(path)
    assert message.startswith(f"{path}:19: withdrawl: unknown field")
    assert "did you mean 'withdrawal'" in message


def test_misspelt_required_key_has_did_you_mean(write_scenario):
    text = edit(BASE, "    loyalty: 0.9", "    loyality: 0.9")
    path = write_scenario(text)
    message = error_of(path)
    assert message.startswith(f"{path}:12: partners[1].loyality: unknown field 'loyality'")
    assert "did you mean 'loyalty'" in message


# --- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("    - id: assad", "    - id: asad", "withdrawal.targets[0].id", ["asad", "partner"]),
        ("watches: {hezbollah: 0.5}", "watches: {hizb: 0.5}", "partners[2].watches.hizb", []),
        ("watches: {hezbollah: 0.5}", "watches: {hamas: 0.5}", "partners[2].watches.hamas", []),
        ("offers: {russia: 0.2}", "offers: {china: 0.2}", "partners[2].offers.china", ["patron"]),
        ("partner: assad, patron", "partner: asad, patron", "events[0].partner", ["asad"]),
        ("patron: russia, value", "patron: china, value", "events[0].patron", ["china"]),
        ("incumbent: iran", "incumbent: persia", "incumbent", ["persia"]),
        ("  - id: hamas", "  - id: assad", "partners[2].id", ["duplicate", "assad"]),
        ("  - id: russia", "  - id: iran", "patrons[1].id", ["duplicate", "iran"]),
        ("  - id: hamas", "  - id: russia", "partners[2].id", ["russia"]),  # a patron's id
        ("  - id: hamas", "  - id: none", "partners[2].id", ["reserved"]),
    ],
)
def test_bad_references(write_scenario, old, new, field, words):
    path = write_scenario(edit(BASE, old, new))
    message = error_of(path)
    assert message.startswith(f"{path}:{line_of(old)}: {field}: "), message
    for word in words:
        assert word in message


def test_withdrawal_redirect_must_name_partners_and_sum_to_one(write_scenario):
    path = write_scenario(
        BASE.replace("  level: 1.0\n", "  level: 1.0\n  redirect: {nobody: 0.5}\n")
    )
    assert error_of(path).startswith(f"{path}:21: withdrawal.redirect.nobody: ")
    path = write_scenario(
        BASE.replace("  level: 1.0\n", "  level: 1.0\n  redirect: {hamas: 0.7, hezbollah: 0.6}\n")
    )
    message = error_of(path)
    assert message.startswith(f"{path}:21: withdrawal.redirect: ")
    assert "at most 1" in message


# --- hostile and broken files -------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_quickly(write_scenario):
    path = write_scenario(BILLION_LAUGHS)
    started = time.perf_counter()
    message = error_of(path)
    assert time.perf_counter() - started < 1.0  # expanding it would take minutes and GBs
    assert message.startswith(f"{path}:1: ")
    assert "anchors and aliases" in message


def test_a_single_anchor_is_refused(write_scenario):
    text = BASE.replace(
        "    loyalty: 0.4\n    dependence: 0.6", "    loyalty: &l 0.4\n    dependence: *l"
    )
    path = write_scenario(text)
    assert "anchors and aliases" in error_of(path)


def test_python_tags_are_refused_by_the_safe_loader(write_scenario, tmp_path):
    marker = tmp_path / "pwned"
    path = write_scenario(f"!!python/object/apply:os.system ['touch {marker}']\n", name="evil.yaml")
    message = error_of(path)
    assert message.startswith(f"{path}:")
    assert not marker.exists()


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(BASE + "#" * (MAX_BYTES + 1) + "\n")
    started = time.perf_counter()
    message = error_of(path)
    assert time.perf_counter() - started < 1.0
    assert message.startswith(f"{path}: ")
    assert str(MAX_BYTES) in message


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("tiny", "t\xefny").encode("latin-1"))
    message = error_of(path)
    assert message.startswith(f"{path}: ")
    assert "UTF-8" in message


@pytest.mark.parametrize("content", ["", "\n\n  \n", "# only a comment\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    message = error_of(path)
    assert message.startswith(f"{path}")
    assert "empty" in message or "mapping" in message


def test_list_at_top_level(write_scenario):
    path = write_scenario("- name: tiny\n- steps: 3\n")
    message = error_of(path)
    assert message.startswith(f"{path}:1: ")
    assert "mapping" in message and "list" in message


def test_scalar_at_top_level(write_scenario):
    assert "mapping" in error_of(write_scenario("just words\n"))


def test_invalid_yaml_syntax_has_a_line(write_scenario):
    text = BASE.replace("    dependence: 0.85", "    dependence: [0.85")
    path = write_scenario(text)
    message = error_of(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: invalid YAML", message)


def test_directory(tmp_path):
    message = error_of(tmp_path)
    assert message.startswith(f"{tmp_path}: ")
    assert "directory" in message


def test_missing_path(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert error_of(path) == f"{path}: no such file"


# --- overrides by dotted path ---------------------------------------------------------------


def test_set_by_dotted_path(write_scenario):
    scenario = load(write_scenario(BASE), ["withdrawal.level=0.5", "steps=30"]).scenario
    assert scenario.withdrawal.level == 0.5
    assert scenario.steps == 30


def test_set_names_list_items_by_id(write_scenario):
    path = write_scenario(BASE)
    scenario = load(path, ["partners.hezbollah.dependence=0.9"]).scenario
    by_id = {p.id: p for p in scenario.partners}
    assert by_id["hezbollah"].dependence == 0.9
    assert by_id["assad"].dependence == 0.6 and by_id["hamas"].dependence == 0.3
    # nested inside an item, and a new key in a mapping
    scenario = load(path, ["partners.hamas.offers.russia=1.5", "partners.assad.watches.hamas=1"])
    by_id = {p.id: p for p in scenario.scenario.partners}
    assert by_id["hamas"].offers == {"russia": 1.5}
    assert by_id["assad"].watches == {"hamas": 1.0}
    # the file itself is untouched, and the loaded scenario records the overrides
    assert load(path).scenario.partners[1].dependence == 0.85
    assert load(path, ["steps=5"]).overrides == ("steps=5",)


def test_set_in_a_section_the_file_does_not_have(write_scenario):
    scenario = load(write_scenario(BASE), ["budget_cut.level=0.3"]).scenario
    assert scenario.budget_cut.level == 0.3


def test_set_unknown_item_id(write_scenario):
    message = error_of(write_scenario(BASE), ["partners.nobody.dependence=0.5"])
    assert message.startswith("--set: partners: ")
    assert "no item with id 'nobody'" in message and "hezbollah" in message


def test_set_unknown_field_has_did_you_mean(write_scenario):
    message = error_of(write_scenario(BASE), ["withdrawal.levle=0.5"])
    assert "withdrawal.levle: unknown field 'levle'" in message
    assert "did you mean 'level'" in message


def test_set_value_is_validated_like_the_file(write_scenario):
    message = error_of(write_scenario(BASE), ["partners.hezbollah.loyalty=1.4"])
    assert "partners[1].loyalty: must be between 0 and 1, got 1.4" in message
    message = error_of(write_scenario(BASE), ["steps=soon"])
    assert "steps: must be a whole number, got 'soon'" in message


@pytest.mark.parametrize("override", ["withdrawal.level", "=0.5", "steps.x=1"])
def test_set_malformed(write_scenario, override):
    message = error_of(write_scenario(BASE), [override])
    assert message.startswith("--set: ")


def test_set_reference_checked_after_override(write_scenario):
    message = error_of(write_scenario(BASE), ["events.0.partner=ghost"])
    assert "events[0].partner" in message and "ghost" in message


def test_locate_names_list_items_by_position_where_the_path_names_them_by_id():
    # Designs and ranged inputs are stored by location (list items by position) so the
    # ensemble can put each run's value in the right cell; ids and positions both resolve.
    from patronage.scenario.overrides import locate

    data = yaml.safe_load(SYRIA.read_text())
    ids = [p["id"] for p in data["partners"]]
    hezbollah = ids.index("hezbollah")
    assert locate(data, "partners.hezbollah.loyalty") == ("partners", hezbollah, "loyalty")
    assert locate(data, f"partners.{hezbollah}.loyalty") == ("partners", hezbollah, "loyalty")
    assert locate(data, "withdrawal.targets.assad.level") == ("withdrawal", "targets", 0, "level")
    assert locate(data, "coefficients.peer_weight") == ("coefficients", "peer_weight")
    assert locate(data, "batch.replicates") == ("batch", "replicates")  # a section it adds
    before = yaml.safe_load(SYRIA.read_text())
    assert data == before  # locating writes nothing into the data
    with pytest.raises(InputError, match=r"^--set: partners: no item with id 'nobody'"):
        locate(data, "partners.nobody.loyalty")
