"""Orphans: stored files that no row's ``FileField`` or ``ImageField`` references.

``assert_no_orphans()`` checks a storage's files against every model field
that stores its files there. ``OrphanWatch`` is a scope's end-of-test check
(``orphans="warn"|"error"``): of the files written during the test, those no
row references when the test ends, before its teardown rolls back or empties
the tables.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.db import connections, router
from django.db.models import FileField

from ._assertions import glob_regex
from ._fields import file_fields, label
from ._snapshot import snapshot_files, take_snapshot
from .storage import FSStorage, InMemoryStorage

if TYPE_CHECKING:
    from ._layers import Layer, State

__all__ = [
    "OrphanFilesError",
    "OrphanFilesWarning",
    "OrphanWatch",
    "assert_no_orphans",
    "fields_using",
    "referenced_names",
]

#: Names per ``IN (...)`` query: under SQLite's oldest limit of 999 parameters.
_NAMES_PER_QUERY = 500
#: The most orphan names a message lists per storage: enough to see the
#: pattern, short enough to read in a terminal.
SHOWN = 20


class OrphanFilesWarning(UserWarning):
    """A test wrote files that no row references when it ends (``orphans="warn"``)."""

    __module__ = "inmemorystorage_fs.testing"  # where users import it from


class OrphanFilesError(Exception):
    """A test wrote files that no row references when it ends (``orphans="error"``).

    Not an ``AssertionError``: like an error in Django's teardown, it is
    reported as the test's error, not as a failure of what the test asserts.
    """

    __module__ = "inmemorystorage_fs.testing"


def assert_no_orphans(storage: str | Storage | None = None, ignore: Iterable[str] = ()) -> None:
    """Fail if a file of *storage* is referenced by no row of a field storing files there.

    *storage*: a ``STORAGES`` alias or a storage (None: the default storage).
    *ignore*: glob patterns of files no row is meant to reference
    (``"thumbs/**"``).
    """
    patterns = _patterns(ignore, "ignore")
    alias = "default" if storage is None else storage
    target: Any = storages[alias] if isinstance(alias, str) else alias
    if target is default_storage:
        target = storages["default"]
    name = _name_of(target)
    fields = fields_using(target)
    if not fields:
        raise ValueError(
            f"No model field stores its files in {name}, so no row can reference them. "
            "Pass the storage a FileField uses (with fields=True, its in-memory stand-in)."
        )
    referenced = referenced_names(fields)
    files = _files_of(target)
    orphans = [file for file in files if file not in referenced and not _matches(file, patterns)]
    if orphans:
        are = "is" if len(orphans) == 1 else "are"
        raise AssertionError(
            f"Expected every file of {name} to be referenced by a row; "
            f"{len(orphans)} {are} not: {_listed(orphans)}\n{_read(fields, patterns)}"
        )


def fields_using(storage: object) -> list[FileField]:
    """Return every model field whose storage holds the files of *storage*."""
    return [field for field in file_fields() if _same_files(_storage_of(field), storage)]


def referenced_names(fields: Iterable[FileField], among: list[str] | None = None) -> set[str]:
    """Return the file names the rows of *fields* hold, empty ones left out.

    *among*: only these names are looked for (the database finds them, so
    a check of a test's few new files costs no read of every row).
    """
    names: set[str] = set()
    for field in fields:
        model = field.model
        if not model._meta.managed and not _has_table(model):
            continue  # an unmanaged model's table may not exist in the test database
        # The base manager: a default manager hiding rows (soft deletion) must
        # not hide the files they still reference.
        rows = model._base_manager.values_list(field.attname, flat=True).distinct()
        if among is None:
            names.update(name for name in rows if name)
            continue
        for start in range(0, len(among), _NAMES_PER_QUERY):
            wanted = among[start : start + _NAMES_PER_QUERY]
            names.update(rows.filter(**{f"{field.attname}__in": wanted}))
    return names


@dataclass(frozen=True)
class _Orphaned:
    """The orphans a test left in one storage, and the fields read to find them."""

    storage: str  # "storages['default']", or the fields of a field's stand-in
    files: list[str]
    fields: list[FileField]


class OrphanWatch:
    """A scope's end-of-test check: files written since it began that no row references."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self.level = layer.testing.orphans
        self.ignore = layer.testing.orphans_ignore
        self.start = layer.state()
        #: True once ``check()`` ran: the check runs once per test
        self.done = False

    def check(self) -> None:
        """Warn of the orphans, or raise ``OrphanFilesError``, as ``orphans=`` says; once."""
        __tracebackhide__ = True  # pytest shows the message, not this function
        if self.done:
            return
        self.done = True
        found = list(self.orphans())
        if not found:
            return
        count = _count([file for orphaned in found for file in orphaned.files])
        lines = [
            f"The test wrote {count} that no row references at its end (orphans={self.level!r}):",
            *(f"  {orphaned.storage}: {_listed(orphaned.files)}" for orphaned in found),
            _read([field for orphaned in found for field in orphaned.fields], self.ignore),
            "Delete a file whose row is not saved (the transaction failed), or list it in "
            "orphans_ignore if no row is meant to reference it.",
        ]
        message = "\n".join(lines)
        if self.level == "error":
            raise OrphanFilesError(message)
        warnings.warn(message, OrphanFilesWarning, stacklevel=2)

    def orphans(self) -> Iterator[_Orphaned]:
        """Yield, per storage of the scope, the files written since its start that no row holds."""
        swap = self.layer.swap
        assert swap is not None, "the layer is not entered"
        end = self.layer.state()
        patterns = [glob_regex(pattern) for pattern in self.ignore]
        default = swap.storages.get("default")  # None: never made, so never written
        places: dict[int, tuple[InMemoryStorage, list[str]]] = {}
        named = [(f"storages[{alias!r}]", storage) for alias, storage in swap.storages.items()]
        named += list(swap.field_storages.items())
        for name, storage in named:
            key = id(storage.filesystem) if storage.persist else id(storage)
            places.setdefault(key, (storage, []))[1].append(name)
        for storage, names in places.values():
            fields = fields_using(storage)
            if not fields:
                continue  # no row can reference its files: exports, caches
            written = self._written(storage, storage is default, end)
            if not written:
                continue
            referenced = referenced_names(fields, written)
            files = sorted(
                file
                for file in written
                if file not in referenced and not any(p.match(file) for p in patterns)
            )
            if files:
                yield _Orphaned(", ".join(names), files, fields)

    def _written(self, storage: InMemoryStorage, default: bool, end: State) -> list[str]:
        """Return the files of *storage* new or rewritten since the scope began."""
        if storage.persist:
            root = storage.location.replace("\\", "/").rstrip("/")
            before = snapshot_files(self.start.world, root)
            after = snapshot_files(end.world, root)
        elif default:
            before, after = snapshot_files(self.start.own), snapshot_files(end.own)
        else:
            # A field's stand-in with files of its own starts empty in every scope.
            before, after = {}, snapshot_files(take_snapshot(storage.filesystem))
        return [name for name, data in after.items() if before.get(name) != data]


def _storage_of(field: FileField) -> object:
    """Return the storage *field* saves to, ``default_storage`` resolved to what it wraps."""
    storage = field.storage
    return storages["default"] if storage is default_storage else storage


def _same_files(one: object, other: object) -> bool:
    """Return True if *one* and *other* hold the same files (same storage, or one location)."""
    if one is other:
        return True
    if isinstance(one, InMemoryStorage) and isinstance(other, InMemoryStorage):
        # Persistent storages at one location share one view of the process's filesystem.
        return one.persist and other.persist and one.filesystem is other.filesystem
    if isinstance(one, FileSystemStorage) and isinstance(other, FileSystemStorage):
        return os.path.realpath(one.location) == os.path.realpath(other.location)  # one disk
    return False


def _files_of(storage: Any) -> list[str]:
    """Return the sorted names of every file of *storage*, any Django storage."""
    if isinstance(storage, FSStorage):
        return storage.files()
    found: list[str] = []
    pending = [""]
    while pending:
        path = pending.pop()
        prefix = f"{path}/" if path else ""
        directories, files = storage.listdir(path)
        found += (prefix + name for name in files)
        pending += (prefix + name for name in directories)
    return sorted(found)


def _name_of(storage: object) -> str:
    """Return how a message names *storage*: its alias if the handler holds it."""
    held = getattr(storages, "_storages", {})  # what Django's handler has built
    for alias, built in held.items():
        if built is storage:
            return f"storages[{alias!r}]"
    names = [label(field) for field in fields_using(storage)]
    owner = f" (the storage of {', '.join(names)})" if names else ""
    return f"the {type(storage).__name__}{owner}"


def _has_table(model: Any) -> bool:
    connection = connections[router.db_for_read(model)]
    return model._meta.db_table in connection.introspection.table_names()


def _patterns(ignore: Iterable[str], what: str) -> tuple[str, ...]:
    """Return the glob patterns *ignore*, or raise ``TypeError`` naming *what* took them."""
    if isinstance(ignore, (list, tuple, set, frozenset)) and all(
        isinstance(pattern, str) for pattern in ignore
    ):
        return tuple(ignore)
    raise TypeError(f"{what} must be a list of glob patterns, not {ignore!r}.")


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(glob_regex(pattern).match(name) for pattern in patterns)


def _count(files: list[str]) -> str:
    return f"{len(files)} file{'s' if len(files) != 1 else ''}"


def _listed(files: list[str]) -> str:
    shown = ", ".join(files[:SHOWN])
    more = f" … and {len(files) - SHOWN} more" if len(files) > SHOWN else ""
    return shown + more


def _read(fields: Iterable[FileField], ignore: Iterable[str]) -> str:
    """Return the line of a message naming the fields read (and the patterns ignored)."""
    names = ", ".join(dict.fromkeys(label(field) for field in fields))
    ignored = f" Ignored: {', '.join(map(repr, ignore))}." if ignore else ""
    return f"Rows read: {names}.{ignored}"
