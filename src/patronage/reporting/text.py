"""Plain-text report of one run for the terminal."""

from __future__ import annotations

from patronage.results.folder import Results


def run_report(results: Results) -> str:
    """Per partner: final status, to whom, the steps of its events, and its final scores."""
    finals = results.outcomes
    first = finals[finals["run_id"] == finals["run_id"].iloc[0]].set_index("partner")
    events: dict[str, list[str]] = {}
    for e in results.events.itertuples(index=False):
        to = e.to
        where = f"->{to}" if e.kind in ("realign", "hedge") and to else ""
        events.setdefault(e.partner, []).append(f"{e.kind}{where}@{e.step} ({e.cause})")
    m = results.manifest
    lines = [
        f"{results.name}: {len(results.partners)} partners, {results.steps} steps, "
        f"seed {m['seed']}",
        "",
    ]
    header = (
        f"{'partner':<18} {'status':<10} {'patron':<14} {'loyalty':>7} {'depend.':>7} "
        f"{'trust':>7} {'strength':>8}  events (kind->to@step (cause))"
    )
    lines += [header, "-" * len(header)]
    for pid in results.partners:
        row = first.loc[pid]
        lines.append(
            f"{pid:<18} {row['status']:<10} {row['patron']:<14} "
            f"{row['loyalty']:>7.3f} {row['dependence']:>7.3f} "
            f"{row['trust']:>7.3f} {row['strength']:>8.3f}  "
            + (", ".join(events.get(pid, [])) or "-")
        )
    return "\n".join(lines)
