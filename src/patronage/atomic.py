"""Atomic file writes: a file is complete or absent, never half-written.

Every file `patronage` writes (tables, manifests, figures, reports, generated scenarios)
goes through `write_atomic`: it is written under a hidden temporary name in the same folder
and renamed into place, and the temporary is removed if anything fails on the way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

__all__ = ["temporary_name", "temporary_pattern", "write_atomic"]


def temporary_name(path: Path) -> Path:
    """The hidden temporary a file is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def temporary_pattern(names: str) -> re.Pattern[str]:
    """The names `temporary_name` gives files named by the regex `names`, the writer's pid
    in the group `pid`: what a clean-up may recognise as a temporary left behind."""
    return re.compile(rf"^\.(?:{names})\.tmp-(?P<pid>\d+)$")


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` to write the file, then rename the temporary to `path`."""
    tmp = temporary_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
