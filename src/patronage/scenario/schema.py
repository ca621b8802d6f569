"""The scenario schema: every field typed, bounded, documented and defaulted.

A scenario names the patrons (one incumbent, any number of rivals), the partners with their
scores, who watches whom, the withdrawal of patronage, a budget cut, a timeline of events,
the model's coefficients and, optionally, a batch design. Loading and error reporting live
in loader.py; this module only says what a valid scenario is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
NONE_PATRON = "none"  # the alternative of going it alone


def _between(low: float, high: float | None):
    def check(value: float) -> float:
        if value != value or value < low or (high is not None and value > high):
            allowed = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            raise ValueError(f"must be {allowed}, got {value!r}")
        return value

    return AfterValidator(check)


Unit = Annotated[float, _between(0.0, 1.0), Field(json_schema_extra={"minimum": 0, "maximum": 1})]
NonNegative = Annotated[float, _between(0.0, None)]
Signed = Annotated[float, _between(-1.0, 1.0)]
Step = Annotated[int, _between(0, 100_000)]
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


class Strict(BaseModel):
    """Base of the scenario models: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, frozen=False)


class Patron(Strict):
    """A patron: the incumbent (Iran) or a rival (Russia, the Iraqi state, Gulf states, ...)."""

    id: Id = Field(description="Short identifier, lower case, used in references.")
    name: str = Field("", description="Display name.")
    description: str = Field("", description="Free text: who this is, sources.")


class Partner(Strict):
    """A partner of the incumbent: its scores, its alternatives and whom it watches."""

    id: Id = Field(description="Short identifier, lower case, used in references.")
    name: str = Field("", description="Display name.")
    group: str = Field(
        "", description="Umbrella it belongs to (e.g. 'pmf'); summaries aggregate by group."
    )
    leaders: list[str] = Field(default_factory=list, description="Names of its leaders.")
    loyalty: Unit = Field(description="Attachment to the incumbent (ideology, history), 0-1.")
    dependence: Unit = Field(description="Share of its means that come from the incumbent, 0-1.")
    trust: Unit | None = Field(
        None, description="Initial trust in the incumbent; default coefficients.trust_prior."
    )
    allocation: Annotated[float, _between(0.001, 1.0)] = Field(
        0.1,
        description="Its share of the incumbent's regional budget, 0.001-1 (support is "
        "measured relative to it; a partner receives something by definition).",
    )
    strength: NonNegative = Field(1.0, description="Capability at the start (1 = today's).")
    threat: NonNegative = Field(
        0.3, description="Threat it faces, in units of its own starting strength."
    )
    pressure: Unit = Field(
        0.0, description="Domestic pressure against the alignment with the incumbent, 0-1."
    )
    autonomy: Unit = Field(
        0.0, description="Affinity for standing alone (the alternative 'none'), 0-1."
    )
    affinity: dict[Id, Signed] = Field(
        default_factory=dict,
        description="Ideological affinity to each patron, -1..1 (missing = 0; for the "
        "incumbent, missing = its loyalty).",
    )
    offers: dict[Id, Annotated[float, _between(0.0, 2.0)]] = Field(
        default_factory=dict,
        description="Support each rival patron offers, relative to its baseline (1 = as much "
        "as the incumbent gives today), 0-2. An offer from the incumbent courts it back.",
    )
    watches: dict[Id, Unit] = Field(
        default_factory=dict,
        description="Peers it watches and the weight of what it sees (salience x similarity).",
    )


class WithdrawalTarget(Strict):
    """One partner from which patronage is withdrawn; unset fields take the withdrawal's."""

    id: Id = Field(description="The partner.")
    level: Unit | None = Field(None, description="Fraction withdrawn; default withdrawal.level.")
    start: Step | None = Field(None, description="First step; default withdrawal.start.")
    ramp: Step | None = Field(None, description="Steps to full effect; default withdrawal.ramp.")


class Withdrawal(Strict):
    """The withdrawal of patronage: the scenario's main parameter."""

    level: Unit = Field(0.0, description="Fraction of support withdrawn (0 none, 1 all).")
    start: Step = Field(0, description="Step at which it starts.")
    ramp: Step = Field(0, description="Steps over which it ramps up (0 = at once).")
    targets: list[WithdrawalTarget] = Field(
        default_factory=list, description="Partners it applies to."
    )
    redirect: dict[Id, Unit] = Field(
        default_factory=dict,
        description="Share of the freed support sent to each partner (sum <= 1; the rest is "
        "kept by the patron).",
    )


