"""What the local pool's forkserver imports before it forks workers (and nothing else does).

It preloads the Mesa engine, so each worker starts with it imported, and ties the forkserver's
life to the batch process that started it (experiments.lifeline): a SIGKILLed batch leaves no
forkserver, and so no workers, behind.
"""

from __future__ import annotations

import patronage.engines.mesa  # noqa: F401  (preloaded for the workers)
from patronage.experiments.lifeline import die_with_parent

die_with_parent()
