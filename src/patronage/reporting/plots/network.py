"""The alignment network at a step: who watches whom, and who is with which patron."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

from patronage.errors import InputError
from patronage.reporting.plots.style import (
    TICK_SIZE,
    context,
    new_figure,
    partner_colors,
    patron_colors,
    select_runs,
    titled,
)
from patronage.results.folder import Results

# --- 5. network -------------------------------------------------------------------------------


def patron_states(
    results: Results, step: int, run_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Each (run, partner)'s state at the end of `step`: its patron, or "collapsed".

    Rebuilt from the events (every partner starts with the incumbent; a realignment changes
    the patron; a collapse is final), so it holds at any step, recorded in the series or not.
    """
    incumbent = results.incumbent
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


def majority_states(states: pd.DataFrame) -> dict[str, tuple[str, float]]:
    """Each partner's most common state over the runs shown and its share; ties go to the
    alphabetically first state, so the same batch always gives the same label."""
    majority = {}
    for pid, g in states.groupby("partner", sort=False):
        counts = g["state"].value_counts()
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        majority[str(pid)] = (str(top[0]), top[1] / len(g))
    return majority


def _watch_graph(results: Results) -> tuple[Any, dict[str, np.ndarray]]:
    """Who watches whom as a weighted digraph, and the node positions: a circle on which
    members of a group (the PMF factions) sit side by side, so arrows cross the middle
    rather than knot there."""
    import networkx as nx

    resolved = {p["id"]: p for p in results.resolved["partners"]}
    graph = nx.DiGraph()
    graph.add_nodes_from(results.partners)
    for pid in results.partners:
        for other, weight in (resolved.get(pid, {}).get("watches") or {}).items():
            if other in graph:
                graph.add_edge(pid, other, weight=float(weight))
    group_of = {pid: resolved.get(pid, {}).get("group") or "" for pid in results.partners}
    ring = sorted(results.partners, key=lambda pid: (group_of[pid] or pid, pid))
    return graph, nx.circular_layout(nx.path_graph(ring))


def _draw_arrows(ax: Any, graph: Any, pos: dict[str, Any]) -> None:
    for u, v, data in graph.edges(data=True):
        weight = data["weight"]
        ax.add_patch(
            FancyArrowPatch(
                pos[u],
                pos[v],
                arrowstyle="-|>",
                mutation_scale=10 + 8 * weight,
                linewidth=0.5 + 5.0 * weight,
                color="0.35",
                alpha=0.35 + 0.5 * min(1.0, weight),
                connectionstyle="arc3,rad=0.15",  # A->B and B->A bow apart
                shrinkA=20,
                shrinkB=20,
                zorder=1,
            )
        )


def _draw_nodes(
    ax: Any,
    nodes: list[str],
    pos: dict[str, np.ndarray],
    majority: dict[str, tuple[str, float]],
    fill: dict[str, str],
    ring: dict[str, str],
) -> None:
    xy = np.array([pos[p] for p in nodes])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=900,
        c=[fill.get(majority[p][0], "#999999") for p in nodes],
        edgecolors=[ring[p] for p in nodes],
        linewidths=3,
        zorder=2,
    )
    for p, (x, y) in zip(nodes, xy, strict=True):
        state, share = majority[p]
        ax.text(
            x * 1.28,
            y * 1.28,
            f"{p}\n{state} {share:.0%}",
            ha="center",
            va="center",
            fontsize=TICK_SIZE,
            zorder=3,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0},
        )


def _legend(ax: Any, shown_states: set[str], fill: dict[str, str]) -> None:
    shown = sorted(shown_states, key=lambda s: list(fill).index(s) if s in fill else 99)
    handles: list[Artist] = [
        Patch(facecolor=fill.get(s, "#999999"), edgecolor="0.3", label=s) for s in shown
    ]
    handles += [
        Line2D([], [], color="0.35", linewidth=0.5 + 5.0 * w, label=f"watches, weight {w:g}")
        for w in (0.2, 0.5, 1.0)
    ]
    ax.legend(
        handles=handles,
        fontsize=TICK_SIZE,
        title="patron (fill)",
        loc="upper right",  # the corner the circle leaves free
        framealpha=0.9,
    )


def network(
    results: Results,
    step: int | None = None,
    where: dict[str, Any] | None = None,
    colors: dict[str, str] | None = None,
) -> Figure:
    """The alignment network at a step (default: the horizon): partners as nodes coloured by
    their patron at that step (the majority over the runs shown, its share in the label),
    arrows from each partner to those it watches, width by weight. Partners sit on a circle,
    members of a group (the PMF factions) side by side, so arrows cross the middle rather
    than knot there; the same batch always gives the same picture."""
    step = results.steps if step is None else int(step)
    if not 0 <= step <= results.steps:
        raise InputError(
            f"must be between 0 and the horizon {results.steps}, got {step}", source="--step"
        )
    runs, where_label = select_runs(results, where)
    majority = majority_states(patron_states(results, step, runs["run_id"].to_numpy()))
    graph, pos = _watch_graph(results)
    fill = patron_colors(results)

    fig = new_figure(9.0, 7.5)
    ax = fig.subplots()
    _draw_arrows(ax, graph, pos)
    nodes = list(results.partners)
    _draw_nodes(ax, nodes, pos, majority, fill, colors or partner_colors(results.partners))
    _legend(ax, {majority[p][0] for p in nodes}, fill)
    ax.set_xlim(-1.55, 1.95)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    titled(
        fig,
        f"Alignment network at step {step} ({where_label or 'all runs'})",
        [
            context(results, len(runs), where_label),
            "Fill: the partner's patron at that step (the majority over runs, its share in the "
            "label); ring: the partner's colour.",
            "Arrows from watcher to watched, wider and darker for heavier weights: a watcher "
            "loses trust when those it watches are abandoned.",
        ],
    )
    return fig
