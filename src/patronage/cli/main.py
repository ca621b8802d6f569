"""The `patronage` command: validate, run (and, in later modules, batch, compare, plot).

Bad input of any kind ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from patronage import __version__
from patronage.cli.options import Parser, add_series, add_set, positive_int, seed, whole_number
from patronage.errors import EXIT_BAD_INPUT, InputError
from patronage.model.rest import restless_partners
from patronage.results import store
from patronage.scenario.loader import load

DEFAULT_DEGREE = 8  # peers each generated partner watches

Handler = Callable[[argparse.Namespace], int]


# --- validate ---------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    """`patronage validate`: check scenario files and report each problem in one line."""
    bad = 0
    for path in args.files:
        try:
            loaded = load(path, args.set)
        except InputError as exc:
            print(exc, file=sys.stderr)
            bad += 1
            continue
        s = loaded.scenario
        try:
            check_design(loaded)
        except InputError as exc:
            print(f"{path}: batch: {exc}", file=sys.stderr)
            bad += 1
            continue
        ranged = f"{len(loaded.ranges)} ranged inputs, " if loaded.ranges else ""
        print(
            f"{path}: ok ({len(s.partners)} partners, {len(s.patrons)} patrons, "
            f"{s.steps} steps, {ranged}sha256 {loaded.sha256[:12]})"
        )
        for restless in restless_partners(s):
            print(f"{path}: warning: {restless.message()}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else 0


def check_design(loaded) -> None:
    """A scenario's own `batch:` design must also hold: its paths and values are checked."""
    from patronage.experiments.batch import check_points
    from patronage.experiments.design import Design, from_scenario

    if loaded.scenario.batch is None:
        return
    design = Design(
        **{k: v for k, v in from_scenario(loaded.scenario.batch).items() if v is not None}
    )
    check_points(loaded, design.points(), design)


# --- run --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """`patronage run`: run a scenario once and print its report."""
    from patronage.experiments.single import run_one
    from patronage.reporting.text import run_report

    loaded = load(args.scenario, args.set)
    out = Path(args.out) if args.out else store.default_out(loaded.scenario.name)
    result = run_one(
        loaded,
        seed=args.seed,
        out=out,
        steps=args.steps,
        series_every=args.series,
        replace=args.force,
    )
    failed = result.manifest.failed_runs
    if failed:
        print(f"the run failed: {failed['0']} (recorded in {out}/manifest.json)", file=sys.stderr)
        return 1
    print(run_report(result))
    print(
        f"\nwrote {out}/ (manifest.json, runs.parquet, outcomes.parquet, events.parquet, "
        "series.parquet)"
    )
    return 0


# --- generate ---------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    """`patronage generate`: write a large synthetic scenario, if it would fit in memory."""
    from patronage.scenario.generate import available_bytes, estimated_bytes, write_scenario

    out = Path(args.out)
    if out.suffix not in (".json", ".yaml", ".yml"):
        raise InputError("must end in .json (fast at any size) or .yaml", source="--out")
    degree = min(DEFAULT_DEGREE, args.partners - 1) if args.degree is None else args.degree
    if degree >= args.partners:
        raise InputError(
            f"must be less than --partners ({args.partners}), got {degree}", source="--degree"
        )
    need, have = estimated_bytes(args.partners, degree), available_bytes()
    if have is not None and need > have:
        raise InputError(
            f"{args.partners:,} partners watching {degree} peers each would need about "
            f"{need / 2**30:.1f} GB of memory, more than the {have / 2**30:.1f} GB available",
            source="--partners",
        )
    write_scenario(out, args.partners, degree, args.seed, steps=args.steps)
    print(f"wrote {out}: {args.partners} partners watching {degree} peers each")
    return 0


# --- the parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `patronage` command line, with every subcommand registered."""
    parser = Parser(
        prog="patronage",
        description="Scenario simulation of alliance dynamics under withdrawn patronage.",
    )
    parser.add_argument("--version", action="version", version=f"patronage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (.yaml or .json)")
    add_set(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="run one scenario once and write a result folder")
    p.add_argument("scenario", help="scenario file (.yaml or .json)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the run (default: 0)")
    p.add_argument(
        "--steps", type=positive_int, metavar="N", help="horizon in steps (default: scenario's)"
    )
    p.add_argument(
        "--out", metavar="DIR", help="result folder (default: results/<scenario>-<timestamp>)"
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing --out folder (default: off)"
    )
    add_series(p)
    add_set(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("generate", help="write a random scenario of N partners (scale tests)")
    p.add_argument(
        "--partners", type=positive_int, metavar="N", required=True, help="number of partners"
    )
    p.add_argument(
        "--degree",
        type=whole_number(0),
        metavar="K",
        help=f"peers each one watches (default: {DEFAULT_DEGREE}, fewer if there are fewer others)",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the random scenario (default: 0)")
    p.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        default=120,
        help="horizon in steps (default: 120)",
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="file to write: .json (fast at any size) or .yaml",
    )
    p.set_defaults(handler=cmd_generate)

    from patronage.cli import batch as cli_batch

    cli_batch.register(sub)
    from patronage.cli import analysis as cli_analysis

    cli_analysis.register(sub)
    from patronage.cli import sensitivity as cli_sensitivity

    cli_sensitivity.register(sub)
    from patronage.cli import tipping as cli_tipping

    cli_tipping.register(sub)
    from patronage.cli import app as cli_app

    cli_app.register(sub)
    return parser


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a `kill`, a scheduler's time limit) stops a command as Ctrl-C does: a batch
    is marked stopped, a folder being built is removed, temporaries are cleaned up."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand and return its exit status (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed a one-line usage error
        return int(exc.code or 0)
    try:
        with _terminate_as_interrupt():
            return args.handler(args)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("patronage: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `patronage ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file or folder the system refused: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"patronage: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
