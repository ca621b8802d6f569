"""Figures built from small batches: their axes, labels, titles, series and colours."""

from __future__ import annotations

import colorsys
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest
from analysis_fixtures import LEVELS, REPS, STEPS, SYRIA, make_batch
from matplotlib.collections import PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch

from patronage.cli import main as cli
from patronage.errors import InputError
from patronage.reporting import plots
from patronage.reporting.plots import style
from patronage.results.folder import Results
from patronage.scenario.loader import load


@pytest.fixture(scope="session")
def grid(batch_root) -> Results:
    return make_batch(
        batch_root,
        "grid",
        sweeps={"withdrawal.level": [0, 1], "budget_cut.level": [0, 0.4]},
        replicates=4,
    )


@pytest.fixture(scope="session")
def plain(batch_root) -> Results:
    """No sweep and no series."""
    return make_batch(batch_root, "plain", replicates=3, every=None)


def _rgba(colour) -> tuple:
    return tuple(np.round(mcolors.to_rgba(colour), 4))


def _title(fig: Figure) -> str:
    """The short title and the caption below the panels: what a reader sees."""
    return style.caption_of(fig)


def _medians(ax) -> list:
    """Solid lines (runs still with the incumbent); dashed ones follow a realigned partner."""
    return [line for line in ax.lines if line.get_linestyle() == "-"]


@pytest.fixture(scope="module")
def colours(base) -> dict[str, str]:
    return plots.partner_colors(base.partners)


# --- colours ----------------------------------------------------------------------------------


def test_partner_colours_are_colour_blind_safe_and_stable():
    a = plots.partner_colors(["hezbollah", "assad", "hamas"])
    b = plots.partner_colors(["hamas", "assad", "hezbollah"])
    assert a == b  # by sorted position, not by order given
    assert len(set(a.values())) == 3
    twelve = plots.partner_colors([f"p{i:02d}" for i in range(12)])
    assert len(set(twelve.values())) == 12  # distinct for up to twelve partners
    # the bundled scenarios' seven partners never share a hue family (assad and
    # pmf_leadership were two blues, 3 degrees of hue apart): chromatic colours differ in hue
    # by 14 degrees or more (the closest pair, orange and olive, are 15 apart; the blues 3)
    bundled = plots.partner_colors(load(SYRIA).scenario.partner_ids()).values()
    hls = [colorsys.rgb_to_hls(*mcolors.to_rgb(c)) for c in bundled]
    hues = [h * 360 for h, _, sat in hls if sat > 0.2]
    assert len(hues) >= len(hls) - 1  # at most one black or grey
    gaps = [min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(hues) for b in hues[i + 1 :]]
    assert min(gaps) >= 14


# --- 1. trajectories --------------------------------------------------------------------------


def test_trajectories(base, colours):
    fig = plots.trajectories(base)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 3
    n = len(base.partners)
    for ax, var in zip(axes, ("loyalty", "trust", "dependence"), strict=True):
        assert ax.get_ylabel() == f"{var} (0-1)"
        assert var.capitalize() in ax.get_title() and "10-90%" in ax.get_title()
        assert len(_medians(ax)) == n  # the medians with the incumbent
        assert len(ax.collections) == n  # the 10-90% bands
        for line in _medians(ax):
            assert _rgba(line.get_color()) == _rgba(colours[line.get_label()])
    assert axes[-1].get_xlabel() == "step (months)"
    assert "Loyalty, trust and dependence" in _title(fig)
    assert f"{REPS} runs, withdrawal.level = 1" in _title(fig)
    legend = axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == base.partners
    # the median of assad's loyalty at a step (the last drawn up to 24: the line stops where
    # too few runs are still with the incumbent) is the series' median over the runs where
    # assad is still with the incumbent; the dashed line, over those where it has realigned
    s = base.series
    runs = base.runs[base.runs["param.withdrawal.level"] == 1]["run_id"]
    line = next(x for x in axes[0].lines if x.get_label() == "assad")
    x, y = line.get_data()
    step = max(v for v in x if v <= 24)
    at = s[(s.partner == "assad") & (s.step == step) & s.run_id.isin(runs)]
    stayed = at[at["patron"] == base.incumbent]["loyalty"]
    assert y[list(x).index(step)] == pytest.approx(stayed.median())
    left = at[at["patron"] != base.incumbent]["loyalty"]
    dashed = [ln for ln in axes[0].lines if ln.get_linestyle() == "--"]
    if len(left) >= min(len(runs), max(5, int(0.1 * len(runs)))):
        assert any(
            _rgba(ln.get_color()) == _rgba(colours["assad"])
            and step in list(ln.get_xdata())
            and ln.get_ydata()[list(ln.get_xdata()).index(step)] == pytest.approx(left.median())
            for ln in dashed
        )


