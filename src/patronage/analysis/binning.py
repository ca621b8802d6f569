"""Bins for summaries of designs with many points: a continuous design field is split into
equal-count bins so that `summary --by PATH` gives a few rows, not one per point."""

from __future__ import annotations

import pandas as pd

DEFAULT_BINS = 5


def needs_bins(column: pd.Series, bins: int) -> bool:
    """A numeric field with more distinct values than bins (a Latin hypercube or sensitivity
    design) is binned; a sweep's few values are kept as they are."""
    return pd.api.types.is_numeric_dtype(column) and column.nunique(dropna=True) > bins


def binned(column: pd.Series, bins: int = DEFAULT_BINS) -> pd.Series:
    """Equal-count (quantile) bins of a numeric column, labelled `low-high` in order."""
    cut = pd.qcut(column, q=bins, duplicates="drop")
    labels = [f"{i.left:.4g}-{i.right:.4g}" for i in cut.cat.categories]
    return cut.cat.rename_categories(labels)


def pooled_note(design: dict, n_points: int) -> str | None:
    """What a summary without --by pools, for designs whose points are not a grid."""
    if design.get("explicit"):
        kind = "explicit design points"
    elif design.get("samples"):
        kind = "Latin hypercube points"
    else:
        return None
    return (
        f"pooled over {n_points} {kind}: each row mixes every point; split them with "
        "--by PATH (continuous fields are binned: --bins N)"
    )
