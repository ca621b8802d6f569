"""Experiment designs: sweeps, Latin hypercube samples, their product, replicates, run layout,
and the design a scenario file carries in its `batch:` section."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import yaml
from batch_fixtures import FAST, SYRIA, batch, manifest, run_cli

from patronage.cli.batch import DEFAULT_REPLICATES, build_design
from patronage.cli.main import build_parser
from patronage.errors import InputError
from patronage.experiments.batch import plan_chunks
from patronage.experiments.design import Design, parse_sample, parse_sweep
from patronage.results.folder import open_results
from patronage.scenario.loader import load

# --- sweeps -----------------------------------------------------------------------------------


def test_sweep_list_of_values():
    assert parse_sweep("withdrawal.level=0,0.25,0.5") == ("withdrawal.level", [0, 0.25, 0.5])
    assert parse_sweep(" withdrawal.start = 2,4 ") == ("withdrawal.start", [2, 4])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),  # the stop endpoint is included
        ("0:1:0.3", [0.0, 0.3, 0.6, 0.9]),  # 1.0 is not on the grid
        ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),  # 0.1 + 2 * 0.1 != 0.3 in floats: still included
        ("0:0.7:0.1", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
        ("2:10:4", [2.0, 6.0, 10.0]),
        ("1:1:0.5", [1.0]),
    ],
)
def test_sweep_range_includes_stop(text, expected):
    path, values = parse_sweep(f"withdrawal.level={text}")
    assert path == "withdrawal.level"
    assert values == pytest.approx(expected, abs=1e-12)
    assert len(values) == len(expected)


@pytest.mark.parametrize(
    "text",
    [
        "withdrawal.level",  # no '='
        "=0,1",  # no path
        "withdrawal.level=",  # no values
        "withdrawal.level=,",  # no values either
        "withdrawal.level=1:0:0.1",  # stop < start
        "withdrawal.level=0:1:0",  # step 0
        "withdrawal.level=0:1:-0.5",  # negative step
        "withdrawal.level=a:b:c",  # not numbers
        "withdrawal.level=0.5,0.5",  # a value repeats
    ],
)
def test_bad_sweep_text_is_input_error(text):
    with pytest.raises(InputError):
        parse_sweep(text)


@pytest.mark.parametrize(
    "text",
    [
        "withdrawal.level",  # no '='
        "withdrawal.level=0",  # no range
        "withdrawal.level=0:1:2",  # three parts
        "withdrawal.level=1:0",  # high < low
        "withdrawal.level=a:1",  # not a number
    ],
)
def test_bad_sample_text_is_input_error(text):
    with pytest.raises(InputError):
        parse_sample(text)


def test_sample_text():
    assert parse_sample("partners.hezbollah.dependence=0.6:0.95") == (
        "partners.hezbollah.dependence",
        (0.6, 0.95),
    )


def test_full_factorial_grid_counts_and_order():
    design = Design(
        sweeps={"withdrawal.level": [0, 0.5, 1], "withdrawal.start": [2, 4, 6, 8]}, replicates=5
    )
    points = design.points()
    assert design.n_points == len(points) == 12
    assert design.n_runs == 60
    assert points == [
        {"withdrawal.level": a, "withdrawal.start": b}
        for a, b in itertools.product([0, 0.5, 1], [2, 4, 6, 8])
    ]
    assert design.param_names == ["withdrawal.level", "withdrawal.start"]


def test_no_sweep_is_one_point():
    design = Design(replicates=7)
    assert design.points() == [{}]
    assert design.n_runs == 7


def test_range_sweep_grid_count():
    _, levels = parse_sweep("withdrawal.level=0:1:0.25")
    _, starts = parse_sweep("withdrawal.start=0:12:6")
    design = Design(sweeps={"withdrawal.level": levels, "withdrawal.start": starts})
    assert design.n_points == len(design.points()) == 5 * 3


# --- Latin hypercube --------------------------------------------------------------------------


def assert_latin(values: np.ndarray, low: float, high: float) -> None:
    """Each of the n values lies in [low, high] and in its own 1/n stratum of the range."""
    n = len(values)
    assert np.all(values >= low) and np.all(values <= high)
    strata = np.floor((values - low) / (high - low) * n).astype(int)
    assert sorted(strata.tolist()) == list(range(n))


@pytest.mark.parametrize("n", [1, 7, 50])
def test_lhs_one_sample_per_stratum_on_every_axis(n):
    samples = {"withdrawal.level": (0.0, 1.0), "partners.hezbollah.dependence": (0.6, 0.95)}
    design = Design(samples=samples, n_samples=n, seed=11)
    points = design.points()
    assert design.n_points == len(points) == n
    for name, (low, high) in samples.items():
        assert_latin(np.array([p[name] for p in points]), low, high)


def test_lhs_depends_on_the_seed_only():
    kw = {"samples": {"withdrawal.level": (0.0, 1.0)}, "n_samples": 8}
    assert Design(**kw, seed=1).points() == Design(**kw, seed=1).points()
    assert Design(**kw, seed=1).points() != Design(**kw, seed=2).points()
    # replicates do not move the sample points
    assert Design(**kw, seed=1, replicates=3).points() == Design(**kw, seed=1).points()


def test_lhs_zero_width_range():
    design = Design(samples={"withdrawal.level": (0.5, 0.5)}, n_samples=4)
    assert [p["withdrawal.level"] for p in design.points()] == [0.5] * 4


def test_grid_times_lhs():
    design = Design(
        sweeps={"withdrawal.start": [2, 4, 6]},
        samples={"withdrawal.level": (0.0, 1.0)},
        n_samples=4,
        replicates=2,
        seed=5,
    )
    points = design.points()
    lhs = design.lhs_points()
    assert design.n_points == len(points) == 12
    assert design.n_runs == 24
    assert points == [{"withdrawal.start": s, **p} for s in (2, 4, 6) for p in lhs]
    assert design.param_names == ["withdrawal.start", "withdrawal.level"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"samples": {"withdrawal.level": (0.0, 1.0)}},  # --sample without --samples
        {"samples": {"withdrawal.level": (0.0, 1.0)}, "n_samples": 0},
        {"replicates": 0},
        {
            "sweeps": {"withdrawal.level": [0, 1]},
            "samples": {"withdrawal.level": (0, 1)},
            "n_samples": 3,
        },
    ],
)
def test_inconsistent_design_is_input_error(kwargs):
    with pytest.raises(InputError):
        Design(**kwargs)


# --- run layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_runs", [1, 3, 7, 100])
def test_run_layout_and_chunks(chunk_runs):
    design = Design(
        sweeps={"withdrawal.level": [0, 0.5, 1], "withdrawal.start": [2, 4]}, replicates=7
    )
    points = design.points()
    tasks = plan_chunks(design, points, chunk_runs)
    seen = [r for t in tasks for r in t.run_ids]
    assert seen == list(range(design.n_runs))  # every run once, in order
    assert [t.index for t in tasks] == list(range(len(tasks)))
    for t in tasks:
        assert len(t.run_ids) <= chunk_runs
        # chunks are cut by run count, across points: each carries the points it spans
        assert set(t.points) == {r // design.replicates for r in t.run_ids}
        assert all(t.points[p] == points[p] for p in t.points)
    assert len(tasks) == math.ceil(design.n_runs / chunk_runs)


def test_run_layout_in_the_runs_table(tmp_path):
    """run_id = point * replicates + replicate, and each run carries its point's values."""
    out = tmp_path / "grid-lhs"
    result = batch(
        out,
        "--sweep",
        "withdrawal.start=2,4",
        "--sample",
        "withdrawal.level=0:1",
        "--sample",
        "partners.hezbollah.dependence=0.6:0.95",
        "--samples",
        "4",
        "--replicates",
        "2",
        "--seed",
        "8",
        "--steps",
        "12",
        "--series",
        "none",
        "--no-progress",
    )
    assert result.code == 0, result.err
    m = manifest(out)
    assert m["runs"]["total"] == 2 * 4 * 2
    assert m["design"]["samples"] == {
        "withdrawal.level": [0.0, 1.0],
        "partners.hezbollah.dependence": [0.6, 0.95],
    }
    assert m["design"]["n_samples"] == 4
    assert m["design"]["run_layout"] == "run_id = point_index * replicates + replicate"
    runs = open_results(out).runs.sort_values("run_id").reset_index(drop=True)
    assert runs["run_id"].tolist() == list(range(16))
    cols = [
        "param.withdrawal.start",
        "param.withdrawal.level",
        "param.partners.hezbollah.dependence",
    ]
    for row in runs.itertuples(index=False):
        point = m["points"][row.run_id // 2]
        values = dict(zip(runs.columns, row, strict=True))
        assert [values[c] for c in cols] == pytest.approx(
            [point[c.removeprefix("param.")] for c in cols]
        )
    # the LHS points of each start value form a Latin hypercube; both starts share them
    for start in (2.0, 4.0):
        group = runs[runs["param.withdrawal.start"] == start].drop_duplicates(cols)
        assert len(group) == 4
        assert_latin(group["param.withdrawal.level"].to_numpy(), 0.0, 1.0)
        assert_latin(group["param.partners.hezbollah.dependence"].to_numpy(), 0.6, 0.95)
    assert set(runs.loc[runs["param.withdrawal.start"] == 2.0, "param.withdrawal.level"]) == set(
        runs.loc[runs["param.withdrawal.start"] == 4.0, "param.withdrawal.level"]
    )
    # the summary groups by the swept field only: one row per partner and start value
    summary = open_results(out).summary()
    assert len(summary) == 2 * 7
    assert (summary["runs"] == 8).all()


# --- a scenario's own batch: section ----------------------------------------------------------

BATCH_SECTION = {
    "replicates": 3,
    "seed": 9,
    "sweeps": [{"path": "withdrawal.level", "values": [0, 1]}],
}


def with_batch_section(path, section):
    """The bundled scenario with its `batch:` section replaced by `section` (None: removed)."""
    data = yaml.safe_load(SYRIA.read_text())
    data.pop("batch", None)
    if section is not None:
        data["batch"] = section
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def scenario_with_batch(tmp_path):
    return with_batch_section(tmp_path / "with_batch.yaml", BATCH_SECTION)


def design_for(path, *options):
    args = build_parser().parse_args(["batch", str(path), *options])
    return build_design(args, load(path))


def test_batch_section_is_the_default_design(scenario_with_batch):
    design = design_for(scenario_with_batch)
    assert design == Design(sweeps={"withdrawal.level": [0, 1]}, replicates=3, seed=9)


def test_command_line_overrides_the_batch_section(scenario_with_batch):
    design = design_for(
        scenario_with_batch, "--replicates", "2", "--seed", "4", "--sweep", "withdrawal.start=2,5"
    )
    assert design == Design(sweeps={"withdrawal.start": [2, 5]}, replicates=2, seed=4)
    # an option not given keeps the file's value
    assert design_for(scenario_with_batch, "--seed", "1").replicates == 3


def test_no_batch_section_defaults(tmp_path):
    design = design_for(with_batch_section(tmp_path / "plain.yaml", None))
    assert design == Design(replicates=DEFAULT_REPLICATES, seed=0)


def test_batch_section_with_samples(tmp_path):
    section = {"n_samples": 5, "samples": [{"path": "withdrawal.level", "low": 0.2, "high": 0.8}]}
    path = with_batch_section(tmp_path / "lhs.yaml", section)
    design = design_for(path)
    assert design.samples == {"withdrawal.level": (0.2, 0.8)}
    assert design.n_samples == 5
    assert_latin(np.array([p["withdrawal.level"] for p in design.points()]), 0.2, 0.8)
    assert design_for(path, "--samples", "3").n_points == 3


def test_batch_file_alone_reproduces_its_design(scenario_with_batch, tmp_path):
    out = tmp_path / "from-file"
    result = run_cli("batch", scenario_with_batch, *FAST, "--workers", "1", "--out", out, "--quiet")
    assert result.code == 0, result.err
    m = manifest(out)
    assert m["design"]["sweeps"] == {"withdrawal.level": [0, 1]}
    assert m["design"]["replicates"] == 3
    assert m["seed"] == 9
    runs = open_results(out).runs
    assert sorted(runs["run_id"]) == list(range(6))
    assert (runs["seed"] == 9).all()
    assert runs.sort_values("run_id")["param.withdrawal.level"].tolist() == [0, 0, 0, 1, 1, 1]

    out2 = tmp_path / "overridden"
    result = run_cli(
        "batch",
        scenario_with_batch,
        *FAST,
        "--replicates",
        "2",
        "--sweep",
        "withdrawal.level=0.5",
        "--workers",
        "1",
        "--out",
        out2,
        "--quiet",
    )
    assert result.code == 0, result.err
    m2 = manifest(out2)
    assert m2["design"]["sweeps"] == {"withdrawal.level": [0.5]}
    assert m2["runs"]["total"] == 2
    assert m2["seed"] == 9  # not overridden


def test_api_uses_the_batch_section(scenario_with_batch, tmp_path):
    import patronage

    results = patronage.run_batch(
        scenario_with_batch, out=tmp_path / "api", workers=1, steps=12, series_every=None
    )
    assert results.design["replicates"] == 3
    assert results.seed == 9
    assert len(results.runs) == 6
    assert len(results.series) == 0
    again = patronage.open_results(tmp_path / "api")
    assert again.runs.equals(results.runs)
