"""CLI commands for batches: batch, summary, verify."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patronage.analysis.binning import DEFAULT_BINS, pooled_note
from patronage.cli.options import add_series, add_set, positive_int, seed
from patronage.errors import EXIT_BAD_INPUT, InputError
from patronage.experiments.batch import ENGINES, run_batch
from patronage.experiments.design import (
    DEFAULT_REPLICATES,
    Design,
    merged,
    parse_sample,
    parse_sweep,
)
from patronage.experiments.design_file import read_design
from patronage.experiments.executors import default_workers, make_executor
from patronage.reporting.tables import FORMATS, SUMMARY_NOTE, render, summary_display
from patronage.results import store
from patronage.results.folder import open_results
from patronage.scenario.loader import LoadedScenario, load

EXIT_RUNS_FAILED = 1
MAX_REPLICATES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="run a scenario many times over a design; write a result folder"
    )
    p.add_argument("scenario", help="scenario file (YAML)")
    p.add_argument(
        "--replicates",
        type=positive_int,
        help=f"runs per design point (default: scenario's batch, else {DEFAULT_REPLICATES})",
    )
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="PATH=V1,V2|START:STOP:STEP",
        help="full-factorial sweep of a field (repeatable)",
    )
    p.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="Latin hypercube range of a field (repeatable; with --samples)",
    )
    p.add_argument("--samples", type=positive_int, help="number of Latin hypercube points")
    p.add_argument(
        "--design",
        metavar="FILE",
        help="explicit design points: a .csv or .parquet file with one column per dotted "
        "path and one row per point (replaces the scenario's sweeps and samples)",
    )
    p.add_argument(
        "--precision",
        type=float,
        metavar="H",
        help="add replicates in rounds until every reported 95%% interval is at most +/-H "
        "(--replicates is the first round)",
    )
    p.add_argument(
        "--max-replicates",
        type=positive_int,
        default=MAX_REPLICATES,
        help=f"with --precision: stop at this many replicates per point (default {MAX_REPLICATES})",
    )
    p.add_argument("--seed", type=seed, help="batch seed (default: scenario's batch, else 0)")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes (default: the number of cores)",
    )
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--engine", choices=ENGINES, default="mesa")
    p.add_argument("--steps", type=positive_int, help="horizon in steps (default: scenario's)")
    add_series(p)
    p.add_argument("--out", help="result folder (default results/<scenario>-<timestamp>)")
    p.add_argument("--resume", metavar="DIR", help="finish a batch that was stopped")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    p.add_argument("--chunk-runs", type=positive_int, help="runs per chunk (default by engine)")
    p.add_argument("--format", choices=FORMATS, default="table", help="summary format")
    p.add_argument("--quiet", action="store_true", help="print no summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_set(p)
    p.set_defaults(handler=cmd_batch)

    p = sub.add_parser("summary", help="print the summary table of a result folder")
    p.add_argument("folder")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument(
        "--by",
        action="append",
        metavar="PATH",
        help="group by these design fields instead of the sweeps (repeatable)",
    )
    p.add_argument(
        "--bins",
        type=positive_int,
        default=DEFAULT_BINS,
        help=f"bins of a continuous --by field, equal counts (default {DEFAULT_BINS})",
    )
    p.add_argument(
        "--groups",
        action="store_true",
        help="also a row per group of partners (e.g. the PMF): any member",
    )
    p.set_defaults(handler=cmd_summary)

    p = sub.add_parser("verify", help="re-run a sample of a folder's runs and compare rows")
    p.add_argument("folder")
    p.add_argument("--sample", type=positive_int, default=20, help="runs to re-run (default 20)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the sample drawn")
    p.set_defaults(handler=cmd_verify)


def build_design(args: argparse.Namespace, loaded: LoadedScenario) -> Design:
    scenario_batch = loaded.scenario.batch
    explicit = read_design(args.design, loaded) if getattr(args, "design", None) else None
    if explicit and args.sample:
        raise InputError("give either --design or --sample, not both", source="--design")
    return merged(
        scenario_batch,
        sweeps=dict(parse_sweep(s) for s in args.sweep),
        samples=dict(parse_sample(s) for s in args.sample),
        n_samples=args.samples,
        replicates=args.replicates,
        seed=args.seed,
        explicit=explicit,
    )


def precision_note(entry: dict) -> str:
    """How many replicates the precision took, round by round."""
    path = " -> ".join(str(r["replicates"]) for r in entry["rounds"])
    widest = entry["rounds"][-1]["widest_half_width"]
    if entry["reached"]:
        return (
            f"precision +/-{entry['asked']:g} reached with {entry['rounds'][-1]['replicates']} "
            f"replicates per point (rounds: {path}; widest half-width {widest:.4f})"
        )
    return (
        f"precision +/-{entry['asked']:g} NOT reached: stopped at --max-replicates "
        f"{entry['max_replicates']} (rounds: {path}; widest half-width {widest:.4f})"
    )


def cmd_batch(args: argparse.Namespace) -> int:
    loaded = load(args.scenario, args.set)
    design = build_design(args, loaded)
    if args.resume and args.out and Path(args.out) != Path(args.resume):
        raise InputError("give either --out or --resume, not both", source="--resume")
    out = Path(args.resume or args.out or store.default_out(loaded.scenario.name))
    # The ensemble's parallelism is its arrays: a pool only pays for itself on big batches.
    workers = args.workers or (1 if args.engine == "ensemble" else default_workers())
    executor = make_executor(args.executor, workers, args.scheduler)
    options = {
        "steps": args.steps,
        "series_every": args.series,
        "engine": args.engine,
        "chunk_runs": args.chunk_runs,
        "progress": not args.no_progress,
        "executor_name": args.executor,
    }
    try:
        if args.precision is not None:
            from patronage.analysis.precision import run_to_precision

            manifest = run_to_precision(
                loaded,
                design,
                out,
                args.precision,
                args.max_replicates,
                resume=bool(args.resume),
                replace_folder=args.force,
                executor=executor,
                **options,
            )
            print(precision_note(manifest["precision"]), file=sys.stderr)
        else:
            manifest = run_batch(
                loaded,
                design,
                out,
                executor,
                resume=bool(args.resume),
                replace=args.force,
                **options,
            )
    except KeyboardInterrupt:
        print(f"stopped; finish it with the same command and --resume {out}", file=sys.stderr)
        return 130
    if not args.quiet:
        results = open_results(out)
        summary = results.summary()
        print(render(summary, args.format, summary_display(summary)), flush=True)
        if args.format == "table":
            print(SUMMARY_NOTE, file=sys.stderr, flush=True)
    failed = manifest["runs"]["failed"]
    runs = manifest["runs"]["total"]
    print(f"wrote {out}/ ({runs} runs, {failed} failed)", file=sys.stderr)
    if failed:
        print(
            f"{failed} runs failed: their errors are in {out}/manifest.json (failed_runs)",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    if (Path(args.folder) / "tipping.json").exists():  # a tipping folder: its crossings
        from patronage.cli.tipping import print_crossings

        return print_crossings(Path(args.folder), args.format)
    results = open_results(args.folder)
    by = [b if b.startswith("param.") else f"param.{b}" for b in args.by] if args.by else None
    if by:
        missing = [b for b in by if b not in results.runs.columns]
        if missing:
            raise InputError(f"not a field of this batch's design: {missing[0]}", source="--by")
    summary = results.summary(by=by, groups=args.groups, bins=args.bins)
    note = None if by else pooled_note(results.design, len(results.manifest["points"]))
    human = args.format in ("table", "markdown")
    if note:
        print(f"summary: {note}", file=sys.stdout if human else sys.stderr)
    print(render(summary, args.format, summary_display(summary)))
    from patronage.analysis.sensitivity import INDICES, read_indices
    from patronage.reporting.sensitivity import indices_display

    indices = read_indices(results)
    if indices is not None and human:
        method = results.manifest["sensitivity"]["method"]
        print(f"\nsensitivity ({method}): the most influential factors; all in {INDICES}")
        print(render(indices, args.format, indices_display(indices, method)))
    return 0


def version_changes(manifest: dict) -> dict[str, tuple[str, str]]:
    """Packages whose version differs from the folder's: the first suspects of a mismatch."""
    from patronage.results.provenance import versions

    now = versions()
    return {
        k: (v, now.get(k, "missing"))
        for k, v in manifest.get("versions", {}).items()
        if now.get(k, "missing") != v
    }


def cmd_verify(args: argparse.Namespace) -> int:
    from patronage.experiments.verify import verify

    results = open_results(args.folder)
    report = verify(results, args.sample, args.seed)
    n = len(report.checked)
    if report.ok:
        print(
            f"{args.folder}: {n} of {n} sampled runs re-ran identically "
            f"(runs {', '.join(map(str, report.checked[:10]))}{', ...' if n > 10 else ''})"
        )
        return 0
    for run_id, problem in sorted(report.mismatched.items()):
        print(f"{args.folder}: run {run_id} differs: {problem}", file=sys.stderr)
    for name, (then, now) in version_changes(results.manifest).items():
        print(
            f"{args.folder}: note: written with {name} {then}, re-run with {now}", file=sys.stderr
        )
    print(f"{args.folder}: {len(report.mismatched)} of {n} sampled runs differ", file=sys.stderr)
    return EXIT_RUNS_FAILED


__all__ = ["EXIT_BAD_INPUT", "register"]
