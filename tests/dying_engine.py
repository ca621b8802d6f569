"""A test-only engine: the Mesa engine, except that a chunk kills its own worker process (as
the out-of-memory killer would) while a marker file for the batch seed exists.

`marker(seed, once=True)` is removed by the first chunk that sees it, so a resume succeeds;
`once=False` kills every worker that tries (Dask retries a task on new workers, then gives
up). The workers find this module by name: the tests folder is on sys.path under pytest.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import Any

from patronage.engines import mesa
from patronage.results.store import GroupTables
from patronage.scenario.schema import Scenario


def marker(seed: int, once: bool) -> Path:
    return Path(tempfile.gettempdir()) / f"patronage-test-die-{'once' if once else 'always'}-{seed}"


def _claim(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def run_group(
    scenario: Scenario,
    batch_seed: int,
    run_ids: list[int],
    steps: int | None = None,
    series_every: int | None = 1,
    params: dict[str, Any] | None = None,
) -> GroupTables:
    if marker(batch_seed, False).exists() or _claim(marker(batch_seed, True)):
        os.kill(os.getpid(), signal.SIGKILL)
    return mesa.run_group(scenario, batch_seed, run_ids, steps, series_every, params)
