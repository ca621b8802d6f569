"""Behaviour tests: each mechanism of the model on its own, in small hand-built scenarios.

`loyalty_noise: 0` makes trajectories deterministic where a test needs exact values. In
the series, the row at step t is the state after t steps; a decision taken in step t (from
the state at t) shows at t + 1, which is also the step an event is recorded with. Support
in row t + 1 is what was received in step t (row 0 repeats the support at the start).
"""

from __future__ import annotations

import itertools
import math

import pytest

from patronage.engines.mesa import simulate
from patronage.model import rules
from patronage.model.agents import GAP_TERMS, STATUSES
from patronage.scenario.schema import NONE_PATRON

QUIET = {"loyalty_noise": 0.0}


def realigned_by(model, partner: str) -> bool:
    return any(e.kind == "realign" and e.partner == partner for e in model.events)


# --- (a) withdrawn support lowers strength in proportion to dependence ---------------------------


def test_strength_drop_is_proportional_to_dependence(build, run, series):
    scenario = build(
        [
            {"id": "high", "loyalty": 1.0, "dependence": 0.8, "threat": 0.0},
            {"id": "low", "loyalty": 1.0, "dependence": 0.2, "threat": 0.0},
        ],
        steps=100,
        withdrawal={
            "level": 0.5,
            "start": 2,
            "ramp": 3,
            "targets": [{"id": "high"}, {"id": "low"}],
        },
        coefficients={**QUIET, "realign_rate": 0.0},  # both stay with the patron
    )
    df = series(run(scenario))
    final = df[df.step == 100].set_index("partner")
    drop = 1.0 - final.strength
    # Strength follows strength0 x ((1 - D0) + D0 x S) at rate 0.25; the withdrawal is
    # complete at step 4, so at step 100 the lag left is 0.75**96 ~ 1e-12 of the drop.
    assert drop["high"] == pytest.approx(0.8 * 0.5, rel=1e-9)
    assert drop["low"] == pytest.approx(0.2 * 0.5, rel=1e-9)
    assert drop["high"] / drop["low"] == pytest.approx(0.8 / 0.2, rel=1e-9)
    # Before the withdrawal starts, nothing has moved.
    assert df[df.step <= 2].strength.tolist() == [1.0] * 6


def test_strength_untouched_without_withdrawal(build, run, series):
    scenario = build(
        [
            {"id": "a", "loyalty": 1.0, "dependence": 0.9, "threat": 0.0},
            {"id": "b", "loyalty": 1.0, "dependence": 0.9, "threat": 0.0},
        ],
        steps=30,
        withdrawal={"level": 1.0, "targets": [{"id": "a"}]},
        coefficients=QUIET,
    )
    df = series(run(scenario))
    assert set(df[df.partner == "b"].strength) == {1.0}
    assert df[(df.partner == "a") & (df.step == 30)].strength.item() < 0.2


def test_budget_cut_lowers_everyones_support(build, run, series):
    scenario = build(
        [
            {"id": "a", "loyalty": 1.0, "dependence": 0.5, "threat": 0.0},
            {"id": "b", "loyalty": 1.0, "dependence": 0.5, "threat": 0.0},
        ],
        steps=10,
        budget_cut={"level": 0.4, "start": 3, "ramp": 2},
        coefficients=QUIET,
    )
    df = series(run(scenario))
    support = df.pivot(index="step", columns="partner", values="support")
    assert support.loc[3].tolist() == [1.0, 1.0]  # received in step 2
    assert support.loc[4].tolist() == pytest.approx([0.8, 0.8])  # step 3: half of the ramp
    assert support.loc[5].tolist() == pytest.approx([0.6, 0.6])
    assert support.loc[10].tolist() == pytest.approx([0.6, 0.6])


# --- (b) one's own shortfall lowers trust ---------------------------------------------------------


def test_own_shortfall_lowers_trust(build, run, traj):
    scenario = build(
        [
            {"id": "cut", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0},
            {"id": "whole", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0},
        ],
        steps=40,
        withdrawal={"level": 0.5, "start": 2, "targets": [{"id": "cut"}]},
        coefficients=QUIET,
    )
    model = run(scenario)
    cut = traj(model, "cut", "trust")
    # In step 2 it receives 0.5 against an expectation of 1: shortfall 0.5, target
    # 0.75 x (1 - 0.5) = 0.375, and trust falls at rate 0.3: 0.75 - 0.3 x 0.375.
    assert cut[:3] == [0.75, 0.75, 0.75]
    assert cut[3] == pytest.approx(0.75 - 0.3 * 0.375)
    assert min(cut) < 0.6
    # The partner without a shortfall keeps its trust exactly.
    assert set(traj(model, "whole", "trust")) == {0.75}


