"""Shared fixtures: small scenarios built from YAML text or from dicts, and model helpers."""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import strategies as st

from patronage.model.model import SERIES_FIELDS, AllianceModel
from patronage.scenario.loader import check_references
from patronage.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SYRIA = ROOT / "scenarios" / "syria_withdrawal.yaml"
SERIES_COLUMNS = ["step", "partner", *SERIES_FIELDS, "status", "patron"]

# A minimal valid scenario: one patron, one partner. Tests add to it.
MINIMAL_YAML = """\
name: tiny
steps: 12
incumbent: iran
patrons:
  - id: iran
  - id: russia
partners:
  - id: assad
    loyalty: 0.5
    dependence: 0.5
  - id: hezbollah
    loyalty: 0.9
    dependence: 0.8
    watches: {assad: 0.5}
"""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """The page's browser tests (tests/app/test_page.py) share one page, as a user would,
    and read as a story: each starts from where the one before left the page. They keep
    their file order whatever order pytest-randomly draws for the rest of the suite."""
    slots = [i for i, item in enumerate(items) if item.path.name == "test_page.py"]
    story = sorted((items[i] for i in slots), key=lambda item: item.location[1])
    for i, item in zip(slots, story, strict=True):
        items[i] = item


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The suite runs in a random order (pytest-randomly): print its seed even under -q, so
    that a failure which depends on the order can be replayed."""
    if config.pluginmanager.hasplugin("randomly"):
        seed = config.getoption("randomly_seed")
        terminalreporter.write_line(
            f"test order: pytest-randomly seed {seed} (replay: -p randomly --randomly-seed={seed})"
        )


@pytest.fixture(scope="session")
def syria_path() -> Path:
    """The bundled scenario of the issue (the only one these tests rely on by name)."""
    assert SYRIA.is_file()
    return SYRIA


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """YAML text (dedented) -> a file in tmp_path; returns its path."""
    counter = itertools.count()

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"scenario_{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def minimal_yaml() -> str:
    return MINIMAL_YAML


def make_scenario(
    partners: list[dict[str, Any]],
    rivals: tuple[str, ...] | list[str] = (),
    steps: int = 60,
    incumbent: str = "iran",
    **sections: Any,
) -> Scenario:
    """A validated Scenario from partner dicts; the incumbent is `iran`, rivals by id."""
    data = {
        "name": "test",
        "steps": steps,
        "incumbent": incumbent,
        "patrons": [{"id": incumbent}, *({"id": r} for r in rivals)],
        "partners": partners,
        **sections,
    }
    scenario = Scenario.model_validate(data)
    problem = check_references(scenario)
    assert problem is None, problem
    return scenario


@pytest.fixture(scope="session")
def build() -> Callable[..., Scenario]:
    """make_scenario as a fixture: build(partners, rivals=(...), steps=..., withdrawal=...)."""
    return make_scenario


def run_model(scenario: Any, seed: int = 0, steps: int | None = None) -> AllianceModel:
    return AllianceModel(scenario, rng=seed, steps=steps).run()


def series_frame(model: AllianceModel) -> pd.DataFrame:
    """The model's series as a DataFrame (one row per recorded step and partner)."""
    return pd.DataFrame(model.series, columns=SERIES_COLUMNS)


def trajectory(model: AllianceModel, partner: str, field: str) -> list[Any]:
    """One partner's value of `field` at steps 0, 1, ..., horizon."""
    df = series_frame(model)
    return df[df.partner == partner].sort_values("step")[field].tolist()


@pytest.fixture(scope="session")
def run() -> Callable[..., AllianceModel]:
    return run_model


@pytest.fixture(scope="session")
def series() -> Callable[[AllianceModel], pd.DataFrame]:
    return series_frame


@pytest.fixture(scope="session")
def traj() -> Callable[..., list[Any]]:
    return trajectory


# --- a hypothesis strategy of valid scenarios (test_properties, test_determinism) ------------