def test_trajectories_of_chosen_partners_and_point(base):
    fig = plots.trajectories(base, partners=["assad", "hezbollah"], where={"withdrawal.level": 0})
    assert all(len(_medians(ax)) == 2 for ax in fig.axes)
    assert "withdrawal.level = 0" in _title(fig)
    with pytest.raises(InputError, match="no such partner"):
        plots.trajectories(base, partners=["nobody"])
    with pytest.raises(InputError, match=r"withdrawal.level = 0.5 is not in this batch"):
        plots.trajectories(base, where={"withdrawal.level": 0.5})


def test_trajectories_need_a_series(plain):
    with pytest.raises(InputError, match="recorded no series"):
        plots.trajectories(plain)


# --- 2. cumulative ----------------------------------------------------------------------------


def test_cumulative(base, colours):
    fig = plots.cumulative(base)
    assert len(fig.axes) == 2
    realign, collapse = fig.axes
    assert "realignment" in realign.get_title() and "collapse" in collapse.get_title()
    assert realign.get_ylabel() == "P(realignment by step) (0-1)"
    assert collapse.get_xlabel() == "step (months)"
    assert "Realigned / collapsed" in _title(fig)
    n = len(base.partners)
    assert len(realign.lines) == n and len(collapse.lines) == n
    finals = base.finals()
    finals = finals[finals["param.withdrawal.level"] == 1]
    for ax, outcome in ((realign, "realign"), (collapse, "collapse")):
        for line in ax.lines:
            pid = line.get_label()
            x, y = line.get_data()
            steps = finals.loc[finals["partner"] == pid, f"{outcome}_step"].astype(float)
            assert y[-1] == pytest.approx(steps.notna().mean())  # by the horizon
            assert y[list(x).index(20)] == pytest.approx((steps <= 20).mean())
            assert np.all(np.diff(y) >= 0)
            assert _rgba(line.get_color()) == _rgba(colours[pid])


# --- 3. tipping curve -------------------------------------------------------------------------


def test_tipping_curve(base, colours):
    fig = plots.tipping_curve(base)
    (ax,) = fig.axes
    n = len(base.partners)
    assert len(ax.lines) == n and len(ax.collections) == n  # curves and Wilson bands
    assert ax.get_xlabel() == "withdrawal.level (swept value)"
    assert ax.get_ylabel() == "P(realign by the horizon)"
    assert f"step {STEPS}" in _title(fig)
    assert "Tipping curve" in _title(fig) and "Wilson 95% bands" in _title(fig)
    summary = base.summary()
    for line in ax.lines:
        pid = line.get_label()
        x, y = line.get_data()
        assert list(x) == LEVELS
        want = summary[summary.partner == pid].sort_values("param.withdrawal.level")["p_realign"]
        assert np.allclose(y, want)
        assert _rgba(line.get_color()) == _rgba(colours[pid])


def test_tipping_heat_map_with_two_swept_fields(grid):
    fig = plots.tipping_curve(grid)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert len(panels) == len(grid.partners)
    assert [ax.get_title() for ax in panels] == grid.partners
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1 and "P(realign" in colorbars[0].get_ylabel()
    summary = grid.summary()
    for ax in panels:
        (image,) = ax.images
        assert isinstance(image, AxesImage)
        assert image.get_cmap().name == "cividis"
        assert ax.get_xlabel() == "budget_cut.level" and ax.get_ylabel() == "withdrawal.level"
        data = np.asarray(image.get_array())
        assert data.shape == (2, 2)
        s = summary[summary.partner == ax.get_title()]
        for i, level in enumerate((0.0, 1.0)):
            for j, cut_level in enumerate((0.0, 0.4)):
                row = s[
                    (s["param.withdrawal.level"] == level)
                    & (s["param.budget_cut.level"] == cut_level)
                ]
                assert data[i, j] == pytest.approx(row["p_realign"].iloc[0])
    assert "withdrawal.level x budget_cut.level" in _title(fig)
    line_fig = plots.tipping_curve(grid, field="budget_cut.level")
    assert "pooled over withdrawal.level" in _title(line_fig)


def test_tipping_curve_needs_a_sweep(plain):
    with pytest.raises(InputError, match="sweeps no field"):
        plots.tipping_curve(plain)


# --- 4. side by side --------------------------------------------------------------------------


