"""The update rules of the alliance model, as pure functions.

Every function takes floats or numpy arrays of any matching shape and returns the same
kind, so the Mesa agents (one float per partner) and the ensemble engine (an array of
shape (runs, partners)) share one definition of the model. Nothing here knows about Mesa,
scenarios or I/O; docs/model.md gives the theory and the defaults of every coefficient.
"""

from __future__ import annotations

from typing import TypeVar

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


def where(condition, if_true: Num, if_false: Num) -> Num:
    """Elementwise choice."""
    if isinstance(condition, bool | np.bool_):
        return if_true if condition else if_false
    return np.where(condition, if_true, if_false)


def ramp(step: Num, start: Num, length: Num) -> Num:
    """Fraction of a change in force at `step`: 0 before `start`, 1 after `length` steps.

    A withdrawal that starts at step s with a ramp of r steps is 1/r in force at step s,
    2/r at step s+1, ... and complete at s+r-1; a ramp of 0 is a jump at step s.
    """
    length = maximum(length, 1)
    return clip01((step - start + 1) / length)


def incumbent_support(
    allocation: Num, withdrawn: Num, budget: Num, redirected: Num, freed: Num
) -> Num:
    """Support a partner receives from the incumbent, relative to its baseline (1 = today's).

    allocation: the partner's share of the patron's regional budget; withdrawn: the
    fraction of it withdrawn now; budget: the patron's whole budget (1 = today's);
    redirected: the partner's share of the support freed elsewhere; freed: the total freed,
    in budget shares. Allocations are positive (the schema's floor is 0.001).
    """
    received = budget * (allocation * (1.0 - withdrawn) + redirected * freed)
    return received / allocation


def expectation(expected: Num, support: Num, rate: float) -> Num:
    """Adaptive expectation: what a partner expects moves toward what it receives."""
    return expected + rate * (support - expected)


def shortfall(expected: Num, support: Num) -> Num:
    """Relative shortfall of support against expectation, in [0, 1]."""
    return clip01((expected - support) / maximum(expected, EPS))


def abandonment(incumbent_support: Num, fallen: Num) -> Num:
    """How abandoned a partner is seen to be: the fraction of its baseline support cut, or
    1 once it has collapsed while aligned with the patron (a high-impact lesson, Reiter 1994).

    It is a fact about the patron's conduct, so it does not fade as the abandoned partner
    adapts its expectations, and it stays on record after that partner leaves or collapses.
    """
    return maximum(clip01(1.0 - incumbent_support), fallen)


def contagion(watched_abandonment: Num, hard_times: Num, discount: float) -> Num:
    """Abandonment a partner sees in the peers it watches, in [0, 1].

    watched_abandonment is the network-weighted sum of the peers' abandonment (the caller
    does the weighting: a dot product per agent, a matrix product in the ensemble). Defaults
    in hard times (a cut of the patron's whole budget) count less (LeVeck & Narang 2017).
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


def loyalty(current: Num, target: Num, rate: float, noise: Num, noise_scale: float) -> Num:
    """Loyalty moves toward its target, plus seeded noise (a standard normal draw)."""
    return clip01(current + rate * (target - current) + noise_scale * noise)


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
    w_loyalty: float,
    w_trust: float,
    w_support: float,
    exit_cost: float,
    w_fear: float,
) -> tuple[Num, Num, Num, Num, Num, Num]:
    """The terms of the utility gap (leaving minus staying), in the order of GAP_TERMS.

    Staying is worth loyalty, trust and the support one depends on; leaving is worth the
    best alternative's pull less an exit cost that grows with dependence. Fear of
    abandonment pushes toward leaving only as far as an alternative offers support: with
    none, fear makes a partner cling (Snyder 1984).
    """
    return (
        -w_loyalty * loyalty_now,
        -w_trust * trust_now,
        -w_support * dependence_now * support,
        best_pull,
        -exit_cost * dependence_now,
        w_fear * fear(dependence_now, threat, trust_now) * clip01(best_offer),
    )


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
