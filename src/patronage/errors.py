"""The one kind of error a user sees: bad input, reported on one line with exit status 2."""

from __future__ import annotations

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input, formatted as `file:line: field.path: what is allowed, got what`."""

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None, field: str = ""
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}".replace("\n", " ")


def listed(items: list[str] | tuple[str, ...], limit: int = 10) -> str:
    """Names for a message, cut after `limit` with a count of the rest: a 100,000-partner
    scenario must not turn one line into a megabyte."""
    if not items:
        return "none"
    shown = ", ".join(str(x) for x in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest:,} more" if rest > 0 else shown
