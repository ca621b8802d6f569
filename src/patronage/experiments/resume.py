"""Finishing a stopped batch from its folder: what its manifest records, and what differs.

`patronage resume DIR` needs no retyping: the manifest holds the scenario text, its --set
overrides, the design, the seed, the horizon, the series, the engine and the chunk size.
`batch ... --resume DIR` still works; when its options differ from the folder's, the
refusal names the first option that differs and both values.
"""

from __future__ import annotations

import json
from typing import Any

from patronage.experiments.design import Design
from patronage.scenario.loader import LoadedScenario, from_text

__all__ = ["differences", "recorded"]


def recorded(manifest: dict[str, Any]) -> tuple[LoadedScenario, Design, dict[str, Any]]:
    """The scenario, design and run_batch options a batch folder was started with."""
    s = manifest["scenario"]
    loaded = from_text(s["text"], s["source"], tuple(s.get("overrides") or ()))
    d = manifest["design"]
    design = Design(
        sweeps={k: list(v) for k, v in (d.get("sweeps") or {}).items()},
        samples={k: (v[0], v[1]) for k, v in (d.get("samples") or {}).items()},
        n_samples=int(d.get("n_samples") or 0),
        replicates=int(d["replicates"]),
        seed=int(d["seed"]),
    )
    options = {
        "steps": int(manifest["steps"]),
        "series_every": manifest.get("series_every"),
        "engine": manifest.get("engine", "mesa"),
        "chunk_runs": manifest.get("chunk_runs"),
    }
    return loaded, design, options


def _series(every: int | None) -> str:
    return "none" if every is None else "all" if every == 1 else f"every={every}"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def differences(
    manifest: dict[str, Any],
    loaded: LoadedScenario,
    design: Design,
    steps: int,
    series_every: int | None,
    engine: str,
    chunk_runs: int,
) -> list[tuple[str, str, str]]:
    """(option, the folder's value, this command's value) for every option that differs."""
    s = manifest.get("scenario", {})
    d = manifest.get("design", {})
    now = design.to_dict()
    pairs: list[tuple[str, Any, Any]] = [
        ("the scenario file (sha256)", s.get("sha256", "?")[:12], loaded.sha256[:12]),
        ("--set", list(s.get("overrides") or []), list(loaded.overrides)),
        ("--sweep", d.get("sweeps") or {}, now["sweeps"]),
        ("--sample", d.get("samples") or {}, now["samples"]),
        ("--samples", d.get("n_samples") or 0, now["n_samples"]),
        ("--replicates", d.get("replicates"), now["replicates"]),
        ("--seed", d.get("seed"), now["seed"]),
        ("--steps", manifest.get("steps"), steps),
        ("--series", _series(manifest.get("series_every")), _series(series_every)),
        ("--engine", manifest.get("engine", "mesa"), engine),
        ("--chunk-runs", manifest.get("chunk_runs"), chunk_runs),
    ]
    return [(name, _show(then), _show(new)) for name, then, new in pairs if then != new]
