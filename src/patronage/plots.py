"""Figures of batch results, for print and for notebooks.

Every function takes Results objects (see results.py) and returns a matplotlib Figure built
with the Agg canvas, without pyplot: nothing is shown, no global figure state is touched,
and a figure is garbage once dropped. `save_standard_set` writes the standard set.

Colours are colour-blind safe: partners take the Okabe-Ito palette (then Paul Tol's
"muted" one beyond eight partners) by their sorted position in the union of the partners
of the batches drawn, so a partner has the same colour in every figure of a set; patrons
(in the network) take Paul Tol's "muted" palette by their position in the scenario (the
incumbent first); heat maps use the "cividis" colour map.

Batches with a sweep: trajectories, cumulative curves, the side-by-side comparison and the
network show one design point, by default the last value of each swept field (e.g. the
strongest withdrawal of `--sweep withdrawal.level=0,0.5,1`), and their titles say which;
`where={"withdrawal.level": 0.5}` picks another, `where={}` pools every run. Latin
hypercube samples are pooled (and tipping curves bin them).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

from .analysis import first_realignments, wilson_interval
from .errors import InputError
from .results import Results

# Okabe & Ito (2008), black moved late and yellow last (weak on white paper).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# Paul Tol's "muted" qualitative scheme (https://personal.sron.nl/~pault/).
TOL_MUTED = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
# Paul Tol's "high-contrast" scheme plus black: batches in side-by-side figures.
BATCH_COLOURS = ("#004488", "#BB5566", "#DDAA33", "#000000")
BATCH_MARKERS = ("o", "s", "^", "D", "v", "P")
COLLAPSED_COLOUR = "#DDDDDD"
ALONE_COLOUR = "#FFFFFF"
HEATMAP = "cividis"
VARIABLES = ("loyalty", "trust", "dependence")
STEP_LABEL = "step (months)"
TITLE_SIZE = 12
LABEL_SIZE = 10
TICK_SIZE = 9


# --- colours and selections -------------------------------------------------------------------


def partner_colors(partners: Sequence[str]) -> dict[str, str]:
    """A colour per partner by its sorted position: the same partners give the same colours."""
    palette = OKABE_ITO + TOL_MUTED
    return {p: palette[i % len(palette)] for i, p in enumerate(sorted(set(partners)))}


def patron_colors(results: Results) -> dict[str, str]:
    """A colour per patron by its position in the scenario (incumbent first)."""
    patrons = list(results.manifest.get("patrons") or [])
    colours = {p: TOL_MUTED[i % len(TOL_MUTED)] for i, p in enumerate(patrons)}
    colours.setdefault("none", ALONE_COLOUR)
    colours["collapsed"] = COLLAPSED_COLOUR
    return colours


def _union_partners(results_list: Sequence[Results]) -> list[str]:
    return sorted({p for r in results_list for p in r.partners})


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _recorded(value: Any) -> Any:
    from .batch import matching_value

    return matching_value(value)


def _match(column: pd.Series) -> pd.Series:
    return column.map(lambda v: round(v, 12) if isinstance(v, float) else v)


def _show(value: Any) -> str:
    return (
        f"{value:g}"
        if isinstance(value, float | int) and not isinstance(value, bool)
        else str(value)
    )


def default_where(results: Results) -> dict[str, Any]:
    """The design point shown by default: the last value of each swept field."""
    return {name: values[-1] for name, values in (results.design.get("sweeps") or {}).items()}


def select_runs(results: Results, where: dict[str, Any] | None = None) -> tuple[pd.DataFrame, str]:
    """The runs at a design point (`where`: field -> value; None: the default point) and a
    label for titles, e.g. "withdrawal.level = 1"."""
    where = default_where(results) if where is None else where
    runs = results.runs
    mask = np.ones(len(runs), dtype=bool)
    for name, value in where.items():
        col = name if name.startswith("param.") else f"param.{name}"
        if col not in runs.columns:
            raise InputError(
                f"not a field of this batch's design: {name}", source=str(results.path)
            )
        hit = (_match(runs[col]) == _recorded(value)).to_numpy()
        if not hit.any():
            values = ", ".join(_show(v) for v in sorted(runs[col].unique()))
            raise InputError(
                f"{name} = {_show(value)} is not in this batch (its values: {values})",
                source=str(results.path),
            )
        mask &= hit
    parts = [f"{k.removeprefix('param.')} = {_show(v)}" for k, v in where.items()]
    samples = results.design.get("samples") or {}
    if samples:
        parts.append(f"pooled over sampled {', '.join(samples)}")
    if not where and results.design.get("sweeps"):
        parts.append("pooled over all swept values")
    return runs[mask], "; ".join(parts)


def batch_label(results: Results) -> str:
    """The scenario's name and its --set overrides: "syria_withdrawal (budget_cut.level=0.4)"."""
    overrides = results.manifest["scenario"].get("overrides") or []
    return f"{results.name} ({', '.join(overrides)})" if overrides else results.name


