"""`patronage app` refuses bad input before serving anything, and saving writes a normal
batch folder (what the page's "Run and save" does)."""

from __future__ import annotations

import pytest

import patronage
from patronage.app.save import save_batch
from patronage.app.settings import load_bundled
from patronage.cli.main import main


def test_a_bad_scenario_fails_before_the_server_starts(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps: -5\n")
    assert main(["app", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{bad}:2: steps: must be between 1 and 100000")
    assert "\n" not in err


def test_a_missing_scenario_is_one_line(tmp_path, capsys):
    assert main(["app", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'nope.yaml'}: no such file"


def test_a_bad_port_is_a_usage_error(capsys):
    assert main(["app", "--port", "-1"]) == 2
    assert "--port" in capsys.readouterr().err


def test_save_writes_a_batch_of_the_chosen_values(syria_path, tmp_path):
    settings = load_bundled(syria_path).with_value("withdrawal.level", 0.4)
    out = tmp_path / "saved"
    message = save_batch(settings, str(out), runs=50, seed=2)
    assert message.startswith(f"saved 50 runs to {out}")
    res = patronage.open_results(out)
    assert len(res.runs) == 50
    assert res.manifest["engine"] == "ensemble"
    # the file and the chosen value as an override, as `patronage batch --set` records them
    assert res.manifest["scenario"]["overrides"] == ["withdrawal.level=0.4"]
    assert res.manifest["scenario"]["text"] == syria_path.read_text()


def test_save_never_replaces_an_existing_folder(syria_path, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    message = save_batch(load_bundled(syria_path), str(out), runs=10, seed=0)
    assert message.startswith(f"{out}: already exists")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_the_page_starts_on_the_given_or_the_bundled_scenario(monkeypatch, syria_path):
    pytest.importorskip("solara", reason="the page needs the [app] extra")
    from patronage.app.page import SCENARIO_ENV, initial_settings

    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    default = initial_settings()
    assert default is not None
    assert default.base.scenario.name == "syria_withdrawal"  # `solara run app.py` alone
    monkeypatch.setenv(SCENARIO_ENV, str(syria_path.with_name("cascade.yaml")))
    given = initial_settings()
    assert given is not None
    assert given.base.scenario.name == "cascade"
