"""Both engines on plans: many design points and ranged inputs, bit for bit, run by run."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patronage.engines import ensemble
from patronage.engines import mesa as runner
from patronage.engines.plan import RunPlan
from patronage.results.params import numeric_fields
from patronage.scenario.loader import from_text

unit = st.floats(0.0, 1.0)
SYRIA = Path(__file__).resolve().parents[2] / "scenarios" / "syria_withdrawal.yaml"


def every_kind_ranged() -> dict[str, Any]:
    """The Syria scenario with a range on each kind of input the ensemble reads per run."""
    d = yaml.safe_load(SYRIA.read_text())
    assad, hezbollah, hardline, mainstream = d["partners"][:4]
    assad["loyalty"] = {"low": 0.2, "high": 0.6}
    assad["threat"] = {"low": 0.4, "mode": 0.9, "high": 1.2}
    assad["offers"]["russia"] = {"low": 0.2, "mode": 0.4, "high": 0.8}
    hezbollah["autonomy"] = {"low": 0.0, "high": 0.5}
    hezbollah["allocation"] = {"low": 0.2, "high": 0.4}
    hardline["watches"]["assad"] = {"low": 0.2, "high": 1.0}
    mainstream["affinity"]["iraqi_state"] = {"low": 0.2, "high": 0.9}
    mainstream["trust"] = {"low": 0.6, "high": 0.9}
    d["coefficients"] = {
        "w_affinity": {"low": 0.8, "high": 1.3},
        "trust_prior": {"low": 0.5, "high": 0.9},
        "loyalty_noise": {"low": 0.0, "high": 0.03},
    }
    d["budget_cut"] = {
        "level": {"low": 0.0, "high": 0.6},
        "start": {"low": 0, "high": 20},
        "ramp": {"low": 0, "high": 12},
    }
    d["withdrawal"]["level"] = {"low": 0.5, "high": 1.0}
    d["withdrawal"]["ramp"] = {"low": 0, "mode": 6, "high": 12}
    d["withdrawal"]["redirect"]["hezbollah"] = {"low": 0.1, "high": 0.5}
    d["events"][0]["step"] = {"low": 0, "high": 30}
    d["events"][1]["value"] = {"low": 0.2, "high": 0.9}
    d["events"].append(
        {
            "step": {"low": 2, "high": 20},
            "kind": "offer",
            "partner": "hamas",
            "patron": "turkey",
            "value": {"low": 0.2, "high": 1.5},
        }
    )
    return d


def plan_of(data: dict[str, Any], points: list[dict[str, Any]], replicates: int) -> RunPlan:
    loaded = from_text(yaml.safe_dump(data), "ranged.yaml")
    ids = tuple(range(len(points) * replicates))
    return RunPlan(
        loaded,
        ids,
        tuple(r % replicates for r in ids),
        tuple(r // replicates for r in ids),
        tuple(points),
        numeric_fields(points),
    )


def assert_same_tables(a, b) -> None:
    for name in ("runs", "outcomes", "events", "series"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.schema == right.schema, name
        assert left.equals(right), name
    assert a.failed == b.failed == {}


def test_every_kind_of_input_ranged_and_designed_gives_identical_tables() -> None:
    """Numbers designed per point (arrays over runs), a designed list (a group of its own),
    and nineteen ranged inputs of every kind: the ensemble equals the Mesa engine."""
    points = [
        {"coefficients.w_offer": w, "partners.hezbollah.dependence": dep, "withdrawal.targets": t}
        for w in (0.3, 0.7)
        for dep in (0.5, 0.9)
        for t in ([{"id": "assad"}], [{"id": "assad"}, {"id": "hamas", "level": 0.5}])
    ]
    plan = plan_of(every_kind_ranged(), points, replicates=5)
    mesa_tables = runner.run_plan(plan, 11, steps=60, series_every=7)
    ensemble_tables = ensemble.run_plan(plan, 11, steps=60, series_every=7)
    assert_same_tables(mesa_tables, ensemble_tables)
    runs = mesa_tables.runs.to_pandas()
    kinds = mesa_tables.outcomes.to_pandas()["status"].astype(str)
    assert (kinds == "collapsed").any() and (kinds == "realigned").any()
    assert runs["run_id"].tolist() == list(plan.run_ids)
    drawn = runs["param.partners.assad.loyalty"]
    assert drawn.between(0.2, 0.6).all() and drawn.nunique() == 5  # one draw per stream
    steps = runs["param.events.0.step"]
    assert (steps == steps.round()).all() and steps.between(0, 30).all()


def test_latin_hypercube_points_step_together_as_the_mesa_engine_runs_them() -> None:
    d = yaml.safe_load(SYRIA.read_text())
    rng = np.random.default_rng(5)
    points = [
        {
            "withdrawal.level": float(level),
            "withdrawal.start": int(start),
            "coefficients.w_affinity": float(w),
            "partners.pmf_mainstream.offers.iraqi_state": float(offer),
        }
        for level, start, w, offer in zip(
            rng.uniform(0, 1, 12),
            rng.integers(0, 12, 12),
            rng.uniform(0.5, 1.5, 12),
            rng.uniform(0.2, 1.2, 12),
            strict=True,
        )
    ]
    plan = plan_of(d, points, replicates=3)
    assert_same_tables(
        runner.run_plan(plan, 2, steps=48, series_every=None),
        ensemble.run_plan(plan, 2, steps=48, series_every=None),
    )


def test_a_range_moves_no_other_draw() -> None:
    """A range whose low and high are the file's value changes nothing but adds its column;
    a second range leaves the first one's draws as they were."""
    base = copy.deepcopy(from_text(SYRIA.read_text(), "syria").data)  # ranges at centres
    pinned = copy.deepcopy(base)
    pinned["partners"][0]["loyalty"] = {"low": 0.4, "high": 0.4}
    one = copy.deepcopy(base)
    one["partners"][0]["dependence"] = {"low": 0.5, "high": 0.7}
    two = copy.deepcopy(one)
    two["partners"][3]["loyalty"] = {"low": 0.5, "high": 0.7}
    plain, with_pin, first, both = (
        ensemble.run_plan(plan_of(d, [{}], replicates=40), 9, steps=36)
        for d in (base, pinned, one, two)
    )
    assert with_pin.runs.drop_columns(["param.partners.assad.loyalty"]).equals(plain.runs)
    assert with_pin.events.equals(plain.events) and with_pin.series.equals(plain.series)
    column = "param.partners.assad.dependence"
    assert first.runs.column(column).equals(both.runs.column(column))