def _labels(results_list: Sequence[Results]) -> list[str]:
    labels = [batch_label(r) for r in results_list]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} [{r.path.name}]" for lab, r in zip(labels, results_list, strict=True)]
    return labels


def _context(results: Results, n_runs: int, where_label: str) -> str:
    extra = f", {where_label}" if where_label else ""
    return f"{batch_label(results)}: {n_runs} runs{extra}"


def _partner_legend(ax) -> None:
    ax.legend(fontsize=TICK_SIZE, title="partner", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _style(ax, xlabel: str | None, ylabel: str | None, title: str | None = None) -> None:
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if title:
        ax.set_title(title, fontsize=LABEL_SIZE + 1)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)


# --- 1. trajectories --------------------------------------------------------------------------


def trajectories(
    results: Results,
    partners: Sequence[str] | None = None,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """Loyalty, trust and dependence of each partner over time: the median over runs with a
    10-90% band, one panel per variable (from the series table)."""
    partners = list(partners) if partners is not None else results.partners
    unknown = [p for p in partners if p not in results.partners]
    if unknown:
        raise InputError(f"no such partner in this batch: {', '.join(unknown)}", source="partners")
    colors = colors or partner_colors(results.partners)
    series = results.series
    if series.empty:
        raise InputError(
            "this batch recorded no series (--series none); trajectories need a batch run "
            "with --series all or --series every=K",
            source=str(results.path),
        )
    runs, where_label = select_runs(results, where)
    data = series[series["run_id"].isin(runs["run_id"]) & series["partner"].isin(partners)]
    grouped = data.groupby(["partner", "step"], sort=True)[list(VARIABLES)]
    q = {level: grouped.quantile(level) for level in (0.1, 0.5, 0.9)}

    fig = _new_figure(8.0, 9.0)
    axes = fig.subplots(len(VARIABLES), 1, sharex=True)
    for ax, var in zip(axes, VARIABLES, strict=True):
        for pid in partners:
            if pid not in q[0.5].index.get_level_values(0):
                continue
            steps = q[0.5].loc[pid].index.to_numpy()
            colour = colors[pid]
            ax.fill_between(
                steps,
                q[0.1].loc[pid][var].to_numpy(),
                q[0.9].loc[pid][var].to_numpy(),
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
            ax.plot(steps, q[0.5].loc[pid][var].to_numpy(), color=colour, linewidth=1.8, label=pid)
        ax.set_ylim(-0.02, 1.02)
        _style(ax, None, f"{var} score (0-1)", f"{var.capitalize()}: median and 10-90% band")
    _style(axes[-1], STEP_LABEL, None)
    _partner_legend(axes[0])
    fig.suptitle(
        "Loyalty, trust and dependence of each partner over time\n"
        + _context(results, len(runs), where_label),
        fontsize=TITLE_SIZE,
    )
    return fig


# --- 2. cumulative probabilities ----------------------------------------------------------------


def _first_steps(results: Results, kind: str) -> pd.DataFrame:
    if kind == "realign":
        return first_realignments(results)[["run_id", "partner", "step"]]
    ev = results.events
    ev = ev[ev["kind"] == kind]
    return ev.drop_duplicates(["run_id", "partner"], keep="first")[["run_id", "partner", "step"]]


def cumulative(
    results: Results,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """Cumulative probability of realignment and of collapse by each step, per partner (the
    share of runs whose first such event came at or before the step, from the events)."""
    colors = colors or partner_colors(results.partners)
    runs, where_label = select_runs(results, where)
    n = len(runs)
    steps = np.arange(results.steps + 1)
    fig = _new_figure(8.0, 6.5)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, kind, noun in zip(
        axes, ("realign", "collapse"), ("realignment", "collapse"), strict=True
    ):
        first = _first_steps(results, kind)
        first = first[first["run_id"].isin(runs["run_id"])]
        for pid in results.partners:
            when = np.sort(first.loc[first["partner"] == pid, "step"].to_numpy(dtype=float))
            share = np.searchsorted(when, steps, side="right") / n if n else np.zeros_like(steps)
            ax.step(steps, share, where="post", color=colors[pid], linewidth=1.8, label=pid)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(0, results.steps)
        _style(ax, None, f"P({noun} by step) (0-1)", f"Cumulative probability of {noun}")
    _style(axes[-1], STEP_LABEL, None)
    _partner_legend(axes[0])
    fig.suptitle(
        "Share of runs in which each partner has realigned / collapsed by each step\n"
        + _context(results, n, where_label),
        fontsize=TITLE_SIZE,
    )
    return fig


# --- 3. tipping curve -------------------------------------------------------------------------


def _finals(results: Results) -> pd.DataFrame:
    finals = results.finals()
    finals["realigned"] = finals["realign_step"].notna()
    return finals


def tipping_curve(
    results: Results,
    field: str | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """P(realign by the horizon) against a swept field, per partner, with Wilson 95% bands.

    Without `field`: the batch's one swept field, or with two swept fields a heat map per
    partner (P(realign) over the grid). A sampled (Latin hypercube) field is binned into ten
    equal-width bins. Other swept fields are pooled, and the title says so.
    """
    colors = colors or partner_colors(results.partners)
    sweeps = results.design.get("sweeps") or {}
    samples = results.design.get("samples") or {}
    if field is None:
        if len(sweeps) == 2:
            return _tipping_heatmap(results, list(sweeps))
        if len(sweeps) == 1:
            field = next(iter(sweeps))
        elif not sweeps and len(samples) == 1:
            field = next(iter(samples))
        elif not sweeps and not samples:
            raise InputError(
                "this batch sweeps no field; a tipping curve needs a batch run with --sweep "
                "(e.g. --sweep withdrawal.level=0,0.25,0.5,0.75,1)",
                source=str(results.path),
            )
        else:
            raise InputError(
                f"the batch varies {', '.join([*sweeps, *samples])}: say which field to draw "
                "against",
                source="field",
            )
    field = field.removeprefix("param.")
    if field not in sweeps and field not in samples:
        raise InputError(
            f"not a swept or sampled field of this batch: {field}", source=str(results.path)
        )
    col = f"param.{field}"
    finals = _finals(results)
    binned = field in samples
    if binned:
        low, high = samples[field]
        edges = np.linspace(low, high, 11)
        idx = np.clip(np.digitize(finals[col].to_numpy(float), edges[1:-1]), 0, 9)
        finals["x"] = (edges[idx] + edges[idx + 1]) / 2
    else:
        finals["x"] = finals[col].astype(float)
    pooled = [f for f in [*sweeps, *samples] if f != field]
    grouped = (
        finals.groupby(["partner", "x"], sort=True)
        .agg(runs=("run_id", "size"), k=("realigned", "sum"))
        .reset_index()
    )
    fig = _new_figure(8.0, 5.5)
    ax = fig.subplots()
    for pid in results.partners:
        g = grouped[grouped["partner"] == pid]
        low, high = wilson_interval(g["k"], g["runs"])
        x = g["x"].to_numpy(float)
        ax.fill_between(x, low, high, color=colors[pid], alpha=0.12, linewidth=0)
        ax.plot(
            x, (g["k"] / g["runs"]).to_numpy(), marker="o", color=colors[pid], label=pid, lw=1.8
        )
    ax.set_ylim(-0.02, 1.02)
    xlabel = f"{field} ({'binned sampled value' if binned else 'swept value'})"
    _style(ax, xlabel, f"P(realign by step {results.steps}) (0-1)")
    _partner_legend(ax)
    per = grouped.groupby("x")["runs"].first()
    runs_note = (
        f"{int(per.min())}" if per.min() == per.max() else f"{int(per.min())}-{int(per.max())}"
    )
    pooled_note = f"; pooled over {', '.join(pooled)}" if pooled else ""
    fig.suptitle(
        f"Tipping curve: probability of realigning by step {results.steps} against {field}\n"
        f"{batch_label(results)}: {runs_note} runs per value, Wilson 95% bands{pooled_note}",
        fontsize=TITLE_SIZE,
    )
    return fig


def _tipping_heatmap(results: Results, fields: list[str]) -> Figure:
    fy, fx = fields
    finals = _finals(results)
    cy, cx = f"param.{fy}", f"param.{fx}"
    ys = sorted(finals[cy].unique())
    xs = sorted(finals[cx].unique())
    partners = results.partners
    ncols = min(4, len(partners))
    nrows = math.ceil(len(partners) / ncols)
    fig = _new_figure(3.0 * ncols + 1.2, 2.8 * nrows + 1.0)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    table = finals.groupby(["partner", cy, cx])["realigned"].agg(["sum", "size"])
    image = None
    for ax, pid in zip(axes, partners, strict=False):
        grid = np.full((len(ys), len(xs)), np.nan)
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                if (pid, y, x) in table.index:
                    k, n = table.loc[(pid, y, x)]
                    grid[i, j] = k / n if n else np.nan
        image = ax.imshow(grid, cmap=HEATMAP, vmin=0, vmax=1, origin="lower", aspect="auto")
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i, j]
                if not np.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="black" if v > 0.55 else "white",
                    )
        ax.set_xticks(range(len(xs)), [_show(x) for x in xs])
        ax.set_yticks(range(len(ys)), [_show(y) for y in ys])
        _style(ax, fx, fy, pid)
        ax.grid(False)
    for ax in axes[len(partners) :]:
        ax.set_visible(False)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[: len(partners)].tolist(), shrink=0.8)
        bar.set_label(f"P(realign by step {results.steps}) (0-1)", fontsize=LABEL_SIZE)
    n = int(finals.groupby([cy, cx])["run_id"].nunique().min())
    fig.suptitle(
        f"Probability of realigning by step {results.steps} over {fy} x {fx}, per partner\n"
        f"{batch_label(results)}: {n} runs per cell",
        fontsize=TITLE_SIZE,
    )
    return fig


# --- 4. side by side --------------------------------------------------------------------------


def side_by_side(
    results_list: Sequence[Results],
    where: Sequence[dict[str, Any] | None] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """P(realign) and P(collapse) by the horizon per partner for two or more batches, with
    Wilson 95% intervals; each batch a colour and a marker, partners on the x axis (their
    tick labels in the partner's colour). `where` gives each batch's design point."""
    results_list = list(results_list)
    if not results_list:
        raise InputError("side_by_side needs at least one batch", source="plots")
    where = list(where) if where is not None else [None] * len(results_list)
    partners = _union_partners(results_list)
    colors = colors or partner_colors(partners)
    labels = _labels(results_list)
    fig = _new_figure(max(8.0, 1.1 * len(partners) + 3), 7.5)
    axes = fig.subplots(2, 1, sharex=True)
    width = 0.7
    step = width / len(results_list)
    notes = []
    for j, (res, w, label) in enumerate(zip(results_list, where, labels, strict=True)):
        runs, where_label = select_runs(res, w)
        finals = _finals(res)
        finals = finals[finals["run_id"].isin(runs["run_id"])]
        finals["collapsed"] = finals["collapse_step"].notna()
        agg = finals.groupby("partner").agg(
            n=("run_id", "size"), realign=("realigned", "sum"), collapse=("collapsed", "sum")
        )
        notes.append(
            f"{label}: {len(runs)} runs, {res.steps} steps"
            + (f", {where_label}" if where_label else "")
        )
        x = (
            np.array([partners.index(p) for p in agg.index], dtype=float)
            - width / 2
            + step * (j + 0.5)
        )
        for ax, outcome in zip(axes, ("realign", "collapse"), strict=True):
            p = (agg[outcome] / agg["n"]).to_numpy()
            low, high = wilson_interval(agg[outcome], agg["n"])
            ax.errorbar(
                x,
                p,
                # Wilson bounds can sit a rounding error inside p at 0 or 1
                yerr=np.clip([p - low, high - p], 0.0, None),
                fmt=BATCH_MARKERS[j % len(BATCH_MARKERS)],
                color=BATCH_COLOURS[j % len(BATCH_COLOURS)],
                markersize=6,
                capsize=3,
                linewidth=1.4,
                label=label,
            )
    for ax, noun in zip(axes, ("realigning", "collapsing"), strict=True):
        ax.set_ylim(-0.02, 1.02)
        _style(ax, None, "probability (0-1)", f"Probability of {noun} by the horizon")
    axes[-1].set_xticks(range(len(partners)), partners, rotation=30, ha="right")
    for tick, pid in zip(axes[-1].get_xticklabels(), partners, strict=True):
        tick.set_color(colors[pid])
    _style(axes[-1], "partner", None)
    axes[0].legend(fontsize=TICK_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="batch")
    fig.suptitle(
        "Realignment and collapse per partner in each batch, with Wilson 95% intervals\n"
        + "\n".join(notes),
        fontsize=TITLE_SIZE - 1,
    )
    return fig


# --- 5. network -------------------------------------------------------------------------------


def patron_states(
    results: Results, step: int, run_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Each (run, partner)'s state at the end of `step`: its patron, or "collapsed".

    Rebuilt from the events (every partner starts with the incumbent; a realignment changes
    the patron; a collapse is final), so it holds at any step, recorded in the series or not.
    """
    incumbent = results.manifest["scenario"]["resolved"]["incumbent"]
    ids = results.runs["run_id"].to_numpy() if run_ids is None else np.asarray(run_ids)
    base = pd.MultiIndex.from_product([ids, results.partners], names=["run_id", "partner"])
    state = pd.Series(incumbent, index=base, name="state", dtype=object)
    ev = results.events
    ev = ev[ev["run_id"].isin(ids) & (ev["step"] <= step)]
    realigned = ev[ev["kind"] == "realign"].drop_duplicates(["run_id", "partner"], keep="last")
    state.loc[list(zip(realigned["run_id"], realigned["partner"], strict=True))] = (
        realigned["to"].fillna("none").to_numpy()
    )
    collapsed = ev[ev["kind"] == "collapse"].drop_duplicates(["run_id", "partner"])
    if len(collapsed):
        state.loc[list(zip(collapsed["run_id"], collapsed["partner"], strict=True))] = "collapsed"
    return state.reset_index()


def network(
    results: Results,
    step: int | None = None,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
    seed: int = 7,
) -> Figure:
    """The alignment network at a step (default: the horizon): partners as nodes coloured by
    their patron at that step (the majority over the runs shown, its share in the label),
    arrows from each partner to those it watches, width by weight. networkx spring layout
    with a fixed seed, so the same batch gives the same picture."""
    import networkx as nx

    step = results.steps if step is None else int(step)
    if not 0 <= step <= results.steps:
        raise InputError(
            f"must be between 0 and the horizon {results.steps}, got {step}", source="--step"
        )
    partner_colours = colors or partner_colors(results.partners)
    runs, where_label = select_runs(results, where)
    states = patron_states(results, step, runs["run_id"].to_numpy())
    majority = {}
    for pid, g in states.groupby("partner", sort=False):
        counts = g["state"].value_counts()
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        majority[pid] = (top[0], top[1] / len(g))
    resolved = {p["id"]: p for p in results.manifest["scenario"]["resolved"]["partners"]}
    graph = nx.DiGraph()
    graph.add_nodes_from(results.partners)
    for pid in results.partners:
        for other, weight in (resolved.get(pid, {}).get("watches") or {}).items():
            if other in graph:
                graph.add_edge(pid, other, weight=float(weight))
    pos = nx.spring_layout(graph.to_undirected(), seed=seed, weight="weight")

    fig = _new_figure(8.5, 7.5)
    ax = fig.subplots()
    for u, v, data in graph.edges(data=True):
        ax.add_patch(
            FancyArrowPatch(
                pos[u],
                pos[v],
                arrowstyle="-|>",
                mutation_scale=14,
                linewidth=0.6 + 4.0 * data["weight"],
                color="0.55",
                connectionstyle="arc3,rad=0.12",
                shrinkA=17,
                shrinkB=17,
                zorder=1,
            )
        )
    pcolours = patron_colors(results)
    nodes = results.partners
    xy = np.array([pos[p] for p in nodes])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=900,
        c=[pcolours.get(majority[p][0], "#999999") for p in nodes],
        edgecolors=[partner_colours[p] for p in nodes],
        linewidths=3,
        zorder=2,
    )
    for p, (x, y) in zip(nodes, xy, strict=True):
        state, share = majority[p]
        ax.text(
            x,
            y - 0.13,
            f"{p}\n{state} {share:.0%}",
            ha="center",
            va="top",
            fontsize=TICK_SIZE,
            zorder=3,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0},
        )
    shown = sorted(
        {majority[p][0] for p in nodes},
        key=lambda s: list(pcolours).index(s) if s in pcolours else 99,
    )
    handles = [Patch(facecolor=pcolours.get(s, "#999999"), edgecolor="0.3", label=s) for s in shown]
    handles.append(Line2D([], [], color="0.55", linewidth=2.0, label="watches (width = weight)"))
    ax.legend(
        handles=handles,
        fontsize=TICK_SIZE,
        title="patron (fill)",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax.set_xlim(xy[:, 0].min() - 0.35, xy[:, 0].max() + 0.35)
    ax.set_ylim(xy[:, 1].min() - 0.4, xy[:, 1].max() + 0.3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("layout: networkx spring layout (no units)", fontsize=TICK_SIZE)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(
        f"Alignment network at step {step} (month {step}): partners filled with their patron\n"
        "(the majority over runs, share in the label), ringed in the partner's colour;\n"
        "arrows from watcher to watched, width = weight\n"
        + _context(results, len(runs), where_label),
        fontsize=TITLE_SIZE - 1,
    )
    return fig


# --- the standard set -------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "batch"


def save_figure(fig: Figure, path: Path, fmt: str) -> Path:
    """Write a figure atomically (temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format=fmt, dpi=150, metadata=_metadata(fmt))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _metadata(fmt: str) -> dict[str, Any] | None:
    if fmt == "png":
        return {"Software": "patronage"}
    if fmt in ("svg", "pdf"):
        return {"Date": None} if fmt == "svg" else {"CreationDate": None}
    return None


FORMATS = ("png", "svg", "pdf")


def standard_figures(
    results_list: Sequence[Results], step: int | None = None
) -> list[tuple[str, Figure]]:
    """The standard set as (file stem, Figure) pairs: per batch its trajectories (when it
    recorded a series), cumulative curves, tipping curve (when it sweeps or samples) and
    network; with two or more batches also the side-by-side comparison."""
    results_list = list(results_list)
    colors = partner_colors(_union_partners(results_list))
    out: list[tuple[str, Figure]] = []
    prefixes: list[str] = []
    for res in results_list:
        prefix = _slug(res.path.name) if len(results_list) > 1 else ""
        while prefix in prefixes and prefix:
            prefix += "_"
        prefixes.append(prefix)
        stem = f"{prefix}-" if prefix else ""
        if not res.series.empty:
            out.append((f"{stem}trajectories", trajectories(res, colors=colors)))
        out.append((f"{stem}cumulative", cumulative(res, colors=colors)))
        design = res.design
        if (design.get("sweeps") and len(design["sweeps"]) <= 2) or (
            not design.get("sweeps") and len(design.get("samples") or {}) == 1
        ):
            out.append((f"{stem}tipping", tipping_curve(res, colors=colors)))
        out.append((f"{stem}network", network(res, step=step, colors=colors)))
    if len(results_list) > 1:
        out.append(("side_by_side", side_by_side(results_list, colors=colors)))
    return out


def save_standard_set(
    results_list: Sequence[Results] | Results,
    out_dir: str | Path,
    fmt: str = "png",
    step: int | None = None,
) -> list[Path]:
    """Write the standard set of figures into `out_dir` (created if needed); return the paths.

    One batch: trajectories, cumulative, tipping (with a sweep), network, each `<name>.<fmt>`.
    Several: the same per batch prefixed by its folder name, and side_by_side.<fmt>.
    """
    if fmt not in FORMATS:
        raise InputError(f"must be one of {', '.join(FORMATS)}, got '{fmt}'", source="--format")
    if isinstance(results_list, Results):
        results_list = [results_list]
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", source=str(out))
    figures = standard_figures(results_list, step=step)
    out.mkdir(parents=True, exist_ok=True)
    return [save_figure(fig, out / f"{stem}.{fmt}", fmt) for stem, fig in figures]


__all__ = [
    "cumulative",
    "network",
    "partner_colors",
    "patron_colors",
    "patron_states",
    "save_standard_set",
    "side_by_side",
    "standard_figures",
    "tipping_curve",
    "trajectories",
]
