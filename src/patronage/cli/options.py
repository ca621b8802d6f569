"""Argument types and options shared by several commands, and the parser class.

Every usage error is one line on stderr with exit status 2 (see `Parser`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from patronage.errors import EXIT_BAD_INPUT

__all__ = [
    "Parser",
    "add_series",
    "add_set",
    "positive_int",
    "seed",
    "series_option",
    "whole_number",
]


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum`, with a one-line error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number(1)


def seed(text: str) -> int:
    """An argparse type: a batch seed, a whole number from 0 to 2**63-1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got '{text}'") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1, got {value}")
    return value


def series_option(text: str) -> int | None:
    """`--series all|none|every=K`: which steps the series table records."""
    if text == "all":
        return 1
    if text == "none":
        return None
    if text.startswith("every="):
        return positive_int(text.removeprefix("every="))
    raise argparse.ArgumentTypeError(f"must be all, none or every=K, got '{text}'")


def add_set(p: argparse.ArgumentParser) -> None:
    """`--set PATH=VALUE` (repeatable): override a scenario field by its dotted path."""
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field by dotted path, e.g. withdrawal.level=0.5 or "
        "partners.hezbollah.dependence=0.9 (repeatable; default: none)",
    )


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line with exit status 2, and which
    takes no abbreviated options (`--replicate 3` is an error, not --replicates): a
    prefix that is unambiguous today can become ambiguous when an option is added."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        """Report a usage error in one line and exit with the bad-input status."""
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def add_series(p: argparse.ArgumentParser) -> None:
    """`--series all|none|every=K`: which steps the series table records."""
    p.add_argument(
        "--series",
        type=series_option,
        default=1,
        metavar="all|none|every=K",
        help="steps recorded in series.parquet: every step, none, or every K-th step "
        "(default: all)",
    )
