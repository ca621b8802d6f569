"""Unit tests of every rule in rules.py: hand-computed values, floats and arrays alike."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patronage.model import rules

approx = pytest.approx


# --- the three elementwise helpers ------------------------------------------------------------


def test_clip01_clips_floats_and_arrays():
    assert rules.clip01(-0.5) == 0.0
    assert rules.clip01(0.25) == 0.25
    assert rules.clip01(1.5) == 1.0
    assert rules.clip01(np.array([-0.5, 0.25, 1.5])).tolist() == [0.0, 0.25, 1.0]


def test_maximum_and_where():
    assert rules.maximum(0.2, 0.5) == 0.5
    assert rules.maximum(0.7, 0.5) == 0.7
    assert rules.maximum(np.array([0.2, 0.7]), 0.5).tolist() == [0.5, 0.7]
    assert rules.where(True, 1.0, 2.0) == 1.0
    assert rules.where(np.bool_(False), 1.0, 2.0) == 2.0
    assert rules.where(np.array([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]


# --- ramp -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "start", "length", "expected"),
    [
        (2, 3, 4, 0.0),  # before the start: nothing in force
        (3, 3, 4, 0.25),  # 1/r at the start step
        (4, 3, 4, 0.5),
        (6, 3, 4, 1.0),  # complete at s + r - 1
        (50, 3, 4, 1.0),  # and stays complete
        (2, 3, 0, 0.0),  # a ramp of 0 is a jump at the start step
        (3, 3, 0, 1.0),
        (3, 3, 1, 1.0),  # a ramp of 1 is the same jump
    ],
)
def test_ramp(step, start, length, expected):
    assert float(rules.ramp(float(step), float(start), float(length))) == approx(expected)
    assert float(rules.ramp(step, start, length)) == approx(expected)


def test_ramp_vectorised_over_partners():
    starts = np.array([0.0, 3.0, 10.0])
    lengths = np.array([0.0, 4.0, 2.0])
    assert rules.ramp(4, starts, lengths).tolist() == approx([1.0, 0.5, 0.0])


# --- support from the incumbent -----------------------------------------------------------------


def test_incumbent_support_withdrawal_and_redirection():
    # a loses everything, b keeps all and receives 40% of what is freed, c (a small
    # allocation, itself fully withdrawn) receives only its 50% share of the freed support.
    allocation = np.array([0.35, 0.35, 0.05])
    withdrawn = np.array([1.0, 0.0, 1.0])
    redirect = np.array([0.0, 0.4, 0.5])
    freed = float(np.dot(allocation, withdrawn))  # 0.40 of the budget
    support = rules.incumbent_support(allocation, withdrawn, 1.0, redirect, freed)
    assert support.tolist() == approx([0.0, (0.35 + 0.4 * 0.40) / 0.35, 0.5 * 0.40 / 0.05])
    # The freed support goes to the redirect shares (90% of it here), the rest is kept.
    assert float(np.dot(support, allocation)) == approx(0.75 - 0.40 + 0.9 * 0.40)


def test_incumbent_support_redirected_only():
    """A partner whose own support is all withdrawn receives only what is redirected to it."""
    assert rules.incumbent_support(0.1, 1.0, 1.0, 0.0, 0.35) == 0.0
    assert rules.incumbent_support(0.1, 1.0, 1.0, 0.5, 0.35) == approx(0.175 / 0.1)
    assert rules.incumbent_support(0.1, 1.0, 0.8, 0.5, 0.35) == approx(0.8 * 0.175 / 0.1)


def test_incumbent_support_budget_cut_scales_everything():
    assert rules.incumbent_support(0.2, 0.0, 1.0, 0.0, 0.0) == approx(1.0)
    assert rules.incumbent_support(0.2, 0.0, 0.6, 0.0, 0.0) == approx(0.6)
    assert rules.incumbent_support(0.2, 0.5, 0.6, 0.0, 0.0) == approx(0.3)
    # partial withdrawal with part of it coming back
    assert rules.incumbent_support(0.2, 0.5, 1.0, 0.5, 0.1) == approx((0.1 + 0.05) / 0.2)


# --- expectation, shortfall, abandonment, contagion ---------------------------------------------


def test_shortfall():
    assert rules.shortfall(1.0, 0.5) == approx(0.5)
    assert rules.shortfall(0.8, 0.2) == approx(0.75)
    assert rules.shortfall(0.5, 1.0) == 0.0  # a surplus is no shortfall
    assert rules.shortfall(1.0, 0.0) == 1.0
    assert rules.shortfall(0.0, 0.0) == 0.0  # nothing was given, nothing is missing


def test_own_and_seen_abandonment_are_one_account():
    # A partner cut to 30% of its baseline reads the same abandonment in itself as its
    # watchers read in it: the patron's record against what it gave, with no forgetting.
    own = rules.shortfall(1.0, 0.3)
    seen = rules.abandonment(0.3, 0.0)
    assert own == approx(seen) == approx(0.7)


def test_abandonment():
    assert rules.abandonment(0.25, 0.0) == approx(0.75)
    assert rules.abandonment(0.0, 0.0) == 1.0
    assert rules.abandonment(1.0, 0.0) == 0.0
    assert rules.abandonment(1.4, 0.0) == 0.0  # getting more than before is no abandonment
    # a partner that fell while aligned counts as wholly abandoned, whatever it received
    assert rules.abandonment(1.0, 1.0) == 1.0
    assert rules.abandonment(np.array([0.25, 1.0]), np.array([0.0, 1.0])).tolist() == approx(
        [0.75, 1.0]
    )


def test_contagion_and_hard_times_discount():
    assert rules.contagion(0.8, 0.0, 0.5) == approx(0.8)
    assert rules.contagion(0.8, 1.0, 0.5) == approx(0.4)  # a budget cut excuses half of it
    assert rules.contagion(0.8, 0.5, 0.5) == approx(0.6)
    assert rules.contagion(1.7, 0.0, 0.5) == 1.0  # many abandoned peers: clipped at 1


# --- trust ------------------------------------------------------------------------------------


def test_trust_target():
    assert rules.trust_target(0.75, 0.0, 0.0, 1.0, 1.0) == approx(0.75)
    assert rules.trust_target(0.75, 0.5, 0.0, 1.0, 1.0) == approx(0.375)
    assert rules.trust_target(0.75, 0.0, 0.8, 1.0, 1.0) == approx(0.15)
    assert rules.trust_target(0.8, 0.5, 0.5, 1.0, 1.0) == approx(0.2)
    assert rules.trust_target(0.8, 0.5, 0.5, 0.5, 2.0) == approx(0.8 * 0.75 * 0.0)
    assert rules.trust_target(0.8, 0.6, 0.0, 3.0, 1.0) == 0.0  # weighted shortfall clipped


def test_trust_moves_toward_target_at_its_rates():
    assert rules.trust(0.75, 0.15, 0.3, 0.1) == approx(0.75 - 0.3 * 0.6)
    assert rules.trust(0.15, 0.75, 0.3, 0.1) == approx(0.15 + 0.1 * 0.6)
    assert rules.trust(0.5, 0.5, 0.3, 0.1) == approx(0.5)


@given(
    low=st.floats(0.0, 0.5),
    distance=st.floats(0.01, 0.5),
    rise=st.floats(0.01, 0.5),
    extra=st.floats(0.01, 0.5),
)
@settings(max_examples=50, deadline=None, derandomize=True)
def test_trust_falls_faster_than_it_rises(low, distance, rise, extra):
    """With fall_rate > rise_rate, the same distance is covered faster downward."""
    high = low + distance
    fall = rise + extra
    down = high - rules.trust(high, low, fall, rise)
    up = rules.trust(low, high, fall, rise) - low
    assert down > up > 0
    assert down == approx(fall * distance)
    assert up == approx(rise * distance)


# --- loyalty, dependence, strength ---------------------------------------------------------------


def test_loyalty_target():
    # 0.9 - 0.5 x (0.75 - 0.5) - 0.5 x 0.2
    assert rules.loyalty_target(0.9, 0.5, 0.75, 0.2, 0.5, 0.5) == approx(0.675)
    # trust above its anchor does not add loyalty
    assert rules.loyalty_target(0.9, 0.95, 0.75, 0.0, 0.5, 0.5) == approx(0.9)
    assert rules.loyalty_target(0.1, 0.0, 1.0, 1.0, 1.0, 1.0) == 0.0


def test_loyalty_moves_toward_target_plus_noise():
    shock = 0.01 * math.sqrt(0.1 * 1.9)  # the monthly shock that gives a spread of 0.01
    assert rules.loyalty(0.5, 0.7, 0.1, 0.0, 0.01) == approx(0.52)
    assert rules.loyalty(0.5, 0.7, 0.1, 1.0, 0.01) == approx(0.52 + shock)
    assert rules.loyalty(0.5, 0.7, 0.1, -2.0, 0.01) == approx(0.52 - 2 * shock)
    assert rules.loyalty(0.5, 0.7, 0.1, 3.0, 0.0) == approx(0.52)  # noise scale 0: no noise
    assert rules.loyalty(0.99, 1.0, 0.1, 5.0, 0.5) == 1.0
    assert rules.loyalty(0.01, 0.0, 0.1, -5.0, 0.5) == 0.0


def test_means_share():
    assert rules.means_share(0.6, 1.0) == approx(0.6)  # unchanged support: unchanged share
    assert rules.means_share(0.6, 0.5) == approx(0.3 / 0.7)
    assert rules.means_share(0.6, 0.0) == 0.0
    assert rules.means_share(0.5, 2.0) == approx(1.0 / 1.5)
    assert rules.means_share(1.0, 0.5) == approx(1.0)  # nothing raised elsewhere
    assert rules.means_share(1.0, 0.0) == 0.0
    assert rules.means_share(0.0, 1.0) == 0.0


def test_dependence_drifts_slowly():
    assert rules.dependence(0.6, 0.4, 0.02) == approx(0.596)
    assert rules.dependence(0.6, 0.6, 0.02) == approx(0.6)
    assert rules.dependence(0.6, 0.0, 1.0) == 0.0


def test_strength_target_in_proportion_to_dependence():
    assert rules.strength_target(1.0, 0.6, 1.0) == approx(1.0)
    assert rules.strength_target(1.0, 0.6, 0.5) == approx(0.7)
    assert rules.strength_target(2.0, 0.6, 0.0) == approx(0.8)
    assert rules.strength_target(1.0, 0.6, 1.4) == approx(1.24)
    # The drop from a withdrawal is base x D0 x withdrawn: twice D0, twice the drop.
    drop_low = 1.0 - rules.strength_target(1.0, 0.2, 0.5)
    drop_high = 1.0 - rules.strength_target(1.0, 0.4, 0.5)
    assert drop_high == approx(2 * drop_low)


def test_strength_lags_toward_target_and_stays_non_negative():
    assert rules.strength(1.0, 0.7, 0.25) == approx(0.925)
    assert rules.strength(0.5, 1.0, 0.25) == approx(0.625)
    assert rules.strength(0.1, 0.0, 1.0) == 0.0


# --- collapse, fear, utilities, choice --------------------------------------------------------


def test_collapse_probability_zero_while_strength_covers_threat():
    assert rules.collapse_probability(0.5, 0.5, 0.3) == 0.0
    assert rules.collapse_probability(0.9, 0.5, 0.3) == 0.0
    assert rules.collapse_probability(0.25, 0.5, 0.3) == approx(0.15)
    assert rules.collapse_probability(0.0, 0.5, 0.3) == approx(0.3)
    assert rules.collapse_probability(0.0, 0.0, 0.3) == 0.0  # no threat, no collapse


@given(strength=st.floats(0.0, 3.0), threat=st.floats(0.0, 3.0), rate=st.floats(0.0, 1.0))
@settings(max_examples=100, deadline=None, derandomize=True)
def test_collapse_probability_bounds(strength, threat, rate):
    p = rules.collapse_probability(strength, threat, rate)
    assert 0.0 <= p <= rate
    if strength >= threat:
        assert p == 0.0


def test_fear():
    assert rules.fear(0.6, 0.5, 0.75) == approx(0.6 * 0.5 * 0.25)
    assert rules.fear(1.0, 2.0, 0.0) == 1.0  # the threat term is clipped to 1
    assert rules.fear(0.6, 0.5, 1.0) == 0.0  # full trust: no fear
    assert rules.fear(0.0, 0.5, 0.0) == 0.0  # no dependence: no fear


def test_alternative_pull():
    assert rules.alternative_pull(0.5, 1.0, 1.0, 0.5) == approx(1.0)
    assert rules.alternative_pull(-0.6, 0.4, 1.0, 0.5) == approx(-0.4)
    assert rules.alternative_pull(0.2, 2.0, 0.0, 0.5) == approx(1.0)


COEFS = {
    "w_loyalty": 1.0,
    "w_trust": 0.5,
    "w_support": 0.5,
    "exit_cost": 0.5,
    "w_fear": 0.5,
    "reputation_cost": 0.1,
}
# A relationship that began at loyalty 0.9, trust 0.75, means 0.8 (D 0.8 x S 1), fear
# 0.8 x 0.5 x 0.25 = 0.1 and its patron's pull 1.2; no realignment made yet.
START = rules.start_position(0.9, 0.75, 0.8, 1.0, 0.5, 1.2)


def test_start_position():
    assert approx((0.9, 0.75, 0.8, 0.1, 1.2)) == START


def test_gap_terms_are_zero_but_the_exit_cost_at_the_start():
    terms = rules.gap_terms(0.9, 0.75, 0.8, 1.0, 1.0, 0.5, 0.5, *START, 0.0, **COEFS)
    assert len(terms) == len(rules.GAP_TERMS) == 6
    assert rules.GAP_TERMS == ("loyalty", "trust", "support", "alternative", "exit_cost", "fear")
    # the best alternative pulls 1.0 against the patron's 1.2 at the start; D = 0.8
    assert list(terms) == approx([0.0, 0.0, 0.0, -0.2, -0.4, 0.0])


def test_gap_terms_hand_computed():
    # loyalty 0.6, trust 0.25, D 0.6, S 0.5, after one realignment
    terms = rules.gap_terms(0.6, 0.25, 0.6, 0.5, 1.0, 0.5, 0.5, *START, 1.0, **COEFS)
    fear_grown = 0.6 * 0.5 * 0.75 - 0.1
    expected = (0.3, 0.25, 0.25, -0.2, -0.3 - 0.1, 0.5 * fear_grown * 0.5)
    assert list(terms) == approx(list(expected))
    assert rules.gap(terms) == approx(sum(expected))


def test_gap_terms_dependence_raises_the_cost_of_leaving():
    low = rules.gap_terms(0.9, 0.75, 0.2, 1.0, 1.0, 1.0, 0.0, *START, 0.0, **COEFS)
    high = rules.gap_terms(0.9, 0.75, 0.8, 1.0, 1.0, 1.0, 0.0, *START, 0.0, **COEFS)
    assert high[4] == approx(-0.5 * 0.8)
    assert high[4] < low[4]
    assert rules.gap(high) < rules.gap(low)


def test_gap_terms_every_realignment_made_adds_the_reputation_cost():
    first = rules.gap_terms(0.9, 0.75, 0.8, 1.0, 1.0, 1.0, 0.0, *START, 0.0, **COEFS)
    third = rules.gap_terms(0.9, 0.75, 0.8, 1.0, 1.0, 1.0, 0.0, *START, 2.0, **COEFS)
    assert third[4] - first[4] == approx(-0.2)


def test_gap_terms_fear_pushes_out_only_toward_an_offer_and_only_as_grown():
    no_offer = rules.gap_terms(0.5, 0.2, 0.8, 1.0, 0.3, 0.0, 1.0, *START, 0.0, **COEFS)
    offer = rules.gap_terms(0.5, 0.2, 0.8, 1.0, 0.3, 1.0, 1.0, *START, 0.0, **COEFS)
    assert no_offer[5] == 0.0
    assert offer[5] == approx(0.5 * (0.8 * 1.0 * 0.8 - 0.1))
    calmer = rules.gap_terms(0.5, 0.9, 0.8, 1.0, 0.3, 1.0, 0.5, *START, 0.0, **COEFS)
    assert calmer[5] == 0.0  # less fear than at the start does not hold it back either


def test_status_quo_pull_holds_a_partner_at_rest():
    assert rules.status_quo_pull(1.0, 0.8, 0.05) == 1.0  # its own pull is enough
    assert rules.status_quo_pull(1.0, 1.25, 0.05) == approx(1.3)  # raised: best + band


def test_stay_value_and_remembered_pull():
    # staying was worth the start pull 1.2 less what was lost (0.3 + 0.25 + 0.25)
    assert rules.stay_value(1.2, 0.3, 0.25, 0.25) == approx(0.4)
    # a patron left at that value pulls it back only with what it offers now
    assert rules.remembered_pull(0.4, 0.0, 0.5) == approx(0.4)
    assert rules.remembered_pull(0.4, 1.0, 0.5) == approx(0.9)


def test_recent_average_and_cause_term():
    assert rules.recent_average(0.0, 0.6) == approx(0.6 / rules.TRIGGER_WINDOW)
    terms = (0.1, 0.3, 0.0, 0.0, -0.2, 0.0)
    assert rules.cause_term(terms, (0.0,) * 6, True) == "trust"
    assert rules.cause_term(terms, (0.0,) * 6, False) == "exit_cost"
    assert rules.cause_term(terms, terms, True) == "initial_state"


def test_gap_sums_left_to_right():
    assert rules.gap((1.0, -2.0, 0.5)) == approx(-0.5)
    a = (np.array([1.0, 2.0]), np.array([-0.5, 0.25]), np.array([0.1, 0.1]))
    assert rules.gap(a).tolist() == approx([0.6, 2.35])


REALIGN = {"hedge_band": 0.05, "threshold": 0.15, "steepness": 20.0, "rate": 0.2}


def test_realign_probability_zero_inside_the_hedge_band():
    for gap in (-1.0, -0.05, 0.0, 0.03, 0.05):
        assert rules.realign_probability(gap, **REALIGN) == 0.0


def test_realign_probability_values():
    assert rules.realign_probability(0.15, **REALIGN) == approx(0.1)  # half the rate
    expected = 0.2 / (1.0 + math.exp(-20.0 * (0.3 - 0.15)))
    assert rules.realign_probability(0.3, **REALIGN) == approx(expected)
    assert rules.realign_probability(5.0, **REALIGN) == approx(0.2)


@given(gaps=st.lists(st.floats(0.0501, 2.0), min_size=2, max_size=10, unique=True))
@settings(max_examples=50, deadline=None, derandomize=True)
def test_realign_probability_increases_with_the_gap(gaps):
    gaps = np.sort(np.array(gaps))
    p = rules.realign_probability(gaps, **REALIGN)
    assert np.all(p > 0) and np.all(p <= 0.2)
    assert np.all(np.diff(p) >= 0)
    small = rules.realign_probability(0.06, **REALIGN)
    assert rules.realign_probability(0.2, **REALIGN) > small


def test_realign_probability_steep_logistic_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = rules.realign_probability(np.array([-1.0, 0.06, 1.0]), 0.05, 0.15, 1000.0, 0.2)
        assert p.tolist() == approx([0.0, 0.0, 0.2])
        assert rules.realign_probability(0.06, 0.05, 0.15, 1000.0, 0.2) == approx(0.0)


def test_is_hedging():
    assert rules.is_hedging(0.0, 0.05)
    assert rules.is_hedging(-0.04, 0.05)
    assert not rules.is_hedging(-0.05, 0.05)
    assert not rules.is_hedging(-0.5, 0.05)
    assert rules.is_hedging(0.5, 0.05)  # leaving better but not (yet) taken
    assert rules.is_hedging(np.array([-0.5, 0.0]), 0.05).tolist() == [False, True]


# --- every rule: floats and arrays give identical results, elementwise ---------------------------

unit = st.floats(0.0, 1.0)
signed = st.floats(-1.0, 1.0)
positive = st.floats(0.0, 3.0)
small_int = st.integers(0, 40).map(float)

# For each rule: (argument name -> strategy, is the argument per partner (array) or a coefficient).
SIGNATURES = {
    "clip01": {"x": (st.floats(-2.0, 2.0), True)},
    "maximum": {"x": (signed, True), "floor": (signed, True)},
    "ramp": {"step": (small_int, True), "start": (small_int, True), "length": (small_int, True)},
    "incumbent_support": {
        "allocation": (st.floats(0.001, 1.0), True),  # the schema's floor
        "withdrawn": (unit, True),
        "budget": (unit, True),
        "redirected": (unit, True),
        "freed": (unit, True),
    },
    "shortfall": {"reference": (positive, True), "support": (positive, True)},
    "abandonment": {
        "incumbent_support": (positive, True),
        "fallen": (st.sampled_from([0.0, 1.0]), True),
    },
    "contagion": {
        "watched_abandonment": (positive, True),
        "hard_times": (unit, True),
        "discount": (unit, False),
    },
    "trust_target": {
        "trust_anchor": (unit, True),
        "own_shortfall": (unit, True),
        "seen": (unit, True),
        "own_weight": (positive, False),
        "peer_weight": (positive, False),
    },
    "trust": {
        "current": (unit, True),
        "target": (unit, True),
        "fall_rate": (unit, False),
        "rise_rate": (unit, False),
    },
    "loyalty_target": {
        "loyalty_anchor": (unit, True),
        "trust_now": (unit, True),
        "trust_anchor": (unit, True),
        "pressure": (unit, True),
        "trust_weight": (positive, False),
        "pressure_weight": (positive, False),
    },
    "loyalty": {
        "current": (unit, True),
        "target": (unit, True),
        "rate": (unit, False),
        "noise": (st.floats(-4.0, 4.0), True),
        "noise_scale": (st.floats(0.0, 0.5), False),
    },
    "means_share": {"base_dependence": (unit, True), "support": (positive, True)},
    "dependence": {"current": (unit, True), "target": (unit, True), "rate": (unit, False)},
    "strength_target": {
        "base_strength": (positive, True),
        "base_dependence": (unit, True),
        "support": (positive, True),
    },
    "strength": {"current": (positive, True), "target": (positive, True), "rate": (unit, False)},
    "collapse_probability": {
        "strength_now": (positive, True),
        "threat": (positive, True),
        "rate": (unit, False),
    },
    "fear": {"dependence_now": (unit, True), "threat": (positive, True), "trust_now": (unit, True)},
    "alternative_pull": {
        "affinity": (signed, True),
        "offer": (st.floats(0.0, 2.0), True),
        "w_affinity": (positive, False),
        "w_offer": (positive, False),
    },
    "gap_terms": {
        "loyalty_now": (unit, True),
        "trust_now": (unit, True),
        "dependence_now": (unit, True),
        "support": (positive, True),
        "best_pull": (st.floats(-3.0, 3.0), True),
        "best_offer": (st.floats(0.0, 2.0), True),
        "threat": (positive, True),
        "start_loyalty": (unit, True),
        "start_trust": (unit, True),
        "start_means": (positive, True),
        "start_fear": (unit, True),
        "start_pull": (st.floats(-3.0, 3.0), True),
        "moves": (small_int, True),
        "w_loyalty": (positive, False),
        "w_trust": (positive, False),
        "w_support": (positive, False),
        "exit_cost": (positive, False),
        "w_fear": (positive, False),
        "reputation_cost": (positive, False),
    },
    "start_position": {
        "loyalty_now": (unit, True),
        "trust_now": (unit, True),
        "dependence_now": (unit, True),
        "support": (positive, True),
        "threat": (positive, True),
        "pull": (st.floats(-3.0, 3.0), True),
    },
    "stay_value": {
        "start_pull": (st.floats(-3.0, 3.0), True),
        "loyalty_term": (signed, True),
        "trust_term": (signed, True),
        "support_term": (signed, True),
    },
    "remembered_pull": {
        "value_at_exit": (st.floats(-3.0, 3.0), True),
        "offer": (st.floats(0.0, 2.0), True),
        "w_offer": (positive, False),
    },
    "recent_average": {"recent": (signed, True), "term": (signed, True)},
    "status_quo_pull": {
        "incumbent_pull": (st.floats(-3.0, 3.0), True),
        "best_pull": (st.floats(-3.0, 3.0), True),
        "hedge_band": (unit, False),
    },
    "realign_probability": {
        "gap": (st.floats(-2.0, 2.0), True),
        "hedge_band": (unit, False),
        "threshold": (unit, False),
        "steepness": (st.floats(0.0, 50.0), False),
        "rate": (unit, False),
    },
    "is_hedging": {"gap": (st.floats(-2.0, 2.0), True), "hedge_band": (unit, False)},
}


def test_every_public_rule_is_covered_by_the_float_array_test():
    public = {
        name
        for name, f in inspect.getmembers(rules, inspect.isfunction)
        if f.__module__ == rules.__name__ and not name.startswith("_")
    }
    assert public == {*SIGNATURES, "gap", "where", "cause_term"}  # tested above
    for name, args in SIGNATURES.items():
        assert list(inspect.signature(getattr(rules, name)).parameters) == list(args), name


def _draw_args(data, spec, n):
    args: dict[str, object] = {}
    for arg, (strategy, per_partner) in spec.items():
        if per_partner:
            args[arg] = np.array(data.draw(st.lists(strategy, min_size=n, max_size=n)))
        else:
            args[arg] = data.draw(strategy)
    return args


def _element(args, i):
    return {k: float(v[i]) if isinstance(v, np.ndarray) else v for k, v in args.items()}


def _components(result):
    """A rule's result as a tuple of components (gap_terms returns a tuple)."""
    return tuple(result) if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", sorted(SIGNATURES))
@given(data=st.data(), n=st.integers(1, 8))
@settings(max_examples=25, deadline=None, derandomize=True)
def test_floats_and_arrays_agree_elementwise(name, data, n):
    rule = getattr(rules, name)
    args = _draw_args(data, SIGNATURES[name], n)
    vectorised = [np.broadcast_to(c, (n,)) for c in _components(rule(**args))]
    for i in range(n):
        one = _components(rule(**_element(args, i)))
        assert len(one) == len(vectorised)
        for k, value in enumerate(one):
            assert np.ndim(value) == 0
            assert not np.isnan(value)
            # bit-identical, as the two engines rely on (NaN-free, so == is exact)
            assert value == vectorised[k][i], (name, _element(args, i), k)


@given(data=st.data(), n=st.integers(1, 8))
@settings(max_examples=25, deadline=None, derandomize=True)
def test_gap_floats_and_arrays_agree_elementwise(data, n):
    args = _draw_args(data, SIGNATURES["gap_terms"], n)
    vectorised = rules.gap(rules.gap_terms(**args))
    for i in range(n):
        one = rules.gap(tuple(float(t) for t in rules.gap_terms(**_element(args, i))))
        assert one == vectorised[i]
