"""Common random numbers across design points, and folders written before them."""

from __future__ import annotations

import json

import pytest
from batch_fixtures import FAST, SYRIA, batch, copy_folder, manifest, run_cli

from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design
from patronage.results.folder import open_results
from patronage.scenario.loader import load

# budget_cut.start changes nothing while the cut's level is 0: an inert field
INERT = ("--sweep", "budget_cut.start=0,7,19", "--replicates", "12", "--engine", "ensemble")


def outcomes(folder) -> list:
    """Each design point's outcomes (and drawn inputs), run by run, its replicates in order."""
    results = open_results(folder)
    finals = results.finals().sort_values(["run_id", "partner"])
    drawn = [c for c in finals.columns if c.startswith("param.") and c != "param.budget_cut.start"]
    columns = [*drawn, "partner", "status", "patron", "loyalty", "trust", "realign_step"]
    finals = finals[[*columns, "run_id"]].astype({"partner": str, "status": str, "patron": str})
    return [
        group[columns].to_numpy().tolist()
        for _, group in finals.groupby(finals["run_id"] // 12, sort=True)
    ]


def test_points_of_a_sweep_share_streams_by_default(tmp_path) -> None:
    """Replicate k of every point draws the same numbers: an inert field gives identical
    outcomes at every point (CRN pairing); independent streams do not."""
    common = tmp_path / "common"
    assert batch(common, *INERT, *FAST, "--quiet").code == 0
    by_point = outcomes(common)
    assert by_point[0] == by_point[1] == by_point[2]
    assert manifest(common)["streams"] == "common"

    apart = tmp_path / "independent"
    assert batch(apart, *INERT, *FAST, "--quiet", "--independent-streams").code == 0
    by_point = outcomes(apart)
    assert by_point[0] != by_point[1]
    m = manifest(apart)
    assert m["streams"] == "independent" and m["design"]["streams"] == "independent"
    assert "spawn_key=(run_id,)" in m["seed_derivation"]
    assert run_cli("verify", apart, "--sample", "5").code == 0


def test_a_resume_keeps_the_folders_streams(tmp_path) -> None:
    out = tmp_path / "apart"
    assert batch(out, *INERT, *FAST, "--quiet", "--independent-streams").code == 0
    loaded = load(SYRIA)
    design = Design(sweeps={"budget_cut.start": [0, 7, 19]}, replicates=12)  # common default
    m = run_batch(loaded, design, out, resume=True, steps=24, series_every=6, engine="ensemble")
    assert m["streams"] == "independent"


def old_folder(tmp_path, status: str):
    """A folder as written before common random numbers: no streams, chunks by point."""
    out = tmp_path / f"made-{status}"
    assert batch(out, *INERT, *FAST, "--quiet", "--independent-streams").code == 0
    old = copy_folder(out, tmp_path / f"old-{status}")
    m = manifest(old)
    del m["design"]["streams"], m["streams"], m["chunking"], m["ranges"]
    m["status"] = status
    (old / "manifest.json").write_text(json.dumps(m))
    return old


def test_an_old_folder_opens_verifies_and_refuses_a_resume(tmp_path) -> None:
    complete = old_folder(tmp_path, "complete")
    assert len(open_results(complete).runs) == 36
    assert run_cli("verify", complete, "--sample", "6").code == 0  # a stream per run
    stopped = old_folder(tmp_path, "stopped")
    design = Design(sweeps={"budget_cut.start": [0, 7, 19]}, replicates=12)
    with pytest.raises(InputError, match="started by an older patronage"):
        run_batch(load(SYRIA), design, stopped, resume=True, steps=24, engine="ensemble")
