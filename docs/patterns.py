"""The experiments behind docs/model.md, "Patterns reproduced" and "Who can reach what".

Run `python docs/patterns.py` (about a minute of CPU) to print the numbers quoted
there; `--points` and `--runs` shrink the two floors for a quick look. Every experiment uses
the ensemble engine (bit-identical to the Mesa engine) with fixed seeds, so the numbers are
reproducible. tests/model/test_patterns.py runs the same functions, smaller, as named tests.

The documented coefficient ranges are the studied ranges of docs/model.md, section 7.12, as
the schema carries them (`Coefficients.studied_ranges()`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from patronage.engines.ensemble import run_group
from patronage.scenario.loader import load
from patronage.scenario.schema import Coefficients, Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEED = 1

# The documented ranges: docs/model.md 7.12, "studied range", as the schema carries them.
RANGES: dict[str, tuple[float, float]] = Coefficients.studied_ranges()


# --- running -------------------------------------------------------------------------------


def bundled(name: str, *overrides: str) -> Scenario:
    return load(SCENARIOS / f"{name}.yaml", list(overrides)).scenario


def with_coefficients(scenario: Scenario, **values: float) -> Scenario:
    coefficients = scenario.coefficients.model_copy(update=values)
    return scenario.model_copy(update={"coefficients": coefficients})


def batch(scenario: Scenario, runs: int, series: int | None = None) -> dict[str, pd.DataFrame]:
    tables = run_group(scenario, SEED, list(range(runs)), series_every=series)
    outcomes = tables.outcomes.to_pandas()
    outcomes["partner"] = outcomes["partner"].astype(str)
    for column in ("status", "patron"):
        outcomes[column] = outcomes[column].astype(str)
    wide = outcomes.pivot(index="run_id", columns="partner")
    wide.columns = [f"{partner}.{field}" for field, partner in wide.columns]
    return {
        "runs": wide.reset_index(),  # one row per run, <partner>.<field> columns
        "events": tables.events.to_pandas(),
        "series": tables.series.to_pandas(),
    }


def p_ever(runs: pd.DataFrame, partner: str, kind: str) -> float:
    """Share of runs in which `partner` ever realigned (or collapsed)."""
    return float(runs[f"{partner}.{kind}_step"].notna().mean())


def latin_hypercube(points: int, seed: int = 0) -> Iterator[dict[str, float]]:
    """Coefficient vectors spread over RANGES (scipy's Latin hypercube)."""
    unit = qmc.LatinHypercube(d=len(RANGES), seed=seed).random(points)
    for row in unit:
        yield {k: lo + x * (hi - lo) for (k, (lo, hi)), x in zip(RANGES.items(), row, strict=True)}


def hand_built(partners: list[dict[str, Any]], rivals: list[str], **sections: Any) -> Scenario:
    data = {
        "name": "pattern",
        "steps": sections.pop("steps", 120),
        "incumbent": "iran",
        "patrons": [{"id": "iran"}, *({"id": r} for r in rivals)],
        "partners": partners,
        **sections,
    }
    return Scenario.model_validate(data)


# --- the floors of issue 9 -----------------------------------------------------------------


def baseline_at_rest(points: int = 500, runs: int = 100) -> dict[str, float]:
    """baseline.yaml (no withdrawal) over the documented ranges: how many points keep every
    partner's P(realign) at or below 0.02, and the largest P(realign) seen."""
    base = bundled("baseline")
    worst = []
    for values in latin_hypercube(points):
        out = batch(with_coefficients(base, **values), runs)["runs"]
        worst.append(max(p_ever(out, pid, "realign") for pid in base.partner_ids()))
    worst_a = np.array(worst)
    return {
        "points": points,
        "runs": runs,
        "share_at_rest": float(np.mean(worst_a <= 0.02)),
        "largest_p_realign": float(worst_a.max()),
    }


def flip_flops(points: int = 200, runs: int = 100) -> dict[str, float]:
    """Share of (run, partner) pairs with 3 or more realignments, over the documented
    ranges, in every bundled scenario that withdraws or cuts something."""
    out: dict[str, float] = {}
    for name in ("syria_withdrawal", "nuclear_priority", "cascade", "iraq_pressure"):
        base = bundled(name)
        many = total = 0
        for values in latin_hypercube(points, seed=1):
            events = batch(with_coefficients(base, **values), runs)["events"]
            realigns = events[events.kind == "realign"].groupby(["run_id", "partner"]).size()
            many += int((realigns >= 3).sum())
            total += runs
        out[name] = many / total
    return out


# --- the seven patterns (docs/model.md section 1) -------------------------------------------

ALTERNATIVE = {"affinity": {"rival": 0.5}, "offers": {"rival": 0.8}}
# pattern 1's rival: below even the money-held partner's starting position (0.3 + 0.5 x 1),
# so neither needs the status-quo constant
CLOSE_RIVAL = {"affinity": {"rival": 0.5}, "offers": {"rival": 0.5}}


def pattern_1_money_versus_bonds(runs: int = 400) -> dict[str, float]:
    """Two partners with the same dependence (0.6), the same rival (affinity 0.5, offer 0.5)
    and the same cut from month 6: one held by money (loyalty 0.3), one by several bonds
    (loyalty 0.9). P(realign) of each at cuts of 25, 50, 75 and 100%."""
    partners = [
        {"id": "bonded", "loyalty": 0.9, "dependence": 0.6, "threat": 0.2, **CLOSE_RIVAL},
        {"id": "paid", "loyalty": 0.3, "dependence": 0.6, "threat": 0.2, **CLOSE_RIVAL},
    ]
    out: dict[str, float] = {}
    for level in (0.25, 0.5, 0.75, 1.0):
        targets = [{"id": "bonded"}, {"id": "paid"}]
        cut = {"level": level, "start": 6, "ramp": 0, "targets": targets}
        runs_t = batch(hand_built(partners, ["rival"], withdrawal=cut), runs)["runs"]
        for pid in ("paid", "bonded"):
            out[f"{pid}_p_realign_cut_{int(level * 100)}"] = p_ever(runs_t, pid, "realign")
        if level == 0.5:
            out["paid_median_months_after_cut_50"] = float(runs_t["paid.realign_step"].median() - 6)
    return out


def pattern_2_contagion(runs: int = 200) -> dict[str, float]:
    """syria_withdrawal: Hezbollah receives more (redirected support) yet trusts Iran less."""
    s = batch(bundled("syria_withdrawal"), runs, series=12)["series"]
    h = s[s.partner == "hezbollah"].groupby("step")[["support", "trust"]].mean()
    return {
        "hezbollah_support_month_24": float(h.support.loc[24]),
        "hezbollah_trust_month_0": float(h.trust.loc[0]),
        "hezbollah_trust_month_24": float(h.trust.loc[24]),
    }


def pattern_3_trust_falls_fast_recovers_slowly() -> dict[str, float]:
    """A total cut to `cut` from month 2, undone by the incumbent's offer at month 40; `peer`
    watches it (weight 0.5). Months for trust to lose half its fall, and to win half back."""
    partners = [
        {"id": "cut", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0},
        {"id": "peer", "loyalty": 0.9, "dependence": 0.5, "threat": 0.0, "watches": {"cut": 0.5}},
    ]
    scenario = hand_built(
        partners,
        [],
        steps=160,
        withdrawal={"level": 1.0, "start": 2, "ramp": 0, "targets": [{"id": "cut"}]},
        events=[{"step": 40, "kind": "offer", "partner": "cut", "patron": "iran", "value": 1.0}],
        coefficients={"loyalty_noise": 0.0},
    )
    s = batch(scenario, 1, series=1)["series"]
    out: dict[str, float] = {}
    for pid in ("cut", "peer"):
        trust = s[s.partner == pid].set_index("step").trust
        top, low = float(trust.loc[0]), float(trust.loc[40])
        half = (top + low) / 2
        out[f"{pid}_trust_low"] = low
        out[f"{pid}_months_to_half_fall"] = float((trust.loc[2:40] <= half).idxmax() - 2)
        out[f"{pid}_months_to_half_recovery"] = float((trust.loc[40:] >= half).idxmax() - 40)
        out[f"{pid}_trust_month_160"] = float(trust.loc[160])
    return out


def pattern_4_dependence(runs: int = 400) -> dict[str, float]:
    """Two partners alike but for dependence (0.2 against 0.8; loyalty 0.4, a rival with
    affinity 0.5 and offer 0.8). (a) No cut; at month 6 the rival raises its offer to 1.2.
    (b) A total cut from month 6: dependence on the incumbent erodes as its support stops."""
    partners = [
        {"id": f"d{int(d * 10)}", "loyalty": 0.4, "dependence": d, "threat": 0.0, **ALTERNATIVE}
        for d in (0.2, 0.8)
    ]
    offers = [
        {"step": 6, "kind": "offer", "partner": pid, "patron": "rival", "value": 1.2}
        for pid in ("d2", "d8")
    ]
    courted = batch(hand_built(partners, ["rival"], events=offers), runs)["runs"]
    cut = {"level": 1.0, "start": 6, "ramp": 0, "targets": [{"id": "d2"}, {"id": "d8"}]}
    s = batch(hand_built(partners, ["rival"], withdrawal=cut), runs, series=6)["series"]
    with_iran = s[(s.partner == "d8") & (s.patron == "iran")]
    d8 = with_iran.groupby("step").dependence.mean()
    return {
        "courted_low_dependence_p_realign": p_ever(courted, "d2", "realign"),
        "courted_high_dependence_p_realign": p_ever(courted, "d8", "realign"),
        "cut_high_dependence_at_start": float(d8.loc[0]),
        "cut_high_dependence_month_12_with_iran": float(d8.loc[12]),
    }


def pattern_5_hedge_first(runs: int = 1000) -> dict[str, float]:
    """Every bundled scenario with a withdrawal or cut: the share of realignments away from
    the incumbent that a hedge event of the same relationship preceded."""
    hedged = total = 0
    for name in ("syria_withdrawal", "nuclear_priority", "cascade", "iraq_pressure"):
        ev = batch(bundled(name), runs)["events"]
        ev = ev[ev["from"] == "iran"].sort_values(["run_id", "partner", "step"])
        for _, group in ev.groupby(["run_id", "partner"]):
            kinds = group.kind.tolist()
            if "realign" in kinds:
                total += 1
                hedged += "hedge" in kinds[: kinds.index("realign")]
    return {"realignments": total, "share_hedged_first": hedged / total}


def pattern_6_pmf_split(runs: int = 1000) -> dict[str, float]:
    """syria_withdrawal: the PMF's three partners at the horizon; and three identical
    members (the mainstream's inputs, no loyalty noise) under the same withdrawal."""
    out = batch(bundled("syria_withdrawal"), runs)["runs"]
    pmf = ["pmf_hardline", "pmf_mainstream", "pmf_leadership"]
    patrons = out[[f"{p}.patron" for p in pmf]]
    split = patrons.nunique(axis=1) > 1
    result = {"syria_share_split_at_horizon": float(split.mean())}
    result.update({f"syria_{p}_p_realign": p_ever(out, p, "realign") for p in pmf})
    clone = bundled("syria_withdrawal", "coefficients.loyalty_noise=0")
    spec = next(p for p in clone.partners if p.id == "pmf_mainstream")
    others = [p for p in clone.partners if not p.id.startswith("pmf_")]
    # the mainstream's inputs as they stand after syria_withdrawal's events of month 3
    inputs = {"threat": 0.45, "pressure": 0.2, "watches": {"assad": 0.4, "hezbollah": 0.3}}
    members = [spec.model_copy(update={"id": f"pmf_{k}", **inputs}) for k in "abc"]
    twins = clone.model_copy(
        update={
            "partners": [*others, *members],
            "withdrawal": clone.withdrawal.model_copy(update={"redirect": {}}),
            "events": [],
        }
    )
    t = batch(twins, runs)["runs"]
    steps = t[[f"pmf_{k}.realign_step" for k in "abc"]]
    moved = steps.notna().sum(axis=1)
    result["identical_share_all_three_moved"] = float((moved == 3).mean())
    result["identical_share_split_at_horizon"] = float(((moved > 0) & (moved < 3)).mean())
    return result


def pattern_7_collapse_below_threat(runs: int = 400) -> dict[str, float]:
    """Hezbollah cut alone (syria_withdrawal's actors): it raises 0.15 of its means itself,
    below its threat of 0.5; with the threat at 0.1 it can stand on its own means."""
    alone = ["withdrawal.targets=[{id: hezbollah}]", "withdrawal.redirect={}", "events=[]"]
    below = batch(bundled("syria_withdrawal", *alone), runs)["runs"]
    above = batch(bundled("syria_withdrawal", *alone, "partners.hezbollah.threat=0.1"), runs)
    return {
        "threat_above_own_means_p_collapse": p_ever(below, "hezbollah", "collapse"),
        "threat_below_own_means_p_collapse": p_ever(above["runs"], "hezbollah", "collapse"),
    }


# --- who can reach what (docs/model.md, "Who can reach what") -----------------------------


def reachability(runs: int = 500) -> pd.DataFrame:
    """Each partner of the bundled actors cut alone (all support, from month 3, nothing
    redirected, no events), at the defaults and with the whole budget cut too."""
    rows = []
    base = ["withdrawal.redirect={}", "events=[]"]
    for pid in bundled("baseline").partner_ids():
        for label, extra in (
            ("cut alone", []),
            ("cut alone, budget cut 1", ["budget_cut.level=1"]),
        ):
            s = bundled("syria_withdrawal", f"withdrawal.targets=[{{id: {pid}}}]", *base, *extra)
            out = batch(s, runs)["runs"]
            final = out[f"{pid}.patron"].value_counts(normalize=True)
            rows.append(
                {
                    "partner": pid,
                    "inputs": label,
                    "p_realign": p_ever(out, pid, "realign"),
                    "p_collapse": p_ever(out, pid, "collapse"),
                    "top_patron_at_horizon": final.index[0],
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=500, help="baseline floor LHS points")
    parser.add_argument("--runs", type=int, default=100, help="runs per LHS point")
    args = parser.parse_args(argv)
    experiments = [
        ("1 money versus bonds", pattern_1_money_versus_bonds),
        ("2 contagion", pattern_2_contagion),
        ("3 trust falls fast, recovers slowly", pattern_3_trust_falls_fast_recovers_slowly),
        ("4 dependence", pattern_4_dependence),
        ("5 hedge first", pattern_5_hedge_first),
        ("6 PMF split", pattern_6_pmf_split),
        ("7 collapse below threat", pattern_7_collapse_below_threat),
    ]
    for title, experiment in experiments:
        numbers = experiment()
        print(f"pattern {title}: " + ", ".join(f"{k} {v:.3g}" for k, v in numbers.items()))
    print(reachability().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    rest = baseline_at_rest(args.points, args.runs)
    print("floor, baseline at rest: " + ", ".join(f"{k} {v:.3g}" for k, v in rest.items()))
    flips = flip_flops(max(args.points // 2, 1), args.runs)
    print("floor, 3+ realignments: " + ", ".join(f"{k} {v:.4f}" for k, v in flips.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
