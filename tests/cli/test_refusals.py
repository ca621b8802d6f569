"""Bounded and checked inputs (issue 11, classes 8-10, 12, 13): one exact line, exit 2, no
traceback, no hang, nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from batch_fixtures import FAST, SYRIA, console_script, run_cli

from patronage.errors import InputError
from patronage.experiments.design import MAX_POINTS, MAX_RUNS, MAX_SWEEP_VALUES, Design

QUICK = ("--replicates", "2", "--engine", "ensemble", "--quiet", *FAST)


def refused(tmp_path: Path, *args: object) -> list[str]:
    out = tmp_path / "out"
    result = run_cli("batch", SYRIA, *QUICK, *args, "--out", out)
    assert result.code == 2, result.err
    assert not out.exists(), "nothing written"
    return result.err_lines


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("refusals") / "done"
    assert run_cli("batch", SYRIA, *QUICK, "--out", out).code == 0
    return out


# --- 8. tables that are not regular files ------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_table_that_is_not_a_regular_file_is_refused_not_read(done, tmp_path, kind):
    folder = tmp_path / "f"
    shutil.copytree(done, folder)
    (folder / "runs.parquet").unlink()
    if kind == "fifo":
        os.mkfifo(folder / "runs.parquet")
    else:
        (folder / "runs.parquet").symlink_to("/dev/zero")
    # a subprocess with a timeout: a regression would hang, not fail
    result = subprocess.run(
        [console_script(), "summary", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{folder}: runs.parquet is not a regular file; refusing to read it"
    ]


# --- 9. design caps ----------------------------------------------------------------------------


def test_replicates_beyond_the_cap(tmp_path):
    assert refused(tmp_path, "--replicates", "1000000000000") == [
        "design: the design has 1,000,000,000,000 runs (1 point x 1,000,000,000,000 "
        f"replicates), more than the {MAX_RUNS:,} a batch may have; split it into several "
        "batches"
    ]


def test_a_sweep_of_absurd_length(tmp_path):
    assert refused(tmp_path, "--sweep", "withdrawal.level=0:1:0.0000000001") == [
        "--sweep: withdrawal.level: '0:1:0.0000000001' gives 10,000,000,001 values, more than "
        f"the {MAX_SWEEP_VALUES:,} a sweep may have; use a larger step"
    ]


def test_too_many_design_points(tmp_path):
    lines = refused(
        tmp_path,
        "--sweep",
        "withdrawal.level=0:1:0.001",
        "--sweep",
        "partners.assad.loyalty=0:1:0.001",
    )
    assert lines == [
        f"design: the design has 1,002,001 points, more than the {MAX_POINTS:,} a batch may "
        "have; sweep fewer values or draw fewer --samples"
    ]


def test_the_api_design_is_capped_too():
    with pytest.raises(InputError, match="more than the 10,000,000 a batch may have"):
        Design(sweeps={"withdrawal.level": [0, 1]}, replicates=MAX_RUNS)


def test_generate_estimates_its_memory(tmp_path):
    result = run_cli("generate", "--partners", "100000000000", "--out", tmp_path / "g.json")
    assert result.code == 2
    (line,) = result.err_lines
    assert line.startswith("--partners: 100,000,000,000 partners watching 8 peers each would ")
    assert "GB of memory, more than the" in line and line.endswith("GB available")
    assert not (tmp_path / "g.json").exists()


# --- 10. one line instead of a traceback -------------------------------------------------------


@pytest.mark.parametrize(
    ("sweep", "line"),
    [
        ("withdrawal.level=0:1:nan", "must be a finite number, got 'nan'"),
        ("withdrawal.level=0:inf:1", "must be a finite number, got 'inf'"),
        ("withdrawal.level=nan,1", "must be finite numbers, got 'nan,1'"),
    ],
)
def test_nan_or_infinity_in_a_sweep(tmp_path, sweep, line):
    assert refused(tmp_path, "--sweep", sweep) == [f"--sweep: withdrawal.level: {line}"]


def test_a_bracket_index_in_set(tmp_path):
    assert refused(tmp_path, "--set", "partners[0].dependence=0.5") == [
        "--set: partners[0].dependence: list items are named by their id, not by [index]: "
        "write partners.<id>.dependence"
    ]


@pytest.mark.distributed
@pytest.mark.parametrize("address", ["notanaddress", "tcp://:::x"])
def test_a_malformed_scheduler_address(tmp_path, address):
    pytest.importorskip("distributed")
    (line,) = refused(tmp_path, "--executor", "dask", "--scheduler", address)
    assert line.startswith(f"--scheduler: cannot reach the Dask scheduler at {address}: ")


def test_plot_and_report_skip_the_tipping_curve_of_a_word_sweep(tmp_path):
    out = tmp_path / "words"
    assert (
        run_cli("batch", SYRIA, *QUICK, "--sweep", "incumbent=iran,russia", "--out", out).code == 0
    )
    note = (
        f"{out}: no tipping curve: incumbent is swept over values that are not numbers "
        "(see the summary table for each value)"
    )
    plot = run_cli("plot", out, "--out", tmp_path / "fig")
    assert plot.code == 0 and plot.err_lines == [f"note: {note}"]
    drawn = sorted(p.stem for p in (tmp_path / "fig").iterdir())
    assert drawn and not [name for name in drawn if name.startswith("tipping")]
    report = run_cli("report", out, "--out", tmp_path / "r.html")
    assert report.code == 0
    assert note.replace("'", "&#x27;") in (tmp_path / "r.html").read_text()


# --- 12. messages that point at the right thing ------------------------------------------------


def test_an_unknown_override_path_is_blamed_on_the_override():
    result = run_cli("validate", SYRIA, "--set", "no.such.field=1")
    assert result.err_lines == [
        f"{SYRIA} (--set): no: unknown field 'no' (allowed: name, title, description, steps, "
        "incumbent, patrons, partners, withdrawal, budget_cut, events, coefficients, batch)"
    ]


def test_an_indexed_target_is_explained():
    result = run_cli("validate", SYRIA, "--set", "withdrawal.targets[0].start=3")
    assert result.err_lines == [
        "--set: withdrawal.targets[0].start: list items are named by their id, not by "
        "[index]: write withdrawal.targets.<id>.start"
    ]


def test_sweep_errors_name_the_sweep_and_its_form(tmp_path):
    assert refused(tmp_path, "--sweep", "withdrawal.level=0:2:1") == [
        f"{SYRIA} (--sweep): withdrawal.level: must be between 0 and 1, got 2.0 (swept over "
        "0.0, 1.0, 2.0; give V1,V2,... or START:STOP:STEP)"
    ]


# --- 13. no silent surprises -------------------------------------------------------------------


def test_a_sweep_path_given_twice(tmp_path):
    assert refused(
        tmp_path, "--sweep", "withdrawal.level=0,1", "--sweep", "withdrawal.level=0.5"
    ) == ["--sweep: withdrawal.level: withdrawal.level is given twice; give it once"]


def test_sweep_values_equal_as_numbers(tmp_path):
    assert refused(tmp_path, "--sweep", "withdrawal.level=1,1.0") == [
        "--sweep: withdrawal.level: values repeat in '1,1.0'"
    ]


def test_samples_without_a_sample_range(tmp_path):
    assert refused(tmp_path, "--samples", "10") == [
        "--samples: sets the number of Latin hypercube points; give their ranges with "
        "--sample PATH=LOW:HIGH"
    ]


def test_generate_one_partner_with_the_default_degree(tmp_path):
    out = tmp_path / "one.json"
    result = run_cli("generate", "--partners", "1", "--out", out)
    assert result.code == 0, result.err
    assert result.out.strip() == f"wrote {out}: 1 partners watching 0 peers each"
    assert run_cli("validate", out).code == 0


# --- 14. a full disk leaves nothing behind -----------------------------------------------------


def test_generate_on_a_full_disk_leaves_no_temporary(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        self.open("w").write("half")  # the temporary exists, then the disk fills
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full)
    result = run_cli("generate", "--partners", "20", "--out", tmp_path / "g.json")
    assert result.code == 2
    assert result.err_lines[0].endswith("No space left on device")
    assert list(tmp_path.iterdir()) == []
