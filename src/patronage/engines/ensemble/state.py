"""The state of a block of runs, stepped together on (runs, partners) arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patronage.engines.ensemble.causes import causes_and_triggers, with_remembered_incumbent
from patronage.engines.ensemble.codes import (
    ALIGNED,
    COLLAPSE,
    COLLAPSED,
    DRAW_CELLS,
    HEDGE,
    HEDGING,
    N_TERMS,
    REALIGN,
    REALIGNED,
    UNHEDGE,
)
from patronage.engines.ensemble.inputs import Cells, at_cells
from patronage.engines.ensemble.network import py_max
from patronage.engines.ensemble.static import Static
from patronage.model import rules
from patronage.model.outcomes import SERIES_FIELDS
from patronage.rng import streams

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
        # Inputs changed by scenario events (fresh copies for every block): shared by the
        # runs, or per run where they vary (an event can make them so).
        self.threat = st.threat.copy()
        self.pressure = st.pressure.copy()
        self.offers = st.offers.copy()
        # choice tables get an axis of runs where an input of theirs varies by run
        self.tables_per_run = st.affinity.ndim == 3 or st.schedule_per_run
        self.run_base = (np.arange(R) * ((st.n_patrons + 1) * n))[:, None]
        self._flat_runs: np.ndarray | None = None  # flat + run_base, while flat is unchanged
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
        self.loyalty_at_exit = np.broadcast_to(st.affinity[..., 0], shape).copy()
        self.reference = np.zeros((N_TERMS, *shape))
        self.recent = np.zeros((N_TERMS, *shape))  # terms averaged over rules.TRIGGER_WINDOW
        self.moves = np.zeros(shape)  # realignments made so far
        # The starting position of the current relationship (rules.Start): the status quo
        at_start = st.start()
        best_pull = self._pick(self.best_pull, self.flat)  # with the incumbent: row 0
        pull = rules.status_quo_pull(
            np.broadcast_to(at_start.pull, shape), best_pull, st.c.hedge_band
        )
        self.start = rules.Start(*(np.broadcast_to(v, shape).copy() for v in (*at_start[:4], pull)))
        self.value_at_exit = self.start.pull.copy()  # rules.stay_value when it left
        self.has_reference = np.zeros(shape, dtype=bool)
        self.fallen = np.zeros(shape)  # 1 where a partner collapsed while with the incumbent
        self.any_fallen = np.zeros(R, dtype=bool)
        self.first_realign = np.full(shape, -1, dtype=np.int64)
        self.first_collapse = np.full(shape, -1, dtype=np.int64)
        self.event_parts: list[tuple[np.ndarray, ...]] = []
        self._no_fallen = np.zeros(n)
        self.dead: Cells = (np.zeros(0, np.intp), np.zeros(0, np.intp))  # collapsed cells
        self.n_referenced = 0  # cells whose relationship has its reference terms

        # Initial state: the incumbent allocates and every partner observes (time 0).
        self.time = 0
        self._observe(st.allocate(0))

    # Tables of shape (alternatives, partners), shared by all runs ------------------------------

    def _offers_changed(self) -> None:
        """Best alternative, its pull and offer for each possible current patron (row); the
        support each patron gives (row) to each partner. Shape (alternatives, partners), or
        (runs, alternatives, partners) when an input of theirs varies by run."""
        st, c = self.st, self.st.c
        n, none = st.n, st.none
        per_run = (
            self.tables_per_run
            or self.offers.ndim == 3
            or st.autonomy.ndim == 2
            or any(isinstance(w, np.ndarray) for w in (c.w_affinity, c.w_offer))
        )
        self.tables_per_run = per_run
        lead = (self.R,) if per_run else ()
        offer = np.zeros((*lead, n, none + 1))
        offer[..., :none] = self.offers
        affinity = np.empty((*lead, n, none + 1))
        affinity[..., :none] = st.affinity
        affinity[..., none] = st.autonomy
        weights: list[Any] = [
            w[:, :, None] if isinstance(w, np.ndarray) else w for w in (c.w_affinity, c.w_offer)
        ]
        w_affinity, w_offer = weights
        pull = rules.alternative_pull(affinity, offer, w_affinity, w_offer)
        self.best = np.empty((*lead, none + 1, n), dtype=np.intp)
        self.best_pull = np.empty((*lead, none + 1, n))
        self.best_offer = np.empty((*lead, none + 1, n))
        for current in range(none + 1):
            options = pull.copy()
            options[..., current] = -np.inf  # the current patron is not an alternative
            # nor, in the tables, the incumbent: once left, its pull is per run (_best)
            options[..., 0] = -np.inf
            best = np.argmax(options, axis=-1)  # ties: the first in canonical order
            self.best[..., current, :] = best
            self.best_pull[..., current, :] = np.take_along_axis(options, best[..., None], -1)[
                ..., 0
            ]
            self.best_offer[..., current, :] = np.take_along_axis(offer, best[..., None], -1)[
                ..., 0
            ]
        self.stay_support = np.zeros((*lead, none + 1, n))
        self.stay_support[..., 1:none, :] = np.swapaxes(self.offers[..., 1:], -1, -2)

    def _pick(self, table: np.ndarray, flat: np.ndarray, runs: np.ndarray | None = None):
        """Entries of a choice table at `flat` (patron * partners + partner) for each cell:
        the table is shared, or has a row per run (then `runs` are the cells' runs)."""
        if table.ndim == 2:
            return np.take(table, flat)
        if runs is None and flat is self.flat:  # the cells' own patrons: kept per step
            if self._flat_runs is None:
                self._flat_runs = self.flat + self.run_base
            return np.take(table, self._flat_runs)
        base = self.run_base if runs is None else self.run_base[runs, 0]
        return np.take(table, flat + base)

    def _per_run(self, name: str) -> np.ndarray:
        """An event-driven input with an axis of runs (made so on first need)."""
        value = getattr(self, name)
        lead = 2 if name != "offers" else 3
        if value.ndim < lead:
            value = np.broadcast_to(value, (self.R, *value.shape)).copy()
            setattr(self, name, value)
        return value

    def _best(self, with_incumbent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best alternative, its pull and offer per cell (Partner._best_alternative)."""
        tables = (self.best, self.best_pull, self.best_offer)
        best, pull, offer = (self._pick(table, self.flat) for table in tables)
        back = self.offers[..., 0]
        return with_remembered_incumbent(
            best, pull, offer, with_incumbent, self.value_at_exit, back, self.st.c.w_offer
        )

    def apply_events(self, t: int) -> None:
        """Apply the scenario events scheduled for step `t` across all runs."""
        offers_changed = False
        for kind, i, j, value, step in self.st.events_at(t):
            if kind == "offer" and j < 0:
                continue
            name = "offers" if kind == "offer" else kind
            cell = (i, j) if kind == "offer" else (i,)
            if isinstance(step, np.ndarray) or isinstance(value, np.ndarray):
                target = self._per_run(name)
                now = step == t if isinstance(step, np.ndarray) else True
                target[(slice(None), *cell)] = np.where(now, value, target[(slice(None), *cell)])
            else:
                getattr(self, name)[(..., *cell)] = value
            offers_changed |= kind == "offer"
        if offers_changed:
            self._offers_changed()

    # The step -------------------------------------------------------------------------------

    def _observe(self, inc_support: np.ndarray) -> tuple[np.ndarray, Cells | None]:
        """Support each partner receives from its current patron, and its shortfall; returns
        the alive mask and the (run, partner) indices of the collapsed."""
        self.stay_support[..., 0, :] = py_max(inc_support, self.offers[..., 0])
        alive = self.status != COLLAPSED
        dead = self.dead if self.dead[0].size else None
        self.support = support = self._pick(self.stay_support, self.flat)
        if dead is not None:
            support[dead] = 0.0
        self.shortfall = rules.shortfall(self.expected, support)
        if dead is not None:
            self.shortfall[dead] = 0.0
        return alive, dead

    def _watched(self, given: np.ndarray) -> np.ndarray:
        """Network-weighted abandonment each partner sees, (R, n) or (n,) if shared."""
        st = self.st
        shared = st.sums(rules.abandonment(given, self._no_fallen))
        if not self.any_fallen.any():
            return shared
        watched = np.broadcast_to(shared, self.fallen.shape).copy()
        runs = np.flatnonzero(self.any_fallen)
        own = given[runs] if given.ndim == 2 else given
        watched[runs] = st.sums(rules.abandonment(own, self.fallen[runs]), runs)
        return watched

    def step(self, noise: np.ndarray, u_realign: np.ndarray, u_collapse: np.ndarray) -> None:
        """Advance every run one step, bit-identical to a step of the Mesa engine."""
        st, c = self.st, self.st.c
        t = self.time
        self.apply_events(t)
        hard_times = st.hard_times(t)
        inc_support = st.allocate(t)
        alive, dead = self._observe(inc_support)
        support, shortfall = self.support, self.shortfall

        # decide: every partner's next state from the state of step t
        with_incumbent = self.patron == 0
        given = self.stay_support[..., 0, :]  # allocation or offer, whichever is larger
        seen = rules.contagion(self._watched(given), hard_times, c.hard_times_discount)
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
            "trust": rules.trust(self.trust, trust_goal, c.trust_fall_rate, c.trust_rise_rate),
            "loyalty": rules.loyalty(
                self.loyalty, loyalty_goal, c.loyalty_rate, noise, c.loyalty_noise
            ),
            "dependence": rules.dependence(self.dependence, dependence_goal, c.dependence_rate),
            "strength": rules.strength(self.strength, strength_goal, c.strength_rate),
        }

        # the utility gap and its terms (Partner._choice)
        best, best_pull, best_offer = self._best(with_incumbent)
        terms = rules.gap_terms(
            self.loyalty,
            self.trust,
            self.dependence,
            support,
            best_pull,
            best_offer,
            self.threat,
            *self.start,
            self.moves,
            c.w_loyalty,
            c.w_trust,
            c.w_support,
            c.exit_cost,
            c.w_fear,
            c.reputation_cost,
        )
        nxt["gap"] = gap = rules.gap(terms)
        if self.n_referenced < alive.size:
            new_reference = alive & ~self.has_reference
            for k in range(N_TERMS):
                np.copyto(self.reference[k], terms[k], where=new_reference)
                np.copyto(self.recent[k], terms[k], where=new_reference)
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
        for k in range(N_TERMS):
            average = rules.recent_average(self.recent[k], terms[k])
            np.copyto(self.recent[k], average, where=alive)

        # advance: write the next state (the collapsed keep theirs)
        old_trust, old_loyalty = self.trust, self.loyalty
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
            value = rules.stay_value(self.start.pull, *terms[:3])
            self._realign(
                np.nonzero(realign), best, with_incumbent, old_trust, old_loyalty, best_pull, value
            )
        self.time = t + 1

    def _realign(
        self,
        where: Cells,
        best: np.ndarray,
        leaving: np.ndarray,
        old_trust: np.ndarray,
        old_loyalty: np.ndarray,
        won: np.ndarray,
        value: np.ndarray,
    ) -> None:
        """The state of a new relationship (Partner._realign_to) for the cells `where`."""
        st = self.st
        new = best[where]
        target = new * st.n + where[1]
        offer = self._pick(self.stay_support, target, where[0])
        prior = at_cells(st.c.trust_prior, where)
        to_incumbent = new == 0
        attachment = np.where(
            to_incumbent,
            py_max(self.loyalty_at_exit[where], 0.0),
            self._pick(st.attachment, target, where[0]),
        )
        self.status[where] = np.where(to_incumbent, ALIGNED, REALIGNED)
        # the incumbent's record is remembered; a new patron starts at the prior
        self.trust[where] = np.where(to_incumbent, self.trust_at_exit[where], prior)
        self.trust_at_exit[where] = np.where(
            leaving[where], old_trust[where], self.trust_at_exit[where]
        )
        self.loyalty_at_exit[where] = np.where(
            leaving[where], old_loyalty[where], self.loyalty_at_exit[where]
        )
        self.value_at_exit[where] = np.where(
            leaving[where], value[where], self.value_at_exit[where]
        )
        self.patron[where] = new
        self.flat[where] = target
        self._flat_runs = None
        self.loyalty[where] = attachment
        self.loyalty_anchor[where] = attachment
        self.trust_anchor[where] = prior
        self.expected[where] = offer
        self.dependence[where] = rules.means_share(at_cells(st.dependence, where), offer)
        self.moves[where] += 1.0
        start = rules.start_position(
            attachment,
            self.trust[where],
            self.dependence[where],
            offer,
            at_cells(self.threat, where),
            won[where],
        )
        for array, value in zip(self.start, start, strict=True):
            array[where] = value
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
        cause, trigger = causes_and_triggers(kind, terms, self.reference, self.recent, r, i)
        steps = np.full(r.size, step, dtype=np.int64)
        self.event_parts.append((r, steps, i, kind, origin, target, cause, trigger))
        for first, mask in ((self.first_realign, realign), (self.first_collapse, collapse)):
            hit = mask[r, i] & (first[r, i] < 0)
            first[r[hit], i[hit]] = step

    # Records -------------------------------------------------------------------------------

    def snapshot(self) -> tuple[np.ndarray, ...]:
        """Copies of the per-step fields, for the series table."""
        fields = tuple(getattr(self, f).copy() for f in SERIES_FIELDS)
        return (*fields, self.status.copy(), self.patron.copy())

    def events(self) -> dict[str, np.ndarray]:
        """The events recorded so far as columns, for the events table."""
        names = ("run", "step", "partner", "kind", "from", "to", "cause", "trigger")
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
    keys: np.ndarray,
    run_ids: list[int],
    horizon: int,
    series_every: int | None = 1,
) -> ChunkResult:
    """Run `run_ids` (with their stream keys, rng/pcg64.run_keys) together to the horizon;
    the arrays of their rows."""
    ens = Ensemble(static, keys)
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
    final: dict[str, np.ndarray] = {
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
