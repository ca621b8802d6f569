"""The update rules of the alliance model, as pure functions.

Every function takes floats or numpy arrays of any matching shape and returns the same
kind, so the Mesa agents (one float per partner) and the ensemble engine (an array of
shape (runs, partners)) share one definition of the model. Nothing here knows about Mesa,
scenarios or I/O; docs/model.md gives the theory and the defaults of every coefficient.
"""

from __future__ import annotations

import math
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

Num = TypeVar("Num", float, np.ndarray)

EPS = 1e-9


# Three elementwise helpers with a fast path for plain floats (numpy's ufuncs cost about a
# microsecond per call on scalars, which dominates the per-agent Mesa engine). Both paths
# are exact operations, so floats and arrays give bit-identical results.


def clip01(x: Num) -> Num:
    """Clip to [0, 1]."""
    if isinstance(x, float):
        return min(max(x, 0.0), 1.0)
    return np.minimum(np.maximum(x, 0.0), 1.0)


def maximum(x: Num, floor: float | Num) -> Num:
    """Elementwise max(x, floor)."""
    if isinstance(x, float) and isinstance(floor, float):
        return max(x, floor)
    return np.maximum(x, floor)


def where(condition: Any, if_true: Num, if_false: Num | float) -> Num:
    """Elementwise choice."""
    if isinstance(condition, bool | np.bool_):
        return if_true if condition else if_false  # type: ignore[return-value]
    return np.where(condition, if_true, if_false)  # type: ignore[return-value]


def ramp(step: Num, start: Num, length: Num) -> Num:
    """Fraction of a change in force at `step`: 0 before `start`, 1 after `length` steps.

    A withdrawal that starts at step s with a ramp of r steps is 1/r in force at step s,
    2/r at step s+1, ... and complete at s+r-1; a ramp of 0 is a jump at step s.
    """
    length = maximum(length, 1)
    return clip01((step - start + 1) / length)


def incumbent_support(
    allocation: Num, withdrawn: Num, budget: Num | float, redirected: Num, freed: Num | float
) -> Num:
    """Support a partner receives from the incumbent, relative to its baseline (1 = today's).

    allocation: the partner's share of the patron's regional budget; withdrawn: the
    fraction of it withdrawn now; budget: the patron's whole budget (1 = today's);
    redirected: the partner's share of the support freed elsewhere; freed: the total freed,
    in budget shares. Allocations are positive (the schema's floor is 0.001).
    """
    received = budget * (allocation * (1.0 - withdrawn) + redirected * freed)
    return received / allocation


def shortfall(reference: Num, support: Num) -> Num:
    """A partner's own abandonment: the fraction of what its patron gave when the
    relationship began (`reference`, 1 for the incumbent's baseline) that it no longer gives.

    It is measured against the patron's record, not against an expectation that adapts, so
    a cut that lasts is never forgiven: it is the same account as the abandonment a partner
    sees in its peers (`abandonment`), and like it, it has no memory beyond the present cut.
    """
    return clip01((reference - support) / maximum(reference, EPS))


def abandonment(incumbent_support: Num, fallen: Num) -> Num:
    """How abandoned a partner is seen to be: the fraction of its baseline support cut, or
    1 once it has collapsed while aligned with the patron (a high-impact lesson, Reiter 1994).

    It is a fact about the patron's conduct, so it does not fade as the abandoned partner
    adapts its expectations, and it stays on record after that partner leaves or collapses.
    """
    return maximum(clip01(1.0 - incumbent_support), fallen)


def contagion(watched_abandonment: Num, hard_times: Num | float, discount: float) -> Num:
    """Abandonment a partner sees in the peers it watches, in [0, 1].

    watched_abandonment is the network-weighted sum of the peers' abandonment (the caller
    does the weighting: a dot product per agent, a matrix product in the ensemble). Defaults
    in hard times (a cut of the patron's whole budget) count less (LeVeck & Narang 2017): as
    news of how the patron treats others. A partner's own cut is not discounted: it knows
    what it gets, and a total cut is total whatever the budget.
    """
    return clip01(watched_abandonment) * (1.0 - discount * hard_times)


def trust_target(
    trust_anchor: Num, own_shortfall: Num, seen: Num, own_weight: float, peer_weight: float
) -> Num:
    """Trust a partner would settle at given its own shortfall and the abandonment it sees."""
    own = clip01(own_weight * own_shortfall)
    peer = clip01(peer_weight * seen)
    return trust_anchor * (1.0 - own) * (1.0 - peer)


