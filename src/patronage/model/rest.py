"""Is the status quo at rest by a partner's own inputs? Its choice at step 0.

The utility gap is measured against each relationship's starting position (rules.gap_terms),
so at step 0, before anything changes, only two terms are not zero: the best alternative's
pull against the incumbent's pull at the start, and the exit cost. Where a partner's inputs
make an alternative pull harder than the incumbent does (by less than the hedging band), they
say it prefers that alternative, yet it is observed with the incumbent: the engines then hold
it at rest with a status-quo constant (rules.status_quo_pull), and `patronage validate`
warns about each such partner, naming the alternative and both utilities.
"""

from __future__ import annotations

from dataclasses import dataclass

from patronage.model import rules
from patronage.scenario.schema import NONE_PATRON, Scenario


@dataclass(frozen=True)
class Restless:
    """A partner not at rest at step 0: its best alternative and the two utilities."""

    partner: str
    incumbent: str
    alternative: str
    leaving: float  # the best alternative's pull at step 0
    staying: float  # the incumbent's own pull at the start (affinity and baseline support)
    gap: float  # the status-quo constant: best pull + hedge band - staying
    hedge_band: float

    def message(self) -> str:
        """One line saying why the partner would move at step 0."""
        return (
            f"partner {self.partner} is not at rest at step 0 by its inputs: {self.alternative} "
            f"pulls {self.leaving:.3f}, staying with {self.incumbent} {self.staying:.3f} (within "
            f"the hedging band {self.hedge_band:.3f}); held at rest by a status-quo constant "
            f"of {self.gap:+.3f} on {self.incumbent}'s starting pull (docs/model.md, section 5)"
        )


def restless_partners(scenario: Scenario) -> list[Restless]:
    """The partners that are not at rest at step 0, in canonical (sorted) order."""
    s, c = scenario, scenario.coefficients
    rivals = [pid for pid in s.patron_ids() if pid != s.incumbent]
    out = []
    for p in sorted(s.partners, key=lambda partner: partner.id):
        staying = float(
            rules.alternative_pull(
                p.affinity.get(s.incumbent, p.loyalty), 1.0, c.w_affinity, c.w_offer
            )
        )
        options = [(pid, p.affinity.get(pid, 0.0), p.offers.get(pid, 0.0)) for pid in rivals]
        options.append((NONE_PATRON, p.autonomy, 0.0))
        best, best_pull = NONE_PATRON, float("-inf")
        for pid, affinity, offer in options:  # ties keep the first, as the engines do
            pull = float(rules.alternative_pull(affinity, offer, c.w_affinity, c.w_offer))
            if pull > best_pull:
                best, best_pull = pid, pull
        constant = float(rules.status_quo_pull(staying, best_pull, c.hedge_band)) - staying
        if constant > 0.0:
            out.append(
                Restless(p.id, s.incumbent, best, best_pull, staying, constant, c.hedge_band)
            )
    return out
