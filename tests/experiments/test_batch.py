"""Batches end to end: the CLI (in-process and the console script), the folder it writes,
seeds, bad input, failing runs, the Python API, the progress bar and flat memory."""

from __future__ import annotations

import gc
import io
import subprocess
import weakref

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from batch_fixtures import (
    FAST,
    LEVELS,
    REF,
    REPLICATES,
    SEED,
    SYRIA,
    batch,
    console_script,
    manifest,
    reference_batch,
    run_cli,
)

import patronage
from patronage.engines import mesa as runner
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.experiments.executors import InProcess
from patronage.experiments.progress import Progress
from patronage.results.folder import open_results
from patronage.rng.seeds import run_seed_sequence
from patronage.scenario.loader import load

PARTNERS = load(SYRIA).scenario.partner_ids()


def plain_rows(rows) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in rows]


def table_rows(text: str) -> list[list[str]]:
    """Data rows of a plain-text table (after the header and the dashes), split on spaces."""
    lines = text.strip("\n").splitlines()
    assert set(lines[1].replace(" ", "")) == {"-"}, lines[:2]
    return [line.split() for line in lines[2:]]


# --- the folder of a batch --------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return reference_batch(tmp_path_factory)


def test_batch_writes_a_complete_folder(ref):
    assert sorted(p.name for p in ref.iterdir()) == [
        "events.parquet",
        "manifest.json",
        "outcomes.parquet",
        "runs.parquet",
        "series.parquet",
    ]  # the chunks are gone once consolidated
    m = manifest(ref)
    n = len(LEVELS) * REPLICATES
    assert m["status"] == "complete"
    assert m["kind"] == "batch"
    assert m["runs"] == {"total": n, "done": n, "failed": 0}
    assert m["failed_runs"] == {}
    assert m["steps"] == 24
    assert m["series_every"] == 6
    ranged = [f"param.{path}" for path in m["ranges"]]  # the scenario's, drawn per run
    assert m["param_columns"] == ["param.withdrawal.level", *ranged]
    assert "partners.assad.loyalty" in m["ranges"]

    results = open_results(ref)
    runs = results.runs
    assert runs["run_id"].tolist() == list(range(n))
    assert (runs["seed"] == SEED).all()
    expected_levels = [float(LEVELS[r // REPLICATES]) for r in range(n)]
    assert runs["param.withdrawal.level"].tolist() == expected_levels
    # one row per run: its id, the batch seed, the swept level and the drawn ranged inputs
    assert list(runs.columns)[:3] == ["run_id", "seed", "param.withdrawal.level"]
    assert all(c.startswith("param.") for c in list(runs.columns)[2:])
    assert not any(c.endswith((".status", ".patron")) for c in runs.columns)

    outcomes = results.outcomes
    assert list(outcomes.columns) == [
        "run_id",
        "partner",
        "status",
        "patron",
        "loyalty",
        "dependence",
        "trust",
        "strength",
        "realign_step",
        "collapse_step",
    ]
    # one row per run and partner, run-major, partners in the scenario's order
    assert len(outcomes) == n * len(PARTNERS)
    assert outcomes["run_id"].tolist() == [r for r in range(n) for _ in PARTNERS]
    assert outcomes["partner"].astype(str).tolist()[: len(PARTNERS)] == list(PARTNERS)
    for column in ("partner", "status", "patron"):  # categoricals: small for many partners
        assert isinstance(outcomes[column].dtype, pd.CategoricalDtype), column
    assert str(outcomes["realign_step"].dtype) == "Int32"

    events = results.events
    assert list(events.columns) == [
        "run_id",
        "step",
        "partner",
        "kind",
        "from",
        "to",
        "cause",
        "trigger",
    ]
    assert set(events["run_id"]) <= set(range(n))
    assert set(events["partner"]) <= set(PARTNERS)
    assert events["step"].between(0, 24).all()
    assert "realign" in set(events["kind"])  # level 1 makes someone realign in 24 steps

    series = results.series
    assert sorted(series["step"].unique()) == [0, 6, 12, 18, 24]  # --series every=6
    assert len(series) == n * 5 * len(PARTNERS)
    assert series.groupby("run_id").size().eq(5 * len(PARTNERS)).all()


def test_batch_prints_a_row_per_partner_per_swept_value(tmp_path):
    out = tmp_path / "b"
    result = batch(out, "--replicates", "2", "--sweep", "withdrawal.level=0,1", *FAST)
    assert result.code == 0, result.err
    rows = table_rows(result.out)
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        (level, pid) for level in ("0", "1") for pid in PARTNERS
    )
    assert all(r[2] == "2" for r in rows)  # runs per group
    header = result.out.splitlines()[0]
    for column in ("withdrawal.level", "partner", "runs", "P(realign) [95% CI]", "P(collapse)"):
        assert column in header
    assert f"wrote {out}/ (4 runs, 0 failed)" in result.err


def test_console_script_batch(tmp_path):
    """One real subprocess of the installed console script."""
    out = tmp_path / "sub"
    proc = subprocess.run(
        [console_script(), "batch", str(SYRIA), *REF, "--workers", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = table_rows(proc.stdout)
    assert len(rows) == len(LEVELS) * len(PARTNERS)
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    assert proc.stderr.strip().splitlines()[-1] == f"wrote {out}/ (18 runs, 0 failed)"
    assert open_results(out).runs["run_id"].tolist() == list(range(18))


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--sweep", "withdrawal.nonexistent=0,1"], "nonexistent"),
        (["--sweep", "partners.nobody.loyalty=0,1"], "nobody"),
        (["--sweep", "withdrawal.level=0,1.5"], "withdrawal.level"),
        (["--sweep", "withdrawal.level"], "--sweep"),
        (["--sweep", "withdrawal.level=1:0:0.5"], "--sweep"),
        (["--sample", "withdrawal.level=0:1"], "--samples"),
        (["--sample", "withdrawal.level=0:2", "--samples", "4"], "withdrawal.level"),
        (["--sample", "withdrawal.level=1:0", "--samples", "4"], "--sample"),
        (["--replicates", "0"], "--replicates"),
        (["--set", "withdrawal.level=7"], "withdrawal.level"),
        (["--executor", "local", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_folder(tmp_path, options, expected):
    out = tmp_path / "never"
    base = [] if "--replicates" in options else ["--replicates", "2"]
    result = batch(out, *base, *options, *FAST)
    assert result.code == 2
    assert len(result.err_lines) == 1, result.err
    assert expected in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    assert not out.exists()


def test_existing_out_needs_force(tmp_path):
    out = tmp_path / "b"
    assert batch(out, "--replicates", "1", *FAST, "--quiet").code == 0
    before = (out / "runs.parquet").read_bytes()
    again = batch(out, "--replicates", "2", *FAST, "--quiet")
    assert again.code == 2
    assert "already exists" in again.err
    assert (out / "runs.parquet").read_bytes() == before
    forced = batch(out, "--replicates", "2", *FAST, "--quiet", "--force")
    assert forced.code == 0, forced.err
    assert len(open_results(out).runs) == 2


def test_out_and_resume_must_agree(tmp_path):
    result = batch(tmp_path / "a", "--replicates", "1", *FAST, "--resume", tmp_path / "b")
    assert result.code == 2
    assert "--resume" in result.err


# --- seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_seed", [0, 3, 2**63 - 1])
def test_run_k_seed_is_child_k_of_the_batch_seed(batch_seed):
    children = np.random.SeedSequence(batch_seed).spawn(6)
    for k in range(6):
        ss = run_seed_sequence(batch_seed, k)
        assert ss.entropy == batch_seed
        assert ss.spawn_key == (k,)
        assert (ss.generate_state(4) == children[k].generate_state(4)).all()
        assert (
            np.random.default_rng(ss).random(3) == np.random.default_rng(children[k]).random(3)
        ).all()


def test_batch_rows_are_simulate_with_the_documented_seed(ref):
    """Run k is simulate(scenario at point k // replicates, SeedSequence(seed, spawn_key=(r,)))
    with r = k % replicates: replicate r of every point shares a stream (common random
    numbers). Its ranged inputs are the values recorded in its row: set with --set, they
    give the run again."""
    results = open_results(ref)
    ranged = list(manifest(ref)["ranges"])
    for run_id in (0, 7, 17):
        level = LEVELS[run_id // REPLICATES]
        row = results.runs[results.runs["run_id"] == run_id].iloc[0]
        drawn = [f"{path}={float(row[f'param.{path}'])!r}" for path in ranged]
        scenario = load(SYRIA, [f"withdrawal.level={level}", *drawn]).scenario
        fresh = runner.simulate(
            scenario,
            np.random.SeedSequence(SEED, spawn_key=(run_id % REPLICATES,)),
            run_id=run_id,
            steps=24,
            series_every=6,
            params={"param.withdrawal.level": float(level)},
        )
        stored = results.runs[results.runs["run_id"] == run_id].iloc[0].to_dict()
        for key, value in fresh.run.items():
            assert stored[key] == value, key
        outcomes = results.outcomes[results.outcomes["run_id"] == run_id]
        for field in ("loyalty", "dependence", "trust", "strength"):
            assert outcomes[field].tolist() == fresh.final[field], field
        for field in ("realign_step", "collapse_step"):
            stored_steps = [-1 if pd.isna(v) else v for v in outcomes[field]]
            assert stored_steps == fresh.final[field], field
        stored_events = results.events[results.events["run_id"] == run_id]
        assert plain_rows(stored_events.itertuples(index=False)) == plain_rows(fresh.events)
        assert len(results.series[results.series["run_id"] == run_id]) == len(fresh.series)


def test_run_equals_run_0_of_a_batch_with_the_same_seed(tmp_path):
    one = tmp_path / "one"
    result = run_cli("run", SYRIA, "--seed", "11", *FAST[:4], "--out", one)
    assert result.code == 0, result.err
    many = tmp_path / "many"
    result = batch(many, "--seed", "11", "--replicates", "3", *FAST, "--quiet")
    assert result.code == 0, result.err
    open_results(one)  # a complete folder whose tables match its manifest
    b = open_results(many)
    for name in ("runs", "outcomes", "events", "series"):
        single = pq.read_table(one / f"{name}.parquet")
        table = pq.read_table(many / f"{name}.parquet")
        first = table.filter(pc.equal(table["run_id"], 0))
        assert single.num_rows > 0 or name == "events"
        assert single.schema.equals(first.schema), name
        assert single.equals(first), name
    # and the other runs of the batch differ from run 0
    outcomes = b.outcomes.set_index(["run_id", "partner"])
    assert not outcomes.loc[0].equals(outcomes.loc[1])


def test_same_seed_same_tables_other_seed_other_tables(tmp_path, ref):
    again = tmp_path / "again"
    assert batch(again, *REF, "--quiet").code == 0
    for name in ("runs", "outcomes", "events", "series"):
        assert (again / f"{name}.parquet").read_bytes() == (ref / f"{name}.parquet").read_bytes()
    other = tmp_path / "other"
    args = list(REF)
    args[args.index("--seed") + 1] = str(SEED + 1)
    assert batch(other, *args, "--quiet").code == 0
    assert not open_results(other).outcomes.equals(open_results(ref).outcomes)


# --- failing runs -----------------------------------------------------------------------------


FAILING = {2, 7}


@pytest.fixture
def failing_simulate(monkeypatch):
    real = runner.simulate

    def simulate(scenario, seed, run_id=0, *args, **kwargs):
        if run_id in FAILING:
            raise RuntimeError(f"boom in run {run_id}")
        return real(scenario, seed, run_id, *args, **kwargs)

    monkeypatch.setattr(runner, "simulate", simulate)


def test_failed_runs_are_recorded_and_the_batch_goes_on(ref, tmp_path, failing_simulate):
    out = tmp_path / "failing"
    result = batch(out, *REF)
    assert result.code == 1
    assert "2 runs failed" in result.err
    assert "failed_runs" in result.err
    m = manifest(out)
    assert m["status"] == "complete"
    assert m["failed_runs"] == {str(k): f"RuntimeError: boom in run {k}" for k in FAILING}
    assert m["runs"]["failed"] == 2
    results = open_results(out)
    ok = [r for r in range(18) if r not in FAILING]
    assert results.runs["run_id"].tolist() == ok
    assert not set(results.events["run_id"]) & FAILING
    assert not set(results.series["run_id"]) & FAILING
    # the runs that did not fail are exactly those of the clean batch
    clean = open_results(ref)
    for name in ("runs", "outcomes", "events", "series"):
        expected = getattr(clean, name)
        expected = expected[~expected["run_id"].isin(FAILING)].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(results, name), expected, check_exact=True)
    # and the summary counts the runs that finished
    summary = results.summary()
    assert summary.set_index(["param.withdrawal.level", "partner"])["runs"].xs(
        "assad", level="partner"
    ).tolist() == [5, 5, 6]


def test_every_run_failing(tmp_path, monkeypatch):
    def simulate(*args, **kwargs):
        raise ValueError("nothing works")

    monkeypatch.setattr(runner, "simulate", simulate)
    out = tmp_path / "all-fail"
    result = batch(out, "--replicates", "3", *FAST)
    assert result.code == 1
    m = manifest(out)
    assert m["runs"]["failed"] == 3
    assert set(m["failed_runs"].values()) == {"ValueError: nothing works"}
    assert len(open_results(out).runs) == 0


# --- the Python API ---------------------------------------------------------------------------


def test_api_run_batch_and_open_results(tmp_path, ref):
    results = patronage.run_batch(
        str(SYRIA),
        sweeps={"withdrawal.level": [0, 0.5, 1]},
        replicates=REPLICATES,
        seed=SEED,
        steps=24,
        series_every=6,
        workers=1,
        out=tmp_path / "api",
    )
    assert isinstance(results, patronage.Results)
    assert isinstance(results.runs, pd.DataFrame)
    for name in ("runs", "outcomes", "events", "series"):
        assert (tmp_path / "api" / f"{name}.parquet").read_bytes() == (
            ref / f"{name}.parquet"
        ).read_bytes()
    opened = patronage.open_results(tmp_path / "api")
    pd.testing.assert_frame_equal(opened.summary(), results.summary())
    assert opened.partners == PARTNERS
    assert opened.steps == 24


def test_api_design_object(tmp_path):
    design = patronage.Design(sweeps={"withdrawal.level": [0.25]}, replicates=2, seed=4)
    results = patronage.run_batch(SYRIA, design, steps=12, workers=1, out=tmp_path / "d")
    assert results.runs["param.withdrawal.level"].tolist() == [0.25, 0.25]
    assert results.manifest.design.replicates == 2


# --- progress bar -----------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    bar = Progress(10, stream=stream)
    bar.update(5)
    bar.update(5)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_bar_on_a_terminal():
    stream = FakeTerminal()
    bar = Progress(10, done=4, stream=stream)
    bar.update(6)
    bar.close()
    text = stream.getvalue()
    assert "10/10 runs" in text
    assert "runs/s" in text
    assert "left" in text
    assert text.endswith("\n")
    assert Progress(10, enabled=False, stream=FakeTerminal()).stream.getvalue() == ""


# --- memory -----------------------------------------------------------------------------------


def test_finished_models_are_released(tmp_path, monkeypatch):
    """300 runs in-process: no more than one model is alive at a time once gc has run."""
    alive: list[weakref.ref] = []
    worst = []

    class Tracked(runner.AllianceModel):
        def __init__(self, *args, **kwargs):
            if len(alive) % 50 == 0:
                gc.collect()
                worst.append(sum(r() is not None for r in alive))
            super().__init__(*args, **kwargs)
            alive.append(weakref.ref(self))

    monkeypatch.setattr(runner, "AllianceModel", Tracked)
    run_batch(
        load(SYRIA),
        Design(replicates=300, seed=1),
        tmp_path / "mem",
        InProcess(),
        steps=6,
        series_every=3,
        chunk_runs=20,
        progress=False,
    )
    gc.collect()
    assert len(alive) == 300
    assert worst and max(worst) == 0, worst
    assert sum(r() is not None for r in alive) == 0
    assert len(open_results(tmp_path / "mem").runs) == 300