def test_bigger_shortfall_lowers_trust_more(build, run, traj):
    def trust_after(level):
        scenario = build(
            [{"id": "a", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0}],
            steps=10,
            withdrawal={"level": level, "start": 0, "targets": [{"id": "a"}]},
            coefficients=QUIET,
        )
        return traj(run(scenario), "a", "trust")[1]

    assert trust_after(0.0) == 0.75
    assert trust_after(1.0) < trust_after(0.5) < trust_after(0.2) < 0.75


# --- (c) a peer's abandonment lowers the trust of those that watch it -----------------------------


@pytest.fixture
def contagion_model(build, run):
    scenario = build(
        [
            {"id": "abandoned", "loyalty": 0.9, "dependence": 0.5, "allocation": 0.3, "threat": 0},
            {
                "id": "watcher",
                "loyalty": 0.9,
                "dependence": 0.5,
                "allocation": 0.1,
                "threat": 0.0,
                "watches": {"abandoned": 0.8},
            },
            {"id": "blind", "loyalty": 0.9, "dependence": 0.5, "allocation": 0.1, "threat": 0.0},
            {
                "id": "other",
                "loyalty": 0.9,
                "dependence": 0.5,
                "allocation": 0.1,
                "threat": 0.0,
                "watches": {"blind": 1.0},
            },
        ],
        steps=30,
        withdrawal={
            "level": 1.0,
            "start": 2,
            "targets": [{"id": "abandoned"}],
            "redirect": {"watcher": 0.5},
        },
        coefficients=QUIET,
    )
    return run(scenario)


def test_peer_abandonment_lowers_a_watchers_trust_while_its_support_rises(contagion_model, traj):
    support = traj(contagion_model, "watcher", "support")
    trust = traj(contagion_model, "watcher", "trust")
    # From step 2 it receives its own 0.1 plus half of the freed 0.3: 2.5 x its baseline.
    assert support[:3] == [1.0, 1.0, 1.0]
    assert support[3:] == pytest.approx([2.5] * (len(support) - 3))
    # Its own shortfall is nil, yet it sees the abandonment: target 0.75 x (1 - 0.8).
    assert trust[3] == pytest.approx(0.75 + 0.3 * (0.75 * 0.2 - 0.75))
    assert trust[-1] < 0.3
    assert all(b <= a for a, b in itertools.pairwise(trust))


def test_peer_abandonment_spares_partners_that_do_not_watch_it(contagion_model, traj):
    assert set(traj(contagion_model, "blind", "trust")) == {0.75}
    assert set(traj(contagion_model, "other", "trust")) == {0.75}  # watches an intact peer


def test_contagion_weight_scales_the_loss(build, run, traj):
    def watcher_trust(weight):
        scenario = build(
            [
                {"id": "a", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0},
                {
                    "id": "w",
                    "loyalty": 0.9,
                    "dependence": 0.5,
                    "threat": 0.0,
                    "watches": {"a": weight},
                },
            ],
            steps=8,
            withdrawal={"level": 1.0, "targets": [{"id": "a"}]},
            coefficients=QUIET,
        )
        return traj(run(scenario), "w", "trust")[-1]

    assert watcher_trust(0.0) == 0.75
    assert watcher_trust(0.9) < watcher_trust(0.5) < watcher_trust(0.1) < 0.75


# --- the stationary choice scenario (d, e) --------------------------------------------------------
#
# One partner, one rival (affinity 0.5, offer 1): its pull is 0.5 + 0.5 x 1 = 1. The gap is
# measured against the start, where the incumbent pulled loyalty 0.3 + 0.5 x support 1 = 0.8
# and loyalty, trust and means have not changed, so with w_support = 0 and no threat (no
# fear) dependence D enters the gap only through the exit cost 0.5 x D:
#     gap = 1 - 0.8 - 0.5 D = 0.2 - 0.5 D.
# (The rival beats the incumbent's starting position, so this partner is not at rest.)
# Nothing is withdrawn and hedging does not diversify, so the gap is the same at every step
# and the per-step realignment probability p is constant: P(realigned within n) = 1-(1-p)^n.

STATIONARY = {**QUIET, "w_support": 0.0, "hedge_diversification": 0.0}


