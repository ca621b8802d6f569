"""How a comparison reads: p-values, proportions, steps and the notes under the table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from patronage.reporting.comparison import (
    display,
    format_p,
    proportion_text,
    render_comparison,
    step_text,
)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<0.001"),
        (1e-300, "<0.001"),
        (0.000999, "<0.001"),  # would round to "0.001": it is below
        (0.001, "0.001"),
        (0.0123, "0.012"),
        (0.0499, "0.050"),
        (1.0, "1.000"),
        (math.nan, "-"),  # no test (an empty sample)
    ],
)
def test_p_values_never_print_as_zero(p, text):
    assert format_p(p) == text


def test_proportions_and_steps():
    assert proportion_text(3, 12) == "0.250 (3/12)"
    assert proportion_text(0, 0) == "-"
    assert step_text(12.0) == "12" and step_text(12.5) == "12.5" and step_text(math.nan) == "-"


def frame() -> pd.DataFrame:
    rows = {
        "param.withdrawal.level": [1.0],
        "partner": ["assad"],
        "outcome": ["realign"],
        "n_a": [20],
        "k_a": [2],
        "n_b": [20],
        "k_b": [15],
        "diff": [0.65],
        "diff_low": [0.3711],
        "diff_high": [0.8123],
        "test": ["z test"],
        "p_value": [2.1e-5],
        "p_holm": [4.2e-5],
        "median_step_a": [30.0],
        "median_step_b": [7.5],
        "new_patrons_a": ["russia 1.00"],
        "new_patrons_b": ["russia 0.80, none 0.20"],
    }
    out = pd.DataFrame(rows)
    out.attrs["notes"] = ["A: first", "B: second"]
    return out


def test_display_row():
    shown = display(frame())
    assert shown.iloc[0].to_dict() == {
        "withdrawal.level": 1.0,
        "partner": "assad",
        "outcome": "realign",
        "A": "0.100 (2/20)",
        "B": "0.750 (15/20)",
        "B - A [95% CI]": "+0.650 [+0.371, +0.812]",
        "test": "z test",
        "p": "<0.001",
        "p (Holm)": "<0.001",
        "median step A": "30",
        "median step B": "7.5",
        "new patrons A": "russia 1.00",
        "new patrons B": "russia 0.80, none 0.20",
    }


@pytest.mark.parametrize("missing", [math.nan, None], ids=["nan", "none"])
def test_display_of_a_row_without_runs_in_b(missing):
    # B has no runs at this value (a narrower sweep): no difference, no test, no median; no
    # run of A realigned: no median in A either. Missing numbers read as "-" whether NaN or
    # None (as a frame built from JSON records holds them).
    row = frame()
    row = row.astype({c: object for c in ("diff", "diff_low", "diff_high", "p_value")})
    row = row.astype({c: object for c in ("p_holm", "median_step_a", "median_step_b")})
    row.loc[0, ["n_b", "k_b", "k_a"]] = 0
    for column in ("diff", "diff_low", "diff_high", "p_value", "p_holm"):
        row.loc[0, column] = missing
    for column in ("median_step_a", "median_step_b"):
        row.loc[0, column] = missing
    row.loc[0, "test"] = "-"
    shown = display(row).iloc[0]
    assert shown["B"] == "-" and shown["B - A [95% CI]"] == "-"
    assert shown["p"] == "-" and shown["p (Holm)"] == "-" and shown["median step B"] == "-"
    assert shown["A"] == "0.000 (0/20)" and shown["median step A"] == "-"


def test_notes_follow_the_table_and_markdown_but_not_data_formats():
    table = render_comparison(frame(), "table")
    assert table.endswith("\n\n* A: first\n* B: second")
    markdown = render_comparison(frame(), "markdown")
    assert markdown.startswith("| withdrawal.level | partner | outcome |")
    assert markdown.endswith("\n\n- A: first\n- B: second")
    for fmt in ("csv", "json"):
        assert "A: first" not in render_comparison(frame(), fmt)
