"""The manifest of a result folder as a typed model, validated whenever a folder is opened.

A manifest that does not validate (a missing or mistyped field, a complete folder without
the sha256 of each table) is one clear error naming the field, never a KeyError later in
`summary`, `compare` or `verify`. Fields added by later versions are optional with
defaults, so older folders stay readable, and unknown fields are kept as they are.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from patronage.errors import InputError
from patronage.results.store import (
    FORMAT_VERSION,
    MANIFEST,
    READABLE_FORMATS,
    TABLES_OF_FORMAT,
    write_text,
)

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "DesignRecord",
    "Manifest",
    "RunCounts",
    "ScenarioRecord",
    "check_regular_file",
    "new_manifest",
    "read_manifest",
    "tables_of",
    "write_manifest",
]

MAX_MANIFEST_BYTES = 1 << 30  # a manifest holds the scenario: large, but not unbounded

Count = Annotated[int, Field(ge=0)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Record(BaseModel):
    # Unknown fields are kept (a newer version may add some); known ones must be right.
    model_config = ConfigDict(extra="allow")


class ScenarioRecord(_Record):
    """The scenario as run: its file, text, hash, overrides and resolved values."""

    name: str
    source: str
    sha256: Sha256
    overrides: list[str] = Field(default_factory=list)
    text: str
    resolved: dict[str, Any] | None = None  # format 1 stored the scenario resolved too


class DesignRecord(_Record):
    """The design: sweeps, Latin hypercube ranges, sample points, replicates, batch seed."""

    sweeps: dict[str, list[Any]] = Field(default_factory=dict)
    samples: dict[str, list[float]] = Field(default_factory=dict)
    n_samples: Count = 0
    replicates: Annotated[int, Field(ge=1)] = 1
    seed: Count = 0
    run_layout: str = "run_id = point_index * replicates + replicate"
    explicit: list[dict[str, Any]] = Field(default_factory=list)  # points given outright
    streams: str | None = None  # how run streams derive across points (None: independent)


class RunCounts(_Record):
    """How many runs the batch holds, has finished and has failed."""

    total: Count
    done: Count
    failed: Count


def _no_assignments() -> dict[str, Any]:
    """The one design point of a batch without a design."""
    return {}


class Manifest(_Record):
    """What was run, how, by which versions, and which runs are done (manifest.json)."""

    format: Literal[1, 2]  # READABLE_FORMATS
    kind: Literal["run", "batch"]
    status: Literal["running", "stopped", "complete"]
    scenario: ScenarioRecord
    incumbent: str | None = None  # format 2 (format 1: in scenario.resolved)
    groups: dict[str, list[str]] | None = None  # format 2: partner umbrellas, e.g. the PMF
    partners: list[str]
    patrons: list[str]
    steps: Annotated[int, Field(ge=1)]
    series_every: Annotated[int, Field(ge=1)] | None
    design: DesignRecord
    seed: Count
    seed_derivation: str = ""
    engine: str
    versions: dict[str, str] = Field(default_factory=dict)
    git_commit: str | None = None
    started: str
    finished: str | None = None
    runs: RunCounts
    # a batch folder's bookkeeping
    fingerprint: str | None = None
    executor: str | None = None
    points: list[dict[str, Any]] = Field(default_factory=lambda: [_no_assignments()])
    chunk_runs: Annotated[int, Field(ge=1)] | None = None
    chunks_done: list[Count] = Field(default_factory=list)
    chunk_seconds: dict[str, float] = Field(default_factory=dict)
    failed_runs: dict[str, str] = Field(default_factory=dict)
    param_columns: list[str] = Field(default_factory=list)
    # the sha256 of each table: required once complete, so no edit can switch the check off
    tables: dict[str, Sha256] | None = None
    # how runs draw their streams and inputs (a batch of this version; None in older ones)
    streams: str | None = None
    ranges: dict[str, Any] | None = None  # ranged inputs each run draws (rng/inputs.py)
    chunking: str | None = None  # "runs": chunks of consecutive runs across design points
    # what a command built on a batch adds (their own modules read and check them)
    precision: dict[str, Any] | None = None  # analysis.precision: the rounds run
    sensitivity: dict[str, Any] | None = None  # analysis.sensitivity: the study and indices

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.runs.done > self.runs.total or self.runs.failed > self.runs.done:
            raise ValueError("runs: done must not exceed total, nor failed done")
        if len(self.points) * self.design.replicates != self.runs.total:
            raise ValueError(
                f"runs.total ({self.runs.total}) is not the number of design points "
                f"({len(self.points)}) times design.replicates ({self.design.replicates})"
            )
        if self.status == "complete":
            missing = [t for t in tables_of(self.format) if t not in (self.tables or {})]
            if missing:
                raise ValueError(f"tables: a complete folder records the sha256 of {missing[0]}")
        return self

    @property
    def n_points(self) -> int:
        """How many design points the batch ran."""
        return len(self.points)


def tables_of(format_version: int) -> tuple[str, ...]:
    """The tables a complete folder of this format holds."""
    return TABLES_OF_FORMAT[format_version]


def _groups(scenario: Any) -> dict[str, list[str]]:
    """Partner groups (an umbrella such as the PMF): recorded so readers need not re-parse."""
    out: dict[str, list[str]] = {}
    for p in scenario.partners:
        if getattr(p, "group", None):
            out.setdefault(p.group, []).append(p.id)
    return {g: sorted(ids) for g, ids in sorted(out.items())}


def check_regular_file(path: Path, what: str, folder: Path) -> None:
    """Refuse a FIFO, a device or a folder where a file is expected: reading one would hang
    or never end."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{what} is missing", source=str(folder)) from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} is not a regular file; refusing to read it", source=str(folder))


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def parse_manifest(data: Any, folder: Path) -> Manifest:
    """Validate a manifest mapping; one line naming the first field that is wrong."""
    if not isinstance(data, dict) or "format" not in data:
        raise InputError(
            f"manifest.json is not a patronage result manifest (format {FORMAT_VERSION})",
            source=str(folder),
        )
    if data["format"] not in READABLE_FORMATS:
        raise InputError(
            f"result format {data['format']} is not one this version reads "
            f"(formats {', '.join(map(str, READABLE_FORMATS))}); open it with the patronage "
            "version that wrote it, or re-run the batch",
            source=str(folder),
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            f"manifest.json is damaged ({_first_problem(exc)}); this is not a folder "
            "patronage can read",
            source=str(folder),
        ) from None


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a result folder, validated."""
    if not folder.is_dir():
        raise InputError("no such result folder", source=str(folder))
    path = folder / MANIFEST
    if not path.exists() and not path.is_symlink():
        raise InputError("not a result folder (no manifest.json)", source=str(folder))
    check_regular_file(path, MANIFEST, folder)
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise InputError("manifest.json is too large to be a manifest", source=str(folder))
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest.json is not valid JSON ({exc})", source=str(folder)) from None
    except RecursionError:
        raise InputError("manifest.json is nested too deeply", source=str(folder)) from None
    return parse_manifest(data, folder)


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write manifest.json atomically (under a temporary name, then renamed). Fields never
    set (optional ones a batch does not use) are left out, as older versions wrote it."""
    write_text(path, manifest.model_dump_json(indent=2, exclude_unset=True) + "\n")