def stationary(build, dependence, steps=10, rivals=None, autonomy=0.0, extra=None, **coefficients):
    rivals = rivals or {"rival": (0.5, 1.0)}
    partner = {
        "id": "p",
        "loyalty": 0.3,
        "dependence": dependence,
        "threat": 0.0,
        "autonomy": autonomy,
        "affinity": {r: a for r, (a, _) in rivals.items()},
    }
    # The offers arrive at step 0, after the start: a partner whose inputs prefer a rival at
    # the start is held at rest by the status-quo constant (docs/model.md, section 5).
    offers = [
        {"step": 0, "kind": "offer", "partner": "p", "patron": r, "value": o}
        for r, (_, o) in rivals.items()
        if o
    ]
    return build(
        [partner],
        rivals=list(rivals),
        steps=steps,
        events=offers,
        coefficients={**STATIONARY, **coefficients},
        **(extra or {}),
    )


def realign_fraction(run, scenario, seeds):
    return sum(realigned_by(run(scenario, seed), "p") for seed in seeds) / len(seeds)


def p_realign(gap, c):
    return rules.realign_probability(
        gap, c.hedge_band, c.switch_threshold, c.switch_steepness, c.realign_rate
    )


# --- (d) dependence raises the cost of leaving ----------------------------------------------------


def test_dependence_widens_the_gap_by_the_exit_cost(build, run, traj):
    low = traj(run(stationary(build, 0.1)), "p", "gap")[1]
    high = traj(run(stationary(build, 0.5)), "p", "gap")[1]
    assert low == pytest.approx(0.2 - 0.05)
    assert high - low == pytest.approx(-0.5 * (0.5 - 0.1))
    # Without an exit cost (and w_support 0, no threat) dependence does not matter at all.
    free_low = traj(run(stationary(build, 0.1, exit_cost=0.0)), "p", "gap")[1]
    free_high = traj(run(stationary(build, 0.5, exit_cost=0.0)), "p", "gap")[1]
    assert free_low == pytest.approx(free_high)


def test_higher_dependence_realigns_less_often(build, run):
    seeds = range(200)
    low = realign_fraction(run, stationary(build, 0.1), seeds)
    high = realign_fraction(run, stationary(build, 0.5), seeds)
    # p(gap 0.15) = 0.1 -> 65.1% within 10 steps; gap -0.05 is outside the hedging band:
    # 0%. Binomial SE with 200 seeds: 0.034, so a margin of 0.3 below the expected 0.65
    # is 10 SE: it fails only if the effect is gone.
    assert low - high > 0.3


# --- (e) hedge when close, realign with a per-step probability when clearly better ---------------


@pytest.mark.parametrize("dependence", [0.35, 0.45])  # gap +0.025, -0.025: inside the band
def test_partner_hedges_when_staying_and_leaving_are_close(build, run, series, dependence):
    scenario = stationary(build, dependence, steps=30)
    for seed in range(10):
        model = run(scenario, seed)
        df = series(model)
        assert set(df[df.step >= 1].status) == {"hedging"}
        assert [(e.step, e.kind, e.origin, e.target) for e in model.events] == [
            (1, "hedge", "iran", "rival")
        ]


def test_partner_stays_aligned_when_staying_is_clearly_better(build, run, series):
    model = run(stationary(build, 0.9, steps=30))  # gap -0.25
    assert set(series(model).status) == {"aligned"}
    assert model.events == []


def test_realignment_probability_per_step_matches_the_rule(build, run):
    steps, seeds = 5, range(300)
    scenario = stationary(build, 0.05, steps=steps)  # gap 0.175
    p = p_realign(0.175, scenario.coefficients)
    assert p == pytest.approx(0.2 / (1 + math.exp(-0.5)))  # 0.1245 per step
    expected = 1 - (1 - p) ** steps  # 0.486
    observed = realign_fraction(run, scenario, seeds)
    se = math.sqrt(expected * (1 - expected) / len(seeds))  # 0.029
    assert 0.0 < observed < 1.0
    assert abs(observed - expected) < 4 * se


def test_realigns_to_the_best_rival(build, run):
    rivals = {"alpha": (0.2, 0.4), "zulu": (0.5, 1.0)}  # pulls 0.4 and 1.0; 'none' 0.3
    scenario = stationary(build, 0.1, steps=30, rivals=rivals, autonomy=0.3)
    targets = set()
    for seed in range(15):
        model = run(scenario, seed)
        targets |= {(e.kind, e.target) for e in model.events}
        assert model.partners[0].patron in ("iran", "zulu")
    assert ("realign", "zulu") in targets
    assert {t for k, t in targets if k == "realign"} == {"zulu"}
    assert {t for k, t in targets if k == "hedge"} <= {"zulu"}


