"""The parts of results/claim.py one at a time, at their edges: the folder lock (its refusal
word for word whatever its file holds, a lock file removed under us, a release after the file
went), what counts as our folder, --force's refusals, the staging folder's name and mode, the
swap, and the sweep of temporaries (only dead writers', only our files, never through a link,
whatever order the file system lists a folder in)."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from batch_fixtures import dead_pid

from patronage.errors import InputError
from patronage.results.claim import (
    MAX_NAME_BYTES,
    FolderLock,
    check_replaceable,
    is_ours,
    staging_folder,
    swap_into,
    sweep_stale,
)
from patronage.results.store import TABLES

BUSY = (
    "is being written by another patronage process (pid {}); wait for it to finish or stop "
    "it, then try again"
)


def umasked(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


@pytest.fixture(params=["sorted", "reversed"])
def listing(request, monkeypatch):
    """Folders listed in name order, then in reverse: a check must not depend on the order
    the file system happens to list a folder in."""
    real = Path.iterdir

    def ordered(self):
        return iter(sorted(real(self), reverse=request.param == "reversed"))

    monkeypatch.setattr(Path, "iterdir", ordered)


def result_like(folder: Path, pid: int | None = None) -> Path:
    """The files `patronage` writes in a batch folder and its chunks/, with temporaries."""
    pid = os.getpid() if pid is None else pid
    folder.mkdir()
    names = ["manifest.json", *(f"{t}.parquet" for t in TABLES), ".lock"]
    for name in [*names, f".runs.parquet.tmp-{pid}", f".manifest.json.tmp-{pid}"]:
        (folder / name).write_text("x")
    chunks = folder / "chunks"
    chunks.mkdir()
    for name in (
        "000000-runs.parquet",
        "000000-events.parquet",
        "000001-series.parquet",
        "journal.jsonl",
        f".000002-runs.parquet.tmp-{pid}",
    ):
        (chunks / name).write_text("x")
    return folder


def hold(folder: Path, content: bytes) -> int:
    """Another writer's lock (a second open file, as another process would have)."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, content)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


# --- the lock ----------------------------------------------------------------------------------


def test_a_lock_is_held_once_released_and_taken_again(tmp_path):
    lock = FolderLock(tmp_path).acquire()
    path = tmp_path / ".lock"
    assert path.read_text() == f"{os.getpid()}\n"
    assert path.stat().st_mode & 0o777 == umasked(0o644)  # a plain file, not executable
    with pytest.raises(InputError) as info:
        FolderLock(tmp_path).acquire()
    assert str(info.value) == f"{tmp_path}: {BUSY.format(os.getpid())}"
    lock.release()
    assert not path.exists() and lock.fd is None
    lock.release()  # a second release does nothing
    with lock:  # the same lock taken again
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(InputError):
            FolderLock(tmp_path).acquire()
    assert not path.exists()
    with FolderLock(tmp_path):  # and by anyone once released
        pass


def test_entering_a_held_lock_keeps_it(tmp_path):
    """A batch takes its lock on the staging folder and enters it after the rename."""
    lock = FolderLock(tmp_path).acquire()
    fd = lock.fd
    with lock:
        assert lock.fd == fd
    assert lock.fd is None and not (tmp_path / ".lock").exists()


@pytest.mark.parametrize(
    ("content", "holder"),
    [
        (b"", "?"),  # locked, its pid not written yet
        (b"4242\n", "4242"),
        (b"\xff\xfe 17\n", "\ufffd\ufffd 17"),
        (b"9" * 40, "9" * 32),
    ],
    ids=["empty", "pid", "not-utf8", "long"],
)
def test_the_refusal_is_one_line_whatever_the_lock_file_holds(tmp_path, content, holder):
    fd = hold(tmp_path, content)
    try:
        with pytest.raises(InputError) as info:
            FolderLock(tmp_path).acquire()
    finally:
        os.close(fd)
    assert str(info.value) == f"{tmp_path}: {BUSY.format(holder)}"
    with FolderLock(tmp_path):  # the holder is gone
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"


