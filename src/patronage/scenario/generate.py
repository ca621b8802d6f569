"""Generated scenarios of any size, for benchmarks and scale tests of the ensemble engine.

`generate_scenario(n_partners, degree, seed)` returns a valid scenario mapping: the
incumbent (Iran) and a few rivals, N partners with random scores in plausible ranges, each
watching `degree` random others with random weights, patronage withdrawn from about 5% of
them (part of it redirected to a few others), and a handful of timeline events. The numbers
are random draws, not estimates of anything.

`generated_scenario` validates one in memory (a `Scenario`) for benchmarks;
`write_scenario` writes a file (`patronage generate`): JSON reads fast at any size (100,000
partners in seconds), YAML is for small ones.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from patronage.atomic import write_atomic
from patronage.scenario.schema import Scenario

# Peak memory of `patronage generate`, measured with /usr/bin/time (max RSS) at 1,000,
# 50,000 and 200,000 partners and degrees 8 and 32 (Python 3.11, JSON): about 130 MB of
# interpreter and libraries, 2.1 KB per partner and 0.1 KB per watched peer. The estimate
# rounds both up by about 10%, so that a refused size would really not fit.
BASE_BYTES = 130 * 2**20
BYTES_PER_PARTNER = 2_400
BYTES_PER_PEER = 110

INCUMBENT = "iran"
RIVALS = ("gulf", "iraqi_state", "russia", "turkey")


def _neighbours(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """`k` distinct random peers for each of n partners, never itself; shape (n, k)."""
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64)
    if 2 * k >= n:  # dense: a permutation of the others for each row
        others = np.array([rng.permutation(np.delete(np.arange(n), i))[:k] for i in range(n)])
        return np.sort(others, axis=1)
    peers = np.zeros((n, k), dtype=np.int64)
    todo = np.arange(n)
    while todo.size:
        draw = rng.integers(0, n - 1, size=(todo.size, k))
        draw += draw >= todo[:, None]  # skip itself
        draw.sort(axis=1)
        ok = np.all(draw[:, 1:] != draw[:, :-1], axis=1)
        peers[todo[ok]] = draw[ok]
        todo = todo[~ok]
    return peers


def generate_scenario(
    n_partners: int,
    degree: int,
    seed: int,
    *,
    steps: int = 120,
    withdrawn_share: float = 0.05,
    budget_cut: float = 0.0,
    name: str | None = None,
) -> dict[str, Any]:
    """A valid scenario mapping with `n_partners` partners watching `degree` peers each."""
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of small dicts: the cyclic collector would dominate the time
    try:
        return _generate(n_partners, degree, seed, steps, withdrawn_share, budget_cut, name)
    finally:
        if gc_was_on:
            gc.enable()


def _generate(
    n_partners: int,
    degree: int,
    seed: int,
    steps: int,
    withdrawn_share: float,
    budget_cut: float,
    name: str | None,
) -> dict[str, Any]:
    if n_partners < 1:
        raise ValueError(f"n_partners must be at least 1, got {n_partners}")
    if degree < 0:
        raise ValueError(f"degree must be at least 0, got {degree}")
    rng = np.random.default_rng(seed)  # one stream, drawn in a fixed order: partners first
    n = n_partners
    width = len(str(n - 1))
    ids = [f"p{i:0{width}d}" for i in range(n)]
    partners = _random_partners(rng, ids, degree)
    withdrawal, events = _random_withdrawal(rng, ids, partners, withdrawn_share, steps)
    return {
        "name": name or f"generated_{n}_{degree}_{seed}",
        "title": f"Generated: {n} partners watching {min(degree, n - 1)} peers each",
        "description": "Random scores for benchmarks and scale tests (patronage.generate); "
        "not an estimate of anything.",
        "steps": steps,
        "incumbent": INCUMBENT,
        "patrons": [
            {"id": INCUMBENT, "name": "Iran"},
            {"id": "gulf", "name": "Gulf states"},
            {"id": "iraqi_state", "name": "Iraqi state"},
            {"id": "russia", "name": "Russia"},
            {"id": "turkey", "name": "Turkey"},
        ],
        "partners": partners,
        "withdrawal": withdrawal,
        "budget_cut": {"level": budget_cut, "start": 6, "ramp": 12},
        "events": events,
    }


def _random_partners(rng: np.random.Generator, ids: list[str], degree: int) -> list[dict]:
    """Scores, peers and rival ties for each partner, drawn column by column (vectorised,
    so a million partners take seconds)."""
    n = len(ids)

    def uniform(low: float, high: float, digits: int = 3) -> np.ndarray:
        return np.round(rng.uniform(low, high, n), digits)

    loyalty = uniform(0.3, 0.95)
    dependence = uniform(0.1, 0.9)
    trust = uniform(0.5, 0.9)
    weights = rng.gamma(2.0, 1.0, n)
    allocation = np.clip(np.round(weights / weights.sum(), 4), 0.001, 1.0)
    strength = uniform(0.7, 1.5, 2)
    threat = uniform(0.1, 0.8, 2)
    pressure = np.where(rng.random(n) < 0.2, uniform(0.0, 0.5, 2), 0.0)
    autonomy = uniform(0.0, 0.4, 2)
    peers = _neighbours(rng, n, degree)
    peer_weights = np.round(rng.uniform(0.1, 0.9, peers.shape), 2).tolist()
    n_rivals = len(RIVALS)
    affinity_to = rng.integers(0, n_rivals, size=(n, 2)).tolist()
    affinity = np.round(rng.uniform(-1.0, 1.0, (n, 2)), 2).tolist()
    offer_to = rng.integers(0, n_rivals, size=(n, 2)).tolist()
    offer = np.round(rng.uniform(0.0, 1.0, (n, 2)), 2).tolist()

    columns = [loyalty, dependence, trust, allocation, strength, threat, pressure, autonomy]
    values = [c.tolist() for c in columns]
    peer_ids = [[ids[j] for j in row] for row in peers.tolist()]
    fields: tuple[str, ...] = ("loyalty", "dependence", "trust", "allocation", "strength")
    fields += ("threat", "pressure", "autonomy")
    partners = []
    for i in range(n):
        partner: dict[str, Any] = {"id": ids[i]}
        partner.update(zip(fields, (c[i] for c in values), strict=True))
        # a repeated rival keeps the last value, as a mapping would
        partner["affinity"] = {
            RIVALS[r]: v for r, v in zip(affinity_to[i], affinity[i], strict=True)
        }
        partner["offers"] = {RIVALS[r]: v for r, v in zip(offer_to[i], offer[i], strict=True)}
        partner["watches"] = dict(zip(peer_ids[i], peer_weights[i], strict=True))
        partners.append(partner)
    return partners


def _random_withdrawal(
    rng: np.random.Generator,
    ids: list[str],
    partners: list[dict],
    withdrawn_share: float,
    steps: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Withdrawal from a random share of the partners, its allocation redirected to up to
    five others (shares below the freed total), and, on long horizons, a fixed sequence of
    pressure, threat and offers so that every event kind is exercised."""
    n = len(ids)
    n_targets = max(1, round(withdrawn_share * n))
    chosen = rng.permutation(n)
    targets = np.sort(chosen[:n_targets])
    recipients = np.sort(chosen[n_targets : n_targets + min(5, n - n_targets)])
    allocation = np.array([p["allocation"] for p in partners])
    freed = float(allocation[targets].sum())
    redirect = {
        ids[j]: float(np.floor(min(0.2, 0.5 * allocation[j] / freed) * 1e6) / 1e6)
        for j in recipients
    }
    events = []
    if steps > 24:
        first = int(targets[0])
        events = [
            {"step": 12, "kind": "pressure", "partner": ids[int(chosen[-1])], "value": 0.6},
            {"step": 18, "kind": "threat", "partner": ids[first], "value": 0.9},
            {"step": 24, "kind": "offer", "partner": ids[first], "patron": RIVALS[0], "value": 0.9},
            {"step": 36, "kind": "offer", "partner": ids[first], "patron": INCUMBENT, "value": 1.2},
        ]
    withdrawal = {
        "level": 1.0,
        "start": 3,
        "ramp": 6,
        "targets": [{"id": ids[j]} for j in targets],
        "redirect": redirect,
    }
    return withdrawal, events


def estimated_bytes(n_partners: int, degree: int) -> int:
    """Peak memory that generating (and writing) a scenario of this size takes."""
    return BASE_BYTES + n_partners * (BYTES_PER_PARTNER + BYTES_PER_PEER * degree)


def available_bytes() -> int | None:
    """Memory available to a new process (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def generated_scenario(n_partners: int, degree: int, seed: int, **options: Any) -> Scenario:
    """`generate_scenario` validated in memory, for benchmarks (no file to parse).

    The schema is checked; the references are right by construction, so the loader's
    reference checks are not run here.
    """
    return Scenario.model_validate(generate_scenario(n_partners, degree, seed, **options))


def write_scenario(
    path: str | Path, n_partners: int, degree: int, seed: int, **options: Any
) -> Path:
    """Write a generated scenario: JSON if the name ends in .json (fast to read at any size),
    YAML otherwise (libyaml's safe dumper)."""
    path = Path(path)
    data = generate_scenario(n_partners, degree, seed, **options)
    if path.suffix == ".json":
        text = json.dumps(data, separators=(",", ":")) + "\n"
    else:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
