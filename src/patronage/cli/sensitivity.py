"""CLI command `sensitivity`: which inputs drive each partner's outcomes (Morris, Sobol')."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patronage.analysis.factors import FACTOR_SETS, checked, parse_factors
from patronage.cli.options import add_set, positive_int, seed
from patronage.engines.base import ENGINES
from patronage.errors import InputError
from patronage.reporting.tables import FORMATS, render
from patronage.results import store
from patronage.scenario.loader import LoadedScenario, load

DEFAULT_TRAJECTORIES = 20
DEFAULT_BASE = 64
DEFAULT_REPLICATES = 50


def add_study_options(p: argparse.ArgumentParser, replicates: int) -> None:
    """Options shared by the commands that run batches of their own design."""
    p.add_argument("scenario", help="scenario file (YAML or JSON)")
    p.add_argument(
        "--replicates",
        type=positive_int,
        default=replicates,
        help=f"runs per design point (default {replicates})",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the design and runs (default 0)")
    p.add_argument(
        "--engine", choices=ENGINES, default="ensemble", help="engine (default ensemble)"
    )
    p.add_argument("--workers", type=positive_int, default=1, help="worker processes (default 1)")
    p.add_argument("--steps", type=positive_int, help="horizon in steps (default: scenario's)")
    p.add_argument("--out", help="result folder (default results/<scenario>-<timestamp>)")
    p.add_argument(
        "--resume", metavar="DIR", help="finish a folder that was stopped (default: start anew)"
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing --out folder (default: off)"
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="format of the table (default: table)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown)")
    add_set(p)


def out_folder(args: argparse.Namespace, loaded: LoadedScenario) -> Path:
    """The study's result folder, from --out or --resume, refusing both at once."""
    if args.resume and args.out and Path(args.out) != Path(args.resume):
        raise InputError("give either --out or --resume, not both", source="--resume")
    return Path(args.resume or args.out or store.default_out(loaded.scenario.name))


def batch_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of experiments.run_batch from the shared options."""
    from patronage.experiments.executors import make_executor

    return {
        "executor": make_executor("local", args.workers, None),
        "steps": args.steps,
        "series_every": None,  # studies read outcomes only: no series table
        "engine": args.engine,
        "resume": bool(args.resume),
        "replace": args.force,
        "progress": not args.no_progress,
    }


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `sensitivity` subcommand to the parser."""
    p = sub.add_parser(
        "sensitivity",
        help="which inputs drive each partner's P(realign), P(collapse) and final state",
        description="Global sensitivity analysis with SALib: a Morris or Sobol' design over "
        "the factors, run as one resumable batch; writes the result folder plus "
        "indices.parquet (indices per partner, output and factor, with 95% intervals).",
    )
    add_study_options(p, DEFAULT_REPLICATES)
    p.add_argument(
        "--method",
        choices=("morris", "sobol"),
        default="morris",
        help="morris: elementary effects, a cheap screening; sobol: variance-based first and "
        "total indices (default: morris)",
    )
    p.add_argument(
        "--factor",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="an input and its range (repeatable; default: none)",
    )
    p.add_argument(
        "--factors",
        action="append",
        default=[],
        choices=FACTOR_SETS,
        help="coefficients: every model coefficient over its studied range (docs/model.md; "
        "default: none)",
    )
    p.add_argument(
        "--trajectories",
        type=positive_int,
        default=DEFAULT_TRAJECTORIES,
        help=f"Morris trajectories (default {DEFAULT_TRAJECTORIES})",
    )
    p.add_argument(
        "--base",
        type=positive_int,
        default=DEFAULT_BASE,
        help=f"Sobol' base sample, a power of 2 (default {DEFAULT_BASE}); the design has "
        "base x (factors + 2) points",
    )
    p.set_defaults(handler=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """`patronage sensitivity`: run a sensitivity study and print its indices."""
    from patronage.analysis.sensitivity import INDICES, Study, run_study
    from patronage.reporting.sensitivity import indices_display

    loaded = load(args.scenario, args.set)
    factors = checked(loaded, parse_factors(args.factor, args.factors))
    size = args.trajectories if args.method == "morris" else args.base
    study = Study(args.method, tuple(factors), size, args.seed)
    out = out_folder(args, loaded)
    runs = study.n_points * args.replicates
    print(
        f"{args.method}: {len(factors)} factors, {study.n_points} design points x "
        f"{args.replicates} replicates = {runs} runs",
        file=sys.stderr,
    )
    try:
        manifest, indices = run_study(loaded, study, args.replicates, out, **batch_options(args))
    except KeyboardInterrupt:
        print(f"stopped; finish it with the same command and --resume {out}", file=sys.stderr)
        return 130
    if args.format in ("csv", "json"):
        print(render(indices, args.format))
    else:
        print(render(indices, args.format, indices_display(indices, args.method)))
    print(
        f"wrote {out}/ ({manifest.runs.total} runs, {manifest.runs.failed} failed; "
        f"indices in {out / INDICES})",
        file=sys.stderr,
    )
    return 0
