"""Large-scenario floors of benchmarks/run.py: README's 100,000-partner example end to end,
and how long a 10,000-partner batch spends writing its folder against simulating.

Both run whole commands in fresh processes, as a user would (see run.measure).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

BIG_EXAMPLE = (
    "patronage generate --partners {partners} --degree 8 --out {dir}/big.json && "
    "patronage batch {dir}/big.json --engine ensemble --replicates 4 --series none "
    "--steps 24 --out {dir}/big --no-progress --quiet && "
    "patronage summary {dir}/big > /dev/null"
)
END_TO_END_SECONDS = 60.0
END_TO_END_MB = 2048.0
WRITE_RATIO = 5.0


def readme_example(
    measure: Callable, patronage: list[str], tmp: Path, partners: int = 100_000
) -> tuple[float, float]:
    """Seconds and peak MB of README's 100,000-partner example: generate, batch, summary."""
    command = shlex.join(patronage)
    script = BIG_EXAMPLE.format(partners=partners, dir=tmp).replace("patronage ", command + " ")
    return measure(["sh", "-c", script])


def folder_write_ratio(
    measure: Callable, patronage: list[str], tmp: Path, partners: int = 10_000, runs: int = 100
) -> tuple[float, float, float]:
    """(wall seconds, simulation seconds, peak MB) of a batch of `runs` runs of a generated
    scenario of `partners` partners with series off. Simulation time is the engine's time
    per chunk as the manifest records it; the rest of the wall time is start-up, parsing the
    scenario and writing the folder."""
    scenario = tmp / f"gen{partners}.json"
    measure([*patronage, "generate", "--partners", str(partners), "--out", str(scenario)])
    out = tmp / f"gen{partners}-{runs}"
    seconds, peak = measure(
        [
            *patronage,
            "batch",
            str(scenario),
            "--engine",
            "ensemble",
            "--replicates",
            str(runs),
            "--series",
            "none",
            "--steps",
            "24",
            "--out",
            str(out),
            "--no-progress",
            "--quiet",
        ]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    simulation = sum(manifest["chunk_seconds"].values())
    return seconds, simulation, peak


def render(end_to_end: tuple[float, float] | None, write: tuple[float, float, float] | None):
    """Markdown lines of the two floors (empty when not measured)."""
    lines = ["", "| large scenarios | value | floor | met |", "|---|---:|---:|---|"]
    if end_to_end:
        seconds, peak = end_to_end
        lines.append(
            f"| README's 100,000-partner example (generate, batch, summary), seconds | "
            f"{seconds:.1f} | <= {END_TO_END_SECONDS:.0f} | "
            f"{'yes' if seconds <= END_TO_END_SECONDS else 'NO'} |"
        )
        lines.append(
            f"| the same, peak memory (MB) | {peak:,.0f} | <= {END_TO_END_MB:,.0f} | "
            f"{'yes' if peak <= END_TO_END_MB else 'NO'} |"
        )
    if write:
        seconds, simulation, _ = write
        ratio = seconds / simulation
        lines.append(
            f"| 10,000 partners x 100 runs, series off: batch wall time / simulation time "
            f"({seconds:.1f} s / {simulation:.1f} s) | {ratio:.2f} | <= {WRITE_RATIO:.0f} | "
            f"{'yes' if ratio <= WRITE_RATIO else 'NO'} |"
        )
    return lines if len(lines) > 3 else []
