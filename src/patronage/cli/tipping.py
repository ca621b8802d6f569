"""CLI command `tipping`: where a partner's probability of an outcome crosses a target as
one field of the scenario varies, with a 95% interval for every crossing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from patronage.cli.options import positive_int
from patronage.cli.sensitivity import add_study_options, batch_options, out_folder
from patronage.experiments.design import parse_sample
from patronage.scenario.loader import load

if TYPE_CHECKING:
    import pandas as pd

COARSE_REPLICATES = 200
OUTCOMES = ("realign", "collapse")
SETTINGS = "tipping.json"  # analysis.tipping_batches.SETTINGS: marks a tipping folder


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `tipping` subcommand to the parser."""
    p = sub.add_parser(
        "tipping",
        help="where a partner's P(realign) or P(collapse) crosses a target as a field varies",
        description="A coarse scan of the field, then rounds of refinement around every "
        "crossing of the target, with common random numbers where the engine has them. "
        "Every crossing is reported with its direction and a 95% interval (logistic fit per "
        "bracket, replicate bootstrap).",
    )
    add_study_options(p, COARSE_REPLICATES)
    p.add_argument("--field", required=True, metavar="PATH", help="the field to vary")
    p.add_argument(
        "--partner", required=True, metavar="ID|all", help="the partner, or all partners"
    )
    p.add_argument(
        "--outcome",
        choices=OUTCOMES,
        default="realign",
        help="the outcome whose probability crosses the target (default: realign)",
    )
    p.add_argument("--target", type=float, default=0.5, help="the probability (default 0.5)")
    p.add_argument(
        "--range", metavar="LOW:HIGH", help="range of the field (default 0:1 where valid)"
    )
    p.add_argument(
        "--levels", type=positive_int, default=21, help="levels of the coarse scan (default: 21)"
    )
    p.add_argument(
        "--refine-levels", type=positive_int, default=11, help="levels per refinement (default: 11)"
    )
    p.add_argument(
        "--refine-replicates",
        type=positive_int,
        default=1000,
        help="replicates per refined level (default: 1000)",
    )
    p.add_argument("--rounds", type=positive_int, default=2, help="refinement rounds (default: 2)")
    p.set_defaults(handler=cmd_tipping)


def cmd_tipping(args: argparse.Namespace) -> int:
    """`patronage tipping`: search for where a partner's outcome crosses a target and print it."""
    from patronage.analysis.tipping import Search
    from patronage.analysis.tipping_batches import CROSSINGS
    from patronage.analysis.tipping_study import (
        FIGURE,
        checked_partners,
        checked_target,
        field_range,
        run_tipping,
    )
    from patronage.reporting.crossings import save_crossings_figure
    from patronage.reporting.tables import render

    loaded = load(args.scenario, args.set)
    partners = checked_partners(loaded, args.partner)
    checked_target(args.target)
    span = parse_sample(f"{args.field}={args.range}", source="--range")[1] if args.range else None
    low, high = field_range(loaded, args.field, span)
    search = Search(
        low,
        high,
        args.levels,
        args.replicates,
        args.refine_levels,
        args.refine_replicates,
        args.rounds,
    )
    out = out_folder(args, loaded)
    options = batch_options(args)
    options.pop("resume")
    options.pop("replace")
    try:
        study = run_tipping(
            loaded,
            args.field,
            partners,
            args.outcome,
            args.target,
            search,
            args.seed,
            out,
            resume=bool(args.resume),
            replace=args.force,
            **options,
        )
    except KeyboardInterrupt:
        print(f"stopped; finish it with the same command and --resume {out}", file=sys.stderr)
        return 130
    save_crossings_figure(study, out / FIGURE)
    table = study.crossings
    if args.format in ("csv", "json"):
        print(render(table, args.format))
    text = answers(table, study.curves, partners, args, (low, high))
    print(text, file=sys.stdout if args.format == "table" else sys.stderr)
    runs = study.settings["runs"]
    print(f"wrote {out}/ ({runs} runs; {CROSSINGS}, {SETTINGS}, {FIGURE})", file=sys.stderr)
    return 0


def answers(
    table: pd.DataFrame,
    curves: pd.DataFrame,
    partners: list[str],
    args: argparse.Namespace,
    span: tuple[float, float],
) -> str:
    """One line per crossing (or per partner without one), and the levels left unresolved."""
    from patronage.reporting.crossings import crossing_text

    lines = []
    for partner in partners:
        rows = table[table["partner"] == partner]
        lines += [crossing_text(r, args.outcome) for _, r in rows.iterrows()] or [
            f"{partner} P({args.outcome}) does not cross {args.target:g} over {args.field} "
            f"{span[0]:g}-{span[1]:g}"
        ]
        close = curves[(curves["partner"] == partner) & curves["unresolved"]]
        if not close.empty:
            lines.append(
                f"{partner} P({args.outcome}) stays within its 95% interval of "
                f"{args.target:g} at {args.field} "
                f"{', '.join(f'{x:g}' for x in close['level'])}: a crossing there can be "
                "neither found nor ruled out (more --refine-replicates narrow it)"
            )
    return "\n".join(lines)


def print_crossings(folder: Path, fmt: str) -> int:
    """`summary` of a tipping folder: its crossings as written (no model runs)."""
    import json

    import pandas as pd

    from patronage.analysis.tipping_batches import CROSSINGS
    from patronage.reporting.crossings import crossing_text
    from patronage.reporting.tables import render

    settings = json.loads((folder / SETTINGS).read_text(encoding="utf-8"))
    table = pd.read_csv(folder / CROSSINGS)
    if fmt in ("csv", "json"):
        print(render(table, fmt))
        return 0
    lines = [crossing_text(row, settings["outcome"]) for _, row in table.iterrows()]
    found = set(table["partner"])
    lines += [
        f"{p} P({settings['outcome']}) does not cross {settings['target']:g} over "
        f"{settings['field']} {settings['search']['low']:g}-{settings['search']['high']:g}"
        for p in settings["partners"]
        if p not in found
    ]
    print("\n".join(lines))
    return 0
