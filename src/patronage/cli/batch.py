"""CLI commands for batches: batch, resume, summary, verify."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patronage.analysis.binning import DEFAULT_BINS, pooled_note
from patronage.cli.options import add_series, add_set, positive_int, seed
from patronage.errors import EXIT_BAD_INPUT, InputError, WorkerDied
from patronage.experiments.batch import ENGINES, run_batch
from patronage.experiments.design import (
    DEFAULT_REPLICATES,
    Design,
    collect,
    merged,
    parse_sample,
    parse_sweep,
)
from patronage.experiments.design_file import read_design
from patronage.experiments.executors import default_workers, make_executor
from patronage.reporting.tables import FORMATS, SUMMARY_NOTE, render, render_summary
from patronage.results import store
from patronage.results.folder import open_results
from patronage.results.manifest import Manifest, read_manifest
from patronage.rng.seeds import COMMON, INDEPENDENT
from patronage.scenario.loader import LoadedScenario, load

EXIT_RUNS_FAILED = 1
MAX_REPLICATES = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `batch` subcommand to the parser."""
    p = sub.add_parser(
        "batch", help="run a scenario many times over a design; write a result folder"
    )
    p.add_argument("scenario", help="scenario file (.yaml or .json)")
    p.add_argument(
        "--replicates",
        type=positive_int,
        help=f"runs per design point (default: the scenario's batch, else {DEFAULT_REPLICATES})",
    )
    p.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="PATH=V1,V2|START:STOP:STEP",
        help="full-factorial sweep of a field (repeatable; default: none)",
    )
    p.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="Latin hypercube range of a field (repeatable, with --samples; default: none)",
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="number of Latin hypercube points (each run --replicates times; default: none)",
    )
    p.add_argument(
        "--design",
        metavar="FILE",
        help="explicit design points: a .csv or .parquet file with one column per dotted "
        "path and one row per point (replaces the scenario's sweeps and samples; default: none)",
    )
    p.add_argument(
        "--precision",
        type=float,
        metavar="H",
        help="add replicates in rounds until every reported 95%% interval is at most +/-H "
        "(--replicates is the first round; default: off)",
    )
    p.add_argument(
        "--max-replicates",
        type=positive_int,
        metavar="N",
        default=MAX_REPLICATES,
        help=f"with --precision: stop at this many replicates per point (default {MAX_REPLICATES})",
    )
    p.add_argument("--seed", type=seed, help="batch seed (default: the scenario's batch, else 0)")
    p.add_argument(
        "--independent-streams",
        action="store_true",
        help="a random stream per run (default: replicate k of every design point shares "
        "stream k, common random numbers)",
    )
    add_run_options(p)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="mesa",
        help="mesa: the readable reference, one run at a time; ensemble: all runs of a "
        "design point at once on arrays, bit-identical and 100x faster (default: mesa)",
    )
    p.add_argument(
        "--steps", type=positive_int, metavar="N", help="horizon in steps (default: scenario's)"
    )
    add_series(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="result folder (default: results/<scenario>-<timestamp>)",
    )
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="finish a stopped batch with this same command (or use `patronage resume DIR`; "
        "default: start a new batch)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing --out folder (default: off)"
    )
    p.add_argument(
        "--chunk-runs",
        type=positive_int,
        metavar="N",
        help="runs per chunk, the unit of storage and resumption (default: 20 for mesa, "
        "2000 for ensemble)",
    )
    add_summary_options(p)
    add_set(p)
    p.set_defaults(handler=cmd_batch)

    p = sub.add_parser(
        "resume", help="finish a stopped batch from what its folder records (no retyping)"
    )
    p.add_argument("folder", metavar="DIR", help="the result folder of the stopped batch")
    add_run_options(p)
    add_summary_options(p)
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("summary", help="print the summary table of a result folder")
    p.add_argument("folder", metavar="DIR", help="a result folder (of run or batch)")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table or markdown for people (the likeliest rows of a long table), csv or json "
        "for programs (every row) (default: table)",
    )
    p.add_argument(
        "--all", action="store_true", help="print every row, however many (default: off)"
    )
    p.add_argument(
        "--by",
        action="append",
        metavar="FIELD",
        help="group by this design field instead of the swept ones (repeatable; default: "
        "the swept fields)",
    )
    p.add_argument(
        "--bins",
        type=positive_int,
        metavar="N",
        default=DEFAULT_BINS,
        help=f"bins of a continuous --by field, equal counts (default {DEFAULT_BINS})",
    )
    p.add_argument(
        "--groups",
        action="store_true",
        help="also a row per group of partners (e.g. the PMF): any member (default: off)",
    )
    p.set_defaults(handler=cmd_summary)

    p = sub.add_parser("verify", help="re-run a sample of a folder's runs and compare rows")
    p.add_argument("folder", metavar="DIR", help="a result folder")
    p.add_argument(
        "--sample", type=positive_int, metavar="N", default=20, help="runs to re-run (default: 20)"
    )
    p.add_argument(
        "--seed", type=seed, default=0, help="seed of the sample of runs drawn (default: 0)"
    )
    p.set_defaults(handler=cmd_verify)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options of how a batch is computed, which never change its tables."""
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        default=None,
        help="worker processes (default: the number of cores for mesa, 1 for ensemble)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local: a process pool on this machine; dask: a Dask cluster, local or at "
        "--scheduler (default: local)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown)")


def add_summary_options(p: argparse.ArgumentParser) -> None:
    """How a finished batch prints its summary."""
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="format of the summary printed at the end (default: table)",
    )
    p.add_argument(
        "--all", action="store_true", help="print every summary row (default: the likeliest)"
    )
    p.add_argument("--quiet", action="store_true", help="print no summary (default: off)")


def build_design(args: argparse.Namespace, loaded: LoadedScenario) -> Design:
    scenario_batch = loaded.scenario.batch
    explicit = read_design(args.design, loaded) if getattr(args, "design", None) else None
    if explicit and args.sample:
        raise InputError("give either --design or --sample, not both", source="--design")
    if (
        args.samples is not None
        and not args.sample
        and not explicit
        and not getattr(scenario_batch, "samples", 0)
    ):
        raise InputError(
            "sets the number of Latin hypercube points; give their ranges with "
            "--sample PATH=LOW:HIGH",
            source="--samples",
        )
    return merged(
        scenario_batch,
        sweeps=collect([parse_sweep(s) for s in args.sweep], "--sweep"),
        samples=collect([parse_sample(s) for s in args.sample], "--sample"),
        n_samples=args.samples,
        replicates=args.replicates,
        seed=args.seed,
        explicit=explicit,
        streams=INDEPENDENT if getattr(args, "independent_streams", False) else COMMON,
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
    return run_and_report(
        args,
        loaded,
        design,
        out,
        steps=args.steps,
        series_every=args.series,
        engine=args.engine,
        resume=bool(args.resume),
        replace=args.force,
        chunk_runs=args.chunk_runs,
        precision=(args.precision, args.max_replicates) if args.precision is not None else None,
    )


def cmd_resume(args: argparse.Namespace) -> int:
    from patronage.experiments.resume import recorded

    out = Path(args.folder)
    manifest = read_manifest(out)
    if manifest.kind != "batch":
        raise InputError("cannot resume: not a batch folder", source=str(out))
    loaded, design, options = recorded(manifest)
    entry = manifest.precision
    precision = (entry["asked"], entry["max_replicates"]) if entry else None
    return run_and_report(args, loaded, design, out, resume=True, precision=precision, **options)


def run_and_report(
    args: argparse.Namespace,
    loaded: LoadedScenario,
    design: Design,
    out: Path,
    precision: tuple[float, int] | None = None,
    **batch,
) -> int:
    """Run (or finish) a batch, with --precision in rounds, then print its summary."""
    # The ensemble's parallelism is its arrays: a pool only pays for itself on big batches.
    workers = args.workers or (1 if batch["engine"] == "ensemble" else default_workers())
    executor = make_executor(args.executor, workers, args.scheduler)
    progress = {"progress": not args.no_progress, "executor_name": args.executor}
    try:
        if precision is not None:
            from patronage.analysis.precision import run_to_precision

            replace = batch.pop("replace", False)
            manifest = run_to_precision(
                loaded,
                design,
                out,
                precision[0],
                precision[1],
                replace_folder=replace,
                executor=executor,
                **progress,
                **batch,
            )
            print(precision_note(manifest.precision or {}), file=sys.stderr)
        else:
            manifest = run_batch(loaded, design, out, executor, **progress, **batch)
    except KeyboardInterrupt as exc:
        if getattr(exc, "resumable", True):
            print(f"stopped; finish it with: patronage resume {out}", file=sys.stderr)
        else:
            print(f"stopped; {out} is unchanged", file=sys.stderr)
        return 130
    except WorkerDied as exc:
        print(
            f"a worker died ({exc}); finish it with: patronage resume {out}",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    if not args.quiet:
        summary = open_results(out).summary()
        print(render_summary(summary, args.format, args.all), flush=True)
        if args.format == "table":
            print(SUMMARY_NOTE, file=sys.stderr, flush=True)
    failed = manifest.runs.failed
    runs = manifest.runs.total
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
    note = None if by else pooled_note(results.design, results.manifest.n_points)
    human = args.format in ("table", "markdown")
    if note:
        print(f"summary: {note}", file=sys.stdout if human else sys.stderr)
    print(render_summary(summary, args.format, args.all))
    from patronage.analysis.sensitivity import INDICES, read_indices
    from patronage.reporting.sensitivity import indices_display

    indices = read_indices(results)
    if indices is not None and human:
        method = (results.manifest.sensitivity or {})["method"]
        print(f"\nsensitivity ({method}): the most influential factors; all in {INDICES}")
        print(render(indices, args.format, indices_display(indices, method)))
    return 0


def version_changes(manifest: Manifest) -> dict[str, tuple[str, str]]:
    """Packages whose version differs from the folder's: the first suspects of a mismatch."""
    from patronage.results.provenance import versions

    now = versions()
    return {
        k: (v, now.get(k, "missing"))
        for k, v in manifest.versions.items()
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
    problems = (
        ("holds run ids twice or more", report.duplicated),
        ("lacks run ids that did not fail", report.missing),
    )
    for what, ids in problems:
        if ids:
            shown = ", ".join(map(str, ids[:10])) + (", ..." if len(ids) > 10 else "")
            print(f"{args.folder}: runs.parquet {what} ({len(ids)}: {shown})", file=sys.stderr)
    for run_id, problem in sorted(report.mismatched.items()):
        print(f"{args.folder}: run {run_id} differs: {problem}", file=sys.stderr)
    for name, (then, now) in version_changes(results.manifest).items():
        print(
            f"{args.folder}: note: written with {name} {then}, re-run with {now}", file=sys.stderr
        )
    print(f"{args.folder}: {len(report.mismatched)} of {n} sampled runs differ", file=sys.stderr)
    return EXIT_RUNS_FAILED


__all__ = ["EXIT_BAD_INPUT", "register"]
