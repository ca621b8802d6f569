"""Explicit designs: points from a CSV or Parquet file, a list or a DataFrame; numpy values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from batch_fixtures import batch, run_cli
from conftest import SYRIA

from patronage.api import run_batch
from patronage.errors import InputError
from patronage.experiments.design import Design
from patronage.experiments.design_file import read_design
from patronage.scenario.loader import load

FAST = ("--engine", "ensemble", "--series", "none", "--steps", "24", "--no-progress", "--quiet")


def test_csv_points_in_file_order_with_numbers_and_nulls(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("withdrawal.level,partners.assad.trust\n0.9,0.5\n\n0.7,\n")
    assert read_design(path) == [
        {"withdrawal.level": 0.9, "partners.assad.trust": 0.5},
        {"withdrawal.level": 0.7, "partners.assad.trust": None},
    ]


def test_batch_runs_every_point_of_a_design_file(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"withdrawal.level": [0.9, 0.7, 0.8]}).to_parquet(path)
    result = batch(tmp_path / "out", "--design", path, "--replicates", 4, *FAST)
    assert result.code == 0, result.err
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    # run_id = point x replicates + replicate, points in file order
    assert runs["param.withdrawal.level"].tolist() == [0.9] * 4 + [0.7] * 4 + [0.8] * 4
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["design"]["explicit"] == [{"withdrawal.level": v} for v in (0.9, 0.7, 0.8)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("withdrawal.level\n0.7\n1.7\n", "d.csv:3: withdrawal.level: must be between 0 and 1"),
        ("withdrawal.level\n0.7\nhigh\n", "d.csv:3: withdrawal.level: must be a number"),
        ("withdrawal.level,withdrawal.start\n0.7\n", "d.csv:2: 1 cells where the header has 2"),
        ("withdrawal.level,withdrawal.level\n0.7,0.7\n", "d.csv:1: column withdrawal.level"),
        ("withdrawal.level\n", "d.csv: the design has no points"),
    ],
)
def test_bad_design_file_is_one_line_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    result = batch(tmp_path / "out", "--design", path, *FAST)
    assert result.code == 2
    assert len(result.err_lines) == 1 and message in result.err, result.err
    assert not (tmp_path / "out").exists()


def test_design_file_and_sample_refused_together(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("withdrawal.level\n0.7\n")
    result = run_cli("batch", SYRIA, "--design", path, "--sample", "withdrawal.start=0:5", *FAST)
    assert result.code == 2 and "--design" in result.err


def test_numpy_values_accepted_and_stored_as_plain_numbers(tmp_path):
    design = Design(
        sweeps={"withdrawal.level": np.linspace(0.6, 0.8, 3)},
        replicates=np.int64(2),
        seed=np.uint32(5),
    )
    assert design.to_dict()["sweeps"] == {"withdrawal.level": [0.6, 0.7, 0.8]}
    assert type(design.replicates) is int and type(design.seed) is int
    frame = pd.DataFrame({"withdrawal.level": np.array([0.75, 0.5], dtype=np.float32)})
    results = run_batch(
        SYRIA,
        design=frame,
        replicates=np.int64(3),
        steps=np.int64(12),
        workers=np.int32(1),
        engine="ensemble",
        series_every=None,
        out=tmp_path / "api",
    )
    assert results.runs["param.withdrawal.level"].tolist() == [0.75] * 3 + [0.5] * 3


def test_explicit_points_and_samples_refused():
    with pytest.raises(InputError, match="not both"):
        Design(samples={"withdrawal.level": (0, 1)}, n_samples=3, explicit=[{"x": 1}])


def test_design_file_point_checked_against_scenario(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("partners.nobody.loyalty\n0.5\n")
    with pytest.raises(InputError) as caught:
        read_design(path, load(SYRIA))
    assert str(caught.value).startswith(f"{path}:2: ")
