"""Experiment designs: full-factorial sweeps, Latin hypercube samples, explicit points,
replicates.

A design expands into design points (one dict of path -> value each) times replicates.
Run k belongs to point k // replicates and is replicate k % replicates; its seed is child
k % replicates of the batch seed under common random numbers (the default), child k with
independent streams (rng/seeds.py), so two batches with the same seed and design pair run
by run, and so do the points of one batch by default.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patronage.errors import InputError
from patronage.rng.seeds import COMMON, STREAMS
from patronage.scenario.overrides import parse_value

# Design caps, checked before anything runs or is allocated (README, "Guarantees"): a batch
# of more runs or points would take days and its manifest would not fit in memory; a typo
# such as a tiny sweep step should fail at once, not after filling the memory.
MAX_RUNS = 10_000_000  # runs in one batch (design points x replicates)
MAX_POINTS = 100_000  # design points (sweep combinations x sample points)
MAX_SWEEP_VALUES = 10_000  # values of one swept field


@dataclass(frozen=True)
class Design:
    """What to run: sweeps x (samples or explicit points) x replicates, from one batch seed.

    `explicit` is a list of design points given outright (a design file, a sensitivity
    sampler): one dict of path -> value each, run in the order given. Values may be numpy
    scalars or arrays: they are stored as plain Python numbers and lists.
    """

    sweeps: dict[str, list[Any]] = field(default_factory=dict)
    samples: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_samples: int = 0
    replicates: int = 1
    seed: int = 0
    explicit: list[dict[str, Any]] = field(default_factory=list)
    streams: str = COMMON  # common random numbers across points (rng/seeds.py)

    def __post_init__(self) -> None:
        if self.streams not in STREAMS:
            raise InputError(
                f"streams must be one of {', '.join(STREAMS)}, got '{self.streams}'",
                source="design",
            )
        for name in ("sweeps", "samples", "n_samples", "replicates", "seed", "explicit"):
            object.__setattr__(self, name, plain(getattr(self, name)))
        object.__setattr__(self, "samples", {k: tuple(v) for k, v in self.samples.items()})
        if self.explicit and self.samples:
            raise InputError(
                "give either explicit design points or Latin hypercube ranges, not both",
                source="design",
            )
        overlap = set(self.sweeps) & {name for point in self.explicit for name in point}
        if overlap:
            raise InputError(
                f"{sorted(overlap)[0]} is both swept and in the explicit points; choose one",
                source="design",
            )
        if self.samples and self.n_samples < 1:
            raise InputError(
                "--sample needs --samples N (the number of points), N >= 1", source="design"
            )
        if self.replicates < 1:
            raise InputError(
                f"replicates must be at least 1, got {self.replicates}", source="design"
            )
        overlap = set(self.sweeps) & set(self.samples)
        if overlap:
            raise InputError(
                f"{sorted(overlap)[0]} is both swept and sampled; choose one", source="design"
            )
        if self.n_points > MAX_POINTS:
            raise InputError(
                f"the design has {self.n_points:,} points, more than the {MAX_POINTS:,} a batch "
                "may have; sweep fewer values or draw fewer --samples",
                source="design",
            )
        if self.n_runs > MAX_RUNS:
            raise InputError(
                f"the design has {self.n_runs:,} runs ({self.n_points:,} "
                f"point{'s' * (self.n_points != 1)} x "
                f"{self.replicates:,} replicates), more than the {MAX_RUNS:,} a batch may have; "
                "split it into several batches",
                source="design",
            )

    @property
    def param_names(self) -> list[str]:
        """The names of the inputs the design sets, in column order."""
        given = dict.fromkeys(name for point in self.explicit for name in point)
        return [*self.sweeps, *self.samples, *given]

    def points(self) -> list[dict[str, Any]]:
        """Design points: every sweep combination, crossed with every Latin hypercube point."""
        grid = [
            dict(zip(self.sweeps, combo, strict=True))
            for combo in itertools.product(*self.sweeps.values())
        ]
        if self.explicit:
            return [{**g, **p} for g in grid for p in self.explicit]
        if not self.samples:
            return grid
        lhs = self.lhs_points()
        return [{**g, **s} for g in grid for s in lhs]

    def lhs_points(self) -> list[dict[str, float]]:
        """Latin hypercube points scaled to the sampled ranges (one point per stratum per axis)."""
        from scipy.stats import qmc  # scipy.stats takes ~0.5 s to import: only when sampling

        names = list(self.samples)
        sampler = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng([self.seed, 0x1A75]))
        unit = sampler.random(self.n_samples)
        lows = np.array([self.samples[n][0] for n in names])
        highs = np.array([self.samples[n][1] for n in names])
        scaled = lows + unit * (highs - lows)  # qmc.scale refuses a range of width 0
        return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in scaled]

    @property
    def n_points(self) -> int:
        """How many design points the design holds."""
        grid = math.prod(len(v) for v in self.sweeps.values())
        if self.explicit:
            return grid * len(self.explicit)
        return grid * (self.n_samples if self.samples else 1)

    @property
    def n_runs(self) -> int:
        """How many runs the batch makes: points times replicates."""
        return self.n_points * self.replicates

    def to_dict(self) -> dict[str, Any]:
        """The design as plain data, for the manifest."""
        extra = {"explicit": self.explicit} if self.explicit else {}
        return {
            **extra,
            "sweeps": {k: list(v) for k, v in self.sweeps.items()},
            "samples": {k: list(v) for k, v in self.samples.items()},
            "n_samples": self.n_samples,
            "replicates": self.replicates,
            "seed": self.seed,
            "run_layout": "run_id = point_index * replicates + replicate",
            "streams": self.streams,
        }


def plain(value: Any) -> Any:
    """A value with numpy scalars and arrays (at any depth) made plain Python numbers and
    lists, so that designs from numpy (np.linspace, SALib samplers) are stored as JSON."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    return value


