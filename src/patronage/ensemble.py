"""The ensemble engine: every run of a design point stepped at once on numpy arrays.

The Mesa engine (model.py, agents.py) is the reference and the one to read; this module
steps the same model for many runs together, with one array of shape (runs, partners) per
state variable and the functions of rules.py applied to whole arrays. It gives the same
tables as `runner.run_group`, row for row and bit for bit: the same stream keys, the same
counter-based draws (streams.py), and every floating-point operation in the same order.

What makes it cheap is that most of the model does not depend on the run:

* the incumbent's allocation and the hard times follow from the schedule alone, so they
  are computed once per step for all runs (and kept once every ramp is complete);
* so is what each partner sees of its peers (the network-weighted abandonment), a product
  of the watch network (a sparse matrix) with one vector per step, except in the runs where
  a partner has collapsed while with the incumbent (it counts as fully abandoned there),
  which get a product of their own; it applies where a partner is with the incumbent;
* offers, threat and pressure change by scenario events only, so the best alternative to
  leave for (for each possible current patron), its pull and its offer, and the support
  each patron gives, are tables of shape (alternatives, partners); a run picks its row
  with its current patron.

Only the partners' own state (loyalty, dependence, trust, expectation, strength, status,
patron, the anchors of the current relationship, the trust left with the incumbent and the
reference terms of the utility gap) is per run. A step costs a few dozen array operations
on (runs, partners) plus work linear in the number of watch edges, with no loop over
partners or runs in Python.

Exactness rests on three details, each tested: the stream key is the output of the run's
PCG64 that AllianceModel draws (KEY_POSITION), computed on arrays of runs; what a partner
sees of its peers is summed in the order and rounding of Python's sum() (RowSums); and ties
between alternatives go to the first in canonical order, as in Partner._best_alternative.

`run_group` has the signature and the result of `runner.run_group`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from . import rules, store, streams
from .fields import EVENT_KINDS, FINAL_FIELDS, SERIES_FIELDS, STATUSES
from .rules import GAP_TERMS
from .scenario import NONE_PATRON, Scenario
from .schedule import withdrawal_schedule
from .store import GroupTables

ALIGNED, HEDGING, REALIGNED, COLLAPSED = (
    STATUSES.index(s) for s in ("aligned", "hedging", "realigned", "collapsed")
)
assert EVENT_KINDS == ("hedge", "unhedge", "realign", "collapse")
HEDGE, UNHEDGE, REALIGN, COLLAPSE = range(4)
CAUSES = (*GAP_TERMS, "initial_state", "strength_below_threat")
INITIAL_STATE = len(GAP_TERMS)
BELOW_THREAT = INITIAL_STATE + 1
N_TERMS = len(GAP_TERMS)
DENSE_UP_TO = 200  # Static.network: a dense matrix up to this many partners, CSR beyond

MAX_CELLS = 1 << 18  # runs x partners stepped together (state memory ~ 400 bytes a cell)
SERIES_CELLS = 1 << 23  # runs x partners x recorded steps kept before the tables are built
DRAW_CELLS = 1 << 17  # uniform draws generated at once (a block that stays in cache)

# The Mesa engine sums what a partner sees of its peers left to right with plain additions
# (not sum(), which compensates from Python 3.12 on), so both engines and every Python
# version round alike. RowSums can also reproduce Neumaier's compensation, if ever needed.
COMPENSATED_SUM = False


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
        vars(self).update(withdrawal_schedule(s, index))
        # from this step on every ramp is 1 exactly (rules.ramp), so the schedule is flat
        ends = self.withdrawal_start + np.maximum(self.withdrawal_ramp, 1) - 1
        cut_end = self.cut_start + max(self.cut_ramp, 1) - 1
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
        withdrawn = self.withdrawal_level * rules.ramp(
            t, self.withdrawal_start, self.withdrawal_ramp
        )
        budget = 1.0 - self.cut_level * rules.ramp(t, self.cut_start, self.cut_ramp)
        freed = float(np.dot(self.allocation, withdrawn))
        return rules.incumbent_support(self.allocation, withdrawn, budget, self.redirect, freed)

    def hard_times(self, t: int) -> float:
        return float(self.cut_level * rules.ramp(t, self.cut_start, self.cut_ramp))

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


def watch_matrix(rows: list[int], cols: list[int], weights: list[float], n: int) -> Csr:
    """Who watches whom: row i holds the weights of the peers partner i watches, by index."""
    rows_a = np.asarray(rows, dtype=np.int64)
    cols_a = np.asarray(cols, dtype=np.int64)
    order = np.lexsort((cols_a, rows_a))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows_a, minlength=n), out=indptr[1:])
    data = np.asarray(weights, dtype=np.float64)[order]
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
        self.weights = matrix.data[entries]
        self.offsets = np.cumsum([0, *self.counts])
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Row sums of matrix * x for x of shape (partners,) or (m, partners)."""
        cached = self._cache.get(x.ndim)
        if cached is not None and cached[0].shape == x.shape and np.array_equal(cached[0], x):
            return cached[1]  # the schedule is often flat: nothing to recompute
        out = np.zeros(x.shape)
        if self.order.size:
            products = self.weights * x[..., self.columns]
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
        self._cache[x.ndim] = (x.copy(), out)
        return out


