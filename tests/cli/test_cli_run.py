"""End to end through the command line: `patronage validate` and `patronage run`.

Most tests call `patronage.cli.main` in-process (fast, output through capsys); a few run the
installed console script in a real subprocess, as a user would.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from patronage.cli.main import main
from patronage.scenario.loader import load

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))  # others may be added in parallel
CONSOLE_SCRIPT = Path(sys.executable).parent / "patronage"
TABLES = ("runs", "outcomes", "events", "series")


def one_line(text: str) -> str:
    lines = text.strip("\n").splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture
def bad_scenario(write_scenario, minimal_yaml):
    return write_scenario(minimal_yaml.replace("loyalty: 0.9", "loyalty: 1.4"), name="bad.yaml")


# --- validate -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_validate_bundled_scenarios(path, capsys):
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert one_line(out).startswith(f"{path}: ok")


def test_validate_bad_file(bad_scenario, capsys):
    assert main(["validate", str(bad_scenario)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    line = one_line(err)
    assert line == f"{bad_scenario}:12: partners[1].loyalty: must be between 0 and 1, got 1.4"


def test_validate_good_and_bad_together(bad_scenario, syria_path, capsys):
    assert main(["validate", str(syria_path), str(bad_scenario)]) == 2
    out, err = capsys.readouterr()
    assert one_line(out).startswith(f"{syria_path}: ok")
    assert one_line(err).startswith(f"{bad_scenario}:12: ")


def test_validate_with_set(syria_path, capsys):
    assert main(["validate", str(syria_path), "--set", "withdrawal.level=1.5"]) == 2
    assert "withdrawal.level: must be between 0 and 1, got 1.5" in one_line(capsys.readouterr().err)


# --- run ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def syria_run(tmp_path_factory, syria_path):
    """`patronage run scenarios/syria_withdrawal.yaml --seed 7 --out DIR`, run once per module."""
    out = tmp_path_factory.mktemp("run") / "demo"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", str(syria_path), "--seed", "7", "--out", str(out)])
    return code, out, stdout.getvalue(), stderr.getvalue()


def test_run_writes_a_complete_result_folder(syria_run, syria_path):
    code, out, _stdout, stderr = syria_run
    assert code == 0 and stderr == ""
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", *(f"{t}.parquet" for t in TABLES)} <= names
    assert not [n for n in names if n.startswith(".") or "tmp" in n]
    assert not [p for p in out.parent.iterdir() if p.name != "demo"], "no temporary folders left"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7
    text = syria_path.read_text()
    assert manifest["scenario"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert manifest["scenario"]["text"] == text
    assert manifest["started"] and manifest["finished"]
    assert "mesa" in json.dumps(manifest["versions"]).lower()

    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 1 and runs.seed.item() == 7
    series = pd.read_parquet(out / "series.parquet")
    assert series.step.max() == 120
    for column in ("loyalty", "dependence", "trust", "support", "strength", "status"):
        assert column in series.columns
    events = pd.read_parquet(out / "events.parquet")
    for column in ("step", "partner", "kind", "from", "to", "cause", "trigger"):
        assert column in events.columns


def test_run_prints_every_partner_with_status_events_and_scores(syria_run, syria_path):
    _, out, stdout, _ = syria_run
    outcomes = pd.read_parquet(out / "outcomes.parquet").set_index("partner")
    events = pd.read_parquet(out / "events.parquet")
    lines = stdout.splitlines()
    partners = json.loads((out / "manifest.json").read_text())["partners"]
    assert len(partners) == len(load(syria_path).scenario.partners)
    for pid in partners:
        (line,) = [ln for ln in lines if ln.split() and ln.split()[0] == pid]
        row = outcomes.loc[pid]
        assert row["status"] in line.split()
        assert row["patron"] in line.split()
        assert f"{row['loyalty']:.3f}" in line
        assert f"{row['trust']:.3f}" in line
        assert f"{row['dependence']:.3f}" in line
        for e in events[events.partner == pid].itertuples():
            assert e.kind in line and f"@{e.step}" in line
    assert str(out) in stdout


def test_run_with_set_and_steps(tmp_path, syria_path, capsys):
    out = tmp_path / "half"
    argv = ["run", str(syria_path), "--set", "withdrawal.level=0.5", "--steps", "60"]
    assert main([*argv, "--out", str(out)]) == 0
    capsys.readouterr()
    series = pd.read_parquet(out / "series.parquet")
    assert sorted(series.step.unique()) == list(range(61))
    assert series.groupby("partner").size().eq(61).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"] == 60
    assert "withdrawal.level=0.5" in manifest["scenario"]["overrides"]
    # Half of the support of every target is withdrawn: once the ramp is complete, a target
    # that gets nothing redirected receives exactly half while it is still with Iran.
    scenario = load(syria_path).scenario
    w = scenario.withdrawal
    checked = 0
    for target in w.targets:
        if target.level is not None or w.redirect.get(target.id) or scenario.budget_cut.level:
            continue
        full = (w.start if target.start is None else target.start) + max(
            1, w.ramp if target.ramp is None else target.ramp
        )
        rows = series[
            (series.partner == target.id) & (series.step > full) & (series.patron == "iran")
        ]
        assert rows.support.round(12).eq(0.5).all()
        checked += len(rows)
    assert checked > 0


def test_run_series_every(tmp_path, syria_path, capsys):
    out = tmp_path / "sparse"
    argv = ["run", str(syria_path), "--steps", "25", "--series", "every=10", "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    series = pd.read_parquet(out / "series.parquet")
    assert sorted(series.step.unique()) == [0, 10, 20, 25]


def test_run_default_out_is_under_results(tmp_path, syria_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(syria_path), "--steps", "3"]) == 0
    capsys.readouterr()
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("syria_withdrawal-")
    assert (folder / "manifest.json").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["{bad}"],
        ["{missing}"],
        ["{good}", "--set", "partners.nobody.loyalty=0.5"],
        ["{good}", "--set", "withdrawal.level=2"],
        ["{good}", "--set", "withdrawl.level=0.5"],
        ["{good}", "--seed", "minus-one"],
        ["{good}", "--steps", "0"],
    ],
    ids=["bad-file", "missing", "set-id", "set-value", "set-path", "seed", "steps"],
)
def test_run_bad_input_exits_2_and_leaves_nothing(args, tmp_path, bad_scenario, syria_path, capsys):
    where = {"bad": bad_scenario, "missing": tmp_path / "nope.yaml", "good": syria_path}
    argv = ["run", *(a.format(**where) for a in args)]
    results = tmp_path / "results"
    out = results / "never"
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    one_line(captured.err)
    assert "wrote" not in captured.out
    assert not out.exists()
    assert not results.exists() or list(results.iterdir()) == []


def test_existing_out_refused_without_force(tmp_path, syria_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert main(["run", str(syria_path), "--steps", "3", "--out", str(out)]) == 2
    assert "--force" in one_line(capsys.readouterr().err)
    assert (out / "precious.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]

    # --force replaces result folders only, never a folder of someone's own files
    assert main(["run", str(syria_path), "--steps", "3", "--out", str(out), "--force"]) == 2
    assert "not a patronage result folder" in one_line(capsys.readouterr().err)
    assert (out / "precious.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_force_replaces_a_result_folder(tmp_path, syria_path, capsys):
    out = tmp_path / "taken"
    assert main(["run", str(syria_path), "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    assert main(["run", str(syria_path), "--steps", "3", "--out", str(out), "--force"]) == 0
    capsys.readouterr()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["taken"], "no temporary or old folders"


# --- the real console script ----------------------------------------------------------------


def console(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert CONSOLE_SCRIPT.is_file(), "install the project (README) to get the console script"
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_console_script_validate(tmp_path, syria_path, bad_scenario):
    good = console("validate", str(syria_path), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert one_line(good.stdout).startswith(f"{syria_path}: ok")
    assert good.stderr == ""

    bad = console("validate", str(bad_scenario), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert one_line(bad.stderr).startswith(f"{bad_scenario}:12: partners[1].loyalty: ")


def test_console_script_run_bad_input(tmp_path, syria_path):
    result = console(
        "run", str(syria_path), "--set", "withdrawal.level=1.5", "--out", "res/x", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "between 0 and 1, got 1.5" in one_line(result.stderr)
    assert not (tmp_path / "res").exists()
    assert list(tmp_path.iterdir()) == []