def test_a_folder_that_cannot_be_locked_is_one_line(tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(InputError) as info:
        FolderLock(missing).acquire()
    assert str(info.value) == f"{missing}: cannot lock the folder: No such file or directory"


@pytest.mark.parametrize("then", ["removed", "replaced"])
def test_a_lock_file_removed_while_we_locked_it_is_locked_anew(tmp_path, monkeypatch, then):
    """The holder releases (removes .lock) between our open and our flock: we then hold a
    file nobody else sees, and must lock the one at .lock instead."""
    real = fcntl.flock
    calls = []

    def racing(fd, op):
        if not calls:
            (tmp_path / ".lock").unlink()
            if then == "replaced":  # and a third process created the next one
                (tmp_path / ".lock").write_text("")
        calls.append(fd)
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", racing)
    lock = FolderLock(tmp_path).acquire()
    monkeypatch.undo()
    assert len(calls) == 2
    assert os.fstat(lock.fd).st_ino == (tmp_path / ".lock").stat().st_ino
    assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
    with pytest.raises(InputError):
        FolderLock(tmp_path).acquire()
    lock.release()


def test_a_lock_whose_file_went_is_still_released(tmp_path):
    lock = FolderLock(tmp_path).acquire()
    (tmp_path / ".lock").unlink()
    lock.release()
    assert lock.fd is None
    with FolderLock(tmp_path):
        pass


# --- what is ours ------------------------------------------------------------------------------


def chunks_file(folder: Path) -> None:
    shutil.rmtree(folder / "chunks")
    (folder / "chunks").write_text("x")


def chunks_link(folder: Path) -> None:
    elsewhere = folder.parent / "elsewhere"
    shutil.copytree(folder / "chunks", elsewhere)
    shutil.rmtree(folder / "chunks")
    (folder / "chunks").symlink_to(elsewhere)


def table_link(folder: Path) -> None:
    (folder.parent / "data.parquet").write_text("x")
    (folder / "runs.parquet").unlink()
    (folder / "runs.parquet").symlink_to(folder.parent / "data.parquet")


def table_folder(folder: Path) -> None:
    (folder / "runs.parquet").unlink()
    (folder / "runs.parquet").mkdir()


@pytest.mark.parametrize(
    "change",
    [
        lambda f: (f / "notes.txt").write_text("mine"),
        lambda f: (f / "chunks" / "notes.txt").write_text("mine"),
        lambda f: (f / "chunks" / "000001-extra.parquet").write_text("mine"),
        chunks_file,
        chunks_link,
        table_link,
        table_folder,
    ],
    ids=["file", "file-in-chunks", "odd-chunk", "chunks-file", "chunks-link", "link", "subfolder"],
)
def test_a_folder_holding_anything_else_is_not_ours(tmp_path, listing, change):
    folder = result_like(tmp_path / "r")
    assert is_ours(folder)
    change(folder)
    assert not is_ours(folder)


def test_an_empty_folder_is_ours(tmp_path):
    assert is_ours(tmp_path)


# --- --force: what may be replaced --------------------------------------------------------------

NOT_A_FOLDER = "is not a folder; --force only replaces result folders"
NO_MANIFEST = "is not a patronage result folder (no manifest.json); --force only replaces those"
BAD_MANIFEST = (
    "is not a patronage result folder (manifest.json is not valid JSON (Expecting property "
    "name enclosed in double quotes: line 1 column 2 (char 1))); --force only replaces those"
)


def a_file(path: Path) -> None:
    path.write_text("mine")


def a_link(path: Path) -> None:
    (path.parent / "target").mkdir()
    path.symlink_to(path.parent / "target")


def notes(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("mine")


def a_broken_manifest(path: Path) -> None:
    notes(path)
    (path / "manifest.json").write_text("{")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (a_file, NOT_A_FOLDER),
        (a_link, NOT_A_FOLDER),
        (notes, NO_MANIFEST),
        (a_broken_manifest, BAD_MANIFEST),
    ],
    ids=["file", "link", "no-manifest", "bad-manifest"],
)
def test_force_refusals(tmp_path, make, expected):
    path = tmp_path / "out"
    make(path)
    with pytest.raises(InputError) as info:
        check_replaceable(path)
    assert str(info.value) == f"{path}: {expected}"


