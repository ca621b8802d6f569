"""Save: the page's current settings run as a normal batch into a folder the user names.

The folder must not exist (a batch never replaces what it did not write); the result is the
usual folder, so `patronage summary`, `plot` and `report` read it.
"""

from __future__ import annotations

from pathlib import Path

from patronage.api import run_batch
from patronage.app.settings import Settings
from patronage.errors import InputError


def save_batch(settings: Settings, out: str, runs: int, seed: int) -> str:
    """Run a batch of the edited scenario into `out` (which must not exist); a one-line outcome."""
    try:
        loaded = settings.loaded()
        results = run_batch(
            loaded, replicates=runs, seed=seed, out=Path(out).expanduser(), engine="ensemble"
        )
    except InputError as exc:
        return str(exc)
    except OSError as exc:
        return f"{out}: {exc.strerror or exc}"
    return f"saved {runs:,} runs to {results.path} (patronage report {results.path})"