unit = st.floats(0.0, 1.0, allow_nan=False)
COEFFICIENT_RANGES = {
    # Unit coefficients
    **{
        name: (0.0, 1.0)
        for name in (
            "trust_prior",
            "trust_fall_rate",
            "trust_rise_rate",
            "hard_times_discount",
            "loyalty_rate",
            "dependence_rate",
            "hedge_diversification",
            "strength_rate",
            "collapse_rate",
            "hedge_band",
            "switch_threshold",
            "realign_rate",
        )
    },
    # Non-negative (unbounded in the schema; explored up to a generous bound)
    **{
        name: (0.0, 5.0)
        for name in (
            "own_shortfall_weight",
            "peer_weight",
            "loyalty_trust_weight",
            "loyalty_pressure_weight",
            "w_loyalty",
            "w_trust",
            "w_support",
            "w_affinity",
            "w_offer",
            "w_fear",
            "exit_cost",
            "reputation_cost",
        )
    },
    "switch_steepness": (0.0, 200.0),
    "loyalty_noise": (0.0, 0.5),
}


@st.composite
def scenario_dicts(draw: Callable, max_partners: int = 6, steps: int = 30) -> dict[str, Any]:
    """A random valid scenario as a dict (as if read from YAML)."""
    n_partners = draw(st.integers(1, max_partners))
    n_rivals = draw(st.integers(0, 3))
    partner_ids = [f"p{i}" for i in range(n_partners)]
    patron_ids = ["inc", *(f"r{i}" for i in range(n_rivals))]

    def subset_dict(keys: list[str], values: st.SearchStrategy) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
        return {k: draw(values) for k in chosen}

    partners = []
    for pid in partner_ids:
        partner = {
            "id": pid,
            "loyalty": draw(unit),
            "dependence": draw(unit),
            "allocation": draw(st.floats(0.001, 1.0)),
            "strength": draw(st.floats(0.0, 3.0)),
            "threat": draw(st.floats(0.0, 2.0)),
            "pressure": draw(unit),
            "autonomy": draw(unit),
            "affinity": subset_dict(patron_ids, st.floats(-1.0, 1.0)),
            "offers": subset_dict(patron_ids, st.floats(0.0, 2.0)),
            "watches": subset_dict([p for p in partner_ids if p != pid], unit),
        }
        if draw(st.booleans()):
            partner["trust"] = draw(unit)
        partners.append(partner)

    targets = []
    for pid in draw(st.lists(st.sampled_from(partner_ids), unique=True)):
        target: dict[str, Any] = {"id": pid}
        if draw(st.booleans()):
            target["level"] = draw(unit)
        if draw(st.booleans()):
            target["start"] = draw(st.integers(0, steps))
        if draw(st.booleans()):
            target["ramp"] = draw(st.integers(0, steps))
        targets.append(target)
    redirect_to = draw(st.lists(st.sampled_from(partner_ids), unique=True))
    weights = [draw(st.floats(0.01, 1.0)) for _ in redirect_to]
    total_share = draw(unit)
    redirect = {
        pid: min(1.0, total_share * w / sum(weights)) * (1 - 1e-12)
        for pid, w in zip(redirect_to, weights, strict=True)
    }

    events = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["offer", "pressure", "threat"]))
        event = {
            "step": draw(st.integers(0, steps)),
            "kind": kind,
            "partner": draw(st.sampled_from(partner_ids)),
            "value": draw(unit if kind == "pressure" else st.floats(0.0, 2.0)),
        }
        if kind == "offer":
            event["patron"] = draw(st.sampled_from(patron_ids))
        events.append(event)

    coefficients = {
        name: draw(st.floats(low, high))
        for name, (low, high) in COEFFICIENT_RANGES.items()
        if draw(st.booleans())
    }
    return {
        "name": "random",
        "steps": steps,
        "incumbent": "inc",
        "patrons": [{"id": p} for p in patron_ids],
        "partners": partners,
        "withdrawal": {
            "level": draw(unit),
            "start": draw(st.integers(0, steps)),
            "ramp": draw(st.integers(0, steps)),
            "targets": targets,
            "redirect": redirect,
        },
        "budget_cut": {
            "level": draw(unit),
            "start": draw(st.integers(0, steps)),
            "ramp": draw(st.integers(0, steps)),
        },
        "events": events,
        "coefficients": coefficients,
    }


