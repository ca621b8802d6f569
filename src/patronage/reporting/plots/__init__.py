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

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from patronage.atomic import write_atomic
from patronage.errors import InputError
from patronage.reporting.plots.network import network, patron_states
from patronage.reporting.plots.side_by_side import side_by_side
from patronage.reporting.plots.style import (
    batch_label,
    partner_colors,
    patron_colors,
    select_runs,
    union_partners,
)
from patronage.reporting.plots.tipping import tipping_curve
from patronage.reporting.plots.trajectories import cumulative, trajectories
from patronage.results.folder import Results
from patronage.results.params import show_value

__all__ = [
    "FORMATS",
    "batch_label",
    "cumulative",
    "network",
    "partner_colors",
    "patron_colors",
    "patron_states",
    "save_figure",
    "save_standard_set",
    "select_runs",
    "side_by_side",
    "standard_figures",
    "tipping_curve",
    "trajectories",
]

# --- the standard set -------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "batch"


def save_figure(fig: Figure, path: Path, fmt: str) -> Path:
    """Write a figure atomically (temporary name, then rename)."""
    return write_atomic(
        path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=150, metadata=metadata(fmt))
    )


def metadata(fmt: str) -> dict[str, Any] | None:
    if fmt == "png":
        return {"Software": "patronage"}
    if fmt in ("svg", "pdf"):
        return {"Date": None} if fmt == "svg" else {"CreationDate": None}
    return None


FORMATS = ("png", "svg", "pdf")


MAX_LEVEL_FIGURES = 8  # a sweep of at most this many points gets a figure per point
MAX_PARTNERS_DRAWN = 12  # the palette's distinct colours: beyond, the likeliest are drawn
MAX_NETWORK = 60  # partners; a larger network is no picture, and is left out of the set


def drawn_partners(results_list: Sequence[Results]) -> list[str] | None:
    """The partners a figure can show: all (None) up to MAX_PARTNERS_DRAWN, else those most
    likely to realign or collapse in any batch (ties by name)."""
    union = union_partners(results_list)
    if len(union) <= MAX_PARTNERS_DRAWN:
        return None
    best: dict[str, float] = {}
    for res in results_list:
        summary = res.summary()
        likely = summary[["p_realign", "p_collapse"]].max(axis=1).groupby(summary["partner"]).max()
        for pid, p in likely.items():
            best[str(pid)] = max(best.get(str(pid), 0.0), float(p))
    ranked = sorted(union, key=lambda pid: (-best.get(pid, 0.0), pid))
    return sorted(ranked[:MAX_PARTNERS_DRAWN])


def design_points(results: Results) -> list[dict[str, Any] | None]:
    """The swept points drawn one figure each, or [None] (the default point, or pooled)."""
    design = results.design
    points = results.manifest.get("points") or []
    if design.get("sweeps") and not design.get("samples") and len(points) <= MAX_LEVEL_FIGURES:
        return [dict(p) for p in points]
    return [None]


def point_suffix(where: dict[str, Any] | None) -> str:
    """`-withdrawal.level_0.5` for a point; "" for the default."""
    if not where:
        return ""
    return "-" + "-".join(slug(f"{k}_{show_value(v)}") for k, v in where.items())


def standard_figures(
    results_list: Sequence[Results], step: int | None = None
) -> list[tuple[str, Figure]]:
    """The standard set as (file stem, Figure) pairs: per batch its trajectories (when it
    recorded a series), cumulative curves and network, one figure per swept point named by
    it (e.g. `cumulative-withdrawal.level_0.5`), and its tipping curve (when it sweeps or
    samples); with two or more batches also the side-by-side comparison, per point when
    they sweep the same values. Of more than 12 partners the 12 likeliest to realign or
    collapse are drawn, and no network of more than 60."""
    results_list = list(results_list)
    drawn = drawn_partners(results_list)
    colors = partner_colors(drawn if drawn is not None else union_partners(results_list))
    out: list[tuple[str, Figure]] = []
    prefixes: list[str] = []
    for res in results_list:
        prefix = slug(res.path.name) if len(results_list) > 1 else ""
        while prefix in prefixes and prefix:
            prefix += "_"
        prefixes.append(prefix)
        stem = f"{prefix}-" if prefix else ""
        points = design_points(res)
        if not res.series.empty:
            for w in points:
                fig = trajectories(res, drawn, where=w, colors=colors)
                out.append((f"{stem}trajectories{point_suffix(w)}", fig))
        for w in points:
            fig = cumulative(res, w, colors, partners=drawn)
            out.append((f"{stem}cumulative{point_suffix(w)}", fig))
        design = res.design
        if (design.get("sweeps") and len(design["sweeps"]) <= 2) or (
            not design.get("sweeps") and len(design.get("samples") or {}) == 1
        ):
            out.append((f"{stem}tipping", tipping_curve(res, colors=colors, partners=drawn)))
        for w in points if len(res.partners) <= MAX_NETWORK else []:
            fig = network(res, step=step, where=w, colors=colors)
            out.append((f"{stem}network{point_suffix(w)}", fig))
        out.extend((f"{stem}{name}", fig) for name, fig in sensitivity_figures(res))
    if len(results_list) > 1:
        shared = [design_points(r) for r in results_list]
        same = all(p == shared[0] for p in shared) and shared[0] != [None]
        for w in shared[0] if same else [None]:
            fig = side_by_side(
                results_list, where=[w] * len(results_list), colors=colors, partners=drawn
            )
            out.append((f"side_by_side{point_suffix(w)}", fig))
    return out


def sensitivity_figures(results: Results) -> list[tuple[str, Figure]]:
    """A sensitivity folder's ranked indices of P(realign) and P(collapse); none otherwise."""
    from patronage.analysis.sensitivity import read_indices
    from patronage.reporting.sensitivity import SHOWN_OUTPUTS, indices_figure

    indices = read_indices(results)
    if indices is None:
        return []
    method = results.manifest["sensitivity"]["method"]
    return [
        (f"sensitivity-{output}", indices_figure(indices, method, output))
        for output in SHOWN_OUTPUTS
    ]


def save_standard_set(
    results_list: Sequence[Results] | Results,
    out_dir: str | Path,
    fmt: str = "png",
    step: int | None = None,
) -> list[Path]:
    """Write the standard set of figures into `out_dir` (created if needed); return the paths.

    One batch: trajectories, cumulative, tipping (with a sweep), network, each `<name>.<fmt>`
    (per swept point `<name>-<field>_<value>.<fmt>`). Several: the same per batch prefixed by
    its folder name, and side_by_side.<fmt>.
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
