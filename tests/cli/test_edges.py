"""Edge cases of input and batches found in review: each once a crash, a silent surprise or a
loss of data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from patronage.cli.main import main
from patronage.errors import InputError
from patronage.experiments.batch import run_batch
from patronage.experiments.design import Design, parse_sweep
from patronage.results.folder import open_results
from patronage.scenario.loader import load

ROOT = Path(__file__).resolve().parents[2]
SYRIA = ROOT / "scenarios" / "syria_withdrawal.yaml"


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_sweep_values_read_as_numbers_even_in_exponent_form():
    # YAML 1.1 reads 1e-3 as a string; a sweep of numbers must stay numbers
    assert parse_sweep("coefficients.loyalty_noise=0,1e-3,0.01") == (
        "coefficients.loyalty_noise",
        [0, 0.001, 0.01],
    )


def test_a_sweep_mixing_numbers_and_null_keeps_one_column_type(tmp_path):
    # partners.<id>.trust is optional: null (the prior) and numbers in one sweep
    loaded = load(SYRIA)
    design = Design(sweeps={"partners.hamas.trust": [None, 0.5]}, replicates=2, seed=1)
    run_batch(loaded, design, tmp_path / "b", steps=6, series_every=None, progress=False)
    runs = open_results(tmp_path / "b").runs
    column = runs["param.partners.hamas.trust"]
    assert pd.api.types.is_float_dtype(column)
    assert column.isna().sum() == 2 and (column == 0.5).sum() == 2


def test_a_sweep_over_the_horizon_is_refused(tmp_path):
    design = Design(sweeps={"steps": [10, 20]}, replicates=1)
    with pytest.raises(InputError, match="--steps"):
        run_batch(load(SYRIA), design, tmp_path / "b", progress=False)
    assert not (tmp_path / "b").exists()


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    text = SYRIA.read_text()
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace("steps: 120", "steps: 120\nsteps: 60", 1))
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert "'steps' is given twice" in message
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("steps:")))
    assert f"{path}:{line + 2}:" in message


def test_a_fifo_or_special_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        load("/dev/null")


def test_a_json_scenario_loads_like_its_yaml(tmp_path):
    loaded = load(SYRIA)
    path = tmp_path / "syria.json"
    path.write_text(json.dumps(loaded.data))
    assert load(path).scenario == loaded.scenario


def test_generate_writes_a_valid_scenario_in_a_new_folder(tmp_path, capsys):
    out = tmp_path / "new" / "g.json"
    assert main(["generate", "--partners", "50", "--degree", "4", "--out", str(out)]) == 0
    scenario = load(out).scenario
    assert len(scenario.partners) == 50
    assert all(len(p.watches) == 4 for p in scenario.partners)
    capsys.readouterr()
    assert main(["generate", "--partners", "5", "--degree", "5", "--out", str(out)]) == 2
    assert "--degree" in one_line(capsys.readouterr().err)


def test_validate_checks_the_scenario_own_batch_design(tmp_path, capsys):
    path = tmp_path / "designed.yaml"
    path.write_text(
        SYRIA.read_text()
        + "\nbatch:\n  sweeps:\n    - {path: withdrawal.level, values: [0.5, 1.5]}\n"
    )
    assert main(["validate", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "batch" in line and "withdrawal.level" in line and "1.5" in line


def test_group_rows_aggregate_the_pmf_factions(tmp_path):
    design = Design(replicates=20, seed=3)
    run_batch(load(SYRIA), design, tmp_path / "b", steps=60, series_every=None, progress=False)
    res = open_results(tmp_path / "b")
    summary = res.summary(groups=True).set_index("partner")
    members = res.groups["pmf"]
    finals = res.finals()
    any_realigned = (
        finals[finals["partner"].isin(members)]
        .groupby("run_id")["realign_step"]
        .apply(lambda s: s.notna().any())
    )
    assert summary.loc["pmf (any)", "p_realign"] == pytest.approx(any_realigned.mean())
    assert summary.loc["pmf (any)", "runs"] == 20


def test_a_run_that_raises_exits_1_with_its_error(tmp_path, capsys, monkeypatch):
    import patronage.engines.mesa as runner

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "simulate", boom)
    out = tmp_path / "r"
    assert main(["run", str(SYRIA), "--steps", "3", "--out", str(out)]) == 1
    assert "RuntimeError: boom" in one_line(capsys.readouterr().err)
