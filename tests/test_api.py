"""The Python API's studies: the same arguments give the same folder as the command, so a
notebook and a shell script can be cited interchangeably."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_fixtures import SENSITIVITY_SMALL, TIPPING_SMALL
from batch_fixtures import run_cli
from conftest import SYRIA

import patronage
from patronage.errors import InputError


def test_sensitivity_from_python_writes_the_commands_indices(tmp_path):
    # the same study as SENSITIVITY_SMALL on the command line
    factors = {"withdrawal.level": (0.3, 1.0), "withdrawal.start": (0, 12)}
    study = patronage.sensitivity(
        SYRIA, factors, size=4, replicates=10, steps=36, out=tmp_path / "api"
    )
    cli = run_cli(
        "sensitivity", SYRIA, *SENSITIVITY_SMALL, "--out", tmp_path / "cli", "--format", "csv"
    )
    assert cli.code == 0, cli.err
    assert study.runs == 4 * 3 * 10 and study.folder == tmp_path / "api"
    on_disk = pd.read_parquet(tmp_path / "api" / "indices.parquet")
    pd.testing.assert_frame_equal(study.indices, on_disk)
    assert (tmp_path / "api" / "indices.parquet").read_bytes() == (
        tmp_path / "cli" / "indices.parquet"
    ).read_bytes()
    assert (tmp_path / "api" / "runs.parquet").read_bytes() == (
        tmp_path / "cli" / "runs.parquet"
    ).read_bytes()


def test_tipping_from_python_finds_the_commands_crossing(tmp_path):
    # the same search as TIPPING_SMALL on the command line
    effort = patronage.Search(
        0,
        1,
        coarse_levels=6,
        coarse_replicates=60,
        refine_levels=5,
        refine_replicates=150,
        rounds=1,
    )
    study = patronage.tipping(
        SYRIA, "withdrawal.level", "pmf_mainstream", search=effort, out=tmp_path / "api"
    )
    cli = run_cli(
        "tipping", SYRIA, "--partner", "pmf_mainstream", *TIPPING_SMALL, "--out", tmp_path / "cli"
    )
    assert cli.code == 0, cli.err
    for name in ("crossings.csv", "tipping.json", "tipping.png"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    row = study.crossings.iloc[0]
    assert row["partner"] == "pmf_mainstream" and row["direction"] == "upward"
    assert row["low"] <= row["level"] <= row["high"]
    assert set(study.curves["partner"]) == {"pmf_mainstream"}


def test_studies_from_python_refuse_bad_input_before_running(tmp_path):
    with pytest.raises(InputError, match="at least two factors"):
        patronage.sensitivity(SYRIA, {"withdrawal.level": (0, 1)}, out=tmp_path / "s")
    with pytest.raises(InputError, match=r"--target: must be between 0 and 1, got 1\.5"):
        patronage.tipping(SYRIA, "withdrawal.level", "assad", target=1.5, out=tmp_path / "t")
    with pytest.raises(InputError, match="--partner: must be one of"):
        patronage.tipping(SYRIA, "withdrawal.level", "nobody", out=tmp_path / "t")
    assert not (tmp_path / "s").exists() and not (tmp_path / "t").exists()
