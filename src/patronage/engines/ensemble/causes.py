"""Per-cell choices the ensemble's tables cannot hold: event causes and triggers
(rules.cause_term for many (run, partner) cells), and the incumbent remembered by a partner
that has left it."""

from __future__ import annotations

import numpy as np

from patronage.engines.ensemble.codes import BELOW_THREAT, COLLAPSE, INITIAL_STATE, N_TERMS, UNHEDGE
from patronage.model import rules


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


def causes_and_triggers(
    kind: np.ndarray,
    terms: tuple[np.ndarray, ...],
    reference: np.ndarray,
    recent: np.ndarray,
    r: np.ndarray,
    i: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cause (against the relationship's start) and trigger (against the recent average) of
    each event at cells (r, i), as indices in CAUSES; a collapse has BELOW_THREAT for both."""
    cause = np.full(r.size, BELOW_THREAT, dtype=np.int8)
    trigger = cause.copy()
    judged = kind != COLLAPSE
    if judged.any():
        rj, ij = r[judged], i[judged]
        leaving = kind[judged] != UNHEDGE
        cause[judged] = top_terms(terms, reference, rj, ij, leaving)
        trigger[judged] = top_terms(terms, recent, rj, ij, leaving)
    return cause, trigger


def with_remembered_incumbent(
    best: np.ndarray,
    best_pull: np.ndarray,
    best_offer: np.ndarray,
    with_incumbent: np.ndarray,
    value_at_exit: np.ndarray,
    back_offer: np.ndarray,
    w_offer,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tables' best alternative, or the incumbent where a partner has left it and its
    remembered pull (rules.remembered_pull) is at least as strong: it comes first in canonical
    order, so it wins ties, as in Partner._best_alternative."""
    if with_incumbent.all():
        return best, best_pull, best_offer
    back_pull = rules.remembered_pull(value_at_exit, back_offer, w_offer)
    back = ~with_incumbent & (back_pull >= best_pull)
    return (
        np.where(back, 0, best),
        np.where(back, back_pull, best_pull),
        np.where(back, back_offer, best_offer),
    )
