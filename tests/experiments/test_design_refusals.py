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
    MAX_POINTS,
    MAX_RUNS,
    MAX_SWEEP_VALUES,
    Design,
    collect,
    from_scenario,
    merged,
    parse_sample,
    parse_sweep,
    scalar_value,
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
        ("x=!!bool maybe,1", "--sweep: x: cannot read value '!!bool maybe'"),
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


# --- caps: the largest design accepted, one more refused ---------------------------------------


def test_a_range_sweep_of_exactly_the_cap_is_accepted_one_more_refused():
    _, values = parse_sweep(f"x=1:{MAX_SWEEP_VALUES}:1")
    assert len(values) == MAX_SWEEP_VALUES and values[-1] == MAX_SWEEP_VALUES
    assert refusal(parse_sweep, f"x=0:{MAX_SWEEP_VALUES}:1") == (
        f"--sweep: x: '0:{MAX_SWEEP_VALUES}:1' gives {MAX_SWEEP_VALUES + 1:,} values, more than "
        f"the {MAX_SWEEP_VALUES:,} a sweep may have; use a larger step"
    )


def test_a_listed_sweep_of_exactly_the_cap_is_accepted_one_more_refused():
    listed = ",".join(str(i) for i in range(MAX_SWEEP_VALUES))
    assert parse_sweep(f"x={listed}")[1] == list(range(MAX_SWEEP_VALUES))
    assert refusal(parse_sweep, f"x={listed},{MAX_SWEEP_VALUES}") == (
        f"--sweep: x: {MAX_SWEEP_VALUES + 1:,} values, more than the {MAX_SWEEP_VALUES:,} a "
        "sweep may have"
    )


def test_a_design_of_exactly_the_point_cap_is_accepted_one_more_refused():
    # samples are drawn only when the points are asked for: the counts cost nothing
    ranges = {"withdrawal.level": (0.0, 1.0)}
    assert Design(samples=ranges, n_samples=MAX_POINTS).n_points == MAX_POINTS
    assert refusal(Design, samples=ranges, n_samples=MAX_POINTS + 1) == (
        f"design: the design has {MAX_POINTS + 1:,} points, more than the {MAX_POINTS:,} a "
        "batch may have; sweep fewer values or draw fewer --samples"
    )


@pytest.mark.parametrize(
    ("sweeps", "replicates", "expected"),
    [
        ({}, MAX_RUNS + 1, f"{MAX_RUNS + 1:,} runs (1 point x {MAX_RUNS + 1:,} replicates)"),
        (
            {"withdrawal.level": [0, 1]},
            MAX_RUNS // 2 + 1,
            f"{MAX_RUNS + 2:,} runs (2 points x {MAX_RUNS // 2 + 1:,} replicates)",
        ),
    ],
)
def test_a_design_over_the_run_cap_is_refused(sweeps, replicates, expected):
    assert refusal(Design, sweeps=sweeps, replicates=replicates) == (
        f"design: the design has {expected}, more than the {MAX_RUNS:,} a batch may have; "
        "split it into several batches"
    )


def test_a_design_of_exactly_the_run_cap_is_accepted():
    assert Design(replicates=MAX_RUNS).n_runs == MAX_RUNS
    assert Design(sweeps={"withdrawal.level": [0, 1]}, replicates=MAX_RUNS // 2).n_runs == MAX_RUNS


# --- values that are not finite, or that repeat as numbers ------------------------------------


@pytest.mark.parametrize(
    ("call", "text", "expected"),
    [
        (parse_sweep, "x=nan,1", "--sweep: x: must be finite numbers, got 'nan,1'"),
        (parse_sweep, "x=0,.inf", "--sweep: x: must be finite numbers, got '0,.inf'"),
        (parse_sweep, "x=0:inf:1", "--sweep: x: must be a finite number, got 'inf'"),
        (parse_sweep, "x=0:1:nan", "--sweep: x: must be a finite number, got 'nan'"),
        (parse_sample, "x=-inf:1", "--sample: x: must be a finite number, got '-inf'"),
        (parse_sample, "x=0:nan", "--sample: x: must be a finite number, got 'nan'"),
    ],
)
def test_values_that_are_not_finite_are_refused(call, text, expected):
    assert refusal(call, text) == expected


def test_a_sensitivity_factor_is_refused_in_its_own_name():
    assert refusal(parse_sample, "x=0:inf", "--factor") == (
        "--factor: x: must be a finite number, got 'inf'"
    )


@pytest.mark.parametrize("raw", ["1,1.0", "0.5,1,5e-1", "2,2.0e0"])
def test_the_same_number_written_twice_is_a_repeat(raw):
    """1 and 1.0 are one value: the same runs twice under two names."""
    assert refusal(parse_sweep, f"x={raw}") == f"--sweep: x: values repeat in '{raw}'"


def test_a_word_and_a_number_are_different_values():
    assert parse_sweep("x=1,'1',true,null") == ("x", [1, "1", True, None])


def test_a_design_file_cell_that_is_not_yaml_names_its_column():
    assert scalar_value("0.25", "withdrawal.level") == 0.25
    assert refusal(scalar_value, "[a", "partners.assad.leaders") == (
        "--sweep: partners.assad.leaders: cannot read value '[a'"
    )


def test_a_path_given_twice_is_refused():
    parsed = [("withdrawal.level", [0, 1]), ("steps", [12]), ("withdrawal.level", [2])]
    assert refusal(collect, parsed, "--sweep") == (
        "--sweep: withdrawal.level: withdrawal.level is given twice; give it once"
    )
    assert collect(parsed[:2], "--sample") == {"withdrawal.level": [0, 1], "steps": [12]}


# --- what a design holds ----------------------------------------------------------------------


def test_sample_ranges_are_stored_as_pairs_whatever_they_were_given_as():
    """A range read back from a manifest (a JSON list) makes the same design as a tuple."""
    design = Design(samples={"withdrawal.level": [0.2, 0.4]}, n_samples=2)
    assert design.samples == {"withdrawal.level": (0.2, 0.4)}
    assert design == Design(samples={"withdrawal.level": (0.2, 0.4)}, n_samples=2)


def test_latin_hypercube_points_of_a_seed_do_not_move():
    """The documented experiments (docs/model.md) give `--seed`: rerunning their commands
    must draw the same points, so a change to the sampler's stream shows up here. The values
    are exact: LatinHypercube on numpy's PCG64 and one multiply-add per value."""
    design = Design(
        samples={"withdrawal.level": (0.0, 1.0), "withdrawal.start": (2.0, 6.0)},
        n_samples=3,
        seed=1,
    )
    assert design.lhs_points() == [
        {"withdrawal.level": 0.012942265100894615, "withdrawal.start": 3.6939682279431763},
        {"withdrawal.level": 0.7564322562234969, "withdrawal.start": 5.140592905436867},
        {"withdrawal.level": 0.3751470342647914, "withdrawal.start": 2.450279090117257},
    ]


def test_explicit_points_replace_the_sections_sweeps_and_samples_but_not_its_seed():
    batch = section(
        sweeps=[SimpleNamespace(path="withdrawal.level", values=[0, 1])],
        samples=[SimpleNamespace(path="withdrawal.start", low=0, high=6)],
        n_samples=4,
        replicates=20,
        seed=9,
    )
    points = [{"partners.assad.trust": 0.4}, {"partners.assad.trust": 0.6}]
    assert merged(batch, explicit=points) == Design(explicit=points, replicates=20, seed=9)


def test_the_streams_asked_for_are_kept():
    assert merged(None, streams="independent").streams == "independent"
    assert merged(None).streams == "common"
