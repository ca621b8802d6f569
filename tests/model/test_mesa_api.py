"""AllianceModel works the way Mesa users expect, and finished models are freed."""

from __future__ import annotations

import gc
import inspect
import tracemalloc
import weakref

import mesa
import numpy as np
import pytest

from patronage.model.agents import Partner, Patron
from patronage.model.model import AllianceModel
from patronage.scenario.loader import load

REPORTERS = ("aligned", "hedging", "realigned", "collapsed", "mean_trust", "mean_loyalty")


def test_model_from_a_path_and_from_a_scenario_object(syria_path):
    scenario = load(syria_path).scenario
    from_path = AllianceModel(scenario=syria_path, rng=1)
    from_str = AllianceModel(scenario=str(syria_path), rng=1)
    from_object = AllianceModel(scenario=scenario, rng=1)
    for model in (from_path, from_str, from_object):
        for _ in range(15):
            model.step()
    assert from_path.series == from_object.series == from_str.series
    assert from_path.events == from_object.events


def test_agents_are_mesa_agents(syria_path):
    scenario = load(syria_path).scenario
    n_partners, n_patrons = len(scenario.partners), len(scenario.patrons)
    model = AllianceModel(scenario=syria_path, rng=1)
    assert isinstance(model, mesa.Model)
    assert len(model.agents) == n_partners + n_patrons
    assert len(model.agents_by_type[Partner]) == n_partners
    assert len(model.agents_by_type[Patron]) == n_patrons
    assert all(isinstance(a, mesa.Agent) for a in model.agents)
    ids = sorted(a.partner_id for a in model.agents_by_type[Partner])
    assert ids == scenario.partner_ids()
    assert isinstance(model.rng, np.random.Generator)


def test_step_and_running_until_the_horizon(build):
    scenario = build([{"id": "a", "loyalty": 0.5, "dependence": 0.5}], steps=5)
    model = AllianceModel(scenario=scenario, rng=3)
    assert model.running
    assert model.steps == 0
    for t in range(1, 6):
        assert model.running
        model.step()
        assert model.steps == t
    assert not model.running
    assert model.steps == model.horizon == 5
    assert model.steps == 5
    assert max(row[0] for row in model.series) == 5


def test_steps_argument_overrides_the_horizon(syria_path):
    model = AllianceModel(scenario=syria_path, rng=0, steps=7).run()
    assert model.steps == 7 and not model.running


def test_datacollector_reports_every_step(syria_path):
    model = AllianceModel(scenario=syria_path, rng=2, steps=12).run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 13  # the initial state and every step
    assert set(REPORTERS) <= set(frame.columns)
    counts = frame[["aligned", "hedging", "realigned", "collapsed"]].sum(axis=1)
    assert (counts == len(load(syria_path).scenario.partners)).all()
    assert frame.mean_trust.between(0, 1).all()


def test_same_rng_same_run_and_generator_accepted(syria_path):
    scenario = load(syria_path).scenario
    a = AllianceModel(scenario=scenario, rng=42, steps=30).run()
    b = AllianceModel(scenario=scenario, rng=42, steps=30).run()
    assert a.series == b.series
    # a numpy Generator is accepted too (Mesa draws from it first, so it is not rng=42)
    c = AllianceModel(scenario=scenario, rng=np.random.default_rng(42), steps=30).run()
    e = AllianceModel(scenario=scenario, rng=np.random.default_rng(42), steps=30).run()
    assert c.series == e.series
    d = AllianceModel(scenario=scenario, rng=43, steps=30).run()
    assert a.series != d.series


@pytest.fixture
def small_path(write_scenario, minimal_yaml):
    """A two-partner scenario file (quick to parse: batch_run loads it once per run)."""
    return write_scenario(minimal_yaml.replace("steps: 12", "steps: 40"))


def test_batch_run_returns_its_reporters(small_path):
    """The call of the issue, as written."""
    results = mesa.batch_run(
        AllianceModel,
        {"scenario": [str(small_path)], "rng": range(20)},
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(results) == 20
    for row in results:
        assert set(REPORTERS) <= set(row)
        assert row["aligned"] + row["hedging"] + row["realigned"] + row["collapsed"] == 2
        assert 0 <= row["mean_trust"] <= 1


def seeded_batch_run(parameters, seeds, **options):
    """Mesa 3.3 seeds through the parameters; newer Mesa has its own `rng=` argument (and
    overwrites an `rng` parameter with it)."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return mesa.batch_run(AllianceModel, parameters, rng=seeds, **options)
    return mesa.batch_run(AllianceModel, {**parameters, "rng": seeds}, **options)


def test_batch_run_rows_are_the_seeded_runs(small_path):
    results = seeded_batch_run(
        {"scenario": [str(small_path)]},
        list(range(6)),
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert sorted(row["rng"] for row in results) == list(range(6))
    # A row is the state after `Step` steps of the model with that rng.
    for row in results:
        model = AllianceModel(scenario=small_path, rng=row["rng"])
        for _ in range(int(row["Step"])):
            model.step()
        frame = model.datacollector.get_model_vars_dataframe()
        assert frame.iloc[-1].mean_trust == row["mean_trust"]
        assert frame.iloc[-1].mean_loyalty == row["mean_loyalty"]
    assert len({r["mean_loyalty"] for r in results}) > 1  # the seeds matter


def test_batch_run_stops_at_the_horizon(build):
    scenario = build([{"id": "a", "loyalty": 0.5, "dependence": 0.5}], steps=6)
    results = seeded_batch_run(
        {"scenario": [scenario]},
        [0, 1],
        max_steps=1000,
        number_processes=1,
        display_progress=False,
    )
    # `running` turned false at the horizon: far short of max_steps (Mesa 3.3 reports the
    # last step as steps - 1, later versions as steps).
    assert [r["Step"] <= 6 for r in results] == [True, True]


def test_finished_models_are_not_kept_alive(syria_path):
    scenario = load(syria_path).scenario
    refs = []
    for seed in range(50):
        model = AllianceModel(scenario=scenario, rng=seed, steps=5)
        model.run()
        refs.append(weakref.ref(model))
        registry = getattr(mesa.Agent, "_ids", None)  # Mesa 3.3's class-level id counters
        if isinstance(registry, dict):
            assert model not in registry
    del model
    gc.collect()
    alive = [r for r in refs if r() is not None]
    assert alive == []


def test_many_runs_do_not_grow_memory(syria_path):
    scenario = load(syria_path).scenario

    def batch(n):
        for seed in range(n):
            AllianceModel(scenario=scenario, rng=seed, steps=3).run()
        gc.collect()

    batch(10)  # warm up caches
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        batch(50)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # A finished model of this scenario holds ~50 kB: 50 kept alive would be ~2.5 MB,
    # while freed ones leave ~50 kB of interpreter noise.
    assert after - before < 1_000_000
