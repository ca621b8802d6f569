"""The seven patterns of docs/model.md section 1, each a named test that fails if it breaks.

The experiments are those of docs/patterns.py (which prints the numbers quoted in
docs/model.md, "Patterns reproduced"), run smaller here. Seeds are fixed, so each number is
exact for this version of the model; the thresholds leave room for the binomial noise of a
changed seed (stated with each) without letting the pattern itself go.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATTERNS_PY = Path(__file__).resolve().parents[2] / "docs" / "patterns.py"


@pytest.fixture(scope="module")
def patterns():
    spec = importlib.util.spec_from_file_location("patterns", PATTERNS_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["patterns"] = module
    spec.loader.exec_module(module)
    return module


def test_pattern_1_money_held_partner_leaves_where_a_bonded_one_holds(patterns):
    n = patterns.pattern_1_money_versus_bonds(runs=200)
    # Partial cuts: the partner held by money leaves, the one held by loyalty stays. With 200
    # runs a true P of 0.9 gives >= 0.85 and a true P of 0.1 gives <= 0.15 with 99% chance.
    assert n["paid_p_realign_cut_50"] >= 0.85
    assert n["bonded_p_realign_cut_50"] <= 0.15
    assert n["paid_p_realign_cut_25"] > n["bonded_p_realign_cut_25"] + 0.3
    # It leaves within two years of a 50% cut (median).
    assert n["paid_median_months_after_cut_50"] <= 24


def test_pattern_2_seeing_a_peer_abandoned_lowers_trust_while_support_rises(patterns):
    n = patterns.pattern_2_contagion(runs=50)
    assert n["hezbollah_support_month_24"] > 1.0  # it receives more than before
    # trust heads for 0.75 x (1 - 0.8) = 0.15 (it watches Assad with weight 0.8)
    assert n["hezbollah_trust_month_24"] < 0.5 * n["hezbollah_trust_month_0"]


def test_pattern_3_trust_falls_fast_and_recovers_slowly_own_and_seen(patterns):
    n = patterns.pattern_3_trust_falls_fast_recovers_slowly()
    for who in ("cut", "peer"):
        # fall at 0.3 a month, rise at 0.1: half the way in 2 months, back in 7
        assert n[f"{who}_months_to_half_recovery"] >= 2 * n[f"{who}_months_to_half_fall"]
        # once the cut is undone, trust comes back, the peer's included
        assert n[f"{who}_trust_month_160"] == pytest.approx(0.75, abs=1e-3)
    # while the total cut lasted, the partner's own trust went to zero and stayed there
    assert n["cut_trust_low"] == pytest.approx(0.0, abs=1e-6)


def test_pattern_4_dependence_makes_leaving_costly_and_erodes(patterns):
    n = patterns.pattern_4_dependence(runs=200)
    # the same rival's better offer moves the partner that needs little, not the other
    assert n["courted_low_dependence_p_realign"] >= 0.85
    assert n["courted_high_dependence_p_realign"] <= 0.15
    # after a total cut, dependence drifts down (rate 0.02: 0.8 x 0.98^12 ~ 0.63 at most)
    assert n["cut_high_dependence_month_12_with_iran"] < n["cut_high_dependence_at_start"] - 0.05


def test_pattern_5_partners_hedge_before_they_realign(patterns):
    n = patterns.pattern_5_hedge_first(runs=200)
    assert n["realignments"] > 500
    assert n["share_hedged_first"] >= 0.95


def test_pattern_6_the_pmf_splits(patterns):
    n = patterns.pattern_6_pmf_split(runs=200)
    assert n["syria_share_split_at_horizon"] >= 0.9
    assert n["syria_pmf_hardline_p_realign"] <= 0.05
    assert n["syria_pmf_leadership_p_realign"] >= 0.9


def test_pattern_7_collapse_when_capability_falls_below_threat(patterns):
    n = patterns.pattern_7_collapse_below_threat(runs=200)
    assert n["threat_above_own_means_p_collapse"] >= 0.9
    assert n["threat_below_own_means_p_collapse"] == 0.0
