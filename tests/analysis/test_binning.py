"""Summaries of designs with many points: a pooling note, and --by split into bins."""

from __future__ import annotations

from batch_fixtures import batch, run_cli

FAST = ("--engine", "ensemble", "--series", "none", "--steps", "24", "--no-progress", "--quiet")


def test_latin_hypercube_summary_says_it_pools_and_splits_into_equal_bins(tmp_path):
    out = tmp_path / "lhs"
    made = batch(out, "--sample", "withdrawal.level=0:1", "--samples", 20, "--replicates", 3, *FAST)
    assert made.code == 0, made.err
    pooled = run_cli("summary", out)
    assert "pooled over 20 Latin hypercube points" in pooled.out
    split = run_cli("summary", out, "--by", "withdrawal.level", "--bins", 4, "--format", "csv")
    assert split.code == 0, split.err
    lines = split.out.splitlines()
    assert lines[0].startswith("param.withdrawal.level,partner,runs")
    assad = [line.split(",") for line in lines[1:] if line.split(",")[1] == "assad"]
    assert len(assad) == 4  # four equal-count bins of 5 points x 3 replicates
    assert {row[2] for row in assad} == {"15"}
    bins = [row[0] for row in assad]
    assert bins == sorted(bins, key=lambda label: float(label.split("-")[0]))


def test_sweep_values_are_kept_not_binned(tmp_path):
    out = tmp_path / "sweep"
    assert batch(out, "--sweep", "withdrawal.level=0.5,1", "--replicates", 2, *FAST).code == 0
    result = run_cli("summary", out, "--by", "withdrawal.level", "--format", "csv")
    assert {line.split(",")[0] for line in result.out.splitlines()[1:]} == {"0.5", "1.0"}
    assert "pooled" not in result.out + result.err
