"""A result folder opened for analysis: its manifest and its tables as pandas DataFrames.

Folders of format 1 (outcomes as <partner>.<field> columns of the runs table) are converted
on read: `runs` then holds the per-run columns only and `outcomes` the long table, as in a
folder of the current format.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from patronage.errors import InputError
from patronage.model.outcomes import FINAL_FIELDS
from patronage.results import store
from patronage.results.manifest import (
    DesignRecord,
    Manifest,
    check_regular_file,
    read_manifest,
    tables_of,
)
from patronage.scenario.loader import from_text
from patronage.scenario.schema import Scenario


class Results:
    """A complete result folder. Open one with `open_results(path)`."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Results({str(self.path)!r}: {m.scenario.name}, {m.runs.done} runs, engine {m.engine})"
        )

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.manifest.scenario.name

    @property
    def partners(self) -> list[str]:
        """The partners, in the scenario's order."""
        return list(self.manifest.partners)

    @property
    def steps(self) -> int:
        """How many steps each run took."""
        return self.manifest.steps

    @property
    def seed(self) -> int:
        """The batch seed."""
        return self.manifest.seed

    @property
    def design(self) -> DesignRecord:
        """The design the batch ran."""
        return self.manifest.design

    @property
    def sweep_columns(self) -> list[str]:
        """Columns of the runs table that hold swept (grid) values: summaries group by them."""
        return [f"param.{name}" for name in self.design.sweeps]

    @property
    def format(self) -> int:
        """The result folder's format version."""
        return self.manifest.format

    @property
    def incumbent(self) -> str:
        """The incumbent patron's id (format-1 folders keep it only in the resolved scenario)."""
        if self.manifest.incumbent is not None:
            return self.manifest.incumbent
        return str(self.resolved["incumbent"])  # format 1

    @property
    def groups(self) -> dict[str, list[str]]:
        """Partner groups (an umbrella such as the PMF) from the scenario."""
        if self.manifest.groups is not None:
            return {g: list(ids) for g, ids in self.manifest.groups.items()}
        out: dict[str, list[str]] = {}
        for p in self.resolved["partners"]:  # format 1
            if p.get("group"):
                out.setdefault(p["group"], []).append(p["id"])
        return {g: sorted(ids) for g, ids in out.items()}

    @cached_property
    def scenario(self) -> Scenario:
        """The scenario as run (its text with the --set overrides), parsed on demand: the
        manifest stores the text once, and most readers never need more than its ids."""
        s = self.manifest.scenario
        return from_text(s.text, s.source, tuple(s.overrides)).scenario

    @cached_property
    def resolved(self) -> dict[str, Any]:
        """The scenario as run, as plain data (format 1 stored it; now it is re-parsed)."""
        stored = self.manifest.scenario.resolved
        return stored if stored is not None else self.scenario.model_dump(mode="json")

    @cached_property
    def _stored_runs(self) -> pd.DataFrame:
        # First steps are nullable integers (Int32), whether or not any run lacks one, so a
        # table's types never depend on what happened in it.
        table = pq.read_table(self.path / "runs.parquet")
        return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per run: run_id, seed and the param.<path> columns of the design."""
        runs = self._stored_runs
        if self.format == 1:
            keep = [c for c in runs.columns if c in ("run_id", "seed") or c.startswith("param.")]
            return runs[keep]
        return runs

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """One row per (run, partner): final status, patron, scores, first realign and
        collapse steps (Int32, missing when none). Partner, status and patron are
        categoricals."""
        if self.format == 1:
            return _long_from_wide(self._stored_runs, self.partners)
        table = pq.read_table(self.path / "outcomes.parquet")
        return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events table, read on first use."""
        return pd.read_parquet(self.path / "events.parquet")

    @cached_property
    def series(self) -> pd.DataFrame:
        """The series table, read on first use."""
        return pd.read_parquet(self.path / "series.parquet")

    def finals(self) -> pd.DataFrame:
        """The outcomes with each run's designed values: one row per (run, partner), with
        run_id, the param.<path> columns, partner, final status and patron, final scores, and
        first realign and collapse steps. Labels are plain strings here (not categoricals),
        so that they merge and concatenate with the events and with group rows as text."""
        runs = self.runs
        params = [c for c in runs.columns if c.startswith("param.")]
        out = self.outcomes.copy()
        for c in ("partner", "status", "patron"):
            out[c] = out[c].astype(object)
        if params:
            where = pd.Index(runs["run_id"]).get_indexer(out["run_id"])
            for c in params:
                out.insert(out.columns.get_loc("partner"), c, runs[c].to_numpy()[where])
        return out

    def first_events(self, kind: str) -> pd.DataFrame:
        """The first event of a kind (e.g. "realign") of each (run, partner): when, from
        and to whom."""
        ev = self.events
        ev = ev[ev["kind"] == kind]
        return ev.drop_duplicates(["run_id", "partner"], keep="first")[
            ["run_id", "partner", "step", "from", "to"]
        ]

    def summary(
        self, by: list[str] | None = None, groups: bool = False, bins: int | None = None
    ) -> pd.DataFrame:
        """Per partner (and per swept value): realignment and collapse probabilities;
        with `groups`, also per group of partners (any member)."""
        from patronage.analysis.summary import summarize

        return summarize(self, by=by, groups=groups, bins=bins)


def open_results(path: str | Path, check: bool = True) -> Results:
    """Open a complete result folder: its manifest validated, its tables regular files
    matching the sha256 the manifest records for them (`check=False` skips the hashing, a
    choice of the caller; a folder cannot switch it off)."""
    folder = Path(path)
    manifest = read_manifest(folder)
    if manifest.status != "complete":
        raise InputError(
            f"batch is incomplete (its manifest says {manifest.status}; {manifest.runs.done} "
            f"of {manifest.runs.total} runs done); finish it with `patronage resume {folder}`",
            source=str(folder),
        )
    tables = manifest.tables or {}  # the manifest's validation requires each once complete
    for name in tables_of(manifest.format):
        table = folder / f"{name}.parquet"
        check_regular_file(table, f"{name}.parquet", folder)
        if check and store.file_sha256(table) != tables[name]:
            raise InputError(
                f"{name}.parquet does not match the sha256 in manifest.json: the folder was "
                "changed after it was written",
                source=str(folder),
            )
    return Results(folder, manifest)


def _long_from_wide(runs: pd.DataFrame, partners: list[str]) -> pd.DataFrame:
    """Format 1's <partner>.<field> columns as the long outcomes table of format 2."""
    n_runs = len(runs)
    out = pd.DataFrame(
        {
            "run_id": np.repeat(runs["run_id"].to_numpy(), len(partners)),
            "partner": pd.Categorical(np.tile(np.asarray(partners, dtype=object), n_runs)),
        }
    )
    for f in (*FINAL_FIELDS, *store.OUTCOME_STEPS):
        wide = runs[[f"{pid}.{f}" for pid in partners]]
        # the stored type, even with no runs (first steps stay Int32, as in format 2)
        column = pd.Series(wide.to_numpy().ravel(), dtype=wide.dtypes.iloc[0])
        out[f] = column.astype("category") if f in ("status", "patron") else column
    out["partner"] = out["partner"].cat.set_categories(partners)
    return out
