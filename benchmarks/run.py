"""Throughput and memory benchmarks: prints a table and writes benchmarks/latest.md.

    python benchmarks/run.py              # the standard table (Mesa engines at 1,000 runs)
    python benchmarks/run.py --full       # also the Mesa engines at 10,000 and 100,000 runs
    python benchmarks/run.py --quick      # a smoke run with small sizes
    python benchmarks/run.py --designs    # only the rows of many design points

Every measurement runs a whole command in a fresh process (start-up included), as a user
would, and samples the resident memory of its whole process tree (the batch and its
workers) every 20 ms to report the peak. Ratios are computed within one run of this script,
on one machine, so they are comparable even when absolute rates are not.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import large  # benchmarks/large.py: the large-scenario floors

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "syria_withdrawal.yaml"
PYTHON = sys.executable
PATRONAGE = [PYTHON, "-m", "patronage.cli"]


@dataclass
class Measurement:
    name: str
    runs: int
    series: str
    seconds: float
    peak_mb: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.runs / self.seconds


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of the whole process tree of `cmd`."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return seconds, peak / 2**20


def our_batch(runs: int, workers: int, engine: str, series: str, tmp: Path) -> tuple[float, float]:
    out = tmp / f"{engine}-{workers}-{runs}-{series}"
    cmd = [
        *PATRONAGE,
        "batch",
        str(SCENARIO),
        "--replicates",
        str(runs),
        "--workers",
        str(workers),
        "--engine",
        engine,
        "--series",
        series,
        "--steps",
        "120",
        "--out",
        str(out),
        "--quiet",
        "--no-progress",
    ]
    result = measure(cmd)
    shutil.rmtree(out, ignore_errors=True)
    return result


# Many design points against one: the same number of runs as 1 point x R replicates and as
# a Latin hypercube of P points x R/P replicates (the 2,000 x 10 against 1 x 20,000).
LHS_FACTORS = (
    "withdrawal.level=0:1",
    "coefficients.w_offer=0.25:1",
    "coefficients.w_affinity=0.5:1.5",
)


def design_rows(runs: int, points: int, tmp: Path, repeats: int = 3) -> list[Measurement]:
    """The ensemble on `runs` runs as one point and as a Latin hypercube of `points` points
    (series off, 120 steps, the scenario's ranges drawn). The two commands alternate,
    `repeats` times, and each keeps its fastest time: on a shared machine the minimum is
    the measurement least disturbed by other work."""
    best: dict[int, tuple[float, float]] = {}
    for _ in range(repeats):
        for n_points in (1, points):
            out = tmp / f"design-{n_points}"
            cmd = [*PATRONAGE, "batch", str(SCENARIO), "--engine", "ensemble"]
            cmd += ["--series", "none", "--replicates", str(runs // n_points)]
            cmd += ["--steps", "120", "--workers", "1"]
            if n_points > 1:
                for factor in LHS_FACTORS:
                    cmd += ["--sample", factor]
                cmd += ["--samples", str(n_points)]
            cmd += ["--out", str(out), "--quiet", "--no-progress"]
            s, mb = measure(cmd)
            shutil.rmtree(out, ignore_errors=True)
            old_s, old_mb = best.get(n_points, (float("inf"), 0.0))
            best[n_points] = (min(s, old_s), max(mb, old_mb))
    rows = []
    for n_points, (s, mb) in best.items():
        shape = f"{n_points:,} point{'s' if n_points > 1 else ''} x {runs // n_points:,}"
        name = f"ensemble, {shape} replicates (best of {repeats})"
        rows.append(Measurement(name, runs, "none", s, mb))
    return rows


def mesa_batch_run(runs: int, processes: int) -> tuple[float, float]:
    code = (
        "import mesa; from patronage.model import AllianceModel; "
        f"mesa.batch_run(AllianceModel, {{'scenario': [{str(SCENARIO)!r}], "
        f"'rng': range({runs})}}, max_steps=120, number_processes={processes}, "
        "display_progress=False)"
    )
    return measure([PYTHON, "-c", code])


def scaling(sizes: list[int], degree: int, steps: int) -> list[tuple[int, float]]:
    """Seconds per step of the ensemble engine on generated scenarios of N partners."""
    # The steps alone: generating, validating and building the arrays happen once per
    # scenario, and the runs table (8 columns per partner) once per batch.
    code = """
import sys, time
from patronage.scenario.generate import generated_scenario
from patronage.engines.ensemble import Static, simulate_block
from patronage.rng.pcg64 import run_keys
n, k, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
static = Static(generated_scenario(n, k, seed=1))
simulate_block(static, run_keys(0, [0]), [0], 2, series_every=None)  # warm up
t = time.perf_counter()
simulate_block(static, run_keys(0, [0]), [0], steps, series_every=None)
print((time.perf_counter() - t) / steps)
"""
    rows = []
    for n in sizes:
        out = subprocess.run(
            [PYTHON, "-c", code, str(n), str(degree), str(steps)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append((n, float(out.stdout.strip())))
    return rows


def studies(tmp: Path, quick: bool, full: bool) -> list[Measurement]:
    """The sensitivity and tipping commands as a user runs them (issue 10's sizes; tiny ones
    with --quick); Sobol' (89,600 runs) only with --full. Run counts are read back from the
    folders."""
    import json

    morris = (
        ["--trajectories", "2", "--replicates", "5"]
        if quick
        else ["--trajectories", "20", "--replicates", "50"]
    )
    tipping = ["--replicates", "20", "--refine-replicates", "50", "--rounds", "1"] if quick else []
    commands = [
        ["sensitivity", "--method", "morris", "--factors", "coefficients", *morris],
        ["tipping", "--field", "withdrawal.level", "--partner", "pmf_mainstream", *tipping],
    ]
    if full:
        commands.append(
            [
                "sensitivity",
                "--method",
                "sobol",
                "--factors",
                "coefficients",
                "--base",
                "64",
                "--replicates",
                "50",
            ]
        )
    rows = []
    for i, (command, *rest) in enumerate(commands):
        out = tmp / f"study-{i}"
        seconds, peak = measure(
            [*PATRONAGE, command, str(SCENARIO), *rest, "--out", str(out), "--no-progress"]
        )
        settings = out / "tipping.json"
        if settings.exists():
            runs = json.loads(settings.read_text())["runs"]
        else:
            runs = json.loads((out / "manifest.json").read_text())["runs"]["total"]
        label = f"patronage {command} " + " ".join(rest)
        rows.append(Measurement(label, runs, "none", seconds, peak))
    return rows


def panel_update(runs: int, repeats: int, which: str = "ensemble") -> list[float]:
    """Seconds of the computation behind one of the page's panels (`patronage app`): the
    ensemble panel's N runs, or the tipping panel's 11 levels x N runs, of the bundled
    scenario at 120 steps, in a warm process as in the page's server."""
    code = """
import sys, time
from patronage.app import panel, tipping
from patronage.scenario.loader import load
scenario = load(sys.argv[1])
runs, repeats, which = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
compute = {"ensemble": panel.compute, "tipping": tipping.compute}[which]
panel.compute(scenario, runs=100)  # warm up (imports, first allocations)
for seed in range(repeats):
    t = time.perf_counter()
    compute(scenario, runs, seed)
    print(time.perf_counter() - t)
"""
    out = subprocess.run(
        [PYTHON, "-c", code, str(SCENARIO), str(runs), str(repeats), which],
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(line) for line in out.stdout.split()]


def render_panel(runs: int, seconds: list[float], per_level: int, tipping: list[float]) -> str:
    """The panels' rows. Targets: 1 s for the ensemble panel's 1,000 runs, and the same
    time per run for the tipping panel's 11 levels x 200 runs (2.2 s)."""

    def row(what: str, n: int, times: list[float], target: float) -> str:
        ordered = sorted(times)
        median = ordered[len(ordered) // 2]
        met = "yes" if median <= target else "NO"
        return f"| {what} | {n:,} | {median:.3f} | {ordered[-1]:.3f} | <= {target:g} | {met} |"

    return "\n".join(
        [
            "",
            "## The page's panels (`patronage app`)",
            "",
            f"The computation behind one update: {runs:,} runs (ensemble panel) and 11 levels x "
            f"{per_level:,} runs (tipping panel) of the ensemble engine at 120 steps, in a warm "
            f"process, {len(seconds)} repeats (seeds 0-{len(seconds) - 1}).",
            "",
            "| what | runs | median s | slowest s | target | met |",
            "|---|---:|---:|---:|---:|---|",
            row("panel update (app.panel.compute)", runs, seconds, 1.0),
            row("tipping panel update (app.tipping.compute)", 11 * per_level, tipping, 2.2),
        ]
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}, {psutil.cpu_count()} cores, {mem:.0f} GiB, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="Mesa engines at all sizes too")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--ratio-at",
        type=int,
        default=10_000,
        help="also time the Mesa engine (1 worker, series off) at this many "
        "runs, for the ensemble ratio at equal size (0: skip)",
    )
    parser.add_argument(
        "--designs", action="store_true", help="only many design points against one"
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "latest.md"))
    args = parser.parse_args()
    design_runs, design_points = (2_000, 200) if args.quick else (20_000, 2_000)
    if args.designs:
        with tempfile.TemporaryDirectory(prefix="patronage-bench-") as tmpname:
            rows = design_rows(design_runs, design_points, Path(tmpname))
        report = render(rows, [], [], [])
        print(report)
        return 0

    sizes = [200, 2000] if args.quick else [1_000, 10_000, 100_000]
    mesa_sizes = sizes if args.full else sizes[:1]
    ratio_at = 0 if args.quick else args.ratio_at
    scale_sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    rows: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="patronage-bench-") as tmpname:
        tmp = Path(tmpname)
        for runs in mesa_sizes:
            for processes in (1, 2):
                s, mb = mesa_batch_run(runs, processes)
                rows.append(
                    Measurement(
                        f"mesa.batch_run, {processes} process{'es' if processes > 1 else ''}",
                        runs,
                        "reporters",
                        s,
                        mb,
                    )
                )
            for workers in (1, 2):
                for series in ("none", "every=12"):
                    s, mb = our_batch(runs, workers, "mesa", series, tmp)
                    rows.append(
                        Measurement(
                            f"patronage batch --engine mesa, {workers} worker"
                            f"{'s' if workers > 1 else ''}",
                            runs,
                            series,
                            s,
                            mb,
                        )
                    )
        if ratio_at and ratio_at not in mesa_sizes:
            s, mb = our_batch(ratio_at, 1, "mesa", "none", tmp)
            rows.append(
                Measurement("patronage batch --engine mesa, 1 worker", ratio_at, "none", s, mb)
            )
        for runs in sizes:
            for series in ("none", "every=12"):
                s, mb = our_batch(runs, 1, "ensemble", series, tmp)
                rows.append(
                    Measurement("patronage batch --engine ensemble, 1 worker", runs, series, s, mb)
                )
        rows += design_rows(design_runs, design_points, tmp)
        step_times = scaling(scale_sizes, degree=8, steps=20)
        rows += studies(tmp, args.quick, args.full)
        big = 2_000 if args.quick else 100_000
        end_to_end = large.readme_example(measure, PATRONAGE, tmp, partners=big)
        write = large.folder_write_ratio(
            measure, PATRONAGE, tmp, partners=1_000 if args.quick else 10_000
        )

    # each section starts on a line of its own after a blank line (a table right below
    # another would read as one table)
    report = (
        render(rows, step_times, mesa_sizes, sizes)
        + "\n"
        + "\n".join(large.render(end_to_end, write))
    )
    repeats = 3 if args.quick else 7
    report += "\n" + render_panel(
        1000,
        panel_update(1000, repeats),
        200,
        panel_update(200, repeats, "tipping"),
    )
    print(report)
    Path(args.out).write_text(report + "\n")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


