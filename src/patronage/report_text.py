"""Plain-text reports for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .single import SingleRun


def run_report(single: SingleRun) -> str:
    """Per partner: final status, to whom, the steps of its events, and its final scores."""
    s = single.loaded.scenario
    row = single.result.run
    events: dict[str, list[str]] = {}
    for _, step, partner, kind, _origin, target, cause in single.result.events:
        where = f"->{target}" if kind in ("realign", "hedge") and target else ""
        events.setdefault(partner, []).append(f"{kind}{where}@{step}({cause})")
    head = f"{s.name}: {len(s.partners)} partners, {single.result_steps} steps, seed {single.seed}"
    lines = [head, ""]
    header = (
        f"{'partner':<18} {'status':<10} {'patron':<14} {'loyalty':>7} {'depend.':>7} "
        f"{'trust':>7} {'strength':>8}  events"
    )
    lines += [header, "-" * len(header)]
    for pid in s.partner_ids():
        lines.append(
            f"{pid:<18} {row[f'{pid}.status']:<10} {row[f'{pid}.patron']:<14} "
            f"{row[f'{pid}.loyalty']:>7.3f} {row[f'{pid}.dependence']:>7.3f} "
            f"{row[f'{pid}.trust']:>7.3f} {row[f'{pid}.strength']:>8.3f}  "
            + (", ".join(events.get(pid, [])) or "-")
        )
    return "\n".join(lines)