@pytest.mark.parametrize("chunk_runs", ["7", "2000"])
def test_batches_of_many_points_agree_between_engines(tmp_path, chunk_runs) -> None:
    """Chunks cut across design points give the Mesa engine's bytes in the ensemble."""
    from batch_fixtures import batch, manifest

    path = tmp_path / "ranged.yaml"
    path.write_text(yaml.safe_dump(every_kind_ranged()))
    args = (
        "--replicates", "4", "--sweep", "withdrawal.ramp=2,5", "--sample",
        "coefficients.w_offer=0.3:0.7", "--samples", "3", "--steps", "24", "--series",
        "every=6", "--no-progress", "--chunk-runs", chunk_runs, "--quiet",
    )  # fmt: skip
    for engine in ("mesa", "ensemble"):
        result = batch(tmp_path / engine, *args, "--engine", engine, scenario=path)
        assert result.code == 0, result.err
    for name in ("runs", "events", "series"):
        mesa_table = pq.read_table(tmp_path / "mesa" / f"{name}.parquet")
        assert mesa_table.equals(pq.read_table(tmp_path / "ensemble" / f"{name}.parquet"))
    m = manifest(tmp_path / "ensemble")
    assert "withdrawal.ramp" not in m["ranges"]  # the sweep took over the range
    assert m["param_columns"].count("param.withdrawal.ramp") == 1
    assert m["ranges"]["withdrawal.level"] == {"kind": "uniform", "low": 0.5, "high": 1.0}
    assert "param.partners.assad.loyalty" in m["param_columns"]


def with_ranges(data: dict[str, Any], pick: Any) -> dict[str, Any]:
    """`data` with some of its numeric inputs made ranges from half the value to the value
    (inside every bound of the schema, and no redirect sum grows); `pick(path)` chooses."""

    def walk(node: Any, path: tuple) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        number = isinstance(node, int | float) and not isinstance(node, bool)
        if not number or path[0] in ("steps", "name") or not pick(path):
            return node
        if isinstance(node, int):
            return {"low": node // 2, "high": node}
        low, high = sorted((node / 2, node))
        if path[-1] == "allocation":
            low = max(low, 0.001)
        return (
            {"low": low, "mode": high, "high": high} if pick(path) else {"low": low, "high": high}
        )

    return walk(data, ())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_random_scenarios_with_random_ranges_and_points_match_mesa(
    scenario_strategy, data, seed
) -> None:
    """Any numeric input ranged, several design points: the engines agree run by run."""
    ranged = with_ranges(data.draw(scenario_strategy), lambda _: data.draw(st.booleans()))
    points = [
        {"coefficients.w_offer": w} for w in data.draw(st.lists(unit, min_size=1, max_size=3))
    ]
    plan = plan_of(ranged, points, replicates=2)
    assert_same_tables(
        runner.run_plan(plan, seed, series_every=3), ensemble.run_plan(plan, seed, series_every=3)
    )