def find(rows: list[Measurement], name: str, runs: int, series: str) -> Measurement | None:
    for r in rows:
        if r.name.startswith(name) and r.runs == runs and r.series == series:
            return r
    return None


def render(
    rows: list[Measurement],
    step_times: list[tuple[int, float]],
    mesa_sizes: list[int],
    sizes: list[int],
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {machine()}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  ",
        "Scenario: scenarios/syria_withdrawal.yaml at 120 steps; every row is a whole "
        "command in a fresh process, start-up included.",
        "",
        "| what | runs | series | seconds | runs/s | peak memory (MB) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.runs:,} | {r.series} | {r.seconds:.1f} | "
            f"{r.rate:,.1f} | {r.peak_mb:,.0f} |"
        )
    if len(mesa_sizes) < len(sizes):
        missing = ", ".join(f"{s:,}" for s in sizes[len(mesa_sizes) :])
        lines += [
            "",
            f"Mesa-based rows at {missing} runs were not measured in this run, but for the "
            "1-worker Mesa engine at the size given by `--ratio-at` (`--full` measures them "
            "all; at the rates above they take hours).",
        ]
    lines += ["", "## Ratios (same run, same machine)", ""]
    checks = []
    one = next((r for r in rows if r.name.startswith("ensemble, 1 point x")), None)
    many = next((r for r in rows if r.name.startswith("ensemble,") and r is not one), None)
    if one and many:
        checks.append((f"{many.name} / {one.name}, time", many.seconds / one.seconds, -1.5))
    n = mesa_sizes[0] if mesa_sizes else 0
    m1 = find(rows, "patronage batch --engine mesa, 1 worker", n, "none")
    m2 = find(rows, "patronage batch --engine mesa, 2 workers", n, "none")
    b1 = find(rows, "mesa.batch_run, 1 process", n, "reporters")
    if m1 and m2:
        checks.append(("Mesa engine, 2 workers / 1 worker", m2.rate / m1.rate, 1.5))
    if m2 and b1:
        checks.append(("Mesa engine 2 workers / mesa.batch_run 1 process", m2.rate / b1.rate, 1.5))
    for size in sizes:
        mesa = find(rows, "patronage batch --engine mesa, 1 worker", size, "none")
        ens = find(rows, "patronage batch --engine ensemble", size, "none")
        if mesa and ens:
            checks.append(
                (
                    f"ensemble / Mesa engine 1 worker, {size:,} runs, series off",
                    ens.rate / mesa.rate,
                    100,
                )
            )
    e10 = find(rows, "patronage batch --engine ensemble", sizes[-2], "none") if sizes else None
    e100 = find(rows, "patronage batch --engine ensemble", sizes[-1], "none") if sizes else None
    if e10 and e100:
        checks.append(
            (
                f"peak memory {sizes[-1]:,} / {sizes[-2]:,} runs (ensemble)",
                e100.peak_mb / e10.peak_mb,
                -1.2,
            )
        )
    lines += ["| ratio | value | floor | met |", "|---|---:|---:|---|"]
    for label, value, floor in checks:
        met = value <= -floor if floor < 0 else value >= floor
        bound = f"<= {-floor}" if floor < 0 else f">= {floor}"
        lines.append(f"| {label} | {value:,.2f} | {bound} | {'yes' if met else 'NO'} |")
    lines += [
        "",
        "## Ensemble step time against the number of partners",
        "",
        "Generated scenarios (`patronage generate --partners N --degree 8`), one run.",
        "",
        "| partners | ms per step | µs per partner-step |",
        "|---:|---:|---:|",
    ]
    for n_partners, seconds in step_times:
        lines.append(f"| {n_partners:,} | {seconds * 1e3:.2f} | {seconds / n_partners * 1e6:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
