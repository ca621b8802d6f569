"""Loading scenario files: safe YAML, line numbers, overrides by dotted path, reference checks.

Scenario files are data. They are parsed with PyYAML's safe loader only; anchors and aliases
are refused (they are how "billion laughs" files blow up memory), and so are files over
MAX_BYTES. Every problem becomes an InputError naming the file, the line where the parser
knows it, the field path and what is allowed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from patronage.errors import InputError, listed
from patronage.scenario.overrides import (
    TAG_ERRORS,
    PathKey,
    apply_override,
    assign,
    split_override,
)
from patronage.scenario.ranges import RangedInput, RangeProblem, at_extremes, split_ranges
from patronage.scenario.schema import NONE_PATRON, Scenario

RESERVED_IDS = (NONE_PATRON, "param", "run_id", "seed")  # 'none' is an alternative; the rest
# would collide with columns of the runs table

MAX_BYTES = 64 * 2**20  # hand-written scenarios are kilobytes; generated ones reach ~40 MB
# libyaml's C parser when PyYAML has it (the wheels do): the same safe constructors, ~10x
# faster on the large generated scenarios.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from, for manifests and error messages."""

    scenario: Scenario
    source: str
    text: str
    overrides: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    lines: dict[PathKey, int] = field(default_factory=dict, repr=False, compare=False)
    ranges: tuple[RangedInput, ...] = ()  # inputs written as distributions (ranges.py)

    @property
    def sha256(self) -> str:
        """The SHA-256 of the scenario text, so results name exactly what they ran."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> LoadedScenario:
    """Read, parse, override and validate a scenario file."""
    return from_text(read_text(Path(path)), str(path), tuple(overrides))


def from_text(text: str, source: str, overrides: tuple[str, ...] = ()) -> LoadedScenario:
    """A scenario from its text (a manifest, a Dask worker): the same checks as `load`."""
    data, lines = parse_yaml(text, source)
    touched: list[PathKey] = []
    for override in overrides:
        dotted, value = split_override(override)
        data = apply_override(data, dotted, value, touched)
    ranges: tuple[RangedInput, ...] = ()
    if "low" in text or overrides:  # a range has a low: most files are read without a walk
        try:
            data, ranges = split_ranges(data)
        except RangeProblem as problem:
            raise blame(problem.message, problem.loc, source, lines, touched) from None
    scenario = validate(data, source, lines, touched)
    check_extremes(data, ranges, source, lines, touched)
    return LoadedScenario(scenario, source, text, tuple(overrides), data, lines, ranges)


def check_extremes(
    data: dict[str, Any],
    ranges: tuple[RangedInput, ...],
    source: str,
    lines: dict[PathKey, int],
    overridden: list[PathKey] | tuple[PathKey, ...] = (),
) -> None:
    """Bounds of ranges are checked as numbers are: the scenario with every range at its
    low, then at its high, must validate (every constraint of the schema is an interval or
    a sum that grows with each field)."""
    for end, extreme in at_extremes(data, ranges):
        try:
            validate(extreme, source, lines, overridden)
        except InputError as exc:
            raise InputError(
                f"{exc.message} (at the range's {end})",
                source=exc.source,
                line=exc.line,
                field=exc.field,
            ) from None


def read_text(path: Path) -> str:
    """A scenario file's text, or one clear error if it cannot be read."""
    source = str(path)
    if not path.exists():
        raise InputError("no such file", source=source)
    if path.is_dir():
        raise InputError("is a directory, expected a scenario file (.yaml)", source=source)
    if not path.is_file():
        raise InputError("is not a regular file, expected a scenario file", source=source)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # bounded, whatever the file claims to be
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None
    return decode_text(raw, source, MAX_BYTES, "the limit for scenario files")


