"""Tipping-point search: every crossing found, with 95% intervals that cover the truth."""

from __future__ import annotations

import re

import numpy as np
import pytest
from analysis_fixtures import TIPPING_SMALL
from batch_fixtures import run_cli
from conftest import SYRIA

from patronage.analysis.tipping import DOWNWARD, UPWARD, Search, brackets, find_crossings

UP_AT, DOWN_AT = 0.72, 0.92  # the synthetic curve's crossings of 0.5


def curve(x: np.ndarray) -> np.ndarray:
    """Crosses 0.5 upward at 0.72 and downward at 0.92 exactly; not a logistic curve, so the
    per-bracket logistic fit is only an approximation, as it is on a real model."""
    return 0.5 + 0.4 * np.tanh((x - UP_AT) / 0.04) * np.tanh((DOWN_AT - x) / 0.04)


def stub_engine(seed: int, common: bool = True):
    """Outcomes of a stub engine: replicate k realigns at level x when its uniform is below
    curve(x). With common random numbers replicate k has one uniform at every level (its
    outcomes are paired and monotone in the curve), as the ensemble's replicate streams are."""
    rng = np.random.default_rng([seed, 1])

    def evaluate(levels: np.ndarray, replicates: int, stage: str) -> np.ndarray:
        levels = np.asarray(levels, dtype=float)
        if common:
            u = np.random.default_rng([seed, 2]).random(replicates)[None, :]
        else:
            u = rng.random((len(levels), replicates))
        return (u < curve(levels)[:, None]).astype(np.int8)

    return evaluate


def test_brackets_find_both_directions():
    levels = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    p = np.array([0.1, 0.6, 0.7, 0.4, 0.5])
    assert brackets(levels, p, 0.5) == [(0, UPWARD), (2, DOWNWARD), (3, UPWARD)]


@pytest.mark.parametrize("common", [True, False])
def test_both_crossings_found_with_direction(common):
    _, found = find_crossings(stub_engine(3, common), Search(0.0, 1.0), 0.5, seed=3)
    assert [c.direction for c in found] == [UPWARD, DOWNWARD]
    for crossing, truth in zip(found, (UP_AT, DOWN_AT), strict=True):
        assert crossing.low <= crossing.level <= crossing.high
        assert abs(crossing.level - truth) < 0.01


@pytest.mark.parametrize("common", [True, False], ids=["common-streams", "independent"])
def test_interval_coverage_over_seeds(common):
    """Each crossing's 95% interval covers the true level in about 95% of 200 searches, with
    common random numbers across levels (the default) and with a stream per run.

    The count of covering intervals is Binomial(200, 0.95) if the intervals are exact: mean
    190, sd sqrt(200 x 0.95 x 0.05) = 3.08. The test accepts 190 +/- 3 sd, 181 to 199: a
    method that covers less than ~90% fails, and so does one that always covers (200), whose
    intervals are wider than they need to be (for an exact method P(200) = 0.95^200 = 4e-5).
    """
    search = Search(0.0, 1.0, refine_replicates=400, boot=500)
    covered = np.zeros(2, dtype=int)
    for seed in range(200):
        _, found = find_crossings(stub_engine(seed, common), search, 0.5, seed=seed)
        assert [c.direction for c in found] == [UPWARD, DOWNWARD], seed
        covered += [
            c.low <= truth <= c.high for c, truth in zip(found, (UP_AT, DOWN_AT), strict=True)
        ]
    assert 181 <= covered[0] <= 199 and 181 <= covered[1] <= 199, covered


def test_tipping_command_on_the_model_finds_the_upward_crossing_and_resumes(tmp_path):
    out = tmp_path / "tip"
    first = run_cli("tipping", SYRIA, "--partner", "pmf_mainstream", *TIPPING_SMALL, "--out", out)
    assert first.code == 0, first.err
    line = re.compile(
        r"^pmf_mainstream P\(realign\) crosses 0\.5 upward at withdrawal\.level "
        r"(0\.\d+) \[(0\.\d+), (0\.\d+)\]$",
        re.M,
    )
    found = line.search(first.out)
    assert found, first.out
    level, low, high = map(float, found.groups())
    assert 0.6 <= low <= level <= high <= 1.0  # bracketed between 0.6 and 1 (ranged inputs)
    assert (out / "tipping.png").exists() and (out / "scan" / "runs.parquet").exists()
    crossings = (out / "crossings.csv").read_text()
    again = run_cli(
        "tipping", SYRIA, "--partner", "pmf_mainstream", *TIPPING_SMALL, "--resume", out
    )
    assert again.code == 0, again.err
    assert (out / "crossings.csv").read_text() == crossings and again.out == first.out
    summary = run_cli("summary", out)
    assert summary.code == 0 and summary.out == first.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--partner", "nobody", "--field", "withdrawal.level"), "--partner: must be one of"),
        (("--partner", "assad", "--field", "coefficients.loyalty_noise"), "give --range"),
        (
            ("--partner", "assad", "--field", "withdrawal.start", "--range", "0:24"),
            "withdrawal.start: takes whole numbers",
        ),
        (("--partner", "assad", "--field", "withdrawal.level", "--target", "1.5"), "--target"),
    ],
)
def test_tipping_bad_input_is_one_line(tmp_path, args, message):
    result = run_cli("tipping", SYRIA, *args, "--out", tmp_path / "t")
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert message in result.err and not (tmp_path / "t").exists()


def test_tipping_for_all_partners_answers_each_from_one_shared_scan(tmp_path):
    out = tmp_path / "all"
    result = run_cli(
        "tipping", SYRIA, "--partner", "all", "--outcome", "realign", *TIPPING_SMALL, "--out", out
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    for partner in ("assad", "hamas", "hezbollah", "houthis"):
        assert any(line.startswith(f"{partner} P(realign) ") for line in lines), result.out
    # assad realigns once enough support is withdrawn; one scan folder serves every partner
    assert any(line.startswith("assad P(realign) crosses 0.5 upward") for line in lines)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("scan")) == ["scan"]


def test_tipping_force_replaces_only_a_folder_that_holds_nothing_but_the_study(tmp_path):
    out = tmp_path / "tip"
    args = ("tipping", SYRIA, "--partner", "pmf_mainstream", *TIPPING_SMALL, "--out", out)
    assert run_cli(*args).code == 0
    crossings = (out / "crossings.csv").read_bytes()
    again = run_cli(*args, "--force")
    assert again.code == 0, again.err
    assert (out / "crossings.csv").read_bytes() == crossings  # same seed: the same study
    (out / "notes.txt").write_text("an analyst's notes")
    refused = run_cli(*args, "--force")
    assert refused.code == 2 and refused.err_lines == [
        f"{out}: already exists; choose another --out, --resume it, or --force to replace a "
        "tipping folder that holds nothing else"
    ]
    assert (out / "notes.txt").read_text() == "an analyst's notes"
    (out / "notes.txt").unlink()
    (out / "scan" / "notes.txt").write_text("inside a stage")
    assert run_cli(*args, "--force").code == 2 and (out / "scan" / "notes.txt").exists()