def test_side_by_side(base, cut, colours):
    fig = plots.side_by_side([base, cut])
    assert len(fig.axes) == 2
    for ax, noun in zip(fig.axes, ("realigning", "collapsing"), strict=True):
        assert noun in ax.get_title()
        assert ax.get_ylabel() == "probability (0-1)"
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 2  # one per batch
    ax = fig.axes[1]
    assert ax.get_xlabel() == "partner"
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == sorted(base.partners)
    assert all(_rgba(t.get_color()) == _rgba(colours[t.get_text()]) for t in ticks)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["syria_withdrawal", "syria_withdrawal (budget_cut.level=0.4)"]
    assert "Wilson 95% intervals" in _title(fig)
    # the points are the probabilities at the default design point
    marker_line = fig.axes[0].containers[0].lines[0]
    y = marker_line.get_ydata()
    finals = base.finals()
    finals = finals[finals["param.withdrawal.level"] == 1]
    want = [
        finals.loc[finals["partner"] == p, "realign_step"].notna().mean()
        for p in sorted(base.partners)
    ]
    assert np.allclose(y, want)


# --- 5. network -------------------------------------------------------------------------------


def test_network(base):
    fig = plots.network(base, step=24)
    (ax,) = fig.axes
    resolved = base.resolved["partners"]
    edges = sum(len(p.get("watches") or {}) for p in resolved)
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == edges
    widths = sorted(a.get_linewidth() for a in arrows)
    assert widths[0] < widths[-1]  # width follows the weight
    nodes = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes) == 1 and len(nodes[0].get_offsets()) == len(base.partners)
    assert "Alignment network at step 24" in _title(fig)
    assert "watcher to watched" in _title(fig)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "iran" in legend
    # the fill of each node is the colour of its majority patron
    states = plots.patron_states(
        base, 24, base.runs.loc[base.runs["param.withdrawal.level"] == 1, "run_id"]
    )
    pcolours = plots.patron_colors(base)
    faces = nodes[0].get_facecolors()
    for i, pid in enumerate(base.partners):
        top = states[states.partner == pid]["state"].value_counts().sort_index()
        top = top.sort_values(ascending=False, kind="stable").index[0]
        assert tuple(np.round(faces[i], 4)) == _rgba(pcolours[top])
    # the same batch, the same layout
    again = plots.network(base, step=24)
    assert np.allclose(again.axes[0].collections[0].get_offsets(), nodes[0].get_offsets())
    with pytest.raises(InputError, match="between 0 and the horizon 48"):
        plots.network(base, step=49)


def test_patron_states_agree_with_the_series(base):
    series = base.series
    for step in (12, 24, 48):
        states = plots.patron_states(base, step).set_index(["run_id", "partner"])["state"]
        s = series[series.step == step].set_index(["run_id", "partner"])
        want = s["patron"].where(s["status"] != "collapsed", "collapsed")
        assert (states.loc[want.index] == want).all()


# --- the standard set -------------------------------------------------------------------------


def test_standard_set_of_two_batches(base, cut):
    stems = [stem for stem, _ in plots.standard_figures([base, cut], step=24)]
    kinds = ("trajectories", "cumulative", "tipping", "network")
    levels = [f"-withdrawal.level_{v}" for v in (0, 1)]  # one figure per swept level
    want = []
    for b in ("base", "cut"):
        for k in kinds:
            want += [f"{b}-{k}"] if k == "tipping" else [f"{b}-{k}{lv}" for lv in levels]
    assert stems == want + [f"side_by_side{lv}" for lv in levels]


def test_plot_command_writes_the_standard_set(grid, tmp_path, capsys):
    import matplotlib.pyplot as plt

    out = tmp_path / "figures"
    assert cli.main(["plot", str(grid.path), "--out", str(out), "--step", "24"]) == 0
    printed = capsys.readouterr().out.split()
    names = [Path(p).name for p in printed]
    # two swept fields of two values: a figure per point, named by it, and one tipping map
    points = [p for p in grid.manifest.points]
    assert len(points) == 4
    for kind in ("trajectories", "cumulative", "network"):
        per_point = [n for n in names if n.startswith(f"{kind}-")]
        assert len(per_point) == len(points), kind
        for point in points:
            label = "-".join(f"{k}_{v:g}" for k, v in point.items())
            assert f"{kind}-{label}.png" in names
    assert "tipping.png" in names and len(names) == 3 * len(points) + 1
    for name in names:
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert not list(out.glob(".*"))  # no temporary files left
    assert plt.get_fignums() == []  # no pyplot figures were created
    assert cli.main(["plot", str(grid.path), "--out", str(out), "--step", "99"]) == 2
    assert "--step" in capsys.readouterr().err


def test_save_standard_set_in_svg(plain, tmp_path):
    paths = plots.save_standard_set([plain], tmp_path / "svg", fmt="svg")
    # no series: no trajectories; no sweep: no tipping curve
    assert [p.name for p in paths] == ["cumulative.svg", "network.svg"]
    assert all(p.read_text().lstrip().startswith("<?xml") for p in paths)
    with pytest.raises(InputError, match="png, svg, pdf"):
        plots.save_standard_set([plain], tmp_path, fmt="gif")
