"""Atomic file writes: a file is complete or absent, never half-written.

Every file `patronage` writes (tables, manifests, figures, reports, generated scenarios)
goes through `write_atomic`: it is written under a hidden temporary name in the same folder
and renamed into place, and the temporary is removed if anything fails on the way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["temporary_name", "write_atomic"]


def temporary_name(path: Path) -> Path:
    """The hidden temporary a file is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


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