def new_manifest(
    loaded: Any,
    *,
    kind: Literal["run", "batch"],
    seed: int,
    steps: int,
    series_every: int | None,
    design: dict[str, Any],
    n_runs: int,
    started: str,
    engine: str = "mesa",
    points: list[dict[str, Any]] | None = None,
    **bookkeeping: Any,
) -> Manifest:
    """The manifest of a result folder before any run is done."""
    from patronage.results import provenance
    from patronage.rng.seeds import DERIVATION

    s = loaded.scenario
    return Manifest(
        format=2,  # FORMAT_VERSION
        kind=kind,
        status="running",
        scenario=ScenarioRecord(
            name=s.name,
            source=loaded.source,
            sha256=loaded.sha256,
            overrides=list(loaded.overrides),
            text=loaded.text,
        ),
        incumbent=s.incumbent,
        groups=_groups(s),
        partners=s.partner_ids(),
        patrons=s.patron_ids(),
        steps=steps,
        series_every=series_every,
        design=DesignRecord.model_validate(design),
        seed=seed,
        seed_derivation=DERIVATION,
        engine=engine,
        versions=provenance.versions(),
        git_commit=provenance.git_commit(),
        started=started,
        finished=None,
        runs=RunCounts(total=n_runs, done=0, failed=0),
        points=points if points is not None else [{}],
        **bookkeeping,
    )
