"""Rendering tables for people (terminal, Markdown) and for programs (CSV, JSON)."""

from __future__ import annotations

import json
import math

import pandas as pd

FORMATS = ("table", "csv", "markdown", "json")


def render(frame: pd.DataFrame, fmt: str, display: pd.DataFrame | None = None) -> str:
    """`frame` holds the raw numbers (csv, json); `display` a readable version (table, md)."""
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n").rstrip("\n")
    if fmt == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return json.dumps(records, indent=2, default=_json_default)
    shown = frame if display is None else display
    cells = [[cell_text(v) for v in row] for row in shown.itertuples(index=False)]
    headers = [str(c) for c in shown.columns]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def cell_text(value: object) -> str:
    """A table cell as text: `-` for missing, at most three decimals for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def interval(p: float, low: float, high: float) -> str:
    """A share with its interval, as tables print it."""
    return f"{p:.3f} [{low:.3f}, {high:.3f}]"


def summary_display(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with each probability and its interval in one readable column."""
    keep = [c for c in summary.columns if c.startswith("param.")] + ["partner", "runs"]
    shown = summary[keep].copy()
    shown.columns = [c.removeprefix("param.") for c in keep]
    shown["P(realign) [95% CI]"] = [
        interval(p, lo, hi)
        for p, lo, hi in summary[["p_realign", "p_realign_low", "p_realign_high"]].to_numpy()
    ]
    shown["P(collapse) [95% CI]"] = [
        interval(p, lo, hi)
        for p, lo, hi in summary[["p_collapse", "p_collapse_low", "p_collapse_high"]].to_numpy()
    ]
    shown["top new patron"] = summary["top_new_patron"].fillna("-").to_numpy()
    # the median of the first realignment's step, over the runs where the partner realigned
    shown["median realign step"] = summary["median_realign_step"].to_numpy()
    finals = [c for c in summary.columns if c.startswith("final.")]
    if finals:
        shown[HORIZON_COLUMN] = [
            final_text(dict(zip(finals, row, strict=True)))
            for row in summary[finals].to_numpy(dtype=float)
        ]
    return shown


def final_text(shares: dict[str, float]) -> str:
    """'aligned 0.23, russia 0.48, collapsed 0.29': the states held by some run."""
    held = [(k.removeprefix("final."), v) for k, v in shares.items() if v > 0]
    return ", ".join(f"{k} {v:.2f}" for k, v in held) if held else "-"


HORIZON_COLUMN = "at horizon: shares (sum 1; no events after it)"
SUMMARY_NOTE = (
    "P(realign), P(collapse): ever, before the horizon (a partner that realigns and then "
    "collapses counts in both). At horizon: where the runs stand when they stop (events "
    "after the horizon are not simulated; hedging = still undecided)."
)


MAX_ROWS = 60  # a summary longer than this prints its TOP_ROWS likeliest rows and a count
TOP_ROWS = 30


def bounded_summary(summary: pd.DataFrame, show_all: bool = False) -> tuple[pd.DataFrame, str]:
    """The rows of a summary worth printing, and a note on those left out.

    A 100,000-partner batch has 100,000 rows: without `show_all`, a summary over MAX_ROWS
    rows keeps its TOP_ROWS rows with the highest P(realign) or P(collapse) (ties in table
    order) and says how many it left out and how to see them.
    """
    if show_all or len(summary) <= MAX_ROWS:
        return summary, ""
    likeliest = summary[["p_realign", "p_collapse"]].max(axis=1)
    order = likeliest.sort_values(ascending=False, kind="stable").index[:TOP_ROWS]
    rest = len(summary) - TOP_ROWS
    note = (
        f"... and {rest:,} more rows with lower probabilities (the {TOP_ROWS} likeliest of "
        f"{len(summary):,} rows shown, by P(realign) or P(collapse); --all prints every row, "
        "--format csv the full table)"
    )
    return summary.loc[order], note


def render_summary(summary: pd.DataFrame, fmt: str, show_all: bool = False) -> str:
    """A summary for the terminal (bounded unless `show_all`) or in full for programs."""
    if fmt in ("csv", "json"):
        return render(summary, fmt)
    shown, note = bounded_summary(summary, show_all)
    text = render(shown, fmt, summary_display(shown))
    return f"{text}\n{note}" if note else text
