"""A result folder opened for analysis: its manifest and its tables as pandas DataFrames."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from patronage.errors import InputError
from patronage.model.outcomes import FINAL_FIELDS
from patronage.results import store


class Results:
    """A complete result folder. Open one with `open_results(path)`."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Results({str(self.path)!r}: {m['scenario']['name']}, {m['runs']['done']} runs, "
            f"engine {m.get('engine')})"
        )

    @property
    def name(self) -> str:
        return self.manifest["scenario"]["name"]

    @property
    def partners(self) -> list[str]:
        return list(self.manifest["partners"])

    @property
    def steps(self) -> int:
        return int(self.manifest["steps"])

    @property
    def seed(self) -> int:
        return int(self.manifest["seed"])

    @property
    def design(self) -> dict[str, Any]:
        return self.manifest["design"]

    @property
    def sweep_columns(self) -> list[str]:
        """Columns of the runs table that hold swept (grid) values: summaries group by them."""
        return [f"param.{name}" for name in self.design.get("sweeps", {})]

    @property
    def groups(self) -> dict[str, list[str]]:
        """Partner groups (an umbrella such as the PMF) from the scenario."""
        out: dict[str, list[str]] = {}
        for p in self.manifest["scenario"]["resolved"]["partners"]:
            if p.get("group"):
                out.setdefault(p["group"], []).append(p["id"])
        return {g: sorted(ids) for g, ids in out.items()}

    @cached_property
    def runs(self) -> pd.DataFrame:
        # First steps are nullable integers (Int32), whether or not any run lacks one, so a
        # table's types never depend on what happened in it.
        table = pq.read_table(self.path / "runs.parquet")
        return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)

    @cached_property
    def events(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "events.parquet")

    @cached_property
    def series(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "series.parquet")

    def finals(self) -> pd.DataFrame:
        """The outcomes in long form: one row per (run, partner), with the run's designed
        values, final status and patron, final scores, and first realign and collapse steps."""
        runs = self.runs
        params = [c for c in runs.columns if c.startswith("param.")]
        frames = []
        for pid in self.partners:
            frame = runs[["run_id", *params]].copy()
            frame["partner"] = pid
            for f in (*FINAL_FIELDS, "realign_step", "collapse_step"):
                frame[f] = runs[f"{pid}.{f}"].to_numpy()
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

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
    """Open a complete result folder, checking its tables against the manifest's hashes."""
    folder = Path(path)
    manifest = store.read_manifest(folder)
    status = manifest.get("status")
    if status != "complete":
        done, total = manifest["runs"]["done"], manifest["runs"]["total"]
        raise InputError(
            f"batch is incomplete (its manifest says {status}; {done} of {total} runs done); "
            "finish it with "
            f"`patronage batch {manifest['scenario']['source']} ... --resume {folder}`",
            source=str(folder),
        )
    for name in store.TABLES:
        table = folder / f"{name}.parquet"
        if not table.exists():
            raise InputError(f"{name}.parquet is missing", source=str(folder))
        expected = manifest.get("tables", {}).get(name)
        if check and expected and store.file_sha256(table) != expected:
            raise InputError(
                f"{name}.parquet does not match the sha256 in manifest.json: the folder was "
                "changed after it was written",
                source=str(folder),
            )
    return Results(folder, manifest)