@pytest.fixture(scope="session")
def scenario_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return scenario_dicts()


# --- small batches for the compare, plots and report tests -----------------------------------


@pytest.fixture(scope="session")
def batch_root(tmp_path_factory) -> Path:
    """Where the shared analysis batches are built: a fresh folder per session, or the folder
    named by PATRONAGE_TEST_BATCHES, kept across sessions (mutation/run.py sets it, so that
    the mutants of the analysis modules reuse batches built once by the unmutated code)."""
    kept = os.environ.get("PATRONAGE_TEST_BATCHES")
    root = Path(kept) if kept else tmp_path_factory.getbasetemp() / "analysis-batches"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def base(batch_root):
    from analysis_fixtures import LEVELS, make_batch

    return make_batch(batch_root, "base", sweeps={"withdrawal.level": LEVELS})


@pytest.fixture(scope="session")
def cut(batch_root):
    """The same design and seed as `base` with a budget cut: pairs run by run with base."""
    from analysis_fixtures import LEVELS, make_batch

    return make_batch(
        batch_root, "cut", sets=("budget_cut.level=0.4",), sweeps={"withdrawal.level": LEVELS}
    )


# Batches that differ from `base` in one way each, for the compare tests.


@pytest.fixture(scope="session")
def cut_seed1(batch_root):
    from analysis_fixtures import LEVELS, make_batch

    return make_batch(
        batch_root,
        "cut_seed1",
        sets=("budget_cut.level=0.4",),
        sweeps={"withdrawal.level": LEVELS},
        seed=1,
    )


@pytest.fixture(scope="session")
def short(batch_root):
    from analysis_fixtures import LEVELS, make_batch

    return make_batch(batch_root, "short", sweeps={"withdrawal.level": LEVELS}, steps=24)


@pytest.fixture(scope="session")
def no_hamas(batch_root):
    """The scenario without Hamas (and without the watches pointing at it)."""
    import yaml
    from analysis_fixtures import LEVELS, make_batch

    data = yaml.safe_load(SYRIA.read_text())
    data["partners"] = [p for p in data["partners"] if p["id"] != "hamas"]
    for p in data["partners"]:
        (p.get("watches") or {}).pop("hamas", None)
    data["events"] = [e for e in data.get("events") or [] if e.get("partner") != "hamas"]
    withdrawal = data.get("withdrawal") or {}
    (withdrawal.get("redirect") or {}).pop("hamas", None)
    withdrawal["targets"] = [t for t in withdrawal.get("targets") or [] if t["id"] != "hamas"]
    path = batch_root / "no_hamas.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return make_batch(batch_root, "no_hamas", sweeps={"withdrawal.level": LEVELS}, scenario=path)


@pytest.fixture(scope="session")
def unswept(batch_root):
    from analysis_fixtures import make_batch

    return make_batch(batch_root, "unswept", sets=("withdrawal.level=1",))


@pytest.fixture(scope="session")
def other_levels(batch_root):
    from analysis_fixtures import make_batch

    return make_batch(batch_root, "other_levels", sweeps={"withdrawal.level": [0, 0.5]})


@pytest.fixture(scope="session")
def reps10(batch_root):
    """The same seed and sweep points as `base`, 10 replicates instead of 15: not paired."""
    from analysis_fixtures import LEVELS, make_batch

    return make_batch(batch_root, "reps10", sweeps={"withdrawal.level": LEVELS}, replicates=10)