def test_force_may_replace_a_folder_holding_nothing_or_only_a_lock(tmp_path):
    """A run killed while it held the lock of a new, empty folder leaves only .lock."""
    check_replaceable(tmp_path)
    (tmp_path / ".lock").write_text("123\n")
    check_replaceable(tmp_path)


# --- the staging folder and the swap ------------------------------------------------------------


def test_a_folder_is_staged_hidden_beside_its_destination(tmp_path):
    destination = tmp_path / "new" / "deeper" / ("a" * MAX_NAME_BYTES)  # the longest name
    staged = staging_folder(destination)
    assert staged.parent == destination.parent
    assert staged.name.startswith(f".{destination.name}.tmp-{os.getpid()}-")
    assert list(staged.iterdir()) == []
    assert staged.stat().st_mode & 0o777 == umasked(0o777)  # as the user's umask allows
    again = staging_folder(destination)  # the parent exists now: a second one beside it
    assert again != staged and again.parent == staged.parent


@pytest.mark.parametrize(("name", "size"), [("a" * 201, 201), ("é" * 101, 202)])
def test_a_name_too_long_to_stage_is_refused_in_bytes(tmp_path, name, size):
    with pytest.raises(InputError) as info:
        staging_folder(tmp_path / name)
    assert str(info.value) == f"--out: the folder name is too long ({size} bytes; at most 200)"
    assert list(tmp_path.iterdir()) == []


def test_a_staging_folder_whose_parent_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError) as info:
        staging_folder(tmp_path / "file" / "out")
    assert str(info.value) == f"{tmp_path / 'file'}: cannot create the folder: File exists"


def test_a_swap_renames_or_replaces_whole(tmp_path):
    staged = tmp_path / ".out.tmp-1-x"
    staged.mkdir()
    (staged / "manifest.json").write_text("new")
    out = tmp_path / "out"
    swap_into(staged, out)
    assert (out / "manifest.json").read_text() == "new"
    staged.mkdir()
    (staged / "manifest.json").write_text("newer")
    swap_into(staged, out)
    assert (out / "manifest.json").read_text() == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


BUSY_FILE = "000009-runs.parquet"


@pytest.fixture
def busy_files(monkeypatch):
    """Files named BUSY_FILE cannot be removed (as on NFS, when another client holds one
    open)."""
    real = os.unlink

    def unlink(path, *args, **kwargs):
        if os.fspath(path).endswith(BUSY_FILE):
            raise OSError(errno.EBUSY, "Device or resource busy", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)


def test_a_swap_succeeds_when_the_old_copy_cannot_be_removed(tmp_path, busy_files):
    out = tmp_path / "out"
    out.mkdir()
    (out / BUSY_FILE).write_text("old")
    staged = tmp_path / ".out.tmp-1-x"
    staged.mkdir()
    (staged / "manifest.json").write_text("new")
    swap_into(staged, out)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    # what is left of the old copy is swept by a later command, once this process is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.old-{os.getpid()}", "out"]


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_removes_dead_writers_temporaries_only(tmp_path, listing, monkeypatch):
    dead, other_user = dead_pid(), dead_pid()
    real_kill = os.kill

    def kill(pid, sig):
        if pid == other_user:  # someone else's live process: not ours to signal
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_kill(pid, sig)

    monkeypatch.setattr(os, "kill", kill)
    folder = result_like(tmp_path / "b")  # with temporaries of this (live) process
    stale = [
        folder / f".series.parquet.tmp-{dead}",
        folder / "chunks" / f".000003-runs.parquet.tmp-{dead}",
    ]
    for path in stale:
        path.write_bytes(b"half")
    (folder / f".events.parquet.tmp-{dead}").mkdir()  # not a file we write: kept
    (folder / f".notes.txt.tmp-{dead}").write_text("x")  # not a name we write: kept
    (folder / f".runs.parquet.tmp-{other_user}").write_text("x")
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    sweep_stale(folder)
    after = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert after == sorted(set(before) - {str(p.relative_to(folder)) for p in stale})


