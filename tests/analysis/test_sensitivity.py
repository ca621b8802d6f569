"""Sensitivity indices: known analytic values through our SALib wrappers, and the command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import SENSITIVITY_SMALL
from batch_fixtures import run_cli
from conftest import SYRIA

from patronage.analysis import morris, sobol
from patronage.analysis.factors import Factor, coefficient_factors, parse_factors
from patronage.errors import InputError

PI = float(np.pi)
ISHIGAMI = [Factor(f"x{i}", -PI, PI) for i in (1, 2, 3)]
# Ishigami & Homma (1990) with a = 7, b = 0.1: analytic first-order and total indices
# (Sobol' & Levitan 1999; SALib's own test values).
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_morris_of_a_linear_function_is_exact():
    """y = 3 a - b + 0 c over ranges of widths 1, 2, 1: every elementary effect of a factor
    is its slope times its range (the effect of one move across the whole range), so mu* is
    |slope| x width exactly, sigma 0, and an unused factor gets 0."""
    factors = [Factor("a", 0, 1), Factor("b", 0, 2), Factor("c", 5, 6)]
    x = morris.sample(factors, 20, seed=1)
    assert x.shape == (morris.n_points(3, 20), 3)
    table = morris.analyze(factors, x, 3 * x[:, 0] - x[:, 1], seed=1)
    assert table["mu_star"].to_numpy() == pytest.approx([3.0, 2.0, 0.0], abs=1e-12)
    assert table["mu"].to_numpy() == pytest.approx([3.0, -2.0, 0.0], abs=1e-12)
    assert table["sigma"].to_numpy() == pytest.approx([0, 0, 0], abs=1e-12)


def test_sobol_of_ishigami_matches_analytic_indices():
    """Each estimate lies within 1.5 half-widths of its own 95% interval of the analytic
    value: the half-width is ~1.96 bootstrap sd, so that is ~3 sd (a fixed seed; an
    estimator off by more than its stated uncertainty fails)."""
    x = sobol.sample(ISHIGAMI, 1024, seed=2)
    assert x.shape == (sobol.n_points(3, 1024), 3)
    table = sobol.analyze(ISHIGAMI, x, ishigami(x), seed=2)
    for column, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        error = np.abs(table[column].to_numpy() - truth)
        assert np.all(error <= 1.5 * table[f"{column}_conf"].to_numpy()), (column, error)
    assert np.all(table["ST_conf"] < 0.1)  # and the intervals are informative


def test_sobol_of_a_constant_output_is_empty_not_a_division_by_zero():
    x = sobol.sample(ISHIGAMI, 8, seed=0)
    table = sobol.analyze(ISHIGAMI, x, np.ones(len(x)), seed=0)
    assert table[["S1", "ST"]].isna().all().all()


def test_sobol_base_must_be_a_power_of_two():
    with pytest.raises(InputError, match="power of 2"):
        sobol.sample(ISHIGAMI, 48, seed=0)


def test_factor_sets_and_explicit_ranges():
    factors = parse_factors(["coefficients.peer_weight=0.5:1.5"], ["coefficients"])
    assert len(factors) == len(coefficient_factors()) == 26
    assert Factor("coefficients.peer_weight", 0.5, 1.5) in factors
    with pytest.raises(InputError, match="at least two factors"):
        parse_factors(["withdrawal.level=0:1"], [])
    with pytest.raises(InputError, match="--factor"):
        parse_factors(["withdrawal.level=1:0", "withdrawal.start=0:3"], [])


def test_sensitivity_command_writes_a_resumable_folder_with_indices(tmp_path):
    out = tmp_path / "sens"
    first = run_cli("sensitivity", SYRIA, *SENSITIVITY_SMALL, "--out", out, "--format", "csv")
    assert first.code == 0, first.err
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["sensitivity"]
    assert entry["method"] == "morris" and entry["size"] == 4
    assert manifest["runs"]["total"] == 4 * 3 * 10
    indices = pd.read_parquet(out / "indices.parquet")
    partners = manifest["partners"]
    assert len(indices) == len(partners) * len(entry["outputs"]) * 2
    # the withdrawal level drives Assad's collapse far more than its start does
    assad = indices[(indices["partner"] == "assad") & (indices["output"] == "p_collapse")]
    assert assad.set_index("factor").loc["withdrawal.level", "rank"] == 1
    before = (out / "indices.parquet").read_bytes()
    again = run_cli("sensitivity", SYRIA, *SENSITIVITY_SMALL, "--resume", out, "--format", "csv")
    assert again.code == 0, again.err
    assert (out / "indices.parquet").read_bytes() == before
    assert again.out == first.out
    figures = run_cli("plot", out, "--out", tmp_path / "figs")
    assert figures.code == 0 and (tmp_path / "figs" / "sensitivity-p_realign.png").exists()
    report = run_cli("report", out, "--out", tmp_path / "r.html")
    assert report.code == 0 and "Sensitivity (morris" in (tmp_path / "r.html").read_text()
    summary = run_cli("summary", out)
    (out / "indices.parquet").unlink()  # lost after the batch completed: summary says how
    lost = run_cli("summary", out)
    assert lost.code == 2 and len(lost.err_lines) == 1 and "--resume" in lost.err
    rebuilt = run_cli("sensitivity", SYRIA, *SENSITIVITY_SMALL, "--resume", out, "--format", "csv")
    assert rebuilt.code == 0 and (out / "indices.parquet").read_bytes() == before
    assert (
        summary.code == 0
        and "mu*" in summary.out
        and "pooled over 12 explicit design points" in summary.out
    )


def test_sensitivity_force_replaces_its_own_folder_indices_and_all(tmp_path):
    # indices.parquet is written by patronage, so --force may replace the folder holding it
    out = tmp_path / "sens"
    first = run_cli("sensitivity", SYRIA, *SENSITIVITY_SMALL, "--out", out, "--format", "csv")
    assert first.code == 0, first.err
    again = run_cli(
        "sensitivity", SYRIA, *SENSITIVITY_SMALL, "--out", out, "--force", "--format", "csv"
    )
    assert again.code == 0, again.err
    assert again.out == first.out
    (out / "notes.txt").write_text("kept")
    refused = run_cli("sensitivity", SYRIA, *SENSITIVITY_SMALL, "--out", out, "--force")
    assert refused.code == 2 and "holds files patronage did not write" in refused.err
    assert (out / "notes.txt").read_text() == "kept"


def test_sensitivity_factor_outside_the_schema_is_one_line(tmp_path):
    result = run_cli(
        "sensitivity",
        SYRIA,
        "--factor",
        "withdrawal.level=0.5:1.5",
        "--factor",
        "withdrawal.start=0:3",
        "--out",
        tmp_path / "x",
    )
    assert result.code == 2 and len(result.err_lines) == 1
    assert "withdrawal.level" in result.err and not (tmp_path / "x").exists()
