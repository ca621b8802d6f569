"""The computation behind the ensemble panel: the numbers of the Python API for the same
settings, independent of how runs are cut into blocks, and cancellable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import patronage
from patronage.app import panel
from patronage.app.live import LiveRun
from patronage.app.settings import load_bundled

RUNS = 200  # enough runs for every partner's outcomes to vary in the bundled scenario


@pytest.fixture(scope="module")
def edited(syria_path):
    return load_bundled(syria_path).with_value("withdrawal.level", 0.8).loaded()


@pytest.fixture(scope="module")
def api_batch(edited, tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "batch"
    return patronage.run_batch(
        edited, replicates=RUNS, seed=3, engine="ensemble", series_every=None, out=out
    )


def test_panel_numbers_are_the_apis(edited, api_batch):
    stats = panel.compute(edited, runs=RUNS, seed=3)
    summary = api_batch.summary().set_index("partner").loc[stats.partners]
    assert stats.runs == RUNS
    np.testing.assert_array_equal(stats.realign.p, summary["p_realign"].to_numpy())
    np.testing.assert_array_equal(stats.collapse.p, summary["p_collapse"].to_numpy())
    low, high = stats.realign.interval
    np.testing.assert_array_equal(low, summary["p_realign_low"].to_numpy())
    np.testing.assert_array_equal(high, summary["p_realign_high"].to_numpy())
    finals = api_batch.finals()  # one row per (run, partner)
    for status, share in stats.shares.items():
        expected = [
            (finals.loc[finals["partner"] == p, "status"] == status).mean() for p in stats.partners
        ]
        np.testing.assert_array_equal(share.p, expected)
    total = sum(share.p for share in stats.shares.values())
    np.testing.assert_allclose(total, 1.0)
    # the curves end at P(realign) and P(collapse)
    np.testing.assert_array_equal(stats.cumulative_realign[-1], stats.realign.p)
    np.testing.assert_array_equal(stats.cumulative_collapse[-1], stats.collapse.p)
    assert np.all(np.diff(stats.cumulative_realign, axis=0) >= 0)


def test_blocks_do_not_change_the_numbers(edited):
    whole = panel.compute(edited, runs=60, seed=1, block_runs=60)
    cut = panel.compute(edited, runs=60, seed=1, block_runs=7)
    np.testing.assert_array_equal(whole.realign.k, cut.realign.k)
    np.testing.assert_array_equal(whole.cumulative_collapse, cut.cumulative_collapse)


def test_a_cancelled_computation_stops_between_blocks(edited):
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 2  # a newer change arrives during the second block

    with pytest.raises(panel.Cancelled):
        panel.compute(edited, runs=100, seed=0, block_runs=10, cancelled=cancelled)
    assert len(asked) == 3  # it stopped at the third check, not after all ten blocks


def test_the_live_run_ends_as_its_row_of_the_batch(edited, api_batch):
    run_id = 5
    live = LiveRun(edited, batch_seed=3, run_id=run_id)
    steps = 0
    while live.step():
        steps += 1
    snap = live.snapshot()
    assert steps == snap.step == snap.horizon == edited.scenario.steps
    assert not live.step()
    row = api_batch.finals().query("run_id == @run_id").set_index("partner")
    for state in snap.states:
        assert state.status == row.loc[state.partner, "status"]
    first_realign = {}
    for step, partner, kind, *_ in snap.events:
        if kind == "realign":
            first_realign.setdefault(partner, step)
    expected = {
        s.partner: int(row.loc[s.partner, "realign_step"])
        for s in snap.states
        if not pd.isna(row.loc[s.partner, "realign_step"])
    }
    assert first_realign == expected