def test_realigns_to_none_when_standing_alone_is_best(build, run, series):
    # The only rival repels (affinity -0.5, no offer); standing alone pulls 1.0, more than
    # the incumbent's 0.8 at the start, so a status-quo constant holds it until Tehran cuts
    # it off at step 0: then its lost trust and loyalty move it, to stand alone.
    cut = {"withdrawal": {"level": 1.0, "start": 0, "ramp": 0, "targets": [{"id": "p"}]}}
    scenario = stationary(build, 0.1, steps=40, rivals={"us": (-0.5, 0.0)}, autonomy=1.0, extra=cut)
    alone = 0
    for seed in range(10):
        model = run(scenario, seed)
        realigns = [e for e in model.events if e.kind == "realign"]
        assert all(e.target == NONE_PATRON for e in realigns)
        if realigns:
            alone += 1
            partner = model.partners[0]
            assert (partner.patron, partner.status) == (NONE_PATRON, "realigned")
            df = series(model).set_index("step")
            after = df.loc[realigns[0].step + 1 :]
            assert set(after.patron) == {NONE_PATRON}
            assert set(after.support) <= {0.0}  # nobody supports it now
    # the gap rises to 1 - 1.05 - 0.05 + 0.375 x (0.5 + 0.5) ~ 0.28 within months: p near
    # 0.2 per step for most of 40 steps, P(realigned) > 0.99 per seed
    assert alone >= 9


# --- (f) collapse when strength falls below the threat -------------------------------------------


def collapse_scenario(build, withdrawn: bool, events=()):
    return build(
        [{"id": "weak", "loyalty": 0.9, "dependence": 1.0, "threat": 0.5}],
        steps=60,
        withdrawal={"level": 1.0 if withdrawn else 0.0, "targets": [{"id": "weak"}]},
        events=list(events),
        coefficients={**QUIET, "realign_rate": 0.0},
    )


def test_collapse_when_strength_falls_below_threat(build, run, series):
    scenario = collapse_scenario(build, withdrawn=True)
    for seed in range(10):
        model = run(scenario, seed)
        collapses = [e for e in model.events if e.kind == "collapse"]
        # strength 0.75**t falls below 0.5 at t = 3; from then on p >= 0.3 x 0.16 per step,
        # rising to 0.3: P(no collapse in 60 steps) < 1e-7.
        assert len(collapses) == 1
        (event,) = collapses
        assert (event.partner, event.origin, event.target) == ("weak", "iran", None)
        assert event.cause == "strength_below_threat"
        df = series(model).set_index("step")
        assert df.loc[event.step - 1, "strength"] < 0.5  # decided from a strength below threat
        assert event.step >= 4
        assert set(df.loc[event.step :, "status"]) == {"collapsed"}
        assert model.partners[0].status == "collapsed"


def test_no_collapse_while_strength_covers_threat(build, run):
    scenario = collapse_scenario(build, withdrawn=False)
    for seed in range(10):
        model = run(scenario, seed)
        assert model.events == []
        assert model.partners[0].status == "aligned"


def test_rising_threat_can_bring_collapse(build, run):
    raise_threat = [{"step": 10, "kind": "threat", "partner": "weak", "value": 2.0}]
    scenario = collapse_scenario(build, withdrawn=False, events=raise_threat)
    steps = []
    for seed in range(10):
        (event,) = [e for e in run(scenario, seed).events if e.kind == "collapse"]
        steps.append(event.step)
    # p = 0.3 x (2 - 1) / 2 = 0.15 per step from step 10: P(none in 50 steps) = 3e-4
    assert min(steps) >= 11


# --- (g) a realigned partner can be courted back --------------------------------------------------


def courting_scenario(build, offer_back: bool):
    # the rival's offer arrives at step 0, after the start (else the status-quo constant
    # would hold the partner); the incumbent's offer to court it back at step 30
    rival = {"step": 0, "kind": "offer", "partner": "a", "patron": "rival", "value": 1.5}
    back = {"step": 30, "kind": "offer", "partner": "a", "patron": "iran", "value": 2.0}
    return build(
        [
            {
                "id": "a",
                "loyalty": 0.2,
                "dependence": 0.2,
                "threat": 0.0,
                "affinity": {"rival": 0.3},
            }
        ],
        rivals=["rival"],
        steps=60,
        events=[rival, back] if offer_back else [rival],
        coefficients=QUIET,
    )


