"""The withdrawal schedule of a scenario as per-partner arrays, shared by both engines."""

from __future__ import annotations

from typing import Any

import numpy as np

from .scenario import Scenario


def withdrawal_schedule(s: Scenario, index: dict[str, int]) -> dict[str, Any]:
    """Allocation, redirect shares and each partner's withdrawal (level, start, ramp) in the
    order of `index`, and the budget cut: the names are those the engines keep them under."""
    n = len(index)
    w = s.withdrawal
    out: dict[str, Any] = {
        "allocation": np.zeros(n),
        "redirect": np.zeros(n),
        "withdrawal_level": np.zeros(n),
        "withdrawal_start": np.zeros(n),
        "withdrawal_ramp": np.ones(n),
        "cut_level": s.budget_cut.level,
        "cut_start": s.budget_cut.start,
        "cut_ramp": s.budget_cut.ramp,
    }
    for p in s.partners:
        out["allocation"][index[p.id]] = p.allocation
    for pid, share in w.redirect.items():
        out["redirect"][index[pid]] = share
    for t in w.targets:
        i = index[t.id]
        out["withdrawal_level"][i] = w.level if t.level is None else t.level
        out["withdrawal_start"][i] = w.start if t.start is None else t.start
        out["withdrawal_ramp"][i] = w.ramp if t.ramp is None else t.ramp
    return out
