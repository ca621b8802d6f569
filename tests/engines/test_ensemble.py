"""The ensemble engine gives the tables of the Mesa engine, run for run, draw for draw."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patronage.engines import ensemble
from patronage.engines import mesa as runner
from patronage.engines.ensemble import network
from patronage.model.model import AllianceModel
from patronage.results.store import GroupTables
from patronage.rng import pcg64
from patronage.rng.seeds import run_seed_sequence
from patronage.scenario import generate
from patronage.scenario.loader import check_references, load, override_scenario
from patronage.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
TABLES = ("runs", "outcomes", "events", "series")


def assert_same_tables(mesa: GroupTables, ens: GroupTables) -> None:
    """Same schemas and rows; floats to 1e-12, strings and integers exactly."""
    assert mesa.failed == ens.failed == {}
    for name in TABLES:
        a, b = getattr(mesa, name), getattr(ens, name)
        assert a.schema == b.schema, name
        assert a.num_rows == b.num_rows, name
        pd.testing.assert_frame_equal(
            a.to_pandas(), b.to_pandas(), check_exact=False, rtol=0, atol=1e-12, obj=name
        )
        for column, kind in zip(a.column_names, a.schema.types, strict=True):
            if not pa.types.is_floating(kind):
                assert a.column(column).equals(b.column(column)), (name, column)


def both(scenario: Scenario, seed: int, run_ids, **options):
    return (
        runner.run_group(scenario, seed, list(run_ids), **options),
        ensemble.run_group(scenario, seed, list(run_ids), **options),
    )


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenario_matches_mesa(path: Path) -> None:
    scenario = load(path).scenario
    mesa, ens = both(scenario, 2024, range(30), series_every=1)
    assert_same_tables(mesa, ens)
    assert ens.series.num_rows == 30 * (scenario.steps + 1) * len(scenario.partners)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenario_matches_mesa_without_noise(path: Path) -> None:
    scenario = override_scenario(load(path), {"coefficients.loyalty_noise": 0.0})
    assert scenario.coefficients.loyalty_noise == 0.0
    mesa, ens = both(scenario, 7, range(30), series_every=1)
    assert_same_tables(mesa, ens)


def test_there_are_bundled_scenarios() -> None:
    assert any(p.stem == "syria_withdrawal" for p in BUNDLED)


def test_result_does_not_depend_on_how_runs_are_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load(ROOT / "scenarios" / "syria_withdrawal.yaml").scenario
    whole = ensemble.run_group(scenario, 99, list(range(100)), series_every=6)
    parts = [
        ensemble.run_group(scenario, 99, list(ids), series_every=6)
        for ids in (range(37), range(37, 100))
    ]
    monkeypatch.setattr(ensemble, "MAX_CELLS", 7 * 9)  # blocks of 9 runs inside the engine
    small_blocks = ensemble.run_group(scenario, 99, list(range(100)), series_every=6)
    for name in TABLES:
        joined = pa.concat_tables([getattr(p, name) for p in parts])
        assert getattr(whole, name).equals(joined), name
        assert getattr(whole, name).equals(getattr(small_blocks, name)), name
    assert whole.events.num_rows > 0


def test_edge_cases_match_mesa() -> None:
    scenario = load(ROOT / "scenarios" / "syria_withdrawal.yaml").scenario
    cases = [
        {"run_ids": [], "steps": None, "series_every": 1, "params": None},
        {"run_ids": [3, 1, 2], "steps": 0, "series_every": 1, "params": None},
        {
            "run_ids": [5, 2, 9, 2],  # unsorted, repeated: kept as given, like the runner
            "steps": 37,
            "series_every": 12,
            "params": {"withdrawal.level": 0.5, "tag": '"a"'},
        },
        {"run_ids": range(6), "steps": None, "series_every": None, "params": {"x": 1.0}},
    ]
    for case in cases:
        ids = case.pop("run_ids")
        mesa, ens = both(scenario, 11, ids, **case)
        for name in TABLES:
            assert getattr(mesa, name).equals(getattr(ens, name)), (case, name)


def test_generated_scenario_matches_mesa_and_loads(tmp_path: Path) -> None:
    """Network, redirection, events, a budget cut: a small generated scenario, both engines."""
    path = generate.write_scenario(tmp_path / "g.yaml", 40, 4, 3, steps=48, budget_cut=0.3)
    scenario = load(path).scenario
    assert check_references(scenario) is None
    assert scenario == generate.generated_scenario(40, 4, 3, steps=48, budget_cut=0.3)
    mesa, ens = both(scenario, 5, range(6), series_every=4)
    assert_same_tables(mesa, ens)
    kinds = set(ens.events.column("kind").to_pylist())
    assert {"realign", "hedge"} <= kinds


def test_large_generated_scenario_stays_in_bounds() -> None:
    scenario = generate.generated_scenario(10_000, 8, 1, steps=24)
    assert len(scenario.partners) == 10_000
    static = ensemble.Static(scenario)
    assert type(static.network).__name__ == "csr_array"  # sparse beyond DENSE_UP_TO
    assert static.network.nnz == 10_000 * 8
    block = ensemble.simulate_block(
        static, pcg64.run_keys(0, [0, 1, 2]), [0, 1, 2], 24, series_every=None
    )
    for field in ("loyalty", "dependence", "trust"):
        values = block.final[field]
        assert values.shape == (3, 10_000)
        assert np.isfinite(values).all()
        assert values.min() >= 0.0 and values.max() <= 1.0, field
    strength = block.final["strength"]
    assert np.isfinite(strength).all() and strength.min() >= 0.0
    assert block.events["kind"].size > 0
    # and through run_group: one runs row, and one outcomes row per partner (long, not wide)
    tables = ensemble.run_group(scenario, 0, [0], steps=3, series_every=None)
    assert tables.failed == {}
    assert tables.runs.num_columns == 2 and tables.runs.num_rows == 1
    assert tables.outcomes.num_rows == 10_000
    assert tables.outcomes.column("partner").to_pylist()[:2] == scenario.partner_ids()[:2]


def test_network_matrix_is_dense_when_small() -> None:
    scenario = load(ROOT / "scenarios" / "syria_withdrawal.yaml").scenario
    static = ensemble.Static(scenario)
    ids = static.partner_ids
    assert isinstance(static.network, np.ndarray)
    for spec in scenario.partners:
        for peer, weight in spec.watches.items():
            assert static.network[ids.index(spec.id), ids.index(peer)] == weight
    assert np.count_nonzero(static.network) == sum(len(p.watches) for p in scenario.partners)


def test_run_keys_are_the_models_keys() -> None:
    pairs = [(0, 0), (1, 7), (2024, 123_456), (2**40 + 3, 2**33 + 1), (2**63 - 1, 99)]
    for seed, run_id in pairs:
        model = AllianceModel(
            load(ROOT / "scenarios" / "syria_withdrawal.yaml").scenario,
            rng=np.random.default_rng(run_seed_sequence(seed, run_id)),
            steps=1,
        )
        assert pcg64.run_keys(seed, [run_id])[0] == model.key, (seed, run_id)


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**32, 2**63 - 1])
def test_vectorised_seeding_matches_numpy(seed: int) -> None:
    ids = [*range(50), 2**32 - 1, 2**32, 2**45 + 17, 2**64 - 1]
    got = pcg64.pcg64_outputs(seed, ids, 3)
    for row, run_id in zip(got, ids, strict=True):
        want = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(run_id,))).random_raw(3)
        assert np.array_equal(row, want), run_id


def _left_to_right(terms) -> float:
    total = 0.0
    for term in terms:
        total += term
    return total


@pytest.mark.parametrize("compensated", [False, True])
def test_row_sums_round_like_the_mesa_engine(compensated: bool) -> None:
    """What a partner sees of its peers, exactly as agents.Partner.decide adds it up (left
    to right); with compensated=True, exactly as Python's sum() (compensated on 3.12+)."""
    if compensated and sys.version_info < (3, 12):
        pytest.skip("sum() is compensated from Python 3.12 on")
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = int(rng.integers(1, 30))
        rows, cols, weights = [], [], []
        for i in range(n):
            for j in np.sort(rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False)):
                rows.append(i)
                cols.append(int(j))
                weights.append(float(rng.uniform(0, 1) * 10.0 ** rng.integers(-8, 8)))
        matrix = network.watch_matrix(rows, cols, weights, n)
        x = rng.uniform(0, 1, (3, n)) * 10.0 ** rng.integers(-8, 8, (3, n))
        got = network.RowSums(matrix, compensated=compensated)(x)
        for r in range(3):
            for i in range(n):
                lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
                peers = zip(
                    matrix.indices[lo:hi].tolist(), matrix.data[lo:hi].tolist(), strict=True
                )
                terms = [w * float(x[r, j]) for j, w in peers]
                want = sum(terms) if compensated else _left_to_right(terms)
                assert got[r, i] == want, (sys.version_info[:2], r, i)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_random_scenarios_match_mesa(scenario_strategy, data, seed: int) -> None:
    """Budget cuts, events, odd coefficients: whatever the conftest strategy draws."""
    scenario = Scenario.model_validate(data.draw(scenario_strategy))
    assert check_references(scenario) is None
    mesa, ens = both(scenario, seed, range(3), series_every=1)
    for name in TABLES:
        assert getattr(mesa, name).equals(getattr(ens, name)), name


def test_returns_and_repeated_moves_match_mesa() -> None:
    """Moves back to the incumbent (its remembered value, the reputation cost, the new
    starting positions) on both engines: courting offers after a cut that moves partners."""
    overrides = [
        "coefficients.w_affinity=1.4",
        "coefficients.w_trust=0.3",
        "coefficients.loyalty_noise=0.04",
        "coefficients.reputation_cost=0.05",
        "events=[{step: 30, kind: offer, partner: assad, patron: iran, value: 1.5},"
        " {step: 30, kind: offer, partner: pmf_leadership, patron: iran, value: 2.0},"
        " {step: 50, kind: offer, partner: pmf_leadership, patron: iraqi_state, value: 1.5}]",
    ]
    scenario = load(ROOT / "scenarios" / "cascade.yaml", overrides).scenario
    mesa, ens = both(scenario, 7, range(40), series_every=1)
    assert_same_tables(mesa, ens)
    events = ens.events.to_pandas()
    realigns = events[events.kind == "realign"]
    assert (realigns["to"] == "iran").any()  # some partner came back
    assert realigns.groupby(["run_id", "partner"]).size().max() >= 2