def test_realigned_partner_is_courted_back_by_an_offer(build, run):
    scenario = courting_scenario(build, offer_back=True)
    back = 0
    for seed in range(12):
        model = run(scenario, seed)
        realigns = [
            (e.step, e.origin, e.target, e.cause) for e in model.events if e.kind == "realign"
        ]
        returns = [r for r in realigns if (r[1], r[2]) == ("rival", "iran")]
        assert all(step > 30 for step, *_ in returns)  # only after the offer is made
        if returns:
            back += 1
            assert returns[0][3] == "alternative"  # the incumbent's pull is what changed
            assert model.partners[0].patron == "iran"
    assert back >= 1


def test_no_return_without_an_offer(build, run):
    scenario = courting_scenario(build, offer_back=False)
    left = 0
    for seed in range(12):
        model = run(scenario, seed)
        assert not any(e.target == "iran" for e in model.events)
        left += model.partners[0].patron == "rival"
    assert left >= 1  # it did leave in some runs, so "no return" is not vacuous


# --- domestic pressure --------------------------------------------------------------------------


def test_pressure_event_lowers_loyalty_from_its_step(build, run, traj):
    scenario = build(
        [{"id": "a", "loyalty": 0.8, "dependence": 0.5, "threat": 0.0}],
        steps=20,
        events=[{"step": 5, "kind": "pressure", "partner": "a", "value": 1.0}],
        coefficients=QUIET,
    )
    loyalty = traj(run(scenario), "a", "loyalty")
    assert loyalty[:6] == [0.8] * 6
    # target 0.8 - 0.5 x 1 = 0.3, rate 0.1
    assert loyalty[6] == pytest.approx(0.8 - 0.1 * 0.5)
    assert loyalty[-1] < 0.5


# --- (h) events are recorded with step, partner, kind, from, to and a cause ---------------------


def test_events_carry_step_partner_kind_from_to_and_cause(syria_path, run, series):
    from patronage.scenario.loader import load

    scenario = load(syria_path).scenario
    patrons = set(scenario.patron_ids()) | {NONE_PATRON}
    causes = set()
    for seed in range(4):
        model = run(scenario, seed, 60)
        df = series(model).set_index(["partner", "step"])
        assert model.events, "the withdrawal from Assad produces events"
        for e in model.events:
            assert 1 <= e.step <= 60
            assert e.partner in scenario.partner_ids()
            assert e.kind in ("hedge", "unhedge", "realign", "collapse")
            assert e.origin in patrons
            before = df.loc[(e.partner, e.step - 1)]
            after = df.loc[(e.partner, e.step)]
            assert before.patron == e.origin
            if e.kind == "realign":
                assert e.target in patrons and e.target != e.origin
                assert after.patron == e.target
            elif e.kind == "collapse":
                assert e.target is None and e.cause == "strength_below_threat"
                assert after.status == "collapsed"
            elif e.kind == "hedge":
                assert e.target in patrons and e.target != e.origin
                assert before.status != "hedging" and after.status == "hedging"
            else:
                assert before.status == "hedging" and after.status != "hedging"
            if e.kind != "collapse":
                assert e.cause in (*GAP_TERMS, "initial_state")
            causes.add(e.cause)
        assert set(df.status) <= set(STATUSES)
    # the withdrawal moved some term of the utility: a cause names it
    assert causes & set(GAP_TERMS)


def test_event_rows_in_the_run_tables(syria_path):
    from patronage.scenario.loader import load

    result = simulate(load(syria_path).scenario, seed=3, run_id=5, steps=40)
    assert result.events
    for row in result.events:
        run_id, step, partner, kind, origin, _target, cause, trigger = row
        assert run_id == 5 and isinstance(step, int) and partner and kind and origin and cause
        assert trigger in (*GAP_TERMS, "initial_state", "strength_below_threat")
    first = {(p, k): s for _, s, p, k, *_ in reversed(result.events)}
    for i, pid in enumerate(load(syria_path).scenario.partner_ids()):
        assert result.final["realign_step"][i] == first.get((pid, "realign"), -1)
        assert result.final["collapse_step"][i] == first.get((pid, "collapse"), -1)
