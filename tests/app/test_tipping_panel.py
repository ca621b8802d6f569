"""The computation behind the tipping panel: the numbers of `patronage batch --sweep
withdrawal.level=...` for the same settings, blind to the page's own level, independent of
how runs are cut into blocks, cancellable; and what the panel draws and tabulates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import patronage
from patronage.analysis.stats import wilson_interval
from patronage.app import panel, tipping
from patronage.app.settings import load_bundled
from patronage.cli.main import main
from patronage.reporting.plots.tipping import curve_points

RUNS = 100  # runs per level: enough for several partners' curves to rise in the scenario
SWEEP = "withdrawal.level=0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"


@pytest.fixture(scope="module")
def settings(syria_path):
    """The bundled scenario with a score and the level edited on the page."""
    base = load_bundled(syria_path)
    return base.with_value("partners.pmf_mainstream.loyalty", 0.4).with_value(
        "withdrawal.level", 0.3
    )


@pytest.fixture(scope="module")
def stats(settings):
    return tipping.compute(settings.loaded(), runs_per_level=RUNS, seed=3)


def test_panel_numbers_are_the_batch_commands(settings, stats, syria_path, tmp_path):
    out = tmp_path / "sweep"
    overrides = [arg for o in settings.overrides() for arg in ("--set", o)]
    command = ["batch", str(syria_path), "--engine", "ensemble", "--sweep", SWEEP]
    command += ["--replicates", str(RUNS), "--seed", "3", "--out", str(out), *overrides]
    assert main(command) == 0
    expected = curve_points(patronage.open_results(out), "withdrawal.level")
    pd.testing.assert_frame_equal(stats.points(), expected)
    assert stats.failed == 0 and (stats.runs == RUNS).all()
    # the curves vary with the level (a test of equal zeros would prove nothing)
    assert len(np.unique(stats.p)) > 10
    # the bands: the Wilson intervals the batch's tipping curve draws
    low, high = stats.interval
    expected_low, expected_high = wilson_interval(expected["k"], expected["runs"])
    rows = [
        (tipping.LEVELS.index(x), stats.partners.index(pid))
        for pid, x in zip(expected["partner"], expected["x"], strict=True)
    ]
    np.testing.assert_array_equal([low[r] for r in rows], expected_low)
    np.testing.assert_array_equal([high[r] for r in rows], expected_high)


def test_the_pages_level_changes_no_number(settings, stats):
    """The sweep replaces the page's level, so moving that slider must not recompute."""
    other = settings.with_value("withdrawal.level", 0.9).loaded()
    assert tipping.sweep_key(other) == tipping.sweep_key(settings.loaded())
    again = tipping.compute(other, runs_per_level=RUNS, seed=3)
    np.testing.assert_array_equal(again.realigned, stats.realigned)
    # a score does change them, and the key says so
    scored = settings.with_value("partners.pmf_mainstream.loyalty", 0.9).loaded()
    assert tipping.sweep_key(scored) != tipping.sweep_key(settings.loaded())
    assert tipping.page_level(other) == 0.9


def test_blocks_do_not_change_the_numbers(settings):
    loaded = settings.loaded()
    whole = tipping.compute(loaded, runs_per_level=20, seed=1, block_runs=220)
    cut = tipping.compute(loaded, runs_per_level=20, seed=1, block_runs=7)
    np.testing.assert_array_equal(whole.runs, cut.runs)
    np.testing.assert_array_equal(whole.realigned, cut.realigned)


def test_a_cancelled_computation_stops_between_blocks(settings):
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 2  # a newer change arrives during the second block

    with pytest.raises(panel.Cancelled):
        tipping.compute(
            settings.loaded(), runs_per_level=10, seed=0, block_runs=10, cancelled=cancelled
        )
    assert len(asked) == 3  # it stopped at the third check, not after all eleven blocks


def test_the_figure_draws_each_partners_curve_and_the_pages_level(stats):
    pytest.importorskip("solara", reason="the page needs the [app] extra")
    from patronage.app import figures

    fig = figures.tipping(stats, 0.3)
    ax = fig.axes[0]
    curves = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert list(curves) == stats.partners
    for j, pid in enumerate(stats.partners):
        np.testing.assert_array_equal(curves[pid].get_xdata(), tipping.LEVELS)
        np.testing.assert_array_equal(curves[pid].get_ydata(), stats.p[:, j])
    marks = [line for line in ax.lines if line.get_label().startswith("_")]
    assert [list(m.get_xdata()) for m in marks] == [[0.3, 0.3]]
    assert len(ax.collections) >= len(stats.partners)  # one Wilson band per partner


def test_the_table_holds_every_probability_and_marks_the_level(stats):
    pytest.importorskip("solara", reason="the page needs the [app] extra")
    import re

    from patronage.app.tipping_panel import tipping_table

    text = tipping_table(stats, 0.3)
    cells = re.findall(r'data-partner="([^"]+)" data-level="([^"]+)" data-value="([^"]+)"', text)
    assert len(cells) == len(stats.partners) * len(tipping.LEVELS)
    for pid, level, value in cells:
        i, j = tipping.LEVELS.index(float(level)), stats.partners.index(pid)
        assert float(value) == pytest.approx(stats.p[i, j], abs=5e-7)
    marked = re.findall(r'class="current-level"[^>]*data-level="([^"]+)"', text)
    assert set(marked) == {"0.3"} and len(marked) == len(stats.partners)


def test_a_ranged_level_is_swept_over_and_not_marked(settings, stats):
    """A level written as a range (drawn per run) is replaced by the sweep as a number is:
    the same counts, and no level to mark."""
    ranged = settings.with_value("withdrawal.level", {"low": 0.2, "high": 0.6}).loaded()
    assert tipping.page_level(ranged) is None
    assert tipping.sweep_key(ranged) == tipping.sweep_key(settings.loaded())
    again = tipping.compute(ranged, runs_per_level=RUNS, seed=3)
    np.testing.assert_array_equal(again.realigned, stats.realigned)
