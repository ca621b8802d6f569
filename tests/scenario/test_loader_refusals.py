"""Every refusal of the scenario loader, word for word: `file:line: field: what is allowed`.

A refusal is part of the interface (people read it, scripts grep it), so these tests pin the
whole line, not a word of it. Table-driven: one row per InputError the loader can raise,
and the boundaries it must accept (a file of exactly the size limit, shares summing to 1,
typed `--set` values).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import MINIMAL_YAML

from patronage.errors import InputError
from patronage.scenario import loader
from patronage.scenario.loader import from_text, load, override_scenario
from patronage.scenario.overrides import parse_value
from patronage.scenario.schema import (
    Coefficients,
    Partner,
    Scenario,
    Sweep,
    Withdrawal,
    WithdrawalTarget,
)

# Line numbers in the expected messages refer to this text (line 1 is `name: tiny`).
BASE = (
    MINIMAL_YAML
    + """\
withdrawal:
  level: 1.0
  targets:
    - id: assad
  redirect: {hezbollah: 0.5}
events:
  - {step: 3, kind: offer, partner: assad, patron: russia, value: 0.5}
"""
)
WITHDRAWAL = BASE[BASE.index("withdrawal:") : BASE.index("events:")]
EVENTS = BASE[BASE.index("events:") :]


def allowed(model) -> str:
    """The field list a message offers for an unknown key: the schema's own fields."""
    return ", ".join(model.model_fields)


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def refusal(path: Path, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(InputError) as info:
        load(path, list(overrides))
    return str(info.value)


# --- the file as a whole ----------------------------------------------------------------------

FILE_CASES = [
    pytest.param("", "{path}: empty file, expected a scenario mapping", id="empty"),
    pytest.param(" \n\t\n", "{path}: empty file, expected a scenario mapping", id="blank"),
    pytest.param(
        "# nothing here\n",
        "{path}: no fields (only comments?), expected a scenario mapping",
        id="only-comments",
    ),
    pytest.param(
        "- name: tiny\n- steps: 3\n",
        "{path}:1: the top level must be a mapping of fields (name:, partners:, ...), got a list",
        id="top-list",
    ),
    pytest.param(
        "just words\n",
        "{path}:1: the top level must be a mapping of fields (name:, partners:, ...), got str",
        id="top-str",
    ),
    pytest.param(
        "5\n",
        "{path}:1: the top level must be a mapping of fields (name:, partners:, ...), got int",
        id="top-int",
    ),
    pytest.param(
        edit("dependence: 0.8", "dependence: [0.8"),
        "{path}:14: invalid YAML: did not find expected ',' or ']'",
        id="unclosed-list",
    ),
    pytest.param(
        "name: tiny\nsteps: 3: 4\n",
        "{path}:2: invalid YAML: mapping values are not allowed in this context",
        id="mapping-in-scalar",
    ),
    pytest.param(
        "name: tiny\nsteps: 3\ntitle: a\x07b\n",
        "{path}:3: invalid YAML: unacceptable character #x0007: control characters are not allowed",
        id="control-character",
    ),
    pytest.param(
        "\nname: tiny\ntitle: a\x07b\n",
        "{path}:3: invalid YAML: unacceptable character #x0007: control characters are not allowed",
        id="control-character-after-a-blank-first-line",
    ),
    pytest.param(
        "? [a]\n: 1\n? [b]\n: 2\n",
        "{path}:1: invalid YAML: found unhashable key",
        id="keys-that-are-lists",
    ),
    pytest.param(
        "a: " + "[" * 1200 + "]" * 1200 + "\n",
        "{path}:1: invalid YAML: exceeded maximum nesting depth",
        id="nesting-beyond-libyaml",
    ),
    pytest.param(
        # deep enough for Python's recursion limit, not for libyaml's depth limit (1000)
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 600)),
        "{path}: nested too deeply to be a scenario",
        id="nesting-beyond-python",
    ),
    pytest.param(
        edit("loyalty: 0.5\n    dependence: 0.5", "loyalty: &l 0.5\n    dependence: *l"),
        "{path}:9: anchors and aliases (&, *) are not allowed in scenario files",
        id="anchor",
    ),
    pytest.param(
        edit("    dependence: 0.8\n", "    dependence: 0.8\n    loyalty: 0.2\n"),
        "{path}:14: partners[1].loyalty: 'loyalty' is given twice",
        id="key-twice",
    ),
    pytest.param(
        "name: tiny\nname: other\n",
        "{path}:2: name: 'name' is given twice",
        id="top-key-twice",
    ),
    # an explicit tag the value does not fit: PyYAML raises a plain Python error, not a
    # YAMLError; each kind of error it raises has a row
    pytest.param(
        edit("steps: 12", "steps: !!int soon"),
        "{path}:2: steps: invalid YAML: 'soon' is not a valid !!int",
        id="tag-int",
    ),
    pytest.param(
        edit("steps: 12", "steps: !!int ''"),
        "{path}:2: steps: invalid YAML: '' is not a valid !!int",
        id="tag-int-empty",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: !!bool maybe"),
        "{path}:12: partners[1].loyalty: invalid YAML: 'maybe' is not a valid !!bool",
        id="tag-bool",
    ),
    pytest.param(
        edit("name: tiny", "name: !!timestamp soon"),
        "{path}:1: name: invalid YAML: 'soon' is not a valid !!timestamp",
        id="tag-timestamp",
    ),
    pytest.param(
        edit("watches: {assad: 0.5}", "watches: {assad: !!float x}"),
        "{path}:14: partners[1].watches.assad: invalid YAML: 'x' is not a valid !!float",
        id="tag-in-a-flow-mapping",
    ),
    pytest.param(
        edit("  - id: russia", "  - id: russia\n    leaders: [a, !!int b]"),
        "{path}:7: patrons[1].leaders[1]: invalid YAML: 'b' is not a valid !!int",
        id="tag-in-a-list",
    ),
    pytest.param(
        edit("steps: 12", "!!int twelve: 12"),
        "{path}:2: invalid YAML: 'twelve' is not a valid !!int",
        id="tag-on-a-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), FILE_CASES)
def test_file_refusals(tmp_path, text, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    assert refusal(path) == expected.format(path=path)


def test_missing_file_and_folder(tmp_path):
    assert refusal(tmp_path / "nowhere.yaml") == f"{tmp_path / 'nowhere.yaml'}: no such file"
    assert refusal(tmp_path) == f"{tmp_path}: is a directory, expected a scenario file (.yaml)"


def test_special_file(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert refusal(fifo) == f"{fifo}: is not a regular file, expected a scenario file"


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.yaml"
    path.write_text(BASE)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)  # root reads any file: chmod cannot show this
    assert refusal(path) == f"{path}: cannot read: Permission denied"


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("tiny", "t\xefny").encode("latin-1"))
    assert refusal(path) == f"{path}: not UTF-8 text (byte 7); save the file as UTF-8"


def test_size_limit_is_inclusive(tmp_path, monkeypatch):
    """A file of exactly MAX_BYTES loads; one byte more is refused before it is parsed."""
    text = BASE + "#" * 50 + "\n"
    limit = len(text.encode())
    monkeypatch.setattr(loader, "MAX_BYTES", limit)
    path = tmp_path / "edge.yaml"
    path.write_text(text)
    assert load(path).scenario.name == "tiny"
    path.write_text(text + "\n")
    assert refusal(path) == f"{path}: file is over {limit} bytes, the limit for scenario files"


# --- JSON scenarios ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "x",\n "steps": }', "{path}:2: invalid JSON: Expecting value"),
        ('{"name": "x"', "{path}:1: invalid JSON: Expecting ',' delimiter"),
        (
            "[1, 2]",
            "{path}:1: the top level must be a mapping of fields (name:, partners:, ...), "
            "got a list",
        ),
        (
            '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "{path}: nested too deeply to be a scenario",
        ),
        # no line numbers in JSON: the message names the field
        (
            '{"name": "x", "incumbent": "iran", "patrons": [{"id": "iran"}], "partners": '
            '[{"id": "a", "loyalty": 2, "dependence": 0}]}',
            "{path}: partners[0].loyalty: must be between 0 and 1, got 2.0",
        ),
    ],
    ids=["syntax", "unterminated", "top-list", "too-deep", "field-without-line"],
)
def test_json_refusals(tmp_path, text, expected):
    path = tmp_path / "scenario.json"
    path.write_text(text)
    assert refusal(path) == expected.format(path=path)


