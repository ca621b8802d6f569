"""Batches of the bundled scenario that differ from `base` (tests/conftest.py) in one way
each, shared by the compare tests (built once per session, cached by name)."""

from __future__ import annotations

import pytest
import yaml
from analysis_fixtures import LEVELS, SYRIA, make_batch

from patronage.results.folder import Results


@pytest.fixture(scope="session")
def cut_seed1(batch_root) -> Results:
    return make_batch(
        batch_root,
        "cut_seed1",
        sets=("budget_cut.level=0.4",),
        sweeps={"withdrawal.level": LEVELS},
        seed=1,
    )


@pytest.fixture(scope="session")
def short(batch_root) -> Results:
    return make_batch(batch_root, "short", sweeps={"withdrawal.level": LEVELS}, steps=24)


@pytest.fixture(scope="session")
def no_hamas(batch_root) -> Results:
    """The scenario without Hamas (and without the watches pointing at it)."""
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
def unswept(batch_root) -> Results:
    return make_batch(batch_root, "unswept", sets=("withdrawal.level=1",))


@pytest.fixture(scope="session")
def other_levels(batch_root) -> Results:
    return make_batch(batch_root, "other_levels", sweeps={"withdrawal.level": [0, 0.5]})


@pytest.fixture(scope="session")
def reps10(batch_root) -> Results:
    """The same seed and sweep points as `base`, 10 replicates instead of 15: not paired."""
    return make_batch(batch_root, "reps10", sweeps={"withdrawal.level": LEVELS}, replicates=10)