class BudgetCut(Strict):
    """A cut of the incumbent's whole regional budget (e.g. to fund its nuclear programme)."""

    level: Unit = Field(0.0, description="Fraction of the whole budget cut.")
    start: Step = Field(0, description="Step at which it starts.")
    ramp: Step = Field(0, description="Steps over which it ramps up.")


class Event(Strict):
    """A change at a given step: a rival's offer, domestic pressure, the threat faced."""

    step: Step = Field(description="Step at which it takes effect (before that step's update).")
    kind: Literal["offer", "pressure", "threat"] = Field(
        description="offer: a patron's offer to a partner; pressure: domestic pressure on a "
        "partner; threat: the threat a partner faces."
    )
    partner: Id = Field(description="The partner concerned.")
    patron: Id | None = Field(None, description="The patron making an offer (kind: offer).")
    value: Annotated[float, _between(0.0, 2.0)] = Field(description="The new value.")
    note: str = Field("", description="Free text: what happened, sources.")


def studied(low: float, high: float) -> dict[str, Any]:
    """Schema metadata: the range over which a coefficient is studied (docs/model.md, section
    7.12, column "studied range"); `patronage sensitivity --factors coefficients` varies each
    coefficient over it, and a test checks that the table and the schema agree."""
    return {"studied_range": [low, high]}


class Coefficients(Strict):
    """Model coefficients; docs/model.md derives each default and gives its source."""

    @classmethod
    def studied_ranges(cls) -> dict[str, tuple[float, float]]:
        """Each coefficient's studied range, in field order."""
        out = {}
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            bounds = extra.get("studied_range") if isinstance(extra, dict) else None
            if isinstance(bounds, list):
                low, high = (float(str(b)) for b in bounds)
                out[name] = (low, high)
        return out

    trust_prior: Unit = Field(
        0.75,
        description="Initial trust (Leeds 2003: ~75% honoured).",
        json_schema_extra=studied(0.6, 0.9),
    )
    trust_fall_rate: Unit = Field(
        0.3,
        description="Rate at which trust falls to its target.",
        json_schema_extra=studied(0.15, 0.5),
    )
    trust_rise_rate: Unit = Field(
        0.1,
        description="Rate at which trust recovers (3x slower).",
        json_schema_extra=studied(0.05, 0.3),
    )
    own_shortfall_weight: NonNegative = Field(
        1.0, description="Weight of one's own shortfall.", json_schema_extra=studied(0.5, 2)
    )
    peer_weight: NonNegative = Field(
        1.0, description="Weight of the abandonment of peers.", json_schema_extra=studied(0, 2)
    )
    hard_times_discount: Unit = Field(
        0.5,
        description="How much less peers' abandonment counts under a budget cut.",
        json_schema_extra=studied(0, 1),
    )
    loyalty_rate: Unit = Field(
        0.1,
        description="Rate at which loyalty moves to its target.",
        json_schema_extra=studied(0.03, 0.3),
    )
    loyalty_trust_weight: NonNegative = Field(
        0.5, description="Loyalty lost per trust lost.", json_schema_extra=studied(0, 1)
    )
    loyalty_pressure_weight: NonNegative = Field(
        0.5, description="Loyalty lost per unit of pressure.", json_schema_extra=studied(0, 1)
    )
    loyalty_noise: Annotated[float, _between(0.0, 0.5)] = Field(
        0.023,
        description="Standard deviation of loyalty around a steady target, from monthly "
        "noise (0 = none).",
        json_schema_extra=studied(0, 0.05),
    )
    dependence_rate: Unit = Field(
        0.02, description="Rate at which dependence drifts.", json_schema_extra=studied(0.01, 0.1)
    )
    hedge_diversification: Unit = Field(
        0.3,
        description="Fraction by which a hedging partner lowers its dependence target.",
        json_schema_extra=studied(0, 0.6),
    )
    strength_rate: Unit = Field(
        0.25,
        description="Rate at which strength follows its target.",
        json_schema_extra=studied(0.1, 0.5),
    )
    collapse_rate: Unit = Field(
        0.3,
        description="Collapse probability per step at zero strength.",
        json_schema_extra=studied(0.1, 0.5),
    )
    w_loyalty: NonNegative = Field(
        1.0, description="Utility weight of loyalty.", json_schema_extra=studied(0.5, 1.5)
    )
    w_trust: NonNegative = Field(
        0.5, description="Utility weight of trust.", json_schema_extra=studied(0.25, 1)
    )
    w_support: NonNegative = Field(
        0.5,
        description="Utility weight of support x dependence.",
        json_schema_extra=studied(0.25, 1),
    )
    w_affinity: NonNegative = Field(
        1.0,
        description="Utility weight of affinity to a rival.",
        json_schema_extra=studied(0.5, 1.5),
    )
    w_offer: NonNegative = Field(
        0.5, description="Utility weight of a rival's offer.", json_schema_extra=studied(0.25, 1)
    )
    w_fear: NonNegative = Field(
        0.5,
        description="Weight of fear of abandonment in the gap.",
        json_schema_extra=studied(0, 1),
    )
    exit_cost: NonNegative = Field(
        0.5,
        description="Cost of leaving per unit of dependence.",
        json_schema_extra=studied(0.25, 1),
    )
    reputation_cost: NonNegative = Field(
        0.1,
        description="Cost of leaving added by each realignment already made (Miller 2012).",
        json_schema_extra=studied(0, 0.3),
    )
    hedge_band: Unit = Field(
        0.05,
        description="Utility gap within which a partner hedges.",
        json_schema_extra=studied(0, 0.15),
    )
    switch_threshold: Unit = Field(
        0.15,
        description="Gap at which realignment reaches half its maximum rate.",
        json_schema_extra=studied(0.05, 0.3),
    )
    switch_steepness: NonNegative = Field(
        20.0, description="Steepness of the logistic.", json_schema_extra=studied(5, 50)
    )
    realign_rate: Unit = Field(
        0.2,
        description="Maximum probability of realigning per step.",
        json_schema_extra=studied(0.05, 0.5),
    )


