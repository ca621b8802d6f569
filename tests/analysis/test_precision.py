"""Adaptive replication: rounds of replicates until every 95% interval is narrow enough."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from batch_fixtures import batch, table_bytes

from patronage.analysis.precision import half_widths, replicates_for
from patronage.analysis.stats import Z95, wilson_interval

FAST = ("--engine", "ensemble", "--series", "none", "--steps", "36", "--no-progress", "--quiet")


def summary_row(k: int, n: int) -> pd.DataFrame:
    low, high = wilson_interval([k], [n])
    return pd.DataFrame(
        {
            "runs": [n],
            "realigned": [k],
            "collapsed": [0],
            "p_realign": [k / n],
            "p_realign_low": low,
            "p_realign_high": high,
            "p_collapse": [0.0],
            "p_collapse_low": [0.0],
            "p_collapse_high": wilson_interval([0], [n])[1],
        }
    )


def test_next_round_asks_for_the_normal_approximation_at_the_worst_row():
    widths = half_widths(summary_row(50, 100))
    assert widths["half"].max() == pytest.approx(0.0962, abs=1e-3)  # Wilson at 50/100
    p = 52 / 104  # Agresti-Coull
    expected = math.ceil(1.1 * Z95**2 * p * (1 - p) / 0.02**2)
    assert replicates_for(widths, 0.02, 100) == expected


def test_batch_runs_rounds_until_the_precision_holds(tmp_path):
    out = tmp_path / "p"
    args = ("--sweep", "withdrawal.level=0.8", "--replicates", 20, "--precision", 0.05, *FAST)
    result = batch(out, *args)
    assert result.code == 0, result.err
    entry = json.loads((out / "manifest.json").read_text())["precision"]
    assert entry["reached"] and len(entry["rounds"]) >= 2
    assert entry["rounds"][0]["replicates"] == 20
    assert (
        entry["rounds"][-1]["widest_half_width"] <= 0.05 < entry["rounds"][0]["widest_half_width"]
    )
    final = entry["rounds"][-1]["replicates"]
    assert f"reached with {final} replicates per point" in result.err
    summary = pd.read_parquet(out / "runs.parquet")
    assert len(summary) == final
    before = table_bytes(out)
    again = batch(out.parent / "unused", *args, "--resume", out)
    assert again.code == 2  # --out and --resume differ: refused
    resumed = batch(out, *args, "--resume", out)
    assert resumed.code == 0 and table_bytes(out) == before


def test_max_replicates_stops_the_rounds_and_says_so(tmp_path):
    out = tmp_path / "p"
    result = batch(
        out,
        "--sweep",
        "withdrawal.level=0.8",
        "--replicates",
        20,
        "--precision",
        0.01,
        "--max-replicates",
        40,
        *FAST,
    )
    assert result.code == 0, result.err
    assert "NOT reached: stopped at --max-replicates 40" in result.err
    entry = json.loads((out / "manifest.json").read_text())["precision"]
    assert [r["replicates"] for r in entry["rounds"]] == [20, 40] and not entry["reached"]