def test_yaml_text_named_json_is_read_as_json(tmp_path):
    """The suffix decides the parser: YAML in a .json file is refused as JSON, with a line."""
    path = tmp_path / "scenario.json"
    path.write_text(BASE)
    assert refusal(path) == f"{path}:1: invalid JSON: Expecting value"


# --- the schema -------------------------------------------------------------------------------

SCHEMA_CASES = [
    pytest.param(
        BASE + "zzz: 1\n",
        f"{{path}}:22: zzz: unknown field 'zzz' (allowed: {allowed(Scenario)})",
        id="unknown-top-no-hint",
    ),
    pytest.param(
        edit("withdrawal:", "withdrawl:"),
        f"{{path}}:15: withdrawl: unknown field 'withdrawl'; did you mean 'withdrawal'? "
        f"(allowed: {allowed(Scenario)})",
        id="unknown-top-hint",
    ),
    pytest.param(
        edit("    - id: assad\n", "    - id: assad\n      lvl: 1\n"),
        f"{{path}}:19: withdrawal.targets[0].lvl: unknown field 'lvl'; did you mean 'level'? "
        f"(allowed: {allowed(WithdrawalTarget)})",
        id="unknown-in-list-item",
    ),
    pytest.param(
        BASE + "batch:\n  sweeps:\n    - {path: steps, values: [1], vals: 2}\n",
        f"{{path}}:24: batch.sweeps[0].vals: unknown field 'vals'; did you mean 'values'? "
        f"(allowed: {allowed(Sweep)})",
        id="unknown-in-optional-section",
    ),
    pytest.param(
        BASE + "coefficients: {trust_prio: 0.5}\n",
        f"{{path}}:22: coefficients.trust_prio: unknown field 'trust_prio'; did you mean "
        f"'trust_prior'? (allowed: {allowed(Coefficients)})",
        id="unknown-coefficient",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyality: 0.9"),
        f"{{path}}:12: partners[1].loyality: unknown field 'loyality'; did you mean 'loyalty'? "
        f"(allowed: {allowed(Partner)}) (and 1 more error)",
        id="misspelt-required",
    ),
    pytest.param(
        edit("incumbent: iran\n", ""),
        "{path}:1: incumbent: required field is missing",
        id="missing-top",
    ),
    pytest.param(
        edit("    loyalty: 0.9\n", ""),
        "{path}:11: partners[1].loyalty: required field is missing",
        id="missing-in-item",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: 1.4"),
        "{path}:12: partners[1].loyalty: must be between 0 and 1, got 1.4",
        id="out-of-range",
    ),
    pytest.param(
        edit("kind: offer", "kind: bribe"),
        "{path}:21: events[0].kind: must be one of 'offer', 'pressure' or 'threat', got 'bribe'",
        id="not-a-choice",
    ),
    pytest.param(
        edit("  - id: russia", "  - id: Russia"),
        "{path}:6: patrons[1].id: must be a lower-case id (letters, digits, _; starting with a "
        "letter), got 'Russia'",
        id="bad-id",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: high"),
        "{path}:12: partners[1].loyalty: must be a number, got 'high'",
        id="number-from-word",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: [1]"),
        "{path}:12: partners[1].loyalty: must be a number, got [1]",
        id="number-from-list",
    ),
    pytest.param(
        edit("steps: 12", "steps: twelve"),
        "{path}:2: steps: must be a whole number, got 'twelve'",
        id="whole-from-word",
    ),
    pytest.param(
        edit("steps: 12", "steps: [1]"),
        "{path}:2: steps: must be a whole number, got [1]",
        id="whole-from-list",
    ),
    pytest.param(
        edit("steps: 12", "steps: 1.5"),
        "{path}:2: steps: must be a whole number, got 1.5",
        id="whole-from-fraction",
    ),
    pytest.param(
        edit(WITHDRAWAL, "withdrawal: 5\n"),
        "{path}:15: withdrawal: must be a mapping of fields, got int",
        id="section-not-mapping",
    ),
    pytest.param(
        edit(WITHDRAWAL, "withdrawal:\n  - 1\n"),
        "{path}:15: withdrawal: must be a mapping of fields, got list",
        id="section-is-list-line-of-key",
    ),
    pytest.param(
        edit("watches: {assad: 0.5}", "watches: 3"),
        "{path}:14: partners[1].watches: must be a mapping of fields, got int",
        id="dict-not-mapping",
    ),
    pytest.param(
        edit(EVENTS, "events: 5\n"),
        "{path}:20: events: must be a list, got int",
        id="not-a-list",
    ),
    pytest.param(
        edit("patrons:\n  - id: iran\n  - id: russia\n", "patrons: []\n"),
        "{path}:4: patrons: must not be empty",
        id="empty-list",
    ),
    pytest.param(
        edit("name: tiny", "name: 5"),
        "{path}:1: name: Input should be a valid string, got 5",
        id="pydantic-message-kept",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: 1.9").replace("dependence: 0.8", "dependence: 1.8"),
        "{path}:12: partners[1].loyalty: must be between 0 and 1, got 1.9 (and 1 more error)",
        id="two-errors",
    ),
    pytest.param(
        edit("loyalty: 0.9", "loyalty: 1.9")
        .replace("dependence: 0.8", "dependence: 1.8")
        .replace("steps: 12", "steps: 0"),
        "{path}:2: steps: must be between 1 and 100000, got 0 (and 2 more errors)",
        id="three-errors",
    ),
]


