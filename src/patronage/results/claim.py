"""Claiming a result folder: one writer at a time, and only ever replacing what we wrote.

- `FolderLock`: an OS lock (`fcntl.flock`) on `.lock` inside the folder. The kernel drops it
  when its process ends, SIGKILL included, so a lock is never stale; a second writer is told
  which process holds it.
- `check_replaceable`: `--force` replaces a folder only if its manifest validates and it
  holds nothing but what `patronage` writes.
- `staging_folder` / `swap_into`: a folder built under a temporary name beside its
  destination and renamed whole, the old one removed only once the new one is complete.
- `sweep_stale`: temporaries left by processes that died (SIGKILL, power loss) are removed
  by the next command that writes in that folder.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path

from patronage.atomic import temporary_pattern
from patronage.errors import InputError
from patronage.results.manifest import read_manifest
from patronage.results.store import INDICES, MANIFEST, TABLES

__all__ = [
    "LOCK",
    "MAX_NAME_BYTES",
    "FolderLock",
    "check_replaceable",
    "is_ours",
    "staging_folder",
    "swap_into",
    "sweep_stale",
]

LOCK = ".lock"
MAX_NAME_BYTES = 200  # a folder name, leaving room for `.NAME.tmp-PID-XXXXXXXX` (255 max)

_TABLE_FILES = "|".join(re.escape(name) for name in (*(f"{t}.parquet" for t in TABLES), INDICES))
# what `patronage` writes in a result folder and in its chunks/ folder
_FOLDER_ENTRY = re.compile(rf"^(?:{re.escape(MANIFEST)}|{_TABLE_FILES}|chunks|\.lock)$")
_FOLDER_TEMP = temporary_pattern(rf"{re.escape(MANIFEST)}|{_TABLE_FILES}")
_CHUNK_ENTRY = re.compile(r"^(?:\d{6}-(?:runs|events|series)\.parquet|journal\.jsonl)$")
_CHUNK_TEMP = temporary_pattern(r"\d{6}-(?:runs|events|series)\.parquet")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class FolderLock:
    """An exclusive OS lock on a result folder, held while a command writes in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the folder's lock, so two batches cannot write one folder."""
        path = self.folder / LOCK
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise InputError(
                    f"cannot lock the folder: {exc.strerror}", source=str(self.folder)
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise InputError(
                    f"is being written by another patronage process (pid {holder}); wait "
                    "for it to finish or stop it, then try again",
                    source=str(self.folder),
                ) from None
            # The holder may have removed the file between our open and our lock: then we
            # locked a file nobody else will see, and must lock the one now in its place.
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def moved_to(self, folder: Path) -> None:
        """The folder was renamed (the lock goes with the open file)."""
        self.folder = folder

    def release(self) -> None:
        """Release the lock, if held."""
        if self.fd is None:
            return
        try:
            (self.folder / LOCK).unlink(missing_ok=True)
        finally:
            os.close(self.fd)  # closing drops the lock
            self.fd = None

    def __enter__(self) -> FolderLock:
        return self if self.fd is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_ours(folder: Path) -> bool:
    """Whether a folder holds nothing but what `patronage` writes in a result folder."""
    for entry in folder.iterdir():
        name = entry.name
        if _FOLDER_TEMP.match(name):
            continue
        if not _FOLDER_ENTRY.match(name):
            return False
        if name == "chunks":
            if entry.is_symlink() or not entry.is_dir():
                return False
            if not all(
                _CHUNK_ENTRY.match(c.name) or _CHUNK_TEMP.match(c.name) for c in entry.iterdir()
            ):
                return False
        elif entry.is_symlink() or not entry.is_file():
            return False
    return True


def check_replaceable(path: Path) -> None:
    """--force replaces our result folders only: a folder whose manifest validates and that
    holds nothing else. An empty folder holds nothing to lose and may be replaced too."""
    if path.is_symlink() or not path.is_dir():
        raise InputError("is not a folder; --force only replaces result folders", source=str(path))
    if not any(entry.name != LOCK for entry in path.iterdir()):
        return
    if not (path / MANIFEST).exists():
        raise InputError(
            "is not a patronage result folder (no manifest.json); --force only replaces those",
            source=str(path),
        )
    try:
        read_manifest(path)
    except InputError as exc:
        raise InputError(
            f"is not a patronage result folder ({exc.message}); --force only replaces those",
            source=str(path),
        ) from None
    if not is_ours(path):
        raise InputError(
            "holds files patronage did not write; --force only replaces result folders "
            "that hold nothing else (move those files, or choose another --out)",
            source=str(path),
        )


def check_name(destination: Path) -> None:
    if len(destination.name.encode()) > MAX_NAME_BYTES:
        raise InputError(
            f"the folder name is too long ({len(destination.name.encode())} bytes; at most "
            f"{MAX_NAME_BYTES})",
            source="--out",
        )


def staging_folder(destination: Path) -> Path:
    """A new empty folder beside `destination`, `.NAME.tmp-PID-XXXXXXXX`, to build it in."""
    check_name(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        path = Path(
            tempfile.mkdtemp(
                prefix=f".{destination.name}.tmp-{os.getpid()}-", dir=destination.parent
            )
        )
    except OSError as exc:
        raise InputError(
            f"cannot create the folder: {exc.strerror}", source=str(destination.parent)
        ) from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)  # mkdtemp makes it private; a result is not
    return path


def swap_into(staged: Path, destination: Path) -> None:
    """Rename a complete staged folder to `destination`, replacing an old one only now."""
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.replace(destination, old)
        os.replace(staged, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, destination)


def sweep_stale(folder: Path) -> None:
    """Remove temporaries of processes that are gone: in the folder, in its chunks/, and
    staged or old copies of it beside it (only those holding nothing but our files)."""
    # through a link (the folder or its chunks/) is another folder: not ours to clean
    inside = (
        [] if folder.is_symlink() else [(folder, _FOLDER_TEMP), (folder / "chunks", _CHUNK_TEMP)]
    )
    for where, pattern in inside:
        if not where.is_dir() or where.is_symlink():
            continue
        for entry in where.iterdir():
            match = pattern.match(entry.name)
            if match and not _alive(int(match["pid"])) and entry.is_file():
                entry.unlink(missing_ok=True)
    beside = re.compile(rf"^\.{re.escape(folder.name)}\.(?:tmp|old)-(?P<pid>\d+)(?:-\w+)?$")
    parent = folder.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        match = beside.match(entry.name)
        if not match or _alive(int(match["pid"])):
            continue
        if entry.is_dir() and not entry.is_symlink() and is_ours(entry):
            shutil.rmtree(entry, ignore_errors=True)
