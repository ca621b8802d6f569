"""Sensitivity indices for people: a ranked table and a figure of ranked bars with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from patronage.reporting.plots.style import LABEL_SIZE, TITLE_SIZE, new_figure, style

SHOWN_OUTPUTS = ("p_realign", "p_collapse")
TOP = 8  # factors shown per partner and output in the terminal table and the figure
OUTPUT_LABELS = {"p_realign": "P(realign)", "p_collapse": "P(collapse)"}


def varying(indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """Rows of (partner, output) pairs whose output varies over the design: a constant
    output has every Morris effect 0 and no Sobol' indices, and is left out of displays."""
    key = "mu_star" if method == "morris" else "ST"
    keep = indices.groupby(["partner", "output"])[key].transform(lambda s: s.fillna(0).max() > 0)
    return indices[keep]


def indices_display(
    indices: pd.DataFrame, method: str, top: int = TOP, outputs=SHOWN_OUTPUTS
) -> pd.DataFrame:
    """The `top` factors of each partner's P(realign) and P(collapse), with 95% intervals."""
    shown = varying(indices[indices["output"].isin(outputs)], method)
    shown = shown[shown["rank"] <= top]
    if method == "morris":
        cells = {
            "mu*": shown["mu_star"].map("{:.3f}".format),
            "95% CI": [
                f"[{max(m - c, 0.0):.3f}, {m + c:.3f}]"  # mu* >= 0
                for m, c in zip(shown["mu_star"], shown["mu_star_conf"], strict=True)
            ],
            "sigma": shown["sigma"].map("{:.3f}".format),
        }
    else:
        cells = {
            "S1 [95% CI]": _with_ci(shown["S1"], shown["S1_conf"]),
            "ST [95% CI]": _with_ci(shown["ST"], shown["ST_conf"]),
        }
    return pd.DataFrame(
        {
            "partner": shown["partner"],
            "output": shown["output"].map(lambda o: OUTPUT_LABELS.get(o, o)),
            "rank": shown["rank"],
            "factor": shown["factor"],
            **cells,
        }
    ).reset_index(drop=True)


def _with_ci(values: pd.Series, conf: pd.Series) -> list[str]:
    return [f"{v:.3f} [{v - c:.3f}, {v + c:.3f}]" for v, c in zip(values, conf, strict=True)]


def _errors(values: pd.Series, conf: pd.Series) -> np.ndarray:
    """Error bars of a 95% interval, cut at 0 below (mu* and ST are never negative)."""
    value, half = values.to_numpy(float), np.nan_to_num(conf.to_numpy(float))
    return np.vstack([np.minimum(half, np.maximum(value, 0)), half])


def indices_figure(
    indices: pd.DataFrame, method: str, output: str = "p_realign", top: int = TOP
) -> Figure:
    """One panel per partner whose output varies: its `top` factors ranked by mu* (Morris)
    or ST (Sobol', S1 drawn as a second bar), with 95% intervals as error bars."""
    rows = varying(indices[indices["output"] == output], method)
    partners = sorted(rows["partner"].unique())
    label = OUTPUT_LABELS.get(output, output)
    n = max(len(partners), 1)
    shown = min(top, rows["factor"].nunique() or 1)
    fig = new_figure(6.5, (0.3 * shown + 0.8) * n + 0.6)
    if not partners:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, f"{label} is the same at every design point", ha="center")
        ax.set_axis_off()
        return fig
    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    for i, partner in enumerate(partners):
        ax = fig.add_subplot(n, 1, i + 1)
        part = rows[(rows["partner"] == partner) & (rows["rank"] <= top)].sort_values("rank")
        y = np.arange(len(part))[::-1]
        ax.barh(y, part[key], xerr=part[conf], color="#0072B2", capsize=2, label=key)
        if method == "sobol":
            ax.barh(
                y - 0.3,
                part["S1"],
                height=0.3,
                xerr=part["S1_conf"],
                color="#E69F00",
                capsize=2,
                label="S1",
            )
            ax.legend(fontsize=LABEL_SIZE - 2, loc="lower right")
        ax.set_yticks(y, [f.removeprefix("coefficients.") for f in part["factor"]])
        xlabel = (
            f"mu* (change in {label} across the range)"
            if method == "morris"
            else f"share of the variance of {label}"
        )
        style(ax, xlabel if i == n - 1 else None, None, partner)
    fig.suptitle(
        f"Which inputs drive {label}: {'Morris mu*' if method == 'morris' else 'Sobol ST, S1'} "
        "with 95% intervals",
        fontsize=TITLE_SIZE,
    )
    return fig