# --- run keys --------------------------------------------------------------------------------
#
# A run's key is a draw from np.random.default_rng(SeedSequence(batch_seed, spawn_key=(k,))),
# a PCG64 generator. Building a SeedSequence and a Generator costs about 50 us per run, as
# much as the rest of a run in the ensemble, so the seeding (SeedSequence's hash mixing and
# PCG64's 128-bit LCG) is done here on arrays of runs; tests check it against numpy.

_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL = 4  # SeedSequence's default pool size
_PCG_MULT = (np.uint64(2549297995355413924), np.uint64(4865540595714422341))  # (high, low)


def _words(n: int) -> list[int]:
    """SeedSequence's little-endian 32-bit words of a non-negative int (0 -> [0])."""
    out = [n & 0xFFFFFFFF]
    n >>= 32
    while n:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


def _hash_constants(start: int, mult: int, count: int) -> list[np.uint32]:
    h, out = start, []
    for _ in range(count):
        out.append(np.uint32(h))
        h = (h * mult) & 0xFFFFFFFF
    return out


def _seed_pool(entropy: list[np.ndarray]) -> list[np.ndarray]:
    """SeedSequence.mix_entropy on columns of uint32 words (one element per run)."""
    n_calls = _POOL + _POOL * (_POOL - 1) + (len(entropy) - _POOL) * _POOL
    h = _hash_constants(_INIT_A, _MULT_A, n_calls + 1)
    calls = iter(range(n_calls))

    def hashmix(value: np.ndarray) -> np.ndarray:
        j = next(calls)
        value = (value ^ h[j]) * h[j + 1]
        return value ^ (value >> np.uint32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
        return result ^ (result >> np.uint32(16))

    mixer = [hashmix(entropy[i]) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                mixer[dst] = mix(mixer[dst], hashmix(mixer[src]))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            mixer[dst] = mix(mixer[dst], hashmix(entropy[src]))
    return mixer


def _seed_state(pool: list[np.ndarray], n_words64: int) -> list[np.ndarray]:
    """SeedSequence.generate_state(n_words64, np.uint64), as uint64 columns."""
    n32 = 2 * n_words64
    h = _hash_constants(_INIT_B, _MULT_B, n32 + 1)
    words = []
    for i in range(n32):
        value = (pool[i % _POOL] ^ h[i]) * h[i + 1]
        words.append((value ^ (value >> np.uint32(16))).astype(np.uint64))
    return [words[2 * j] | (words[2 * j + 1] << _S32) for j in range(n_words64)]


def _mul64(a: np.ndarray, b: np.ndarray | np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Full 128-bit products of uint64 arrays, as (high, low) halves."""
    a0, a1 = a & _M32, a >> _S32
    b0, b1 = b & _M32, b >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    low = (p00 & _M32) | (mid << _S32)
    high = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    return high, low


def _pcg_step(hi, lo, inc_hi, inc_lo):
    """PCG's LCG step: state * multiplier + increment, modulo 2**128."""
    m_hi, m_lo = _PCG_MULT
    p_hi, p_lo = _mul64(lo, m_lo)
    p_hi = p_hi + lo * m_hi + hi * m_lo
    lo = p_lo + inc_lo
    hi = p_hi + inc_hi + (lo < p_lo)
    return hi, lo


def _pcg_output(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """PCG64's XSL-RR output function of a 128-bit state."""
    value = hi ^ lo
    rot = hi >> np.uint64(58)
    return (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


def pcg64_outputs(entropy: int, spawn_ids: list[int], count: int) -> np.ndarray:
    """The first `count` outputs of PCG64(SeedSequence(entropy, spawn_key=(k,))) for every k
    in spawn_ids: numpy's seeding and generator on arrays; shape (len(spawn_ids), count)."""
    entropy = int(entropy)
    spawn_ids = [int(k) for k in spawn_ids]
    if entropy < 0 or any(k < 0 for k in spawn_ids):
        raise ValueError("seeds and run ids must be non-negative")
    out = np.empty((len(spawn_ids), count), dtype=np.uint64)
    run_words = _words(entropy)
    run_words += [0] * (_POOL - len(run_words))  # as SeedSequence pads before a spawn key
    small = all(k < 2**32 for k in spawn_ids)
    groups = {1: list(range(len(spawn_ids)))} if small else {}
    if not small:
        for position, k in enumerate(spawn_ids):
            groups.setdefault(len(_words(k)), []).append(position)
    with np.errstate(over="ignore"):
        for n_words, positions in groups.items():
            ids = [spawn_ids[p] for p in positions]
            size = len(ids)
            columns = [np.full(size, w, dtype=np.uint32) for w in run_words]
            if small:
                columns.append(np.asarray(ids, dtype=np.uint32))
            else:
                columns += [
                    np.array([(k >> (32 * w)) & 0xFFFFFFFF for k in ids], dtype=np.uint32)
                    for w in range(n_words)
                ]
            seed_hi, seed_lo, seq_hi, seq_lo = _seed_state(_seed_pool(columns), 4)
            inc_hi = (seq_hi << np.uint64(1)) | (seq_lo >> np.uint64(63))
            inc_lo = (seq_lo << np.uint64(1)) | np.uint64(1)
            zero = np.zeros(size, dtype=np.uint64)
            hi, lo = _pcg_step(zero, zero, inc_hi, inc_lo)
            lo_seeded = lo + seed_lo
            hi = hi + seed_hi + (lo_seeded < lo)
            hi, lo = _pcg_step(hi, lo_seeded, inc_hi, inc_lo)
            for c in range(count):
                hi, lo = _pcg_step(hi, lo, inc_hi, inc_lo)
                out[positions, c] = _pcg_output(hi, lo)
    return out


# AllianceModel takes its key as the first 64-bit output of the run's Generator, before Mesa
# uses it. tests/test_ensemble.py checks this against AllianceModel, so a change in model.py
# shows up at once.
KEY_POSITION = 0


def run_keys(batch_seed: int, run_ids: list[int]) -> np.ndarray:
    """The stream key of each run: exactly the one AllianceModel draws for its seed."""
    return pcg64_outputs(batch_seed, run_ids, KEY_POSITION + 1)[:, KEY_POSITION].copy()


# --- one block of runs ----------------------------------------------------------------------


@dataclass
class ChunkResult:
    """Arrays of a block of runs, turned into table columns by `_tables`."""

    run_ids: np.ndarray
    final: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    series: dict[str, np.ndarray] | None = None
    series_steps: list[int] = field(default_factory=list)


class Ensemble:
    """The state of R runs of one scenario: arrays of shape (R, partners)."""

    def __init__(self, static: Static, keys: np.ndarray) -> None:
        st = self.st = static
        n = st.n
        self.keys = keys
        self.R = R = len(keys)
        shape = (R, n)
        self.cols = np.arange(n)
        # Shared inputs changed by scenario events (fresh copies for every block).
        self.threat = st.threat.copy()
        self.pressure = st.pressure.copy()
        self.offers = st.offers.copy()
        self.stay_support = np.zeros((st.n_patrons + 1, n))
        self._offers_changed()

        self.loyalty = np.broadcast_to(st.loyalty, shape).copy()
        self.dependence = np.broadcast_to(st.dependence, shape).copy()
        self.trust = np.broadcast_to(st.trust, shape).copy()
        self.strength = np.broadcast_to(st.strength, shape).copy()
        self.expected = np.ones(shape)
        self.support = np.ones(shape)
        self.shortfall = np.zeros(shape)
        self.gap = np.zeros(shape)
        self.status = np.full(shape, ALIGNED, dtype=np.int8)
        self.patron = np.zeros(shape, dtype=np.intp)  # column in st.alternatives
        self.flat = np.broadcast_to(self.cols, shape).copy()  # patron * n + partner
        self.loyalty_anchor = self.loyalty.copy()
        self.trust_anchor = self.trust.copy()
        self.trust_at_exit = self.trust.copy()
        self.reference = np.zeros((N_TERMS, *shape))
        self.has_reference = np.zeros(shape, dtype=bool)
        self.fallen = np.zeros(shape)  # 1 where a partner collapsed while with the incumbent
        self.any_fallen = np.zeros(R, dtype=bool)
        self.first_realign = np.full(shape, -1, dtype=np.int64)
        self.first_collapse = np.full(shape, -1, dtype=np.int64)
        self.event_parts: list[tuple[np.ndarray, ...]] = []
        self._no_fallen = np.zeros(n)
        self.dead = (np.zeros(0, np.intp), np.zeros(0, np.intp))  # the collapsed cells
        self.n_referenced = 0  # cells whose relationship has its reference terms

        # Initial state: the incumbent allocates and every partner observes (time 0).
        self.time = 0
        self._observe(st.allocate(0))

    # Tables of shape (alternatives, partners), shared by all runs ------------------------------

    def _offers_changed(self) -> None:
        """Best alternative, its pull and offer for each possible current patron (row); the
        support each patron gives (row) to each partner."""
        st, c = self.st, self.st.c
        n, none = st.n, st.none
        offer = np.zeros((n, none + 1))
        offer[:, :none] = self.offers
        affinity = np.empty((n, none + 1))
        affinity[:, :none] = st.affinity
        affinity[:, none] = st.autonomy
        pull = rules.alternative_pull(affinity, offer, c.w_affinity, c.w_offer)
        self.best = np.empty((none + 1, n), dtype=np.intp)
        self.best_pull = np.empty((none + 1, n))
        self.best_offer = np.empty((none + 1, n))
        rows = np.arange(n)
        for current in range(none + 1):
            options = pull.copy()
            options[:, current] = -np.inf  # the current patron is not an alternative
            best = np.argmax(options, axis=1)  # ties: the first in canonical order
            self.best[current] = best
            self.best_pull[current] = options[rows, best]
            self.best_offer[current] = offer[rows, best]
        self.stay_support[1:none] = self.offers[:, 1:].T
        self.stay_support[none] = 0.0

    def apply_events(self, t: int) -> None:
        offers_changed = False
        for kind, i, j, value in self.st.events.get(t, ()):
            if kind == "offer":
                if j >= 0:
                    self.offers[i, j] = value
                    offers_changed = True
            elif kind == "pressure":
                self.pressure[i] = value
            elif kind == "threat":
                self.threat[i] = value
        if offers_changed:
            self._offers_changed()

    # The step -------------------------------------------------------------------------------

    def _observe(self, inc_support: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Support each partner receives from its current patron, and its shortfall; returns
        the alive mask and the (run, partner) indices of the collapsed."""
        self.stay_support[0] = py_max(inc_support, self.offers[:, 0])
        alive = self.status != COLLAPSED
        dead = self.dead if self.dead[0].size else None
        self.support = support = np.take(self.stay_support, self.flat)
        if dead is not None:
            support[dead] = 0.0
        self.shortfall = rules.shortfall(self.expected, support)
        if dead is not None:
            self.shortfall[dead] = 0.0
        return alive, dead

    def _watched(self, inc_support: np.ndarray) -> np.ndarray:
        """Network-weighted abandonment each partner sees, (R, n) or (n,) if shared."""
        st = self.st
        shared = st.sums(rules.abandonment(inc_support, self._no_fallen))
        if not self.any_fallen.any():
            return shared
        watched = np.broadcast_to(shared, self.fallen.shape).copy()
        runs = np.flatnonzero(self.any_fallen)
        watched[runs] = st.sums(rules.abandonment(inc_support, self.fallen[runs]))
        return watched

    def step(self, noise: np.ndarray, u_realign: np.ndarray, u_collapse: np.ndarray) -> None:
        st, c = self.st, self.st.c
        t = self.time
        self.apply_events(t)
        hard_times = st.hard_times(t)
        inc_support = st.allocate(t)
        alive, dead = self._observe(inc_support)
        support, shortfall = self.support, self.shortfall

        # decide: every partner's next state from the state of step t
        with_incumbent = self.patron == 0
        seen = rules.contagion(self._watched(inc_support), hard_times, c.hard_times_discount)
        seen = np.where(with_incumbent, seen, 0.0)
        trust_goal = rules.trust_target(
            self.trust_anchor, shortfall, seen, c.own_shortfall_weight, c.peer_weight
        )
        loyalty_goal = rules.loyalty_target(
            self.loyalty_anchor,
            self.trust,
            self.trust_anchor,
            self.pressure * with_incumbent,  # pressure is against the incumbent
            c.loyalty_trust_weight,
            c.loyalty_pressure_weight,
        )
        hedging = self.status == HEDGING
        dependence_goal = rules.means_share(st.dependence, support) * (
            1.0 - c.hedge_diversification * hedging
        )
        strength_goal = rules.strength_target(st.strength, st.dependence, support)
        nxt = {
            "expected": rules.expectation(self.expected, support, c.expectation_rate),
            "trust": rules.trust(self.trust, trust_goal, c.trust_fall_rate, c.trust_rise_rate),
            "loyalty": rules.loyalty(
                self.loyalty, loyalty_goal, c.loyalty_rate, noise, c.loyalty_noise
            ),
            "dependence": rules.dependence(self.dependence, dependence_goal, c.dependence_rate),
            "strength": rules.strength(self.strength, strength_goal, c.strength_rate),
        }

        # the utility gap and its terms (Partner._choice)
        best = np.take(self.best, self.flat)
        terms = rules.gap_terms(
            self.loyalty,
            self.trust,
            self.dependence,
            support,
            np.take(self.best_pull, self.flat),
            np.take(self.best_offer, self.flat),
            self.threat,
            c.w_loyalty,
            c.w_trust,
            c.w_support,
            c.exit_cost,
            c.w_fear,
        )
        nxt["gap"] = gap = rules.gap(terms)
        if self.n_referenced < alive.size:
            new_reference = alive & ~self.has_reference
            for k in range(N_TERMS):
                np.copyto(self.reference[k], terms[k], where=new_reference)
            self.has_reference |= new_reference
            self.n_referenced = int(np.count_nonzero(self.has_reference))

        p_collapse = rules.collapse_probability(self.strength, self.threat, c.collapse_rate)
        collapse = u_collapse < p_collapse
        p_realign = rules.realign_probability(
            gap, c.hedge_band, c.switch_threshold, c.switch_steepness, c.realign_rate
        )
        realign = u_realign < p_realign
        if dead is not None:
            collapse[dead] = False
            realign[dead] = False
        realign &= ~collapse
        hedge_now = rules.is_hedging(gap, c.hedge_band)
        changed = hedge_now != hedging  # hedge or unhedge, unless it collapses or realigns
        if dead is not None:
            changed[dead] = False
        changed &= ~(collapse | realign)
        self._record_events(t + 1, collapse, realign, changed, hedge_now, best, terms)

        # advance: write the next state (the collapsed keep theirs)
        old_trust = self.trust
        if dead is not None:
            for name, value in nxt.items():
                value[dead] = getattr(self, name)[dead]
        for name, value in nxt.items():
            setattr(self, name, value)
        status = np.where(with_incumbent, np.int8(ALIGNED), np.int8(REALIGNED))
        status[hedge_now] = HEDGING
        if dead is not None:
            status[dead] = COLLAPSED
        if collapse.any():
            status[collapse] = COLLAPSED
            self.dead = np.nonzero(status == COLLAPSED)
            fell = collapse & with_incumbent  # a lasting lesson to those who watch it
            self.fallen[fell] = 1.0
            self.any_fallen |= fell.any(axis=1)
        self.status = status
        if realign.any():
            self._realign(np.nonzero(realign), best, with_incumbent, old_trust)
        self.time = t + 1

    def _realign(
        self,
        where: tuple[np.ndarray, np.ndarray],
        best: np.ndarray,
        leaving: np.ndarray,
        old_trust: np.ndarray,
    ) -> None:
        """The state of a new relationship (Partner._realign_to) for the cells `where`."""
        st = self.st
        new = best[where]
        target = new * st.n + where[1]
        offer = np.take(self.stay_support, target)
        attachment = np.take(st.attachment, target)
        to_incumbent = new == 0
        self.status[where] = np.where(to_incumbent, ALIGNED, REALIGNED)
        # the incumbent's record is remembered; a new patron starts at the prior
        self.trust[where] = np.where(to_incumbent, self.trust_at_exit[where], st.c.trust_prior)
        self.trust_at_exit[where] = np.where(
            leaving[where], old_trust[where], self.trust_at_exit[where]
        )
        self.patron[where] = new
        self.flat[where] = target
        self.loyalty[where] = attachment
        self.loyalty_anchor[where] = attachment
        self.trust_anchor[where] = st.c.trust_prior
        self.expected[where] = offer
        self.dependence[where] = rules.means_share(st.dependence[where[1]], offer)
        self.has_reference[where] = False
        self.n_referenced -= where[0].size

    def _record_events(
        self,
        step: int,
        collapse: np.ndarray,
        realign: np.ndarray,
        changed: np.ndarray,
        hedge_now: np.ndarray,
        best: np.ndarray,
        terms: tuple[np.ndarray, ...],
    ) -> None:
        any_event = collapse | realign | changed
        r, i = np.nonzero(any_event)  # by run, then partner
        if not r.size:
            return
        kind = np.where(hedge_now[r, i], np.int8(HEDGE), np.int8(UNHEDGE))
        kind[realign[r, i]] = REALIGN
        kind[collapse[r, i]] = COLLAPSE
        origin = self.patron[r, i]
        no_target = self.st.none + 1  # a null in the table
        target = np.where((kind == REALIGN) | (kind == HEDGE), best[r, i], no_target)
        cause = np.full(r.size, BELOW_THREAT, dtype=np.int8)
        judged = kind != COLLAPSE
        if judged.any():
            rj, ij = r[judged], i[judged]
            change = np.stack([terms[k][rj, ij] - self.reference[k, rj, ij] for k in range(6)])
            leaving = kind[judged] != UNHEDGE
            top = np.where(leaving, np.argmax(change, axis=0), np.argmin(change, axis=0))
            moved_by = change[top, np.arange(top.size)]
            moved = np.where(leaving, moved_by > 1e-12, moved_by < -1e-12)
            cause[judged] = np.where(moved, top, INITIAL_STATE)
        steps = np.full(r.size, step, dtype=np.int64)
        self.event_parts.append((r, steps, i, kind, origin, target, cause))
        for first, mask in ((self.first_realign, realign), (self.first_collapse, collapse)):
            hit = mask[r, i] & (first[r, i] < 0)
            first[r[hit], i[hit]] = step

    # Records -------------------------------------------------------------------------------

    def snapshot(self) -> tuple[np.ndarray, ...]:
        fields = tuple(getattr(self, f).copy() for f in SERIES_FIELDS)
        return (*fields, self.status.copy(), self.patron.copy())

    def events(self) -> dict[str, np.ndarray]:
        names = ("run", "step", "partner", "kind", "from", "to", "cause")
        if not self.event_parts:
            return {k: np.zeros(0, dtype=np.int64) for k in names}
        columns = [np.concatenate(col) for col in zip(*self.event_parts, strict=True)]
        order = np.lexsort((columns[2], columns[1], columns[0]))
        return {k: col[order] for k, col in zip(names, columns, strict=True)}


def _draw_blocks(keys: np.ndarray, horizon: int, n: int):
    """(noise, realign, collapse) draws of every step, each of shape (runs, partners)."""
    per_step = max(1, len(keys) * streams.DRAWS_PER_STEP * n)
    t = 0
    while t < horizon:
        n_steps = max(1, min(horizon - t, DRAW_CELLS // per_step))
        block = streams.uniforms(keys, t, n_steps, n)
        noise = streams.box_muller(
            block[:, :, streams.DRAW_LOYALTY_NOISE_A], block[:, :, streams.DRAW_LOYALTY_NOISE_B]
        )
        for k in range(n_steps):
            yield (
                noise[:, k],
                block[:, k, streams.DRAW_REALIGN],
                block[:, k, streams.DRAW_COLLAPSE],
            )
        t += n_steps


def simulate_block(
    static: Static,
    batch_seed: int,
    run_ids: list[int],
    horizon: int,
    series_every: int | None = 1,
) -> ChunkResult:
    """Run `run_ids` together to the horizon; the arrays of their rows."""
    ens = Ensemble(static, run_keys(batch_seed, run_ids))
    snapshots, recorded = [], []
    if series_every:
        snapshots.append(ens.snapshot())
        recorded.append(0)
    draws = _draw_blocks(ens.keys, horizon, static.n)
    for _ in range(horizon):
        ens.step(*next(draws))
        if series_every and (ens.time % series_every == 0 or ens.time == horizon):
            snapshots.append(ens.snapshot())
            recorded.append(ens.time)
    final = {
        "status": ens.status,
        "patron": ens.patron,
        "loyalty": ens.loyalty,
        "dependence": ens.dependence,
        "trust": ens.trust,
        "strength": ens.strength,
        "realign_step": ens.first_realign,
        "collapse_step": ens.first_collapse,
    }
    series = None
    if series_every:
        names = (*SERIES_FIELDS, "status", "patron")
        # (runs, recorded steps, partners), flattened in the order of the series table
        series = {
            name: np.stack([snap[k] for snap in snapshots], axis=1).ravel()
            for k, name in enumerate(names)
        }
    return ChunkResult(np.asarray(run_ids, dtype=np.int64), final, ens.events(), series, recorded)


# --- tables ---------------------------------------------------------------------------------


def _strings(values: list[str | None], codes: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(codes.astype(np.int64, copy=False)))


def _tables(
    scenario: Scenario,
    batch_seed: int,
    params: dict[str, Any],
    chunks: list[ChunkResult],
    failed: dict[int, str],
) -> GroupTables:
    partner_ids = scenario.partner_ids()
    alternatives = [*scenario.patron_ids(), NONE_PATRON]
    n = len(partner_ids)
    # runs
    schema = store.runs_schema(params, partner_ids)
    run_ids = np.concatenate([ch.run_ids for ch in chunks]) if chunks else np.zeros(0, np.int64)
    n_runs = run_ids.size
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(run_ids, type=pa.int64()),
        "seed": pa.array(np.full(n_runs, batch_seed, dtype=np.int64), type=pa.int64()),
    }
    for name, value in params.items():
        column = f"param.{name}"
        columns[column] = pa.array([value] * n_runs, type=schema.field(column).type)
    final = {
        f: (np.concatenate([ch.final[f] for ch in chunks]) if chunks else np.zeros((0, n)))
        for f in (*FINAL_FIELDS, "realign_step", "collapse_step")
    }
    # one long array per field, partner by partner, cut into zero-copy column slices
    long: dict[str, pa.Array] = {}
    for f, values in final.items():
        flat = np.ascontiguousarray(values.T).ravel()
        if f == "status":
            long[f] = _strings(list(STATUSES), flat)
        elif f == "patron":
            long[f] = _strings(alternatives, flat)
        elif f in ("realign_step", "collapse_step"):
            long[f] = pa.array(flat, mask=flat < 0, type=pa.int32())
        else:
            long[f] = pa.array(flat, type=pa.float64())
    for i, pid in enumerate(partner_ids):
        for f, array in long.items():
            columns[f"{pid}.{f}"] = array.slice(i * n_runs, n_runs)
    runs = pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)

    # events: block by block, runs in the order given
    parts = [ch.events for ch in chunks if ch.events["run"].size]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else None
    if cat is None:
        events = store.rows_table([], store.EVENTS_SCHEMA)
    else:
        run_of_event = np.concatenate(
            [ch.run_ids[ch.events["run"]] for ch in chunks if ch.events["run"].size]
        )
        events = pa.Table.from_arrays(
            [
                pa.array(run_of_event, type=pa.int64()),
                pa.array(cat["step"], type=pa.int32()),
                _strings(partner_ids, cat["partner"]),
                _strings(list(EVENT_KINDS), cat["kind"]),
                _strings(alternatives, cat["from"]),
                _strings([*alternatives, None], cat["to"]),
                _strings(list(CAUSES), cat["cause"]),
            ],
            schema=store.EVENTS_SCHEMA,
        )

    # series
    with_series = [ch for ch in chunks if ch.series is not None]
    if not with_series:
        series = store.rows_table([], store.SERIES_SCHEMA)
    else:
        arrays = []
        run_col, step_col = [], []
        for ch in with_series:
            recorded = np.asarray(ch.series_steps, dtype=np.int32)
            shape = (ch.run_ids.size, recorded.size, n)
            run_col.append(np.broadcast_to(ch.run_ids[:, None, None], shape).ravel())
            step_col.append(np.broadcast_to(recorded[None, :, None], shape).ravel())
        rows = sum(r.size for r in run_col)
        partner_col = np.resize(np.arange(n, dtype=np.int64), rows)
        arrays.append(pa.array(np.concatenate(run_col), type=pa.int64()))
        arrays.append(pa.array(np.concatenate(step_col), type=pa.int32()))
        arrays.append(_strings(partner_ids, partner_col))
        for f in SERIES_FIELDS:
            values = np.concatenate([ch.series[f] for ch in with_series])
            arrays.append(pa.array(values, type=pa.float64()))
        status = np.concatenate([ch.series["status"] for ch in with_series])
        patron = np.concatenate([ch.series["patron"] for ch in with_series])
        arrays.append(_strings(list(STATUSES), status))
        arrays.append(_strings(alternatives, patron))
        series = pa.Table.from_arrays(arrays, schema=store.SERIES_SCHEMA)
    return GroupTables(runs=runs, events=events, series=series, failed=failed)


# --- the entry point -------------------------------------------------------------------------


def run_group(
    scenario: Scenario,
    batch_seed: int,
    run_ids: list[int],
    steps: int | None = None,
    series_every: int | None = 1,
    params: dict[str, float] | None = None,
) -> GroupTables:
    """Runs of one design point with the ensemble engine: the tables of runner.run_group.

    Runs are stepped together in blocks of at most MAX_CELLS run-partner cells (fewer when
    the series is kept); every draw is a pure function of the run's key, the step and the
    partner, so how runs are cut into blocks changes nothing. A block that raises is left
    out of the tables and its runs are reported in `failed`, as runner.run_group does.
    """
    params = params or {}
    run_ids = [int(r) for r in run_ids]
    horizon = steps if steps is not None else scenario.steps
    chunks: list[ChunkResult] = []
    failed: dict[int, str] = {}
    try:
        static = Static(scenario)
    except Exception as exc:  # every run would raise the same
        failed = {run_id: f"{type(exc).__name__}: {exc}" for run_id in run_ids}
        return _tables(scenario, batch_seed, params, chunks, failed)
    n = static.n
    per_block = max(1, MAX_CELLS // n)
    if series_every:
        records = horizon // series_every + 2
        per_block = max(1, min(per_block, SERIES_CELLS // (n * records)))
    for start in range(0, len(run_ids), per_block):
        ids = run_ids[start : start + per_block]
        try:
            chunks.append(simulate_block(static, batch_seed, ids, horizon, series_every))
        except Exception as exc:
            for run_id in ids:
                failed[run_id] = f"{type(exc).__name__}: {exc}"
    return _tables(scenario, batch_seed, params, chunks, failed)