def decode_text(raw: bytes, source: str, limit: int, why: str) -> str:
    """The text of a scenario's bytes (read from a file or uploaded), or one clear error."""
    if len(raw) > limit:
        raise InputError(f"file is over {limit} bytes, {why}", source=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=source
        ) from None
    if not text.strip():
        raise InputError("empty file, expected a scenario mapping", source=source)
    return text


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], dict[PathKey, int]]:
    """Parse with the safe loader; return the data and the line of every node by path.

    One pass: libyaml composes the node graph, the line index walks it (refusing a node
    met twice: that is an alias, the stuff of "billion laughs" files), and the safe
    constructor builds the data from the same nodes. A `.json` file is read as JSON (YAML's
    subset, much faster for large generated scenarios), without line numbers.
    """
    if source.endswith(".json"):
        return _parse_json(text, source), {}
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(
                "no fields (only comments?), expected a scenario mapping", source=source
            )
        lines: dict[PathKey, int] = {}
        _index_lines(node, (), lines, set(), source)
        data = _construct(loader, node, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", source=source, line=line) from None
    except yaml.reader.ReaderError as exc:  # the other YAMLError of loading: a forbidden character
        line = text.count("\n", 0, exc.position) + 1
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise InputError(f"invalid YAML: {problem}", source=source, line=line) from None
    except RecursionError:
        raise InputError("nested too deeply to be a scenario", source=source) from None
    finally:
        loader.dispose()
    _check_top(data, source)
    return data, lines


def _construct(loader: Any, node: yaml.Node, source: str) -> Any:
    """The data of the composed nodes; a value its explicit tag does not fit (`!!int soon`)
    is refused with its line and field (the constructors raise plain Python errors)."""
    try:
        return loader.construct_document(node)
    except TAG_ERRORS:
        found = _first_mistagged(loader, node, ())
        if found is None:  # not a tagged value: a bug, keep its traceback
            raise
        key, scalar = found
        tag = scalar.tag.replace("tag:yaml.org,2002:", "!!")
        raise InputError(
            f"invalid YAML: {scalar.value!r} is not a valid {tag}",
            source=source,
            line=scalar.start_mark.line + 1,
            field=format_path(key),
        ) from None


def _first_mistagged(
    loader: Any, node: yaml.Node, key: PathKey
) -> tuple[PathKey, yaml.ScalarNode] | None:
    """The first scalar, in file order, that its tag's constructor cannot read."""
    if isinstance(node, yaml.ScalarNode):
        try:
            loader.yaml_constructors[node.tag](loader, node)
        except TAG_ERRORS:
            return key, node
        return None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:  # a key that is not a scalar is refused as unhashable first
            found = _first_mistagged(loader, k, key) or _first_mistagged(loader, v, (*key, k.value))
            if found:
                return found
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _first_mistagged(loader, item, (*key, i))
            if found:
                return found
    return None


def _parse_json(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    except RecursionError:
        raise InputError("nested too deeply to be a scenario", source=source) from None
    _check_top(data, source)
    return data


def _check_top(data: Any, source: str) -> None:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise InputError(
            f"the top level must be a mapping of fields (name:, partners:, ...), got {kind}",
            source=source,
            line=1,
        )


def _index_lines(
    node: yaml.Node, key: PathKey, lines: dict[PathKey, int], seen: set[int], source: str
) -> None:
    if id(node) in seen:
        raise InputError(
            "anchors and aliases (&, *) are not allowed in scenario files",
            source=source,
            line=node.start_mark.line + 1,
        )
    seen.add(id(node))
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        names: set[str] = set()
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else str(k)
            if name in names:  # YAML would keep the last silently
                raise InputError(
                    f"'{name}' is given twice",
                    source=source,
                    line=k.start_mark.line + 1,
                    field=format_path((*key, name)),
                )
            names.add(name)
            lines[(*key, name)] = k.start_mark.line + 1
            _index_lines_children(v, (*key, name), lines, seen, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*key, i), lines, seen, source)


def _index_lines_children(
    node: yaml.Node, key: PathKey, lines: dict[PathKey, int], seen: set[int], source: str
) -> None:
    first = lines.get(key)
    _index_lines(node, key, lines, seen, source)
    if first is not None and not isinstance(node, yaml.ScalarNode):
        lines[key] = first


def format_path(loc: PathKey) -> str:
    """A location in the scenario as a dotted path, for error messages."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_for(loc: PathKey, lines: dict[PathKey, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def blame(
    message: str,
    loc: PathKey,
    source: str,
    lines: dict[PathKey, int],
    overridden: list[PathKey] | tuple[PathKey, ...] = (),
    created: bool = False,
) -> InputError:
    """The error for the field at `loc`: its file line, or the --set that wrote it; with
    `created` (an unknown field), also the override that created it (`no` of
    `no.such.field`), which the file never had."""
    if any(loc[: len(o)] == o or (created and loc and o[: len(loc)] == loc) for o in overridden):
        return InputError(message, source=f"{source} (--set)", field=format_path(loc))
    return InputError(message, source=source, line=_line_for(loc, lines), field=format_path(loc))


def validate(
    data: dict[str, Any],
    source: str,
    lines: dict[PathKey, int],
    overridden: list[PathKey] | tuple[PathKey, ...] = (),
) -> Scenario:
    """Validate against the schema, then check the references between fields.

    An error inside an `overridden` path, or in a section holding one (a sum of shares, a
    section the override created), is blamed on the override (`FILE (--set)`), not on a line
    of the file, which still holds the old value.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt field shows up twice: as unknown and as missing. The unknown one,
        # with its did-you-mean hint, is the useful report.
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        more = exc.error_count() - 1
        message = _describe(error, loc)
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''})"
        unknown = error["type"] == "extra_forbidden"
        raise blame(message, loc, source, lines, overridden, created=unknown) from None
    problem = check_references(scenario)
    if problem is not None:
        loc, message = problem
        raise blame(message, loc, source, lines, overridden)
    return scenario


