"""The withdrawal schedule of a scenario as per-partner arrays, shared by both engines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patronage.scenario.schema import Scenario

__all__ = ["WithdrawalSchedule", "withdrawal_schedule"]


@dataclass(frozen=True)
class WithdrawalSchedule:
    """What the incumbent gives and withdraws, per partner in canonical order.

    `allocation` is each partner's share of the incumbent's budget, `redirect` the share of
    freed support each receives; a target's withdrawal reaches `level` over `ramp` steps
    from `start` (0 for partners that are not targets). The budget cut is one level, start
    and ramp for all.
    """

    allocation: np.ndarray
    redirect: np.ndarray
    level: np.ndarray
    start: np.ndarray
    ramp: np.ndarray
    cut_level: float
    cut_start: int
    cut_ramp: int


def withdrawal_schedule(s: Scenario, index: dict[str, int]) -> WithdrawalSchedule:
    """The schedule of scenario `s` with partners in the order of `index`."""
    n = len(index)
    w = s.withdrawal
    allocation, redirect = np.zeros(n), np.zeros(n)
    level, start, ramp = np.zeros(n), np.zeros(n), np.ones(n)
    for p in s.partners:
        allocation[index[p.id]] = p.allocation
    for pid, share in w.redirect.items():
        redirect[index[pid]] = share
    for t in w.targets:
        i = index[t.id]
        level[i] = w.level if t.level is None else t.level
        start[i] = w.start if t.start is None else t.start
        ramp[i] = w.ramp if t.ramp is None else t.ramp
    for a in (allocation, redirect, level, start, ramp):
        a.flags.writeable = False
    cut = s.budget_cut
    return WithdrawalSchedule(
        allocation, redirect, level, start, ramp, cut.level, cut.start, cut.ramp
    )
