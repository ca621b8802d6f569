"""Every refusal of the experiment design, word for word, and the edges it must accept.

`--sweep`, `--sample` and inconsistent designs are refused with one line naming the option,
the field and what is allowed; zero-width sample ranges, one-value ranges and values that
contain '=' are accepted.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from patronage.errors import InputError
from patronage.experiments.design import (
    DEFAULT_REPLICATES,
    Design,
    from_scenario,
    merged,
    parse_sample,
    parse_sweep,
)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("withdrawal.level", "--sweep: expected PATH=VALUES, got 'withdrawal.level'"),
        ("=0,1", "--sweep: expected PATH=VALUES, got '=0,1'"),
        ("withdrawal.level=", "--sweep: expected PATH=VALUES, got 'withdrawal.level='"),
        ("withdrawal.level= ", "--sweep: expected PATH=VALUES, got 'withdrawal.level= '"),
        ("withdrawal.level=,", "--sweep: withdrawal.level: no values in ','"),
        ("withdrawal.level=, ,", "--sweep: withdrawal.level: no values in ', ,'"),
        (
            "withdrawal.level=1:0:0.1",
            "--sweep: withdrawal.level: start:stop:step needs step > 0 and stop >= start, "
            "got '1:0:0.1'",
        ),
        (
            "withdrawal.level=0:1:0",
            "--sweep: withdrawal.level: start:stop:step needs step > 0 and stop >= start, "
            "got '0:1:0'",
        ),
        (
            "withdrawal.level=0:1:-0.5",
            "--sweep: withdrawal.level: start:stop:step needs step > 0 and stop >= start, "
            "got '0:1:-0.5'",
        ),
        ("withdrawal.level=a:1:0.5", "--sweep: withdrawal.level: must be a number, got 'a'"),
        ("withdrawal.level=0:b:0.5", "--sweep: withdrawal.level: must be a number, got 'b'"),
        ("withdrawal.level=0.5,0.5", "--sweep: withdrawal.level: values repeat in '0.5,0.5'"),
        ("name=a,b,a", "--sweep: name: values repeat in 'a,b,a'"),
        ("partners.assad.leaders=[a", "--sweep: partners.assad.leaders: cannot read value '[a'"),
    ],
)
def test_sweep_refusals(text, expected):
    assert refusal(parse_sweep, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("withdrawal.level", "--sample: expected PATH=LOW:HIGH, got 'withdrawal.level'"),
        ("withdrawal.level=0", "--sample: expected PATH=LOW:HIGH, got 'withdrawal.level=0'"),
        (
            "withdrawal.level=0:1:2",
            "--sample: expected PATH=LOW:HIGH, got 'withdrawal.level=0:1:2'",
        ),
        ("withdrawal.level=1:0", "--sample: withdrawal.level: LOW must not exceed HIGH, got '1:0'"),
        ("withdrawal.level=a:1", "--sample: withdrawal.level: must be a number, got 'a'"),
        ("withdrawal.level=0:", "--sample: withdrawal.level: must be a number, got ''"),
        ("withdrawal.level=1=2:3", "--sample: withdrawal.level: must be a number, got '1=2'"),
    ],
)
def test_sample_refusals(text, expected):
    assert refusal(parse_sample, text) == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"samples": {"withdrawal.level": (0.0, 1.0)}},
            "design: --sample needs --samples N (the number of points), N >= 1",
        ),
        (
            {"samples": {"withdrawal.level": (0.0, 1.0)}, "n_samples": 0},
            "design: --sample needs --samples N (the number of points), N >= 1",
        ),
        ({"replicates": 0}, "design: replicates must be at least 1, got 0"),
        ({"replicates": -3}, "design: replicates must be at least 1, got -3"),
        (
            {
                "sweeps": {"withdrawal.start": [1], "withdrawal.level": [0, 1]},
                "samples": {"withdrawal.level": (0, 1), "withdrawal.start": (0, 2)},
                "n_samples": 3,
            },
            "design: withdrawal.level is both swept and sampled; choose one",
        ),
        (
            {"streams": "shared"},
            "design: streams must be one of common, independent, got 'shared'",
        ),
        (
            {"explicit": [{"withdrawal.level": 0.5}], "samples": {"steps": (1, 2)}, "n_samples": 2},
            "design: give either explicit design points or Latin hypercube ranges, not both",
        ),
        (
            {
                "sweeps": {"withdrawal.start": [1], "withdrawal.level": [0, 1]},
                "explicit": [{"withdrawal.start": 2}, {"withdrawal.level": 0.5}],
            },
            "design: withdrawal.level is both swept and in the explicit points; choose one",
        ),
    ],
)
def test_inconsistent_design_refusals(kwargs, expected):
    assert refusal(Design, **kwargs) == expected


# --- accepted edges ---------------------------------------------------------------------------


def test_zero_width_sample_range_is_accepted():
    """`--sample x=0.3:0.3` pins a field while keeping the sampled design (and its seeds)."""
    assert parse_sample("withdrawal.level=0.3:0.3") == ("withdrawal.level", (0.3, 0.3))
    design = Design(samples={"withdrawal.level": (0.3, 0.3)}, n_samples=3)
    assert [p["withdrawal.level"] for p in design.points()] == [0.3, 0.3, 0.3]


def test_smallest_designs_are_accepted():
    assert Design(replicates=1).n_runs == 1
    design = Design(samples={"withdrawal.level": (0.0, 1.0)}, n_samples=1)
    assert design.n_points == len(design.points()) == 1


def test_sweep_and_sample_parts_are_trimmed_and_split_at_the_first_equals():
    assert parse_sweep(" name = a=b , c ") == ("name", ["a=b", "c"])
    assert parse_sample(" withdrawal.level = 0.2 : 0.4 ") == ("withdrawal.level", (0.2, 0.4))
    assert parse_sweep("withdrawal.level=0.5,,1") == ("withdrawal.level", [0.5, 1])
    # three colons and a comma: a list of values, not a range
    assert parse_sweep("name=a:b:c,d") == ("name", ["a:b:c", "d"])


def test_design_as_recorded_in_the_manifest():
    design = Design(
        sweeps={"withdrawal.level": (0, 1)},
        samples={"withdrawal.start": (0, 6)},
        n_samples=2,
        replicates=3,
        seed=4,
    )
    assert design.to_dict() == {
        "sweeps": {"withdrawal.level": [0, 1]},
        "samples": {"withdrawal.start": [0, 6]},
        "n_samples": 2,
        "replicates": 3,
        "seed": 4,
        "run_layout": "run_id = point_index * replicates + replicate",
        "streams": "common",
    }


def test_sweep_values_keep_their_yaml_type():
    assert parse_sweep("partners.assad.trust=0.5,null,1e-3") == (
        "partners.assad.trust",
        [0.5, None, 0.001],
    )
    assert parse_sweep("partners.assad.leaders=[a],[b]")[1] == [["a"], ["b"]]
    assert parse_sweep("steps=12,24")[1] == [12, 24] and isinstance(
        parse_sweep("steps=1")[1][0], int
    )


def test_range_sweeps_are_rounded_to_twelve_decimals():
    """A range's values are start + i * step rounded to 12 decimals: 0.1 + 2 * 0.1 is recorded
    (and matched between batches) as 0.3, and a step given to 13 decimals is cut to 12."""
    assert parse_sweep("x=0.1:0.3:0.1")[1] == [0.1, 0.2, 0.3]
    assert parse_sweep("x=0:0.3:0.1234567890123")[1] == [0.0, 0.123456789012, 0.246913578025]


# --- the design a scenario's batch: section carries -------------------------------------------


def section(**kw):
    fields = {"sweeps": [], "samples": [], "n_samples": 0, "replicates": None, "seed": 0}
    return SimpleNamespace(**{**fields, **kw})


def test_no_section_and_nothing_given_is_the_default_design():
    assert from_scenario(None) == {}
    design = merged(None)
    assert design == Design(replicates=DEFAULT_REPLICATES)
    assert (design.seed, design.n_samples, design.sweeps, design.samples) == (0, 0, {}, {})


def test_given_parts_replace_the_section():
    batch = section(
        sweeps=[SimpleNamespace(path="withdrawal.level", values=[0, 1])],
        samples=[SimpleNamespace(path="withdrawal.start", low=0, high=6)],
        n_samples=4,
        replicates=20,
        seed=9,
    )
    assert merged(batch) == Design(
        sweeps={"withdrawal.level": [0, 1]},
        samples={"withdrawal.start": (0, 6)},
        n_samples=4,
        replicates=20,
        seed=9,
    )
    assert merged(batch, replicates=3, seed=0, n_samples=2) == Design(
        sweeps={"withdrawal.level": [0, 1]},
        samples={"withdrawal.start": (0, 6)},
        n_samples=2,
        replicates=3,
        seed=0,
    )
    given = merged(batch, sweeps={"steps": [5]}, samples={"withdrawal.level": (0.1, 0.2)})
    assert given.sweeps == {"steps": [5]} and given.samples == {"withdrawal.level": (0.1, 0.2)}
    assert given.n_samples == 4  # the section's count goes with the given ranges


def test_sample_count_without_ranges_is_dropped():
    """--samples N without any range samples nothing: the design records 0, so two batches
    that differ only there still pair run by run."""
    assert merged(None, n_samples=5).n_samples == 0
    assert merged(section(n_samples=5)).n_samples == 0


def test_ranges_without_a_count_are_refused():
    assert refusal(merged, None, samples={"withdrawal.level": (0.0, 1.0)}) == (
        "design: --sample needs --samples N (the number of points), N >= 1"
    )


def test_replicates_fall_back_to_the_section_then_the_default():
    assert merged(section(replicates=7)).replicates == 7
    assert merged(section(replicates=None)).replicates == DEFAULT_REPLICATES
    assert merged(section(replicates=7), replicates=2).replicates == 2