def _describe(error: Mapping[str, Any], loc: PathKey) -> str:
    kind = error["type"]
    got = error.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_fields(loc[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"unknown field '{name}'{suggestion} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}, got {got!r}"
    if kind == "string_pattern_mismatch":
        return f"must be a lower-case id (letters, digits, _; starting with a letter), got {got!r}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, got {got!r}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, got {got!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of fields, got {type(got).__name__}"
    if kind == "list_type":
        return f"must be a list, got {type(got).__name__}"
    if kind == "too_short":
        return "must not be empty"
    return f"{error['msg']}, got {got!r}"


def _allowed_fields(loc: PathKey) -> list[str]:
    """Field names of the schema class found at `loc` (list indices and dict keys skipped)."""
    model: Any = Scenario
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            break
        if isinstance(part, int) or part not in model.model_fields:
            continue
        model = _inner_model(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside list[X], X | None, dict[str, X] ..., or the annotation itself."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def check_references(s: Scenario) -> tuple[PathKey, str] | None:
    """Ids unique and every reference resolvable; returns the first problem found."""
    patron_list = [p.id for p in s.patrons]
    partner_list = [p.id for p in s.partners]
    patrons, partners = set(patron_list), set(partner_list)  # membership in O(1): N ~ 1e5
    for section, ids in (("patrons", patron_list), ("partners", partner_list)):
        seen: set[str] = set()
        for i, pid in enumerate(ids):
            if pid in seen:
                return (section, i, "id"), f"duplicate id '{pid}'"
            if pid in RESERVED_IDS:
                return (section, i, "id"), f"'{pid}' is a reserved word, choose another id"
            seen.add(pid)
    for i, pid in enumerate(partner_list):
        if pid in patrons:
            return ("partners", i, "id"), f"'{pid}' is already a patron id; ids must be unique"
    if s.incumbent not in patrons:
        return ("incumbent",), f"must name a patron ({_list(patron_list)}), got '{s.incumbent}'"
    for i, p in enumerate(s.partners):
        for mapping in ("affinity", "offers"):
            for key in getattr(p, mapping):
                if key not in patrons:
                    return (
                        ("partners", i, mapping, key),
                        f"must name a patron ({_list(patron_list)}), got '{key}'",
                    )
        for key in p.watches:
            if key not in partners:
                return (
                    ("partners", i, "watches", key),
                    f"must name a partner ({_list(partner_list)}), got '{key}'",
                )
            if key == p.id:
                return ("partners", i, "watches", key), "a partner cannot watch itself"
    targets: set[str] = set()
    for i, t in enumerate(s.withdrawal.targets):
        if t.id not in partners:
            return (
                ("withdrawal", "targets", i, "id"),
                f"must name a partner ({_list(partner_list)}), got '{t.id}'",
            )
        if t.id in targets:
            return ("withdrawal", "targets", i, "id"), f"'{t.id}' is listed twice"
        targets.add(t.id)
    for key in s.withdrawal.redirect:
        if key not in partners:
            return (
                ("withdrawal", "redirect", key),
                f"must name a partner ({_list(partner_list)}), got '{key}'",
            )
    total = sum(s.withdrawal.redirect.values())
    if total > 1 + 1e-9:
        return ("withdrawal", "redirect"), f"shares must sum to at most 1, got {total:g}"
    for i, e in enumerate(s.events):
        if e.partner not in partners:
            return (
                ("events", i, "partner"),
                f"must name a partner ({_list(partner_list)}), got '{e.partner}'",
            )
        if e.kind == "offer":
            if e.patron is None:
                return ("events", i, "patron"), "an offer must name the patron making it"
            if e.patron not in patrons:
                return (
                    ("events", i, "patron"),
                    f"must name a patron ({_list(patron_list)}), got '{e.patron}'",
                )
        elif e.patron is not None:
            return ("events", i, "patron"), f"only offers name a patron, not '{e.kind}' events"
        if e.kind == "pressure" and e.value > 1:
            return ("events", i, "value"), f"pressure must be between 0 and 1, got {e.value!r}"
    return None


def _list(ids: list[str]) -> str:
    return listed(ids, limit=12)


def override_scenario(loaded: LoadedScenario, assignments: dict[str, Any]) -> Scenario:
    """Apply already-parsed values (from a sweep) to a loaded scenario and validate."""
    if not assignments:  # the loaded scenario is already validated: no second pass
        return loaded.scenario
    data, touched = assign(loaded.data, assignments)
    return validate(data, loaded.source, loaded.lines, touched)
