"""A failed test's files on disk: one folder per test and storage, and a line saying where.

Used by the pytest plugin, ``InMemoryStorageMixin`` and the test runner. It
imports neither Django nor ``fs``: the plugin sets the folder as pytest starts.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from ._record import Log
    from .storage import FSStorage

__all__ = [
    "DUMP_DIR_ENV",
    "Dump",
    "Scope",
    "dump_dir",
    "dump_files",
    "folder_name",
    "point_to",
    "set_dump_dir",
]

DUMP_DIR_ENV = "INMEMORYSTORAGE_DUMP_DIR"

# Set by the pytest plugin and the runner at the start of a run; wins over the environment.
_dump_dir_option: str | None = None
# A relative $INMEMORYSTORAGE_DUMP_DIR is relative to where the run started,
# which for a plain unittest run is where its test modules were imported.
_started_in = os.getcwd()

# Longer sanitized names are cut: with the hash and "~storages/<field label>"
# after them, a dump's path components stay within the 255 bytes disks allow.
_NAME_KEPT = 100
_HASH_LENGTH = 8  # hex digits: only ids that sanitize to the same name need to differ
_HASHED = re.compile(rf"-[0-9a-f]{{{_HASH_LENGTH}}}$")


def set_dump_dir(folder: str | None) -> None:
    """Export failed tests' files to *folder* (None: to ``$INMEMORYSTORAGE_DUMP_DIR``, if set).

    A relative *folder* is resolved now, against the current directory.
    """
    global _dump_dir_option
    _dump_dir_option = os.path.abspath(folder) if folder else None


def dump_dir() -> Path | None:
    """Return the folder that failed tests' files go to, if one is configured."""
    configured = _dump_dir_option or os.environ.get(DUMP_DIR_ENV)
    # Against where the run started, not where a test has since chdir'd to.
    return Path(_started_in, configured) if configured else None


def folder_name(test_id: str) -> str:
    """Return *test_id* (a pytest node id or unittest id) as a safe, unique folder name.

    An id that is already safe is its own name; any other is sanitized and
    followed by a short hash of the whole id, so ``t[a/b]``, ``t[a b]`` and
    ``t[a:b]`` get three folders.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id).strip("._-")[:_NAME_KEPT] or "test"
    if name == test_id and not _HASHED.search(name):
        return name
    digest = hashlib.sha1(test_id.encode(errors="surrogatepass"), usedforsecurity=False)
    return f"{name}-{digest.hexdigest()[:_HASH_LENGTH]}"


class Scope(Protocol):
    """The storages of one test (a ``testing.Layer``): the default one and the others by label."""

    @property
    def storage(self) -> FSStorage | None: ...  # made now if it was left for first use

    def named_storages(self) -> Mapping[str, FSStorage]: ...

    recording: bool  # whether its storages record their operations

    def operations(self) -> Log: ...  # the records of its storages, read as one


class Dump(NamedTuple):
    """What ``dump_files()`` wrote, and what the disk could not hold."""

    folders: list[Path]  # every folder written, the default storage's first
    missed: list[str]  # each file not written, with its storage and the reason
    record: Path | None = None  # the folder of operations.txt and operations.jsonl

    def message(self) -> str:
        """Return the report line: every folder written and every file missed."""
        if self.folders:
            shown = ", ".join(f"{folder}{os.sep}" for folder in self.folders)
            message = f"this test's files are in {shown}"
        else:
            message = "this test's storages held no files"
        if self.record is not None:
            message += f"; its operations are in {self.record / 'operations.txt'} (and .jsonl)"
        if self.missed:
            message += f"; not dumped: {', '.join(self.missed)}"
        return message


def dump_files(scope: Scope, test_id: str) -> Dump | None:
    """Export the storages of *scope* to the dump folder for *test_id* (None: no dump folder).

    The default storage goes to ``DIR/<test id>/``; every other storage the
    scope swapped goes to ``DIR/<test id>~storages/<alias or app_label.Model.field>/``,
    and, if the scope records operations, its record to
    ``DIR/<test id>~record/operations.txt`` and ``operations.jsonl``:
    names no test id's folder can have (``~`` never survives in one). A
    storage that holds nothing gets no folder; a file the disk cannot hold is
    left out, and named in ``missed``.
    """
    base = dump_dir()
    if base is None or scope.storage is None:
        return None
    name = folder_name(test_id)
    for folder in (base / name, base / f"{name}~storages"):
        if folder.exists():
            shutil.rmtree(folder)  # a previous run's files would mislead
    storages = {"default": scope.storage, **scope.named_storages()}
    dump = Dump([], [], _dump_record(scope, base / f"{name}~record"))
    exported: set[int] = set()
    for label, storage in storages.items():
        if id(storage) in exported:
            continue  # an alias and the fields holding it: once, under the alias
        exported.add(id(storage))
        target = base / name if label == "default" else base / f"{name}~storages" / label
        try:
            if _holds_nothing(storage):
                continue
            missed = _export(storage, target)
        except Exception as exc:  # the test's own failure matters more
            dump.missed.append(f"{label}: all files ({exc!r})")
            continue
        dump.folders.append(target)
        dump.missed.extend(f"{label}: {path!r} ({reason})" for path, reason in missed)
    return dump


def _dump_record(scope: Scope, folder: Path) -> Path | None:
    """Write the scope's operations to *folder*, if it records any; return the folder."""
    if folder.exists():
        shutil.rmtree(folder)
    if not getattr(scope, "recording", False):
        return None
    try:
        operations = scope.operations()
        folder.mkdir(parents=True)
        (folder / "operations.txt").write_text(str(operations) + "\n", encoding="utf-8")
        (folder / "operations.jsonl").write_text(operations.jsonl(), encoding="utf-8")
    except Exception:  # the test's own failure matters more
        return None
    return folder


def point_to(dump: Dump, err: Any) -> None:
    """Show where the files went: as a note on the failure where Python has notes."""
    message = f"inmemorystorage_fs: {dump.message()}"
    exc = err[1] if isinstance(err, tuple) and len(err) > 1 else None
    if isinstance(exc, BaseException) and hasattr(exc, "add_note"):
        exc.add_note(message)
    else:
        print(message, file=sys.stderr)


def _holds_nothing(storage: FSStorage) -> bool:
    """Return True if *storage* has neither files nor directories."""
    try:
        with storage._quiet():  # not an operation of the test's record
            return storage.listdir("") == ([], [])
    except FileNotFoundError:  # a persistent storage whose location was never made
        return True


def _export(storage: FSStorage, target: Path) -> list[tuple[str, str]]:
    """Export *storage* to *target*; return each file the disk could not hold, and why."""
    try:
        storage.export(target)
        return []
    except Exception:  # what it was is found again below, file by file
        shutil.rmtree(target, ignore_errors=True)
    from ._export import export_each  # imports Django and fs: only when a test failed

    # One name the disk refuses (too long for it) must not cost the other files.
    return export_each(storage.filesystem, str(target))
