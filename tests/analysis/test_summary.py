"""The summary: Wilson intervals by hand, probabilities recomputed from the events table, and
the `summary` command in every format."""

from __future__ import annotations

import io
import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from batch_fixtures import LEVELS, REPLICATES, reference_batch, run_cli

from patronage.analysis.stats import Z95, wilson_interval
from patronage.results.folder import open_results

# --- Wilson interval --------------------------------------------------------------------------


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """(k + z^2/2 -/+ z sqrt(k (n - k) / n + z^2 / 4)) / (n + z^2), written independently."""
    centre = k + z * z / 2
    half = z * math.sqrt(k * (n - k) / n + z * z / 4)
    return (centre - half) / (n + z * z), (centre + half) / (n + z * z)


def test_wilson_hand_computed_value():
    low, high = wilson_interval(7, 20)
    assert (round(float(low), 4), round(float(high), 4)) == (0.1812, 0.5671)


def test_z_is_the_normal_quantile():
    from statistics import NormalDist

    assert NormalDist().inv_cdf(0.975) == pytest.approx(Z95, abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 10), (50, 100), (1, 1000), (999, 1000)])
def test_wilson_against_the_formula(k, n):
    low, high = wilson_interval(k, n)
    assert (float(low), float(high)) == pytest.approx(wilson_by_hand(k, n), abs=1e-12)
    assert 0.0 <= low <= k / n <= high <= 1.0


@pytest.mark.parametrize("n", [1, 5, 20, 200])
def test_wilson_edges(n):
    z2 = Z95**2
    low, high = wilson_interval(0, n)
    assert float(low) == pytest.approx(0.0, abs=1e-15)
    assert float(high) == pytest.approx(z2 / (n + z2), abs=1e-12)
    low, high = wilson_interval(n, n)
    assert float(high) == pytest.approx(1.0, abs=1e-15)
    assert float(low) == pytest.approx(n / (n + z2), abs=1e-12)


def test_wilson_no_runs_is_the_whole_interval():
    low, high = wilson_interval(0, 0)
    assert (float(low), float(high)) == (0.0, 1.0)


def test_wilson_is_vectorised():
    k = np.array([0, 7, 20, 0])
    n = np.array([20, 20, 20, 0])
    low, high = wilson_interval(k, n)
    expected = [wilson_by_hand(0, 20), wilson_by_hand(7, 20), wilson_by_hand(20, 20), (0.0, 1.0)]
    assert low.tolist() == pytest.approx([e[0] for e in expected], abs=1e-12)
    assert high.tolist() == pytest.approx([e[1] for e in expected], abs=1e-12)


