"""Is the status quo at rest? Each partner's choice at step 0 with nothing changed.

The utility gap is measured against each relationship's starting position (rules.gap_terms),
so at step 0, before anything changes, only two terms are not zero: the best alternative's
pull against the incumbent's pull at the start, and the exit cost. A partner whose gap is
above `-hedge_band` there hedges (or realigns) with nothing happening: its inputs say it
prefers an alternative to the patron it is observed with. `patronage validate` warns about
each such partner.
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
    leaving: float  # the alternative's pull less the exit cost
    staying: float  # the incumbent's pull at the start (affinity and baseline support)
    gap: float
    hedge_band: float

    def message(self) -> str:
        return (
            f"partner {self.partner} is not at rest at step 0 with nothing changed: leaving "
            f"for {self.alternative} is worth {self.leaving:.3f} (pull less exit cost), "
            f"staying with {self.incumbent} {self.staying:.3f}; gap {self.gap:+.3f} > "
            f"-hedge_band {-self.hedge_band:.3f}, so it hedges or moves from the start"
        )


def restless_partners(scenario: Scenario) -> list[Restless]:
    """The partners that are not at rest at step 0, in canonical (sorted) order."""
    s, c = scenario, scenario.coefficients
    rivals = [pid for pid in s.patron_ids() if pid != s.incumbent]
    out = []
    for p in sorted(s.partners, key=lambda partner: partner.id):
        trust = c.trust_prior if p.trust is None else p.trust
        staying = float(
            rules.alternative_pull(
                p.affinity.get(s.incumbent, p.loyalty), 1.0, c.w_affinity, c.w_offer
            )
        )
        options = [(pid, p.affinity.get(pid, 0.0), p.offers.get(pid, 0.0)) for pid in rivals]
        options.append((NONE_PATRON, p.autonomy, 0.0))
        best, best_pull, best_offer = NONE_PATRON, float("-inf"), 0.0
        for pid, affinity, offer in options:  # ties keep the first, as the engines do
            pull = float(rules.alternative_pull(affinity, offer, c.w_affinity, c.w_offer))
            if pull > best_pull:
                best, best_pull, best_offer = pid, pull, offer
        start = rules.start_position(p.loyalty, trust, p.dependence, 1.0, p.threat, staying)
        terms = rules.gap_terms(
            p.loyalty, trust, p.dependence, 1.0, best_pull, best_offer, p.threat, *start, 0.0,
            c.w_loyalty, c.w_trust, c.w_support, c.exit_cost, c.w_fear, c.reputation_cost,
        )  # fmt: skip
        gap = float(rules.gap(terms))
        if rules.is_hedging(gap, c.hedge_band):
            leaving = best_pull + float(terms[4])
            out.append(Restless(p.id, s.incumbent, best, leaving, staying, gap, c.hedge_band))
    return out