def scalar_value(text: str, path: str) -> Any:
    """A value written as text (a sweep value, a design-file cell): see `_scalar`."""
    return _scalar(text, path)


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """`path=v1,v2,...` or `path=start:stop:step` (stop included when it lies on the grid)."""
    if "=" not in text:
        raise InputError(f"expected PATH=VALUES, got '{text}'", source="--sweep")
    path, raw = (part.strip() for part in text.split("=", 1))
    if not path or not raw:
        raise InputError(f"expected PATH=VALUES, got '{text}'", source="--sweep")
    if raw.count(":") == 2 and "," not in raw:
        start, stop, step = (_number(x, path, "--sweep") for x in raw.split(":"))
        if step <= 0 or stop < start:
            raise InputError(
                f"start:stop:step needs step > 0 and stop >= start, got '{raw}'",
                source="--sweep",
                field=path,
            )
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_SWEEP_VALUES:
            raise InputError(
                f"'{raw}' gives {count:,} values, more than the {MAX_SWEEP_VALUES:,} a sweep may "
                "have; use a larger step",
                source="--sweep",
                field=path,
            )
        values = [round(start + i * step, 12) for i in range(count)]
        return path, values
    values = [_scalar(v, path) for v in raw.split(",") if v.strip() != ""]
    if not values:
        raise InputError(f"no values in '{raw}'", source="--sweep", field=path)
    if len(values) > MAX_SWEEP_VALUES:
        raise InputError(
            f"{len(values):,} values, more than the {MAX_SWEEP_VALUES:,} a sweep may have",
            source="--sweep",
            field=path,
        )
    # 1 and 1.0 are one value (the same run twice); a word and a number never are
    keys = [(_is_number(v), float(v) if _is_number(v) else repr(v)) for v in values]
    if len(set(keys)) != len(values):
        raise InputError(f"values repeat in '{raw}'", source="--sweep", field=path)
    for v in values:
        if _is_number(v) and not math.isfinite(v):
            raise InputError(f"must be finite numbers, got '{raw}'", source="--sweep", field=path)
    return path, values


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def collect(parsed: list[tuple[str, Any]], option: str) -> dict[str, Any]:
    """Parsed `--sweep`/`--sample` options as a mapping; a path given twice is refused (the
    last would silently win)."""
    out: dict[str, Any] = {}
    for path, values in parsed:
        if path in out:
            raise InputError(f"{path} is given twice; give it once", source=option, field=path)
        out[path] = values
    return out


def _scalar(text: str, path: str) -> Any:
    """A sweep value: a number when it reads as one (YAML 1.1 would leave `1e-3` a string),
    otherwise whatever YAML makes of it (a word, null, a list)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return parse_value(text, path, "--sweep")


def parse_sample(text: str, source: str = "--sample") -> tuple[str, tuple[float, float]]:
    """`path=low:high` for a Latin hypercube range (or a sensitivity factor: `source`)."""
    if "=" not in text or text.count(":") != 1:
        raise InputError(f"expected PATH=LOW:HIGH, got '{text}'", source=source)
    path, raw = (part.strip() for part in text.split("=", 1))
    low, high = (_number(x, path, source) for x in raw.split(":"))
    if high < low:
        raise InputError(f"LOW must not exceed HIGH, got '{raw}'", source=source, field=path)
    return path, (low, high)


def _number(text: str, path: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"must be a number, got '{text}'", source=source, field=path) from None
    if not math.isfinite(value):
        raise InputError(f"must be a finite number, got '{text}'", source=source, field=path)
    return value


DEFAULT_REPLICATES = 100


def merged(
    batch: Any,
    *,
    sweeps: dict[str, list[Any]] | None = None,
    samples: dict[str, tuple[float, float]] | None = None,
    n_samples: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    explicit: list[dict[str, Any]] | None = None,
    streams: str = COMMON,
) -> Design:
    """The design of a scenario's `batch:` section with what was given on top of it (the
    command line, or keyword arguments): each given part replaces the section's; explicit
    points replace the section's sweeps and samples."""
    base = from_scenario(batch)
    if explicit:
        base = {k: v for k, v in base.items() if k not in ("sweeps", "samples", "n_samples")}
    samples = samples if samples else base.get("samples", {})
    n = n_samples if n_samples is not None else base.get("n_samples", 0)
    return Design(
        sweeps=sweeps if sweeps else base.get("sweeps", {}),
        samples=samples,
        n_samples=n if samples else 0,
        replicates=replicates or base.get("replicates") or DEFAULT_REPLICATES,
        seed=seed if seed is not None else base.get("seed", 0),
        explicit=list(explicit or []),
        streams=streams,
    )


def from_scenario(batch: Any) -> dict[str, Any]:
    """The design carried by a scenario's `batch:` section, as keyword arguments."""
    if batch is None:
        return {}
    return {
        "sweeps": {s.path: list(s.values) for s in batch.sweeps},
        "samples": {s.path: (s.low, s.high) for s in batch.samples},
        "n_samples": batch.n_samples,
        "replicates": batch.replicates,
        "seed": batch.seed,
    }
