"""CLI commands for analysis: compare, plot, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patronage.cli.options import whole_number
from patronage.reporting.tables import FORMATS
from patronage.results import store
from patronage.results.folder import open_results


def register(sub: argparse._SubParsersAction) -> None:
    """Add `compare`, `plot` and `report` to the `patronage` parser's subcommands."""
    p = sub.add_parser(
        "compare",
        help="compare two result folders per partner: B against A",
        description="Per partner (and per swept value): probability of realigning and of "
        "collapsing by the horizon in A and in B, the difference B - A with a Newcombe 95% "
        "interval and a p-value (Holm-adjusted too). Runs are paired (McNemar) when both "
        "batches used the same seed and design.",
    )
    p.add_argument("a", metavar="A", help="result folder of the reference batch")
    p.add_argument("b", metavar="B", help="result folder of the batch compared with A")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table or markdown for people, csv or json for programs (default: table)",
    )
    p.add_argument(
        "--out", metavar="FILE", help="write to FILE instead of stdout (default: stdout)"
    )
    p.add_argument(
        "--common",
        action="store_true",
        help="compare on the partners (and swept values) both batches have, saying which "
        "were left out, instead of refusing (default: off)",
    )
    p.add_argument(
        "--horizon",
        type=whole_number(0),
        metavar="N",
        help="cut both batches to their first N steps (needed when their horizons differ; "
        "default: their common horizon)",
    )
    p.add_argument(
        "--unpaired",
        action="store_true",
        help="compare as independent samples even when the runs could be paired (default: "
        "paired when both batches share seed and design)",
    )
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "plot", help="write the standard set of figures of one or more result folders"
    )
    p.add_argument("folders", nargs="+", metavar="DIR", help="result folders")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the figures (created if needed)"
    )
    p.add_argument(
        "--format",
        choices=("png", "svg", "pdf"),
        default="png",
        help="image format of the figures (default: png)",
    )
    p.add_argument(
        "--step", type=whole_number(0), metavar="N", help="step of the network (default: horizon)"
    )
    p.set_defaults(handler=cmd_plot)

    p = sub.add_parser(
        "report", help="write one self-contained HTML page of one or more result folders"
    )
    p.add_argument("folders", nargs="+", metavar="DIR", help="result folders")
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument(
        "--step", type=whole_number(0), metavar="N", help="step of the network (default: horizon)"
    )
    p.add_argument(
        "--common",
        action="store_true",
        help="compare on the partners both batches have, as in compare (default: off)",
    )
    p.add_argument(
        "--horizon",
        type=whole_number(0),
        metavar="N",
        help="cut the batches to their first N steps, as in compare (default: off)",
    )
    p.set_defaults(handler=cmd_report)


def cmd_compare(args: argparse.Namespace) -> int:
    from patronage.analysis.compare import compare, notes
    from patronage.reporting.comparison import render_comparison

    a, b = open_results(args.a), open_results(args.b)
    frame = compare(
        a, b, common=args.common, horizon=args.horizon, paired=False if args.unpaired else None
    )
    text = render_comparison(frame, args.format)
    if args.format in ("csv", "json"):  # data only on stdout/in the file; the notes on stderr
        for line in notes(frame):
            print(f"compare: {line}", file=sys.stderr)
    if args.out:
        store.write_text(Path(args.out), text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from patronage.reporting.plots import save_standard_set

    results = [open_results(f) for f in args.folders]
    notes: list[str] = []
    paths = save_standard_set(results, args.out, fmt=args.format, step=args.step, notes=notes)
    for path in paths:
        print(path)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from patronage.reporting.html import write_report

    results = [open_results(f) for f in args.folders]
    out = write_report(results, args.out, step=args.step, common=args.common, horizon=args.horizon)
    print(f"wrote {out}", file=sys.stderr)
    return 0


__all__ = ["register"]