def trust(current: Num, target: Num, fall_rate: float, rise_rate: float) -> Num:
    """Trust moves toward its target, falling faster than it recovers (Miller 2012)."""
    rate = where(target < current, fall_rate, rise_rate)
    return clip01(current + rate * (target - current))


def loyalty_target(
    loyalty_anchor: Num,
    trust_now: Num,
    trust_anchor: Num,
    pressure: Num,
    trust_weight: float,
    pressure_weight: float,
) -> Num:
    """Loyalty a partner would settle at: its anchor, less lost trust and domestic pressure."""
    lost_trust = maximum(trust_anchor - trust_now, 0.0)
    return clip01(loyalty_anchor - trust_weight * lost_trust - pressure_weight * pressure)


def loyalty(current: Num, target: Num, rate: Any, noise: Num, noise_scale: Any) -> Num:
    """Loyalty moves toward its target, plus seeded noise (a standard normal draw).

    `noise_scale` is the standard deviation of loyalty around a steady target (the spread
    of this AR(1) process), so the monthly shock is noise_scale x sqrt(rate x (2 - rate))
    and sweeping the rate does not change how far loyalty wanders.
    """
    spread = rate * (2.0 - rate)
    # math.sqrt and np.sqrt are both correctly rounded: floats and arrays agree exactly
    shock = noise_scale * (math.sqrt(spread) if isinstance(spread, float) else np.sqrt(spread))
    return clip01(current + rate * (target - current) + shock * noise)


def means_share(base_dependence: Num, support: Num) -> Num:
    """Share of a partner's means that its patron now provides.

    The patron used to provide D0 of its means; it now provides D0 x S of the old total,
    beside the (1 - D0) the partner raises elsewhere.
    """
    provided = base_dependence * maximum(support, 0.0)
    return provided / maximum((1.0 - base_dependence) + provided, EPS)


def dependence(current: Num, target: Num, rate: float) -> Num:
    """Dependence drifts slowly toward the patron's share of the partner's means."""
    return clip01(current + rate * (target - current))


def strength_target(base_strength: Num, base_dependence: Num, support: Num) -> Num:
    """Capability a partner can sustain: what it raises itself plus what the patron gives."""
    return base_strength * ((1.0 - base_dependence) + base_dependence * maximum(support, 0.0))


def strength(current: Num, target: Num, rate: float) -> Num:
    """Capability erodes (or grows) toward what the partner can sustain, with a lag."""
    return maximum(current + rate * (target - current), 0.0)


def collapse_probability(strength_now: Num, threat: Num, rate: float) -> Num:
    """Per-step probability of collapse: zero while strength covers the threat faced."""
    gap = (threat - strength_now) / maximum(threat, EPS)
    return rate * clip01(gap)


def fear(dependence_now: Num, threat: Num, trust_now: Num) -> Num:
    """Fear of abandonment (Snyder 1984): F = D x threat x (1 - T)."""
    return dependence_now * clip01(threat) * (1.0 - trust_now)


GAP_TERMS = ("loyalty", "trust", "support", "alternative", "exit_cost", "fear")


class Start(NamedTuple, Generic[Num]):
    """A relationship's starting position: what the utility gap is measured against.

    loyalty and trust when it began, the means its patron provided then (D x S), the fear
    of abandonment it felt then, and the pull of its patron as an alternative then (for the
    incumbent at the start: its affinity, by default the loyalty score, and its baseline
    support of 1; for a patron it moves to: the pull that won it).
    """

    loyalty: Num
    trust: Num
    means: Num
    fear: Num
    pull: Num


def status_quo_pull(incumbent_pull: Num, best_pull: Num, hedge_band: Any) -> Num:
    """The incumbent's pull at the start: its own (affinity and baseline support), or, where
    a partner's inputs make an alternative pull harder, the best alternative's pull plus the
    hedging band. A partner is observed with the incumbent, not hedging: a status-quo
    constant (as alternative-specific constants are set to reproduce observed choices) keeps
    it at rest, and `patronage validate` warns about the inputs (model/rest.py)."""
    return maximum(incumbent_pull, best_pull + hedge_band)


def start_position(
    loyalty_now: Num, trust_now: Num, dependence_now: Num, support: Num, threat: Num, pull: Num
) -> Start[Num]:
    """The starting position of a relationship that begins in this state."""
    return Start(
        loyalty_now,
        trust_now,
        dependence_now * support,
        fear(dependence_now, threat, trust_now),
        pull,
    )


def alternative_pull(affinity: Num, offer: Num, w_affinity: float, w_offer: float) -> Num:
    """What draws a partner to an alternative: affinity and the support offered.

    The exit cost is the same whichever alternative it picks, so the best alternative is
    the one with the strongest pull.
    """
    return w_affinity * affinity + w_offer * offer


