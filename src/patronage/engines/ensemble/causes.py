"""Event causes and triggers on arrays: rules.cause_term for many (run, partner) cells."""

from __future__ import annotations

import numpy as np

from patronage.engines.ensemble.codes import INITIAL_STATE, N_TERMS


def top_terms(
    terms: tuple[np.ndarray, ...],
    reference: np.ndarray,
    r: np.ndarray,
    i: np.ndarray,
    leaving: np.ndarray,
) -> np.ndarray:
    """rules.cause_term for the cells (r, i): index in CAUSES of the term that moved most."""
    change = np.stack([terms[k][r, i] - reference[k, r, i] for k in range(N_TERMS)])
    top = np.where(leaving, np.argmax(change, axis=0), np.argmin(change, axis=0))
    moved_by = change[top, np.arange(top.size)]
    moved = np.where(leaving, moved_by > 1e-12, moved_by < -1e-12)
    return np.where(moved, top, INITIAL_STATE)
