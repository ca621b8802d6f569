"""Result folders: every refusal word for word, --force that replaces only our folders, a
failing run that leaves nothing behind, fresh default names, and manifests that are not ours.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from batch_fixtures import run_cli

from patronage.errors import InputError
from patronage.results import store
from patronage.results.folder import open_results
from patronage.results.manifest import read_manifest

EXISTS = "already exists; choose another --out or add --force to replace it"
EXISTS_RESULT = "already exists; choose another --out, --resume it, or add --force to replace it"
NOT_A_FOLDER = "is not a folder; --force only replaces result folders"
NOT_OURS = "is not a patronage result folder (no manifest.json); --force only replaces those"


@pytest.fixture
def scenario(write_scenario, minimal_yaml) -> Path:
    return write_scenario(minimal_yaml)


def run(scenario: Path, out: Path, *more: str):
    return run_cli("run", scenario, "--out", out, "--steps", "6", *more)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    """Staged or old copies of `name` beside it (hidden, `.NAME.tmp-*` or `.NAME.old-*`)."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


# --- --out and --force ------------------------------------------------------------------------


def test_an_existing_empty_folder_is_not_replaced_without_force(scenario, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run(scenario, out)
    assert (result.code, result.err) == (2, f"{out}: {EXISTS}\n")
    assert list(out.iterdir()) == []


def test_an_existing_result_is_kept_without_force_and_replaced_with_it(scenario, tmp_path):
    out = tmp_path / "out"
    assert run(scenario, out).code == 0
    before = snapshot(out)
    result = run(scenario, out, "--seed", "5")
    assert (result.code, result.err) == (2, f"{out}: {EXISTS_RESULT}\n")
    assert snapshot(out) == before
    assert run(scenario, out, "--seed", "5", "--force").code == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert leftovers(tmp_path, "out") == []


@pytest.mark.parametrize("name", ["project", ".config"])
def test_force_never_replaces_a_folder_we_did_not_write(scenario, tmp_path, name):
    """A folder with someone's files and no manifest is refused, hidden or not."""
    out = tmp_path / name
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run(scenario, out, "--force")
    assert (result.code, result.err) == (2, f"{out}: {NOT_OURS}\n")
    assert (out / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path, name) == []


def test_force_never_replaces_a_file_or_a_link(scenario, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    assert run(scenario, target, "--force").err == f"{target}: {NOT_A_FOLDER}\n"
    assert target.read_text() == "mine"
    real = tmp_path / "real"
    assert run(scenario, real).code == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    before = snapshot(real)
    result = run(scenario, link, "--force")
    assert (result.code, result.err) == (2, f"{link}: {NOT_A_FOLDER}\n")
    assert link.is_symlink() and snapshot(real) == before


def test_force_to_a_new_folder_just_writes_it(scenario, tmp_path):
    out = tmp_path / "fresh"
    assert run(scenario, out, "--force").code == 0
    assert (out / "manifest.json").is_file() and leftovers(tmp_path, "fresh") == []


def test_force_replaces_an_empty_folder(scenario, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert run(scenario, out, "--force").code == 0
    assert (out / "manifest.json").is_file()


def test_an_out_whose_parent_cannot_be_made_is_one_line(scenario, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder would go")
    result = run(scenario, blocker / "out")
    assert (result.code, result.err) == (2, f"{blocker}: cannot create the folder: File exists\n")


# --- a run that fails leaves nothing behind ---------------------------------------------------


@pytest.fixture
def failing_writes(monkeypatch):
    """The disk fills up while the run's tables are written (after the runs have been run)."""

    def full(table, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(store, "write_table", full)


def test_a_failing_run_leaves_no_folder(scenario, tmp_path, failing_writes):
    out = tmp_path / "out"
    result = run(scenario, out)
    assert result.code == 2 and "No space left on device" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not out.exists()
    assert leftovers(tmp_path, "out") == []


def test_a_failing_forced_run_keeps_the_old_result(scenario, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run(scenario, out).code == 0
    before = snapshot(out)

    def full(table, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(store, "write_table", full)
    assert run(scenario, out, "--force", "--seed", "9").code == 2
    assert snapshot(out) == before
    assert leftovers(tmp_path, "out") == []


# --- default names ----------------------------------------------------------------------------


def test_default_out_is_fresh_even_for_a_third_run_in_one_second(tmp_path, monkeypatch):
    """Runs in a loop over seeds can start within one second: each gets its own folder."""
    monkeypatch.chdir(tmp_path)
    first = store.default_out("tiny")
    assert first.parent == Path("results") and first.name.startswith("tiny-")
    stamp = first.name.removeprefix("tiny-")
    assert len(stamp) == len("20260101-120000") and stamp[8] == "-"
    # the next second too, in case the clock turns between the calls below
    stamps = {stamp, _next_second(stamp)}
    for s in stamps:
        (tmp_path / "results" / f"tiny-{s}").mkdir(parents=True)
    assert store.default_out("tiny").name in {f"tiny-{s}-2" for s in stamps}
    for s in stamps:
        (tmp_path / "results" / f"tiny-{s}-2").mkdir()
    assert store.default_out("tiny").name in {f"tiny-{s}-3" for s in stamps}


def test_default_out_is_stamped_in_utc_whatever_the_local_zone(tmp_path, monkeypatch):
    """Folder names sort by when they were made, wherever (and in whatever zone) they were."""
    import time
    from datetime import UTC, datetime

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "IRST-03:30")  # Tehran: 3.5 hours ahead of UTC
    time.tzset()
    try:
        before = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = store.default_out("tiny").name
        after = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert name in {f"tiny-{before}", f"tiny-{after}"}


def test_text_outputs_are_utf8_whatever_the_locale(tmp_path):
    """A report or manifest naming a partner in Arabic script is written under LANG=C too."""
    import subprocess
    import sys

    import patronage

    target = tmp_path / "report.md"
    text = "# \u062d\u0632\u0628 \u0627\u0644\u0644\u0647 (Hezbollah)\n"
    code = "import sys; from pathlib import Path; from patronage.results import store; "
    code += f"store.write_text(Path(sys.argv[1]), {text!a})"  # an ASCII command line
    env = {
        **os.environ,
        "LC_ALL": "C",
        "LANG": "C",
        "PYTHONCOERCECLOCALE": "0",  # keep the C locale's ASCII as the locale encoding
        "PYTHONUTF8": "0",
        "PYTHONPATH": str(Path(patronage.__file__).parents[1]),  # the code under test
    }
    done = subprocess.run(
        [sys.executable, "-c", code, str(target)], env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    here = tmp_path / "here.md"
    store.write_text(here, text)  # and in this process, whatever its locale
    assert target.read_bytes() == here.read_bytes() == text.encode("utf-8")


def _next_second(stamp: str) -> str:
    from datetime import datetime, timedelta

    when = datetime.strptime(stamp, "%Y%m%d-%H%M%S") + timedelta(seconds=1)
    return when.strftime("%Y%m%d-%H%M%S")


# --- manifests that are not ours --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not a result folder (no manifest.json)"),
        (
            "{",
            "manifest.json is not valid JSON (Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1))",
        ),
        (
            b"\xff\xfe",
            "manifest.json is not valid JSON (Expecting value: line 1 column 1 (char 0))",
        ),
        (
            "[1, 2]",
            f"manifest.json is not a patronage result manifest (format {store.FORMAT_VERSION})",
        ),
        (
            '{"name": "someone else"}',
            f"manifest.json is not a patronage result manifest (format {store.FORMAT_VERSION})",
        ),
        (
            json.dumps({"format": 99}),
            "result format 99 is not one this version reads (formats "
            f"{', '.join(map(str, store.READABLE_FORMATS))}); open it with the patronage version "
            "that wrote it, or re-run the batch",
        ),
    ],
    ids=["none", "not-json", "not-utf8", "a-list", "foreign", "other-format"],
)
def test_manifest_refusals(tmp_path, content, expected):
    folder = tmp_path / "folder"
    folder.mkdir()
    if content is not None:
        path = folder / "manifest.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as info:
        read_manifest(folder)
    assert str(info.value) == f"{folder}: {expected}"


def test_no_such_result_folder(tmp_path):
    with pytest.raises(InputError) as info:
        open_results(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such result folder"


# --- text outputs -----------------------------------------------------------------------------


def test_text_outputs_refuse_a_folder_and_make_missing_parents(tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    with pytest.raises(InputError) as info:
        store.write_text(folder, "x")
    assert str(info.value) == f"{folder}: is a folder; give a file name"
    target = tmp_path / "new" / "deeper" / "report.md"
    store.write_text(target, "# report\n")
    assert target.read_text() == "# report\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]  # no temporary left
    store.write_json({"b": 1, "a": [1, 2]}, tmp_path / "m.json")
    assert (tmp_path / "m.json").read_text() == '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}\n'
    store.write_json({"where": Path("a/b")}, tmp_path / "p.json")  # paths (and the like) as text
    assert json.loads((tmp_path / "p.json").read_text()) == {"where": "a/b"}


# --- opening a folder for analysis -------------------------------------------------------------


@pytest.fixture
def result(scenario, tmp_path) -> Path:
    out = tmp_path / "result"
    assert run(scenario, out).code == 0
    return out


def test_an_unfinished_batch_is_refused_with_the_way_to_finish_it(result):
    manifest = json.loads((result / "manifest.json").read_text())
    manifest.update(status="running", runs={"total": 1, "done": 0, "failed": 0})
    (result / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as info:
        open_results(result)
    assert str(info.value) == (
        f"{result}: batch is incomplete (its manifest says running; 0 of 1 runs done); "
        f"finish it with `patronage resume {result}`"
    )


@pytest.mark.parametrize("table", store.TABLES)
def test_a_missing_or_changed_table_is_refused(result, table):
    path = result / f"{table}.parquet"
    original = path.read_bytes()
    path.write_bytes(original + b"\0")
    with pytest.raises(InputError) as info:
        open_results(result)
    assert str(info.value) == (
        f"{result}: {table}.parquet does not match the sha256 in manifest.json: the folder was "
        "changed after it was written"
    )
    assert open_results(result, check=False).path == result  # when asked not to check
    path.unlink()
    with pytest.raises(InputError) as info:
        open_results(result, check=False)
    assert str(info.value) == f"{result}: {table}.parquet is missing"
    path.write_bytes(original)
    assert open_results(result).partners == ["assad", "hezbollah"]


def test_a_run_is_built_in_a_hidden_folder_beside_its_destination(scenario, tmp_path, monkeypatch):
    """Staged beside the destination (one rename, same file system), made with its parents,
    and readable as the user's umask allows (mkdtemp alone would make it private)."""
    written = []
    real = store.write_table

    def spy(table, path):
        written.append(path)
        real(table, path)

    monkeypatch.setattr(store, "write_table", spy)
    out = tmp_path / "new" / "deeper" / "out"
    assert run(scenario, out).code == 0
    assert written
    for path in written:
        assert path.relative_to(out.parent).parts[0].startswith(".out.tmp-")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    assert leftovers(out.parent, "out") == []


def test_a_result_reads_as_what_it_holds(result, monkeypatch):
    opened = open_results(result)
    assert repr(opened) == f"Results({str(result)!r}: tiny, 1 runs, engine mesa)"
    seen = {}

    def summarize(results, by=None, groups=False, bins=None):
        seen.update(results=results, by=by, groups=groups, bins=bins)
        return "table"

    monkeypatch.setattr("patronage.analysis.summary.summarize", summarize)
    assert opened.summary(by=["partner"], groups=True, bins=4) == "table"
    assert seen == {"results": opened, "by": ["partner"], "groups": True, "bins": 4}
    assert opened.summary() == "table"
    assert seen == {"results": opened, "by": None, "groups": False, "bins": None}


def test_manifest_files_that_cannot_be_manifests(tmp_path, monkeypatch):
    from patronage.results import manifest as manifest_module

    folder = tmp_path / "folder"
    (folder / "manifest.json").mkdir(parents=True)
    with pytest.raises(InputError) as info:
        read_manifest(folder)
    assert str(info.value) == f"{folder}: manifest.json is not a regular file; refusing to read it"
    (folder / "manifest.json").rmdir()
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError) as info:
        read_manifest(folder)
    assert str(info.value) == f"{folder}: manifest.json is nested too deeply"
    size = (folder / "manifest.json").stat().st_size
    monkeypatch.setattr(manifest_module, "MAX_MANIFEST_BYTES", size - 1)
    with pytest.raises(InputError) as info:
        read_manifest(folder)
    assert str(info.value) == f"{folder}: manifest.json is too large to be a manifest"
    monkeypatch.setattr(manifest_module, "MAX_MANIFEST_BYTES", size)  # the limit is inclusive
    with pytest.raises(InputError) as info:
        read_manifest(folder)
    assert "too large" not in str(info.value)


def test_a_new_manifest_records_what_was_run(write_scenario, minimal_yaml):
    from patronage.results import provenance
    from patronage.results.manifest import new_manifest
    from patronage.rng.seeds import DERIVATION
    from patronage.scenario.loader import load

    text = minimal_yaml.replace("  - id: hezbollah\n", "  - id: hezbollah\n    group: axis\n")
    path = write_scenario(text)
    loaded = load(path, ["steps=6"])
    m = new_manifest(
        loaded,
        kind="batch",
        seed=3,
        steps=6,
        series_every=2,
        design={"replicates": 4},
        n_runs=4,
        started="2026-01-01T00:00:00+00:00",
    )
    assert (m.format, m.kind, m.status, m.engine) == (2, "batch", "running", "mesa")
    assert (m.scenario.name, m.scenario.source, m.scenario.sha256) == (
        "tiny",
        str(path),
        loaded.sha256,
    )
    assert m.scenario.overrides == ["steps=6"] and m.scenario.text == loaded.text
    assert (m.incumbent, m.groups) == ("iran", {"axis": ["hezbollah"]})
    assert (m.partners, m.patrons) == (["assad", "hezbollah"], ["iran", "russia"])
    assert (m.steps, m.series_every, m.seed, m.seed_derivation) == (6, 2, 3, DERIVATION)
    assert m.design.replicates == 4 and m.points == [{}]
    assert m.git_commit == provenance.git_commit() and m.versions == provenance.versions()
    assert (m.started, m.finished) == ("2026-01-01T00:00:00+00:00", None)
    assert (m.runs.total, m.runs.done, m.runs.failed) == (4, 0, 0)


def test_a_new_manifest_keeps_its_points_and_bookkeeping_and_is_written_as_set(
    write_scenario, minimal_yaml, tmp_path
):
    """Fields never set are left out of manifest.json (as older versions wrote it), and the
    file is indented, one field per line, for a reader."""
    from patronage.results.manifest import new_manifest, write_manifest
    from patronage.scenario.loader import load

    loaded = load(write_scenario(minimal_yaml))
    points = [{"withdrawal.level": 0.5}, {"withdrawal.level": 1.0}]
    m = new_manifest(
        loaded,
        kind="batch",
        seed=3,
        steps=6,
        series_every=None,
        design={"replicates": 2, "sweeps": {"withdrawal.level": [0.5, 1.0]}},
        n_runs=4,
        started="2026-01-01T00:00:00+00:00",
        points=points,
        fingerprint="abc",
        chunk_runs=10,
    )
    assert (m.points, m.fingerprint, m.chunk_runs, m.runs.total) == (points, "abc", 10, 4)
    path = tmp_path / "manifest.json"
    write_manifest(m, path)
    text = path.read_text()
    assert text.startswith('{\n  "format": 2,\n  "kind": "batch",\n')
    written = json.loads(text)
    assert {"fingerprint", "chunk_runs", "points"} <= set(written)
    assert not {"tables", "sensitivity", "precision", "ranges"} & set(written)
    assert read_manifest(tmp_path).points == points