def gap_terms(
    loyalty_now: Num,
    trust_now: Num,
    dependence_now: Num,
    support: Num,
    best_pull: Num,
    best_offer: Num,
    threat: Num,
    start_loyalty: Num,
    start_trust: Num,
    start_means: Num,
    start_fear: Num,
    start_pull: Num,
    moves: Num,
    w_loyalty: float,
    w_trust: float,
    w_support: float,
    exit_cost: float,
    w_fear: float,
    reputation_cost: float,
) -> tuple[Num, Num, Num, Num, Num, Num]:
    """The terms of the utility gap (leaving minus staying), in the order of GAP_TERMS.

    Every term is measured against the relationship's starting position (reference
    dependence): a partner was observed with its patron, so staying was worth at least the
    best alternative then, and what moves it is what has changed since. Staying is worth
    loyalty, trust and the means its patron provides, each as changed since the start, and
    the pull its patron had then; leaving is worth the best alternative's pull less an exit
    cost that grows with dependence and with every realignment already made (a record of
    broken alliances, Miller 2012). Fear of abandonment, as grown since the start, pushes
    toward leaving only as far as an alternative offers support: with none, fear makes a
    partner cling (Snyder 1984).
    """
    grown_fear = maximum(fear(dependence_now, threat, trust_now) - start_fear, 0.0)
    return (
        -w_loyalty * (loyalty_now - start_loyalty),
        -w_trust * (trust_now - start_trust),
        -w_support * (dependence_now * support - start_means),
        best_pull - start_pull,
        -exit_cost * dependence_now - reputation_cost * moves,
        w_fear * grown_fear * clip01(best_offer),
    )


def stay_value(start_pull: Num, loyalty_term: Num, trust_term: Num, support_term: Num) -> Num:
    """What staying is worth now, in the currency of an alternative's pull: the pull its
    patron had at the start, less the loyalty, trust and means lost since (the first three
    gap terms). A partner that leaves the incumbent remembers it at this value."""
    return start_pull - loyalty_term - trust_term - support_term


def remembered_pull(value_at_exit: Num, offer: Num, w_offer: float) -> Num:
    """The pull of a patron a partner has left: its value when it left (stay_value), plus
    whatever it offers now to court the partner back (Miller 2012: records persist)."""
    return value_at_exit + w_offer * offer


def gap(terms: tuple[Num, ...]) -> Num:
    """Sum of the gap terms, left to right (a fixed order, so both engines agree exactly)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def realign_probability(
    gap: Num, hedge_band: float, threshold: float, steepness: float, rate: float
) -> Num:
    """Per-step probability of realigning: logistic in the utility gap, zero inside the band.

    Leaving must beat staying by more than the hedging band before a partner moves at all,
    and the probability reaches half of `rate` at `threshold`: switching is costly, so
    partners hold on through small or short-lived gaps (hysteresis).
    """
    # Clipping the exponent is exact (exp(700) is already far past 1/eps) and keeps a
    # steep logistic from overflowing with a warning.
    logistic = 1.0 / (1.0 + np.exp(np.clip(-steepness * (gap - threshold), -700.0, 700.0)))
    return where(gap > hedge_band, rate * logistic, 0.0)


def is_hedging(gap: Num, hedge_band: float) -> Num:
    """A partner hedges when staying and leaving are close (or leaving is better but not taken)."""
    return gap > -hedge_band


# An event's trigger is the term that moved the gap most against its recent average: an
# exponential average with weight 1 / TRIGGER_WINDOW per month (a window of about six
# months), where its cause is the term that moved most since the relationship began.
TRIGGER_WINDOW = 6
TRIGGER_RATE = 1.0 / TRIGGER_WINDOW


def recent_average(recent: Num, term: Num) -> Num:
    """A gap term averaged over the last TRIGGER_WINDOW months or so (exponentially)."""
    return recent + TRIGGER_RATE * (term - recent)


def cause_term(terms: tuple[float, ...], reference: tuple[float, ...], toward_leaving: bool) -> str:
    """The term whose change against `reference` moved the gap most toward the event (up for
    a hedge or realignment, down for an unhedge); 'initial_state' if none moved that way.
    Ties go to the first term in GAP_TERMS order."""
    change = [now - then for now, then in zip(terms, reference, strict=True)]
    pick = max if toward_leaving else min
    k = pick(range(len(change)), key=change.__getitem__)
    moved = change[k] > 1e-12 if toward_leaving else change[k] < -1e-12
    return GAP_TERMS[k] if moved else "initial_state"
