"""The parts of a scenario that every run shares, as arrays in canonical order."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from patronage.engines.ensemble.codes import (
    DENSE_UP_TO,
)
from patronage.engines.ensemble.network import RowSums, py_max, watch_matrix
from patronage.model import rules
from patronage.model.withdrawal import withdrawal_schedule
from patronage.scenario.schema import NONE_PATRON, Scenario

# --- the parts of a scenario that every run shares -------------------------------------------


class Static:
    """Arrays of a scenario in canonical order (partners sorted; patrons incumbent first)."""

    def __init__(self, scenario: Scenario) -> None:
        s = scenario
        c = s.coefficients
        self.scenario = s
        self.c = c
        self.partner_ids = s.partner_ids()
        self.patron_ids = s.patron_ids()
        self.alternatives = [*self.patron_ids, NONE_PATRON]  # columns of every choice table
        self.n = n = len(self.partner_ids)
        self.n_patrons = n_patrons = len(self.patron_ids)
        self.none = n_patrons  # the column of standing alone
        index = {pid: i for i, pid in enumerate(self.partner_ids)}
        patron_index = {pid: j for j, pid in enumerate(self.patron_ids)}
        specs = {p.id: p for p in s.partners}
        ordered = [specs[pid] for pid in self.partner_ids]

        def values(get) -> np.ndarray:
            return np.array([float(get(p)) for p in ordered], dtype=np.float64)

        self.loyalty = values(lambda p: p.loyalty)
        self.dependence = values(lambda p: p.dependence)
        self.trust = values(lambda p: c.trust_prior if p.trust is None else p.trust)
        self.strength = values(lambda p: p.strength)
        self.threat = values(lambda p: p.threat)
        self.pressure = values(lambda p: p.pressure)
        self.autonomy = values(lambda p: p.autonomy)
        self.affinity = np.zeros((n, n_patrons))
        self.offers = np.zeros((n, n_patrons))
        rows, cols, weights = [], [], []
        for i, p in enumerate(ordered):
            # the pull of the incumbent is the loyalty score unless an affinity is given
            self.affinity[i, 0] = p.affinity.get(s.incumbent, p.loyalty)
            for pid, value in p.affinity.items():
                self.affinity[i, patron_index[pid]] = value
            for pid, value in p.offers.items():
                self.offers[i, patron_index[pid]] = value
            for peer, weight in p.watches.items():
                rows.append(i)
                cols.append(index[peer])
                weights.append(weight)
        self.watches = watch_matrix(rows, cols, weights, n)
        self.sums = RowSums(self.watches)

        # The withdrawal schedule, exactly as AllianceModel builds it.
        self.withdrawal = w = withdrawal_schedule(s, index)
        # from this step on every ramp is 1 exactly (rules.ramp), so the schedule is flat
        ends = w.start + np.maximum(w.ramp, 1) - 1
        cut_end = w.cut_start + max(w.cut_ramp, 1) - 1
        self.flat_from = int(max(ends.max(initial=0), cut_end, 0))
        self._allocations: dict[int, np.ndarray] = {}

        # Attachment a partner brings to a new relationship with each alternative.
        self.attachment = np.empty((n_patrons + 1, n))
        self.attachment[0] = py_max(self.affinity[:, 0], 0.0)
        self.attachment[1:n_patrons] = py_max(self.affinity[:, 1:].T, 0.0)
        self.attachment[n_patrons] = self.autonomy

        # Scenario events by step, in file order: (kind, partner, patron column, value).
        self.events: dict[int, list[tuple[str, int, int, float]]] = {}
        for e in s.events:
            j = patron_index.get(e.patron, -1) if e.patron is not None else -1
            self.events.setdefault(e.step, []).append((e.kind, index[e.partner], j, e.value))

    def allocate(self, t: int) -> np.ndarray:
        """The incumbent's support to each partner at step t (Patron.allocate), read-only.

        Once every ramp is complete the schedule is flat: the result of step `flat_from` is
        then the result of every later step, bit for bit, and is kept.
        """
        key = min(t, self.flat_from)
        support = self._allocations.get(key)
        if support is None:
            if len(self._allocations) >= 256:
                self._allocations.clear()
            support = self._allocations[key] = self._allocate(key)
            support.setflags(write=False)
        return support

    def _allocate(self, t: int) -> np.ndarray:
        w = self.withdrawal
        withdrawn = w.level * rules.ramp(t, w.start, w.ramp)
        budget = 1.0 - w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp)
        freed = float(np.dot(w.allocation, withdrawn))
        return rules.incumbent_support(w.allocation, withdrawn, budget, w.redirect, freed)

    def hard_times(self, t: int) -> float:
        w = self.withdrawal
        return float(w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp))

    @functools.cached_property
    def network(self) -> Any:
        """The watch network as a matrix: W[i, j] is the weight partner i gives to peer j.

        Dense up to DENSE_UP_TO partners, a scipy.sparse CSR array beyond. The engine itself
        sums rows with RowSums, which follows Python's rounding exactly.
        """
        w = self.watches
        if self.n <= DENSE_UP_TO:
            dense = np.zeros(w.shape)
            dense[np.repeat(np.arange(self.n), np.diff(w.indptr)), w.indices] = w.data
            return dense
        import scipy.sparse as sp

        return sp.csr_array((w.data, w.indices, w.indptr), shape=w.shape)