def test_the_sweep_leaves_a_live_writer_running_and_its_temporaries_alone(tmp_path):
    """Asking whether a writer is alive must not signal it (signal 0 only)."""
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time\n"
            "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):\n"
            "    signal.signal(s, signal.SIG_DFL)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        folder = result_like(tmp_path / "b", pid=writer.pid)
        before = sorted(folder.rglob("*"))
        sweep_stale(folder)
        assert sorted(folder.rglob("*")) == before
        with pytest.raises(subprocess.TimeoutExpired):  # any signal sent has landed by now
            writer.wait(timeout=0.5)
    finally:
        writer.kill()
        writer.wait()


def test_the_sweep_removes_dead_staged_and_old_copies_that_are_ours(tmp_path, listing):
    dead, also_dead = dead_pid(), dead_pid()
    folder = result_like(tmp_path / "b")
    swept = [
        result_like(tmp_path / f".b.tmp-{dead}-abcd1234"),
        result_like(tmp_path / f".b.old-{dead}"),
    ]
    mine = tmp_path / f".b.tmp-{dead}-mine"  # someone's files under a name like ours
    notes(mine)
    (tmp_path / f".b.old-{also_dead}").write_text("a file, not a folder we write")
    (tmp_path / f".b.tmp-{dead}-link").symlink_to(folder)
    live = result_like(tmp_path / f".b.tmp-{os.getpid()}-live")  # this process is building it
    other = result_like(tmp_path / f".c.tmp-{dead}-abcd1234")  # another folder's
    sweep_stale(folder)
    assert not any(p.exists() for p in swept)
    kept = {
        folder,
        mine,
        tmp_path / f".b.old-{also_dead}",
        tmp_path / f".b.tmp-{dead}-link",
        live,
        other,
    }
    assert set(tmp_path.iterdir()) == kept
    assert (mine / "notes.txt").read_text() == "mine" and is_ours(folder)


def test_the_sweep_of_a_new_folder_or_parent_does_nothing(tmp_path):
    sweep_stale(tmp_path / "new")
    sweep_stale(tmp_path / "no" / "such" / "folder")
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_never_reaches_through_a_link(tmp_path):
    """Another folder's files, reached through a link named chunks/ or as the folder."""
    dead = dead_pid()
    elsewhere = result_like(tmp_path / "elsewhere")
    theirs = [
        elsewhere / f".runs.parquet.tmp-{dead}",
        elsewhere / "chunks" / f".000003-runs.parquet.tmp-{dead}",
    ]
    for path in theirs:
        path.write_text("theirs")
    folder = result_like(tmp_path / "b")
    shutil.rmtree(folder / "chunks")
    (folder / "chunks").symlink_to(elsewhere / "chunks")
    sweep_stale(folder)
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    sweep_stale(link)
    assert all(p.read_text() == "theirs" for p in theirs)


def test_two_sweeps_at_once_do_not_trip_over_each_other(tmp_path, monkeypatch):
    """A new batch sweeps before it holds any lock: another command may remove a dead
    writer's temporary between our look at it and our unlink."""
    dead = dead_pid()
    folder = result_like(tmp_path / "b")
    stale = folder / f".series.parquet.tmp-{dead}"
    stale.write_text("half")
    real = Path.is_file

    def is_file(self):
        found = real(self)
        if self == stale:
            os.remove(self)  # the other sweep, just now
        return found

    monkeypatch.setattr(Path, "is_file", is_file)
    sweep_stale(folder)
    assert not stale.exists()


def test_a_stale_copy_that_cannot_be_removed_does_not_stop_the_command(tmp_path, busy_files):
    dead = dead_pid()
    folder = result_like(tmp_path / "b")
    staged = result_like(tmp_path / f".b.tmp-{dead}-abcd1234")
    (staged / "chunks" / BUSY_FILE).write_text("x")
    sweep_stale(folder)  # removes what it can, raises nothing
    assert [p.name for p in staged.rglob("*")] == ["chunks", BUSY_FILE]
