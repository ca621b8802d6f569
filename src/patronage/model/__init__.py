"""The alliance model: its rules, its agents and the Mesa model that schedules them.

- `rules`: the update rules as pure functions of floats or arrays (both engines call them).
- `outcomes`: statuses, event kinds and the names of recorded fields.
- `withdrawal`: the withdrawal schedule of a scenario as per-partner arrays.
- `agents`: the Mesa agents `Patron` and `Partner`.
- `model`: `AllianceModel`, the Mesa model (the readable reference engine).

`from patronage.model import AllianceModel` works as Mesa users expect; Mesa itself is
imported only then, so light processes (the CLI, the ensemble engine) never load it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AllianceModel"]


def __getattr__(name: str) -> Any:
    if name == "AllianceModel":
        from patronage.model.model import AllianceModel

        return AllianceModel
    raise AttributeError(f"module 'patronage.model' has no attribute {name!r}")
