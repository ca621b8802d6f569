"""The inputs of a block of runs, as arrays in canonical order.

Most inputs are the same in every run of a block and are kept once: a vector over partners
(or a partner x patron table). An input that differs by run (a designed field of a design
with many points, or a ranged input drawn per run) is kept with a leading axis of runs
instead: (runs, partners) for a partner score, (runs, 1) for a coefficient, (runs, partners,
patrons) for affinities and offers. The rules of model/rules.py broadcast either shape, so
the step is the same code; only the tables it picks rows from grow an axis of runs.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from patronage.engines.ensemble.codes import DENSE_UP_TO
from patronage.engines.ensemble.network import RowSums, py_max, watch_matrix
from patronage.model import rules
from patronage.model.withdrawal import WithdrawalSchedule, withdrawal_schedule
from patronage.scenario.ranges import PathKey
from patronage.scenario.schema import NONE_PATRON, Scenario

Value = float | np.ndarray  # a number shared by all runs, or one per run (shape (runs,))
SCHEDULE = (
    "allocation",
    "redirect",
    "level",
    "start",
    "ramp",
    "cut_level",
    "cut_start",
    "cut_ramp",
)


def _in_schedule(loc: PathKey) -> bool:
    """Whether the field at `loc` enters the withdrawal schedule."""
    return loc[0] in ("withdrawal", "budget_cut") or loc[-1] == "allocation"


class Static:
    """Arrays of a scenario in canonical order (partners sorted; patrons incumbent first).

    `varying` maps the location of a field in the scenario file (list items by position,
    as loader.locate gives them) to its value in each of `n_runs` runs.
    """

    def __init__(
        self, scenario: Scenario, varying: Mapping[PathKey, np.ndarray] | None = None
    ) -> None:
        s = scenario
        self.scenario = s
        self.runs: dict[PathKey, np.ndarray] = {}
        self.R: int | None = None
        for loc, values in (varying or {}).items():
            values = np.asarray(values, dtype=np.float64)
            self.R = values.shape[0]
            self.runs[loc] = values
        self.per_run = bool(self.runs)
        self.c = self._coefficients()
        self.partner_ids = s.partner_ids()
        self.patron_ids = s.patron_ids()
        self.alternatives = [*self.patron_ids, NONE_PATRON]  # columns of every choice table
        self.n = n = len(self.partner_ids)
        self.n_patrons = len(self.patron_ids)
        self.none = self.n_patrons  # the column of standing alone
        self.index = {pid: i for i, pid in enumerate(self.partner_ids)}
        position = {p.id: k for k, p in enumerate(s.partners)}  # place in the file
        self.ordered = [(position[pid], s.partners[position[pid]]) for pid in self.partner_ids]

        self.loyalty = self._scores("loyalty")
        self.dependence = self._scores("dependence")
        self.trust = self._partner_vector(
            lambda k, p: (
                self.get(("partners", k, "trust"), p.trust)
                if p.trust is not None
                else self.c.trust_prior
            )
        )
        self.strength = self._scores("strength")
        self.threat = self._scores("threat")
        self.pressure = self._scores("pressure")
        self.autonomy = self._scores("autonomy")
        self.affinity = self._patron_table("affinity")
        self.offers = self._patron_table("offers")
        self.watches = self._watch_matrix()
        self.sums = RowSums(self.watches)
        self._schedule()

        # Attachment a partner brings to a new relationship with each alternative:
        # (alternatives, partners), or (runs, alternatives, partners).
        n_patrons = self.n_patrons
        varies = self.affinity.ndim == 3 or self.autonomy.ndim == 2
        lead: tuple[int, ...] = (self.R,) if varies and self.R is not None else ()
        affinity = np.broadcast_to(self.affinity, (*lead, n, n_patrons))
        self.attachment = np.empty((*lead, n_patrons + 1, n))
        self.attachment[..., 0, :] = py_max(affinity[..., 0], 0.0)
        self.attachment[..., 1:n_patrons, :] = py_max(np.swapaxes(affinity[..., 1:], -1, -2), 0.0)
        self.attachment[..., n_patrons, :] = self.autonomy
        self._events()

    # Reading the scenario ---------------------------------------------------------------------

    def get(self, loc: PathKey, value: Any) -> Value:
        """The field at `loc`: its per-run values if it varies, else the scenario's value."""
        found = self.runs.get(loc)
        return found if found is not None else float(value)

    def _coefficients(self) -> types.SimpleNamespace:
        """Coefficients as floats, or (runs, 1) arrays where they differ by run."""
        c = self.scenario.coefficients
        values: dict[str, Any] = {}
        for name in type(c).model_fields:
            value = self.get(("coefficients", name), getattr(c, name))
            values[name] = value[:, None] if isinstance(value, np.ndarray) else value
        return types.SimpleNamespace(**values)

    def _stack(self, columns: list[Value]) -> np.ndarray:
        """Columns (one per partner) as (partners,) or, if any varies, (runs, partners)."""
        if not any(isinstance(col, np.ndarray) for col in columns):
            return np.array(columns, dtype=np.float64)
        assert self.R is not None
        return np.stack([np.broadcast_to(np.ravel(col), (self.R,)) for col in columns], axis=1)

    def _partner_vector(self, read) -> np.ndarray:
        return self._stack([read(k, p) for k, p in self.ordered])

    def _scores(self, name: str) -> np.ndarray:
        return self._partner_vector(lambda k, p: self.get(("partners", k, name), getattr(p, name)))

    def _patron_table(self, name: str) -> np.ndarray:
        """Affinity or offers: (partners, patrons), or (runs, partners, patrons)."""
        patron_index = {pid: j for j, pid in enumerate(self.patron_ids)}
        incumbent = self.scenario.incumbent
        cells: dict[tuple[int, int], Value] = {}
        for i, (k, p) in enumerate(self.ordered):
            given = getattr(p, name)
            if name == "affinity" and incumbent not in given:
                # the pull of the incumbent is the loyalty score unless an affinity is given
                cells[(i, 0)] = self.get(("partners", k, "loyalty"), p.loyalty)
            for pid, value in given.items():
                cells[(i, patron_index[pid])] = self.get(("partners", k, name, pid), value)
        varies = any(isinstance(v, np.ndarray) for v in cells.values())
        lead: tuple[int, ...] = (self.R,) if varies and self.R is not None else ()
        table = np.zeros((*lead, self.n, self.n_patrons))
        for (i, j), value in cells.items():
            table[..., i, j] = value
        return table

    def _watch_matrix(self):
        rows, cols, weights = [], [], []
        for i, (k, p) in enumerate(self.ordered):
            for peer, weight in p.watches.items():
                rows.append(i)
                cols.append(self.index[peer])
                weights.append(self.get(("partners", k, "watches", peer), weight))
        if any(isinstance(w, np.ndarray) for w in weights):
            return watch_matrix(rows, cols, self._stack(weights), self.n)
        return watch_matrix(rows, cols, weights, self.n)

    def _schedule(self) -> None:
        """The withdrawal schedule, exactly as AllianceModel builds it, per run where the
        withdrawal, the budget cut, the allocations or the redirection vary."""
        s = self.scenario
        self.withdrawal = w = withdrawal_schedule(s, self.index)
        if any(_in_schedule(loc) for loc in self.runs):
            self.withdrawal = w = self._schedule_per_run(w)
        # from this step on every ramp is 1 exactly (rules.ramp), so the schedule is flat
        ends = w.start + np.maximum(w.ramp, 1) - 1
        cut_end = w.cut_start + np.maximum(w.cut_ramp, 1) - 1
        self.flat_from = int(max(np.max(ends, initial=0), np.max(cut_end), 0))
        self.schedule_per_run = any(np.ndim(getattr(w, name)) == 2 for name in SCHEDULE)
        self._allocations: dict[int, np.ndarray] = {}

    def _schedule_per_run(self, base: WithdrawalSchedule) -> WithdrawalSchedule:
        """The schedule with (runs, partners) arrays where it varies ((runs, 1) for the cut)."""
        s = self.scenario
        arrays: dict[str, Any] = {"allocation": self._scores("allocation")}
        redirect: list[Value] = [0.0] * self.n
        for pid, share in s.withdrawal.redirect.items():
            redirect[self.index[pid]] = self.get(("withdrawal", "redirect", pid), share)
        arrays["redirect"] = self._stack(redirect)
        position = {t.id: m for m, t in enumerate(s.withdrawal.targets)}
        for field, default in (("level", 0.0), ("start", 0.0), ("ramp", 1.0)):
            columns: list[Value] = [default] * self.n
            for t in s.withdrawal.targets:
                own = getattr(t, field)
                columns[self.index[t.id]] = (
                    self.get(("withdrawal", field), getattr(s.withdrawal, field))
                    if own is None
                    else self.get(("withdrawal", "targets", position[t.id], field), own)
                )
            arrays[field] = self._stack(columns)
        for field in ("level", "start", "ramp"):
            value = self.runs.get(("budget_cut", field))
            if value is not None:
                arrays[f"cut_{field}"] = value[:, None]
        return dataclasses.replace(base, **arrays)

    def _events(self) -> None:
        """Scenario events in file order: (kind, partner, patron column, value, step), value
        and step per run where they vary; and by step, when no step varies."""
        patron_index = {pid: j for j, pid in enumerate(self.patron_ids)}
        self.event_list: list[tuple[str, int, int, Value, Value]] = []
        for m, e in enumerate(self.scenario.events):
            j = patron_index.get(e.patron, -1) if e.patron is not None else -1
            value = self.get(("events", m, "value"), e.value)
            step = self.runs.get(("events", m, "step"))
            self.event_list.append(
                (e.kind, self.index[e.partner], j, value, e.step if step is None else step)
            )
        self.timed_events = any(isinstance(e[4], np.ndarray) for e in self.event_list)
        self.events: dict[int, list[tuple[str, int, int, Value, Value]]] = {}
        if not self.timed_events:
            for event in self.event_list:
                self.events.setdefault(int(event[4]), []).append(event)

    def events_at(self, t: int) -> list[tuple[str, int, int, Value, Value]]:
        """The events that may happen at step t, in file order."""
        if not self.timed_events:
            return self.events.get(t, [])
        return [e for e in self.event_list if np.any(e[4] == t)]

    # The schedule ------------------------------------------------------------------------------

    def start(self) -> rules.Start:
        """The starting position of every partner's first relationship (rules.Start): the
        status quo, the incumbent pulling with its affinity and its baseline support of 1."""
        baseline = np.ones(self.n)
        pull = rules.alternative_pull(
            np.asarray(self.affinity[..., 0]), baseline, self.c.w_affinity, self.c.w_offer
        )
        return rules.start_position(
            np.asarray(self.loyalty),
            np.asarray(self.trust),
            np.asarray(self.dependence),
            baseline,
            np.asarray(self.threat),
            pull,
        )

    def allocate(self, t: int) -> np.ndarray:
        """The incumbent's support to each partner at step t (Patron.allocate), read-only:
        (partners,), or (runs, partners) when the schedule differs by run.

        Once every ramp is complete the schedule is flat: the result of step `flat_from` is
        then the result of every later step, bit for bit, and is kept.
        """
        key = min(t, self.flat_from)
        support = self._allocations.get(key)
        if support is None:
            if len(self._allocations) >= 256 or self.schedule_per_run:
                self._allocations.clear()  # per-run tables are large: keep the last only
            support = self._allocations[key] = self._allocate(key)
            support.setflags(write=False)
        return support

    def _allocate(self, t: int) -> np.ndarray:
        w = self.withdrawal
        withdrawn = w.level * rules.ramp(t, w.start, w.ramp)  # type: ignore[type-var]  # cut arrays per run
        budget = 1.0 - w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp)
        if np.ndim(withdrawn) == 1 and np.ndim(w.allocation) == 1:
            freed: Value = float(np.dot(w.allocation, withdrawn))
        else:
            freed = self._freed(withdrawn)
        return rules.incumbent_support(w.allocation, withdrawn, budget, w.redirect, freed)

    def _freed(self, withdrawn: np.ndarray) -> np.ndarray:
        """np.dot(allocation, withdrawn) of each run, exactly as the Mesa engine computes it.

        A row with at most one product that is not zero (one target, the usual case) sums
        to that product in any order, so those rows take one vectorised product; any other
        row takes numpy's 1-D dot product itself, once per distinct row.
        """
        assert self.R is not None
        allocation = np.broadcast_to(self.withdrawal.allocation, (self.R, self.n))
        withdrawn = np.broadcast_to(withdrawn, (self.R, self.n))
        products = allocation * withdrawn  # >= +0: allocations > 0, withdrawals >= 0
        freed = products.sum(axis=1)
        several = np.flatnonzero(np.count_nonzero(products, axis=1) > 1)
        if several.size:
            rows = np.concatenate([allocation[several], withdrawn[several]], axis=1)
            distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
            dots = [float(np.dot(row[: self.n], row[self.n :])) for row in distinct]
            freed[several] = np.asarray(dots)[np.ravel(inverse)]
        return freed[:, None]

    def hard_times(self, t: int) -> Value:
        """The budget cut in force at step t: a float, or (runs, 1) when it varies."""
        w = self.withdrawal
        value = w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp)
        return value if isinstance(value, np.ndarray) else float(value)

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
