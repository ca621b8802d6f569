"""Mesa agents: patrons and their partners.

Every step has three phases (see AllianceModel.step): patrons allocate support, partners
observe what they receive, then every partner decides its next state from the state of
step t only, and all of them advance together. Updates are synchronous, so the order in
which agents act cannot change a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import mesa
import numpy as np

from patronage.model import rules
from patronage.scenario.schema import NONE_PATRON

if TYPE_CHECKING:
    from patronage.model.model import AllianceModel
    from patronage.scenario.schema import Partner as PartnerSpec

from patronage.model.outcomes import ALIGNED, COLLAPSED, HEDGING, REALIGNED, STATUSES  # noqa: F401 - re-exported

# An event's cause is the term of the utility gap (rules.GAP_TERMS) whose change since the
# relationship began moved the gap most.
GAP_TERMS = rules.GAP_TERMS


class Patron(mesa.Agent):
    """A patron: the incumbent allocates its budget; rivals make offers (held by partners)."""

    def __init__(self, model: AllianceModel, patron_id: str, name: str, incumbent: bool) -> None:
        super().__init__(model)
        self.patron_id = patron_id
        self.name = name or patron_id
        self.incumbent = incumbent
        self.budget = 1.0
        self.support: np.ndarray = np.zeros(0)
        self.abandonment: np.ndarray = np.zeros(0)

    def allocate(self) -> None:
        """Support the incumbent gives each partner at this step, relative to its baseline."""
        if not self.incumbent:
            return
        m = self.model
        t = m.now
        w = m.withdrawal
        withdrawn = w.level * rules.ramp(t, w.start, w.ramp)
        self.budget = 1.0 - w.cut_level * rules.ramp(t, w.cut_start, w.cut_ramp)
        freed = float(np.dot(w.allocation, withdrawn))
        self.support = rules.incumbent_support(
            w.allocation, withdrawn, self.budget, w.redirect, freed
        )
        # Abandonment is read from what a partner gets from the incumbent, its allocation or
        # the incumbent's offer to it, whichever is larger: the same account as its own.
        given = np.array(
            [
                max(float(self.support[j]), partner.offers.get(self.patron_id, 0.0))
                for j, partner in enumerate(m.partners)
            ]
        )
        self.abandonment = rules.abandonment(given, m.fallen)


class Partner(mesa.Agent):
    """A partner of the incumbent, with its loyalty, dependence, trust and its choices."""

    def __init__(self, model: AllianceModel, spec: PartnerSpec, index: int) -> None:
        super().__init__(model)
        c = model.spec.coefficients
        self.partner_id = spec.id
        self.name = spec.name or spec.id
        self.group = spec.group
        self.index = index
        self.patron = model.spec.incumbent
        self.status = ALIGNED
        self.loyalty = spec.loyalty
        self.dependence = spec.dependence
        self.trust = spec.trust if spec.trust is not None else c.trust_prior
        self.expected = 1.0
        self.support = 1.0
        self.shortfall = 0.0
        self.strength = spec.strength
        self.gap = 0.0
        # Static or event-driven inputs
        self.base_dependence = spec.dependence
        self.base_strength = spec.strength
        self.threat = spec.threat
        self.pressure = spec.pressure
        self.autonomy = spec.autonomy
        self.affinity = dict(spec.affinity)
        self.offers = dict(spec.offers)
        incumbent = model.spec.incumbent
        # Attachment to the incumbent is the loyalty score (unless an affinity is given), so
        # the pull back to it and the loyalty on returning agree.
        self.affinity.setdefault(incumbent, spec.loyalty)
        # The incumbent, once left, is remembered as it was at the exit (Miller 2012): what
        # staying was worth then is its pull, and the loyalty then is the one it returns with.
        self.loyalty_at_exit = self.affinity[incumbent]
        self.trust_at_exit = self.trust  # trust in the incumbent when it last left it
        # Anchors of the current relationship: where loyalty and trust settle when all is well
        self.loyalty_anchor = self.loyalty
        self.trust_anchor = self.trust
        self.reference_terms: tuple[float, ...] | None = None
        self.recent_terms: tuple[float, ...] | None = None  # averaged over TRIGGER_WINDOW
        self.moves = 0  # realignments made so far (each adds rules' reputation cost)
        # The starting position the utility gap is measured against: the status quo, with
        # the incumbent's pull as it stood (its affinity and its baseline support of 1).
        self._best_cache: tuple[tuple[str, int, int], tuple[str, float, float]] | None = None
        own_pull = rules.alternative_pull(self.affinity[incumbent], 1.0, c.w_affinity, c.w_offer)
        _, best_pull, _ = self._best_alternative()
        start_pull = float(rules.status_quo_pull(float(own_pull), best_pull, c.hedge_band))
        self.start = rules.start_position(
            self.loyalty, self.trust, self.dependence, 1.0, self.threat, start_pull
        )
        self.value_at_exit = start_pull  # see rules.stay_value
        self.watched: list[tuple[int, float]] = []  # (peer index, weight)
        self._next: dict[str, object] = {}

    # --- phase 1: what it receives ----------------------------------------------------------

    def observe(self) -> None:
        """Phase 1: the support its patron gives now, and its shortfall against its record."""
        m = self.model
        if self.status == COLLAPSED:
            self.support, self.shortfall = 0.0, 0.0
            return
        if self.patron == m.incumbent_id:
            allocated = float(m.incumbent.support[self.index])
            self.support = max(allocated, self.offers.get(m.incumbent_id, 0.0))
        elif self.patron == NONE_PATRON:
            self.support = 0.0
        else:
            self.support = self.offers.get(self.patron, 0.0)
        self.shortfall = float(rules.shortfall(self.expected, self.support))

    # --- phase 2: decide the next state from the state of this step ------------------------

    def decide(self) -> None:
        """Phase 2: decide the next state from this step's state, without changing it yet."""
        if self.status == COLLAPSED:
            self._next = {}
            return
        m = self.model
        c = m.spec.coefficients
        i = self.index
        seen = 0.0  # what the incumbent does to others says nothing about a rival patron
        if self.patron == m.incumbent_id:
            abandonment = m.incumbent.abandonment
            watched = 0.0  # left to right: Python 3.12's sum() compensates, 3.11's does not
            for j, w in self.watched:
                watched += w * float(abandonment[j])
            seen = rules.contagion(watched, m.hard_times, c.hard_times_discount)
        trust_goal = rules.trust_target(
            self.trust_anchor, self.shortfall, seen, c.own_shortfall_weight, c.peer_weight
        )
        loyalty_goal = rules.loyalty_target(
            self.loyalty_anchor,
            self.trust,
            self.trust_anchor,
            self.pressure * (self.patron == m.incumbent_id),  # pressure is against Tehran
            c.loyalty_trust_weight,
            c.loyalty_pressure_weight,
        )
        hedging = self.status == HEDGING
        dependence_goal = rules.means_share(self.base_dependence, self.support) * (
            1.0 - c.hedge_diversification * hedging
        )
        strength_goal = rules.strength_target(
            self.base_strength, self.base_dependence, self.support
        )
        nxt: dict[str, object] = {
            "trust": float(
                rules.trust(self.trust, trust_goal, c.trust_fall_rate, c.trust_rise_rate)
            ),
            "loyalty": float(
                rules.loyalty(
                    self.loyalty, loyalty_goal, c.loyalty_rate, m.draws.noise[i], c.loyalty_noise
                )
            ),
            "dependence": float(
                rules.dependence(self.dependence, dependence_goal, c.dependence_rate)
            ),
            "strength": float(rules.strength(self.strength, strength_goal, c.strength_rate)),
        }

        terms, best, gap = self._choice()
        nxt["gap"] = gap
        if self.reference_terms is None:
            self.reference_terms = terms
            self.recent_terms = terms
        recent = self.recent_terms if self.recent_terms is not None else terms
        nxt["recent_terms"] = tuple(
            float(rules.recent_average(r, term)) for r, term in zip(recent, terms, strict=True)
        )
        p_collapse = rules.collapse_probability(self.strength, self.threat, c.collapse_rate)
        if m.draws.collapse[i] < p_collapse:
            nxt["status"] = COLLAPSED
            below = "strength_below_threat"
            nxt["event"] = ("collapse", self.patron, None, below, below)
        elif m.draws.realign[i] < rules.realign_probability(
            gap, c.hedge_band, c.switch_threshold, c.switch_steepness, c.realign_rate
        ):
            nxt.update(self._realign_to(best, terms))
            nxt["event"] = ("realign", self.patron, best, *self._causes(terms, True))
        else:
            hedge_now = bool(rules.is_hedging(gap, c.hedge_band))
            settled = ALIGNED if self.patron == m.incumbent_id else REALIGNED
            nxt["status"] = HEDGING if hedge_now else settled
            if hedge_now and not hedging:
                nxt["event"] = ("hedge", self.patron, best, *self._causes(terms, True))
            elif hedging and not hedge_now:
                nxt["event"] = ("unhedge", self.patron, None, *self._causes(terms, False))
        self._next = nxt

    def _best_alternative(self) -> tuple[str, float, float]:
        """The alternative with the strongest pull: (patron or 'none', pull, its offer).

        Ties keep the first in canonical order (incumbent, rivals sorted, then 'none'). It
        changes only when the partner moves or an offer changes, so it is cached.
        """
        key = (self.patron, self.model.offers_version, self.moves)
        if self._best_cache is not None and self._best_cache[0] == key:
            return self._best_cache[1]
        c = self.model.spec.coefficients
        incumbent = self.model.incumbent_id
        options = [
            (pid, self.affinity.get(pid, 0.0), self.offers.get(pid, 0.0))
            for pid in self.model.patron_ids
            if pid != self.patron
        ]
        if self.patron != NONE_PATRON:
            options.append((NONE_PATRON, self.autonomy, 0.0))
        best = (NONE_PATRON, -np.inf, 0.0)
        for pid, affinity, offer in options:
            if pid == incumbent:  # left: remembered as it was at the exit
                pull = float(rules.remembered_pull(self.value_at_exit, offer, c.w_offer))
            else:
                pull = float(rules.alternative_pull(affinity, offer, c.w_affinity, c.w_offer))
            if pull > best[1]:
                best = (pid, pull, offer)
        self._best_cache = (key, best)
        return best

    def _choice(self) -> tuple[tuple[float, ...], str, float]:
        """The gap terms, the best alternative and the utility gap (leaving minus staying)."""
        c = self.model.spec.coefficients
        best, best_pull, best_offer = self._best_alternative()
        terms = rules.gap_terms(
            self.loyalty,
            self.trust,
            self.dependence,
            self.support,
            best_pull,
            best_offer,
            self.threat,
            *self.start,
            float(self.moves),
            c.w_loyalty,
            c.w_trust,
            c.w_support,
            c.exit_cost,
            c.w_fear,
            c.reputation_cost,
        )
        values: tuple[float, ...] = tuple(float(t) for t in terms)
        return values, best, float(rules.gap(values))

    def _causes(self, terms: tuple[float, ...], toward_leaving: bool) -> tuple[str, str]:
        """(cause, trigger): the term that moved the gap most since the relationship began,
        and the one that moved it most against its recent average (rules.TRIGGER_WINDOW)."""
        reference = self.reference_terms if self.reference_terms is not None else terms
        recent = self.recent_terms if self.recent_terms is not None else terms
        return (
            rules.cause_term(terms, reference, toward_leaving),
            rules.cause_term(terms, recent, toward_leaving),
        )

    def _realign_to(self, new_patron: str, terms: tuple[float, ...]) -> dict[str, object]:
        """The state of a new relationship: loyalty starts at the attachment to the new patron."""
        m = self.model
        c = m.spec.coefficients
        trust = c.trust_prior  # a new relationship starts at the prior (Leeds 2003)
        if new_patron == NONE_PATRON:
            attachment, offer = self.autonomy, 0.0
        elif new_patron == m.incumbent_id:
            attachment = max(self.loyalty_at_exit, 0.0)
            offer = max(float(m.incumbent.support[self.index]), self.offers.get(new_patron, 0.0))
            trust = self.trust_at_exit  # the patron's record is remembered (Miller 2012)
        else:
            attachment = max(self.affinity.get(new_patron, 0.0), 0.0)
            offer = self.offers.get(new_patron, 0.0)
        leaving_incumbent = self.patron == m.incumbent_id
        dependence = float(rules.means_share(self.base_dependence, offer))
        _, pull, _ = self._best_alternative()  # the pull that won it
        return {
            "patron": new_patron,
            "status": ALIGNED if new_patron == m.incumbent_id else REALIGNED,
            "loyalty": attachment,
            "loyalty_anchor": attachment,
            "trust": trust,
            "trust_anchor": c.trust_prior,
            "trust_at_exit": self.trust if leaving_incumbent else self.trust_at_exit,
            "loyalty_at_exit": self.loyalty if leaving_incumbent else self.loyalty_at_exit,
            "value_at_exit": (
                float(rules.stay_value(self.start.pull, *terms[:3]))
                if leaving_incumbent
                else self.value_at_exit
            ),
            "expected": offer,
            "dependence": dependence,
            "reference_terms": None,
            "recent_terms": None,
            "moves": self.moves + 1,
            "start": rules.start_position(attachment, trust, dependence, offer, self.threat, pull),
        }

    # --- phase 3: write the next state -----------------------------------------------------

    def advance(self) -> None:
        """Phase 3: apply the decision, so all partners move on the same information."""
        event = self._next.pop("event", None)
        for name, value in self._next.items():
            setattr(self, name, value)
        self._next = {}
        if event is not None:
            kind, origin, target, cause, trigger = cast(tuple[str, str, str, str, str], event)
            self.model.record_event(self, kind, origin, target, cause, trigger)
            if kind == "collapse" and origin == self.model.incumbent_id:
                self.model.fallen[self.index] = 1.0