class Sweep(Strict):
    """Values of one field for a full-factorial design."""

    path: str = Field(description="Dotted path of the field, e.g. withdrawal.level.")
    values: list[Any] = Field(min_length=1, description="The values to run.")


class Sample(Strict):
    """A range of one numeric field for a Latin hypercube sample."""

    path: str = Field(description="Dotted path of the field.")
    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")


class BatchDesign(Strict):
    """An experiment carried by the scenario file; command-line options override it."""

    replicates: Annotated[int, _between(1, 10_000_000)] | None = Field(
        None, description="Runs per design point (default: the command line's, 100)."
    )
    seed: Annotated[int, _between(0, 2**63 - 1)] = Field(0, description="Batch seed.")
    sweeps: list[Sweep] = Field(default_factory=list, description="Full-factorial sweeps.")
    samples: list[Sample] = Field(default_factory=list, description="Latin hypercube ranges.")
    n_samples: Annotated[int, _between(0, 10_000_000)] = Field(
        0, description="Number of Latin hypercube points."
    )


class Scenario(Strict):
    """A whole scenario."""

    name: Id = Field(description="Short name, used for result folders.")
    title: str = Field("", description="One-line title.")
    description: str = Field("", description="What the scenario encodes and its sources.")
    steps: Annotated[int, _between(1, 100_000)] = Field(
        120, description="Horizon in steps (months)."
    )
    incumbent: Id = Field(description="Id of the incumbent patron.")
    patrons: list[Patron] = Field(min_length=1, description="The incumbent and the rivals.")
    partners: list[Partner] = Field(min_length=1, description="The incumbent's partners.")
    withdrawal: Withdrawal = Field(default_factory=Withdrawal)
    budget_cut: BudgetCut = Field(default_factory=BudgetCut)
    events: list[Event] = Field(default_factory=list)
    coefficients: Coefficients = Field(default_factory=Coefficients)
    batch: BatchDesign | None = Field(None, description="Optional experiment design.")

    def partner_ids(self) -> list[str]:
        """Partner ids in canonical (sorted) order: the order of every array and table."""
        return sorted(p.id for p in self.partners)

    def patron_ids(self) -> list[str]:
        """Patron ids in canonical order: the incumbent first, then rivals sorted."""
        rivals = sorted(p.id for p in self.patrons if p.id != self.incumbent)
        return [self.incumbent, *rivals]