def test_wilson_narrows_with_n():
    widths = [np.subtract(*wilson_interval(n // 4, n)[::-1]) for n in (20, 200, 2000)]
    assert widths[0] > widths[1] > widths[2]


# --- summarize against the tables -------------------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return open_results(reference_batch(tmp_path_factory))


def plain(values) -> list:
    return [None if pd.isna(v) else v for v in values]


def expected_summary(results) -> pd.DataFrame:
    """Per (level, partner), recomputed from events.parquet without the analysis module."""
    runs = results.runs[["run_id", "param.withdrawal.level"]]
    events = results.events
    rows = []
    for level, group in runs.groupby("param.withdrawal.level"):
        ids = set(group["run_id"])
        for pid in results.partners:
            mine = events[(events["partner"] == pid) & events["run_id"].isin(ids)]
            realign = mine[mine["kind"] == "realign"]
            first = realign.sort_values(["run_id", "step"]).groupby("run_id").head(1)
            counts = Counter(first["to"])
            top = None
            if counts:
                best = max(counts.values())
                top = min(p for p, c in counts.items() if c == best)
            rows.append(
                {
                    "level": level,
                    "partner": pid,
                    "runs": len(ids),
                    "p_realign": realign["run_id"].nunique() / len(ids),
                    "p_collapse": mine.loc[mine["kind"] == "collapse", "run_id"].nunique()
                    / len(ids),
                    "median": float(np.median(first["step"])) if len(first) else math.nan,
                    "top": top,
                }
            )
    return pd.DataFrame(rows)


def test_summary_matches_the_events_table(results):
    summary = results.summary()
    expected = expected_summary(results)
    assert list(summary["param.withdrawal.level"]) == list(expected["level"])
    assert list(summary["partner"]) == list(expected["partner"])
    assert summary["runs"].tolist() == expected["runs"].tolist()
    assert (summary["runs"] == REPLICATES).all()
    assert summary["p_realign"].tolist() == pytest.approx(expected["p_realign"].tolist())
    assert summary["p_collapse"].tolist() == pytest.approx(expected["p_collapse"].tolist())
    assert summary["median_realign_step"].tolist() == pytest.approx(
        expected["median"].tolist(), nan_ok=True
    )
    assert plain(summary["top_new_patron"]) == plain(expected["top"])
    # the batch is informative: something realigns and something does not
    assert summary["p_realign"].max() > 0
    assert summary["p_realign"].min() == 0


def test_summary_intervals_are_wilson(results):
    summary = results.summary()
    for row in summary.itertuples(index=False):
        assert (row.p_realign_low, row.p_realign_high) == pytest.approx(
            wilson_by_hand(row.realigned, row.runs), abs=1e-12
        )
        assert (row.p_collapse_low, row.p_collapse_high) == pytest.approx(
            wilson_by_hand(row.collapsed, row.runs), abs=1e-12
        )
        assert row.p_realign == row.realigned / row.runs


def test_summary_by_nothing_pools_the_sweep(results):
    pooled = results.summary(by=[])
    assert list(pooled["partner"]) == results.partners
    assert (pooled["runs"] == len(LEVELS) * REPLICATES).all()
    by_level = results.summary()
    total = by_level.groupby("partner")["realigned"].sum()
    assert pooled.set_index("partner")["realigned"].to_dict() == total.to_dict()


def test_no_realignment_means_no_median_and_no_patron(results):
    summary = results.summary()
    none = summary[summary["realigned"] == 0]
    assert len(none) > 0
    assert none["median_realign_step"].isna().all()
    assert none["top_new_patron"].isna().all()


# --- the summary command ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return reference_batch(tmp_path_factory)


def test_summary_csv(folder, results):
    out = run_cli("summary", folder, "--format", "csv")
    assert out.code == 0, out.err
    got = pd.read_csv(io.StringIO(out.out))
    expected = results.summary()
    assert list(got.columns) == list(expected.columns)
    assert got["partner"].tolist() == expected["partner"].tolist()
    numeric = [c for c in expected.columns if c not in ("partner", "top_new_patron")]
    for column in numeric:
        assert got[column].tolist() == pytest.approx(
            expected[column].astype(float).tolist(), nan_ok=True
        ), column
    assert got["top_new_patron"].fillna("").tolist() == (
        expected["top_new_patron"].fillna("").tolist()
    )


def test_summary_json(folder, results):
    out = run_cli("summary", folder, "--format", "json")
    assert out.code == 0, out.err
    records = json.loads(out.out)
    expected = results.summary()
    assert len(records) == len(expected)
    assert list(records[0]) == list(expected.columns)
    for record, row in zip(records, expected.to_dict(orient="records"), strict=True):
        for key, value in row.items():
            if pd.isna(value):
                assert record[key] is None, key
            elif isinstance(value, str):
                assert record[key] == value
            else:
                assert record[key] == pytest.approx(float(value)), key


def test_summary_table_and_markdown(folder, results):
    expected = results.summary()
    table = run_cli("summary", folder)
    assert table.code == 0
    lines = table.out.strip().splitlines()
    assert len(lines) == 2 + len(expected)
    assert lines[0].split()[:3] == ["withdrawal.level", "partner", "runs"]
    assert "P(realign) [95% CI]" in lines[0]
    first = expected.iloc[0]
    assert (
        f"{first.p_realign:.3f} [{first.p_realign_low:.3f}, {first.p_realign_high:.3f}]" in lines[2]
    )

    md = run_cli("summary", folder, "--format", "markdown")
    assert md.code == 0
    md_lines = md.out.strip().splitlines()
    assert len(md_lines) == 2 + len(expected)
    assert all(
        line.startswith("| ") and line.endswith(" |") for line in md_lines[:1] + md_lines[2:]
    )
    assert set(md_lines[1]) <= {"|", "-"}
    cells = [c.strip() for c in md_lines[2].strip("|").split("|")]
    assert cells[:3] == ["0", expected.iloc[0]["partner"], str(REPLICATES)]


def test_summary_by_option(folder, results):
    pooled = run_cli("summary", folder, "--by", "withdrawal.level", "--format", "csv")
    assert pooled.code == 0
    assert pooled.out == run_cli("summary", folder, "--format", "csv").out
    bad = run_cli("summary", folder, "--by", "withdrawal.start")
    assert bad.code == 2
    assert len(bad.err_lines) == 1
    assert "withdrawal.start" in bad.err


def test_summary_of_a_missing_folder(tmp_path):
    result = run_cli("summary", tmp_path / "nope")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "no such result folder" in result.err


# --- where the runs stand at the horizon (issue 9, artifact 6) ----------------------------------


def test_final_shares_add_to_one_and_match_the_outcomes(results):
    summary = results.summary()
    shares = [c for c in summary.columns if c.startswith("final.")]
    assert shares[:2] == ["final.aligned", "final.hedging"] and shares[-1] == "final.collapsed"
    assert np.allclose(summary[shares].sum(axis=1), 1.0)
    finals = results.finals()
    for got in summary.to_dict(orient="records"):
        level = finals["param.withdrawal.level"] == got["param.withdrawal.level"]
        mine = finals[level & (finals["partner"] == got["partner"])]
        status, patron = mine["status"], mine["patron"]
        assert got["final.collapsed"] == pytest.approx((status == "collapsed").mean())
        for column in shares[2:-1]:
            moved = (status == "realigned") & (patron == column.removeprefix("final."))
            assert got[column] == pytest.approx(moved.mean())


def test_summary_table_shows_the_shares_at_the_horizon(folder):
    result = run_cli("summary", folder)
    assert result.code == 0
    header, _rule, first, *_ = result.out.splitlines()
    assert "at horizon: shares (sum 1; no events after it)" in header
    shares = first[header.index("at horizon") :].split(", ")
    assert sum(float(item.split()[-1]) for item in shares) == pytest.approx(1.0, abs=0.01)