SCHEMA_CASES += [
    pytest.param(
        edit("    dependence: 0.5\n", "    dependence: 0.5\n    affinity: {Iran: 0.5}\n"),
        "{path}:11: partners[0].affinity.Iran: must be a lower-case id (letters, digits, _; "
        "starting with a letter), got 'Iran'",
        id="bad-key-of-a-mapping",
    ),
    pytest.param(
        edit("steps: 12", "steps:\n  0"),
        "{path}:3: steps: must be between 1 and 100000, got 0",
        id="value-on-the-line-after-its-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_CASES)
def test_schema_refusals(tmp_path, text, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    assert refusal(path) == expected.format(path=path)


# --- references between fields ----------------------------------------------------------------

REFERENCE_CASES = [
    pytest.param(
        "  - id: russia",
        "  - id: iran",
        "{path}:6: patrons[1].id: duplicate id 'iran'",
        id="duplicate-patron",
    ),
    pytest.param(
        "  - id: hezbollah",
        "  - id: assad",
        "{path}:11: partners[1].id: duplicate id 'assad'",
        id="duplicate-partner",
    ),
    pytest.param(
        "  - id: russia",
        "  - id: none",
        "{path}:6: patrons[1].id: 'none' is a reserved word, choose another id",
        id="reserved-patron",
    ),
    pytest.param(
        "  - id: hezbollah",
        "  - id: seed",
        "{path}:11: partners[1].id: 'seed' is a reserved word, choose another id",
        id="reserved-partner",
    ),
    pytest.param(
        "  - id: hezbollah",
        "  - id: russia",
        "{path}:11: partners[1].id: 'russia' is already a patron id; ids must be unique",
        id="partner-is-patron",
    ),
    pytest.param(
        "incumbent: iran",
        "incumbent: persia",
        "{path}:3: incumbent: must name a patron (iran, russia), got 'persia'",
        id="incumbent",
    ),
    pytest.param(
        "    dependence: 0.5\n",
        "    dependence: 0.5\n    affinity: {china: 0.5}\n",
        "{path}:11: partners[0].affinity.china: must name a patron (iran, russia), got 'china'",
        id="affinity",
    ),
    pytest.param(
        "    dependence: 0.5\n",
        "    dependence: 0.5\n    offers: {china: 0.5}\n",
        "{path}:11: partners[0].offers.china: must name a patron (iran, russia), got 'china'",
        id="offers",
    ),
    pytest.param(
        "watches: {assad: 0.5}",
        "watches: {asad: 0.5}",
        "{path}:14: partners[1].watches.asad: must name a partner (assad, hezbollah), got 'asad'",
        id="watches-unknown",
    ),
    pytest.param(
        "watches: {assad: 0.5}",
        "watches: {hezbollah: 0.5}",
        "{path}:14: partners[1].watches.hezbollah: a partner cannot watch itself",
        id="watches-itself",
    ),
    pytest.param(
        "    - id: assad\n",
        "    - id: asad\n",
        "{path}:18: withdrawal.targets[0].id: must name a partner (assad, hezbollah), got 'asad'",
        id="target-unknown",
    ),
    pytest.param(
        "    - id: assad\n",
        "    - id: assad\n    - id: assad\n",
        "{path}:19: withdrawal.targets[1].id: 'assad' is listed twice",
        id="target-twice",
    ),
    pytest.param(
        "redirect: {hezbollah: 0.5}",
        "redirect: {hizb: 0.5}",
        "{path}:19: withdrawal.redirect.hizb: must name a partner (assad, hezbollah), got 'hizb'",
        id="redirect-unknown",
    ),
    pytest.param(
        "redirect: {hezbollah: 0.5}",
        "redirect: {hezbollah: 0.6, assad: 0.5}",
        "{path}:19: withdrawal.redirect: shares must sum to at most 1, got 1.1",
        id="redirect-over-1",
    ),
    pytest.param(
        "partner: assad, patron",
        "partner: asad, patron",
        "{path}:21: events[0].partner: must name a partner (assad, hezbollah), got 'asad'",
        id="event-partner",
    ),
    pytest.param(
        "patron: russia, value",
        "value",
        "{path}:21: events[0].patron: an offer must name the patron making it",
        id="offer-without-patron",
    ),
    pytest.param(
        "patron: russia, value",
        "patron: china, value",
        "{path}:21: events[0].patron: must name a patron (iran, russia), got 'china'",
        id="offer-unknown-patron",
    ),
    pytest.param(
        "kind: offer",
        "kind: threat",
        "{path}:21: events[0].patron: only offers name a patron, not 'threat' events",
        id="patron-on-threat",
    ),
    pytest.param(
        "{step: 3, kind: offer, partner: assad, patron: russia, value: 0.5}",
        "{step: 3, kind: pressure, partner: assad, value: 1.5}",
        "{path}:21: events[0].value: pressure must be between 0 and 1, got 1.5",
        id="pressure-over-1",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), REFERENCE_CASES)
def test_reference_refusals(tmp_path, old, new, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(edit(old, new))
    assert refusal(path) == expected.format(path=path)


def test_long_id_lists_are_cut_after_twelve(tmp_path):
    path = tmp_path / "scenario.yaml"
    for n_rivals, tail in ((11, ""), (12, " and 1 more"), (13, " and 2 more")):  # 12, 13, 14
        rivals = "".join(f"  - id: r{i:02d}\n" for i in range(n_rivals))
        text = edit("incumbent: iran", "incumbent: persia", edit("  - id: russia\n", rivals))
        path.write_text(text)
        ids = ", ".join(["iran", *(f"r{i:02d}" for i in range(11))])
        assert (
            refusal(path) == f"{path}:3: incumbent: must name a patron ({ids}{tail}), got 'persia'"
        )


# --- accepted edges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shares",
    [{"hezbollah": 1.0}, {"hezbollah": 0.5, "assad": 0.5}, {"hezbollah": 0.7, "assad": 0.3}],
)
def test_redirect_shares_summing_to_one_are_accepted(tmp_path, shares):
    """All the freed support may be sent on (0.7 + 0.3 is 1 only up to rounding)."""
    path = tmp_path / "scenario.yaml"
    text = ", ".join(f"{k}: {v}" for k, v in shares.items())
    path.write_text(edit("redirect: {hezbollah: 0.5}", f"redirect: {{{text}}}"))
    assert load(path).scenario.withdrawal.redirect == shares


def test_redirect_tolerance_is_1e9_inclusive(tmp_path):
    """Shares may sum to 1 + 1e-9 (rounding of shares written with many digits), no more."""
    path = tmp_path / "scenario.yaml"
    path.write_text(
        edit("redirect: {hezbollah: 0.5}", "redirect: {hezbollah: 0.5, assad: 0.500000001}")
    )
    assert sum(load(path).scenario.withdrawal.redirect.values()) == 1 + 1e-9


def test_redirect_just_over_one_is_refused(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(edit("redirect: {hezbollah: 0.5}", "redirect: {hezbollah: 0.5, assad: 0.5001}"))
    assert refusal(path) == (
        f"{path}:19: withdrawal.redirect: shares must sum to at most 1, got 1.0001"
    )


def test_pressure_of_exactly_one_is_accepted(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(
        edit(
            "{step: 3, kind: offer, partner: assad, patron: russia, value: 0.5}",
            "{step: 3, kind: pressure, partner: assad, value: 1.0}",
        )
    )
    assert load(path).scenario.events[0].value == 1.0


# --- overrides (--set) ------------------------------------------------------------------------

SET_CASES = [
    pytest.param(
        "withdrawal.level", "--set: expected PATH=VALUE, got 'withdrawal.level'", id="no-equals"
    ),
    pytest.param("=0.5", "--set: expected PATH=VALUE, got '=0.5'", id="no-path"),
    pytest.param(" =0.5", "--set: expected PATH=VALUE, got ' =0.5'", id="blank-path"),
    pytest.param("name=[a", "--set: name: cannot read value '[a'", id="bad-yaml-value"),
    pytest.param(
        "steps=!!int soon", "--set: steps: cannot read value '!!int soon'", id="bad-tag-value"
    ),
    pytest.param(
        "steps.x=1", "--set: steps.x: 'steps' is a value, not a section", id="into-a-value"
    ),
    pytest.param(
        "partners.nobody.loyalty=1",
        "--set: partners: no item with id 'nobody' (ids: assad, hezbollah; 2 items, numbered "
        "from 0)",
        id="unknown-id",
    ),
    pytest.param(
        "events.1.step=1",
        "--set: events: no item with id '1' (ids: none; 1 item, numbered from 0)",
        id="index-past-the-end",
    ),
    pytest.param(
        "withdrawal.targets.nobody.level=1",
        "--set: withdrawal.targets: no item with id 'nobody' (ids: assad; 1 item, numbered from 0)",
        id="unknown-id-deeper",
    ),
    pytest.param(
        "withdrawal.level.x=1",
        "--set: withdrawal.level.x: 'withdrawal.level' is a value, not a section",
        id="into-a-value-deeper",
    ),
    # list items are named by id; an [index] (or a stray bracket) gets the path to write
    pytest.param(
        "partners[0].loyalty=1",
        "--set: partners[0].loyalty: list items are named by their id, not by [index]: write "
        "partners.<id>.loyalty",
        id="bracket-index",
    ),
    pytest.param(
        "events[1][2].step=1",
        "--set: events[1][2].step: list items are named by their id, not by [index]: write "
        "events.<id>.<id>.step",
        id="two-bracket-indices",
    ),
    pytest.param(
        "partners.assad.leaders[]=1",
        "--set: partners.assad.leaders[]: list items are named by their id, not by [index]: "
        "write partners.assad.leaders.<id>",
        id="empty-brackets",
    ),
    pytest.param(
        "partners]0.loyalty=1",
        "--set: partners]0.loyalty: list items are named by their id, not by [index]: write "
        "partners]0.loyalty",
        id="closing-bracket-only",
    ),
    pytest.param(
        "partners[0.loyalty=1",
        "--set: partners[0.loyalty: list items are named by their id, not by [index]: write "
        "partners[0.loyalty",
        id="opening-bracket-only",
    ),
    pytest.param(
        "partners.hezbollah.loyalty=1.4",
        "{path} (--set): partners[1].loyalty: must be between 0 and 1, got 1.4",
        id="bad-value",
    ),
    pytest.param(
        "steps=soon", "{path} (--set): steps: must be a whole number, got 'soon'", id="bad-type"
    ),
    pytest.param(
        "events.0.partner=ghost",
        "{path} (--set): events[0].partner: must name a partner (assad, hezbollah), got 'ghost'",
        id="bad-reference",
    ),
    pytest.param(
        "withdrawal.redirect.assad=0.9",
        "{path}:19: withdrawal.redirect: shares must sum to at most 1, got 1.4",
        id="sum-of-a-section-the-file-holds",
    ),
    pytest.param(
        "partners.assad.leaders.x=1",
        "{path}:8: partners[0].leaders: must be a list, got dict",
        id="section-it-creates",
    ),
    pytest.param(
        "withdrawal.levle=0.5",
        f"{{path}} (--set): withdrawal.levle: unknown field 'levle'; did you mean 'level'? "
        f"(allowed: {allowed(Withdrawal)})",
        id="unknown-field",
    ),
    pytest.param(
        "no.such.field=1",
        f"{{path}} (--set): no: unknown field 'no' (allowed: {allowed(Scenario)})",
        id="unknown-section-it-creates",
    ),
    # a range written by --set is checked, and blamed, like any value it writes
    pytest.param(
        "partners.assad.loyalty={low: 0.9, high: 0.1}",
        "{path} (--set): partners[0].loyalty: a range needs low <= high, got low 0.9, high 0.1",
        id="range-upside-down",
    ),
    pytest.param(
        "partners.assad.loyalty={low: 0.5, high: 1.5}",
        "{path} (--set): partners[0].loyalty: must be between 0 and 1, got 1.5 (at the range's "
        "high)",
        id="range-past-a-bound",
    ),
]


@pytest.mark.parametrize(("override", "expected"), SET_CASES)
def test_set_refusals(tmp_path, override, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    assert refusal(path, (override,)) == expected.format(path=path)


def test_an_error_in_the_file_is_still_blamed_on_its_line(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(edit("loyalty: 0.9", "loyalty: 1.4"))
    assert refusal(path, ("steps=5", "partners.assad.loyalty=0.2")) == (
        f"{path}:12: partners[1].loyalty: must be between 0 and 1, got 1.4"
    )


def test_an_unknown_field_in_the_file_is_still_blamed_on_its_line(tmp_path):
    """An override elsewhere does not take the blame for the file's own misspelt field."""
    path = tmp_path / "scenario.yaml"
    path.write_text(edit("  level: 1.0", "  levle: 1.0"))
    assert refusal(path, ("steps=5",)) == (
        f"{path}:16: withdrawal.levle: unknown field 'levle'; did you mean 'level'? "
        f"(allowed: {allowed(Withdrawal)})"
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("[1,2]", [1, 2]),
        ("{a: 1}", {"a": 1}),
        ("null", None),
        ("~", None),
        ("", None),
        ("  ", None),
        ("0.5", 0.5),
        ("7", 7),
        ("'7'", "7"),
        ("russia", "russia"),
        ("#not-a-comment", "#not-a-comment"),  # YAML reads a comment (None): keep the text
    ],
)
def test_set_values_are_read_as_yaml(raw, value):
    assert parse_value(raw, "field") == value


def test_typed_set_values_reach_the_scenario(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    loaded = load(
        path,
        [
            "partners.assad.leaders=[Bashar, Maher]",
            "partners.assad.trust=null",
            "partners.hezbollah.trust=0.25",
            "events.0={step: 1, kind: threat, partner: hezbollah, value: 0.4}",
            "budget_cut.level=0.3",
        ],
    )
    assad, hezbollah = loaded.scenario.partners
    assert assad.leaders == ["Bashar", "Maher"] and assad.trust is None
    assert hezbollah.trust == 0.25
    assert loaded.scenario.events[0].kind == "threat" and loaded.scenario.events[0].step == 1
    assert loaded.scenario.budget_cut.level == 0.3
    assert loaded.overrides == (
        "partners.assad.leaders=[Bashar, Maher]",
        "partners.assad.trust=null",
        "partners.hezbollah.trust=0.25",
        "events.0={step: 1, kind: threat, partner: hezbollah, value: 0.4}",
        "budget_cut.level=0.3",
    )
    assert load(path).scenario.partners[0].leaders == []  # the file is untouched


def test_set_value_may_hold_an_equals_sign(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    assert load(path, ["title=a=b"]).scenario.title == "a=b"


def test_set_fills_a_section_left_empty(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE + "budget_cut:\n")
    assert load(path, ["budget_cut.level=0.3"]).scenario.budget_cut.level == 0.3


def test_sweep_values_are_validated_and_blamed_like_set(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    loaded = load(path)
    scenario = override_scenario(loaded, {"withdrawal.level": 0.25, "partners.assad.trust": None})
    assert scenario.withdrawal.level == 0.25 and scenario.partners[0].trust is None
    assert loaded.scenario.withdrawal.level == 1.0 and loaded.data["withdrawal"]["level"] == 1.0
    with pytest.raises(InputError) as info:
        override_scenario(loaded, {"steps": 0})
    assert str(info.value) == f"{path} (--set): steps: must be between 1 and 100000, got 0"
    # a field the file still holds, broken by the override elsewhere: blamed on its line
    with pytest.raises(InputError) as info:
        override_scenario(loaded, {"patrons.russia.id": "china"})
    assert str(info.value) == (
        f"{path}:21: events[0].patron: must name a patron (iran, china), got 'russia'"
    )


def test_from_text_checks_like_load():
    """A scenario re-read from a manifest's text is checked and blamed like a file."""
    loaded = from_text(BASE, "manifest.json#scenario", ("steps=7",))
    assert loaded.scenario.steps == 7 and loaded.source == "manifest.json#scenario"
    assert loaded.overrides == ("steps=7",) and loaded.text == BASE
    with pytest.raises(InputError) as info:
        from_text(edit("loyalty: 0.9", "loyalty: 1.4"), "manifest.json#scenario")
    assert str(info.value) == (
        "manifest.json#scenario:12: partners[1].loyalty: must be between 0 and 1, got 1.4"
    )
