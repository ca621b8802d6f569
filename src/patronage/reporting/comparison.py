"""A comparison of two batches as people read it: proportions, differences, p-values, notes."""

from __future__ import annotations

import math

import pandas as pd

from patronage.analysis.compare import notes
from patronage.reporting.tables import render

__all__ = ["display", "format_p", "render_comparison"]


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """A readable version of a comparison for the terminal and Markdown."""
    cols = [c for c in frame.columns if c.startswith("param.")]
    shown = frame[cols].copy()
    shown.columns = [c.removeprefix("param.") for c in cols]
    shown["partner"] = frame["partner"].to_numpy()
    shown["outcome"] = frame["outcome"].to_numpy()
    shown["A"] = [proportion_text(k, n) for k, n in frame[["k_a", "n_a"]].to_numpy()]
    shown["B"] = [proportion_text(k, n) for k, n in frame[["k_b", "n_b"]].to_numpy()]
    shown["B - A [95% CI]"] = [
        "-" if math.isnan(d) else f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        for d, lo, hi in frame[["diff", "diff_low", "diff_high"]].to_numpy(float)
    ]
    shown["test"] = frame["test"].to_numpy()
    shown["p"] = [format_p(p) for p in frame["p_value"].to_numpy(float)]
    shown["p (Holm)"] = [format_p(p) for p in frame["p_holm"].to_numpy(float)]
    shown["median step A"] = [step_text(v) for v in frame["median_step_a"].to_numpy(float)]
    shown["median step B"] = [step_text(v) for v in frame["median_step_b"].to_numpy(float)]
    shown["new patrons A"] = frame["new_patrons_a"].to_numpy()
    shown["new patrons B"] = frame["new_patrons_b"].to_numpy()
    return shown


def format_p(p: float) -> str:
    """A p-value for a table: three decimals, or `<0.001`."""
    if math.isnan(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def proportion_text(k: int, n: int) -> str:
    return f"{k / n:.3f} ({k}/{n})" if n else "-"


def step_text(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:g}"


def render_comparison(frame: pd.DataFrame, fmt: str) -> str:
    """The comparison in one of formats.FORMATS; table and Markdown end with the notes."""
    text = render(frame, fmt, display(frame))
    if fmt == "table":
        return text + "\n\n" + "\n".join(f"* {line}" for line in notes(frame))
    if fmt == "markdown":
        return text + "\n\n" + "\n".join(f"- {line}" for line in notes(frame))
    return text
