"""The watch network as a sparse matrix, and row sums rounded as the Mesa engine rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from patronage.engines.ensemble.codes import (
    COMPENSATED_SUM,
)


def py_max(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Elementwise Python max(a, b): a unless b is strictly greater (signed zeros included)."""
    return np.where(b > a, b, a)


@dataclass(frozen=True)
class Csr:
    """A sparse matrix in CSR form (numpy arrays; column indices sorted within each row)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]


def watch_matrix(rows: list[int], cols: list[int], weights: Any, n: int) -> Csr:
    """Who watches whom: row i holds the weights of the peers partner i watches, by index.

    `weights` is one weight per entry, or an array (runs, entries) when they differ by run.
    """
    rows_a = np.asarray(rows, dtype=np.int64)
    cols_a = np.asarray(cols, dtype=np.int64)
    order = np.lexsort((cols_a, rows_a))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows_a, minlength=n), out=indptr[1:])
    data = np.asarray(weights, dtype=np.float64)[..., order]
    return Csr(indptr, cols_a[order], data, (n, n))


class RowSums:
    """Products of a CSR matrix with vectors, rounded exactly as the Mesa engine rounds.

    The Mesa engine adds up w * x[j] over the peers a partner watches, sorted by id, left to
    right from 0.0. Here all rows advance together one entry at a time: the entries are
    stored by position in their row (all first entries, then all second entries, ...) and
    the rows sorted by degree, so that the rows with a k-th entry are a prefix and their
    k-th entries a slice. Work is linear in the number of entries (times the number of
    vectors). `compensated=True` reproduces Python 3.12's sum() instead (unused).
    """

    def __init__(self, matrix: Csr, compensated: bool = COMPENSATED_SUM) -> None:
        self.matrix = matrix
        self.compensated = compensated
        self.n = matrix.shape[0]
        degree = np.diff(matrix.indptr)
        order = np.argsort(-degree, kind="stable")
        self.order = order[degree[order] > 0]  # rows with entries, by decreasing degree
        first = matrix.indptr[self.order]
        sorted_degree = degree[self.order]
        max_degree = int(sorted_degree[0]) if sorted_degree.size else 0
        # rows with more than k entries: a prefix of `order`, of this length
        self.counts = [int(np.count_nonzero(sorted_degree > k)) for k in range(max_degree)]
        entries = np.concatenate(
            [first[:count] + k for k, count in enumerate(self.counts)] or [np.zeros(0, int)]
        )
        self.columns = matrix.indices[entries]
        self.weights = matrix.data[..., entries]  # (entries,) or (runs, entries)
        self.offsets = np.cumsum([0, *self.counts])
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, x: np.ndarray, runs: np.ndarray | None = None) -> np.ndarray:
        """Row sums of matrix * x for x of shape (partners,) or (m, partners).

        With weights per run, the result has a row per run; `runs` then picks the runs
        (the rows of x) when x holds only some of them.
        """
        weights = self.weights
        if runs is not None and weights.ndim == 2:
            weights = weights[runs]
        cached = self._cache.get(x.ndim) if runs is None else None
        if cached is not None and cached[0].shape == x.shape and np.array_equal(cached[0], x):
            return cached[1]  # the schedule is often flat: nothing to recompute
        out = np.zeros((*np.broadcast_shapes(x.shape[:-1], weights.shape[:-1]), self.n))
        if self.order.size:
            products = weights * x[..., self.columns]
            total = 0.0 + products[..., : self.counts[0]]
            carry = np.zeros(total.shape) if self.compensated else None
            for k in range(1, len(self.counts)):
                count = self.counts[k]
                item = products[..., self.offsets[k] : self.offsets[k + 1]]
                head = total[..., :count]
                if carry is None:
                    head += item
                    continue
                new = head + item
                carry[..., :count] += np.where(
                    np.abs(head) >= np.abs(item), (head - new) + item, (item - new) + head
                )
                head[...] = new
            if carry is not None:
                fix = (carry != 0.0) & np.isfinite(carry)
                total = np.where(fix, total + carry, total)
            out[..., self.order] = total
        if runs is None:
            self._cache[x.ndim] = (x.copy(), out)
        return out
