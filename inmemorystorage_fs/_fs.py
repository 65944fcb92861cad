"""The one module that imports PyFilesystem2 (``fs``).

``fs`` 2.4.16 calls ``__import__("pkg_resources")`` while it is imported (to
declare namespace packages) and keeps a reference to it for opener plugins.
setuptools 82 removed ``pkg_resources``, 80-81 warn when it is imported, and
importing it costs tens of milliseconds. Unless a real ``pkg_resources`` is
already loaded, a small stand-in supplies the two functions ``fs`` uses, for
the duration of the import only. Every other module imports ``fs`` names from
here.
"""

from __future__ import annotations

import importlib.metadata
import io
import pkgutil
import sys
import types
from collections.abc import Iterator
from typing import Any, TypeGuard


def _declare_namespace(package_name: str) -> None:
    """Extend *package_name*'s ``__path__`` as ``pkg_resources`` would."""
    package = sys.modules[package_name]
    package.__path__ = pkgutil.extend_path(package.__path__, package_name)


def _iter_entry_points(group: str, name: str | None = None) -> Iterator[Any]:
    """Yield the installed entry points of *group* (named *name* if given)."""
    for entry_point in importlib.metadata.entry_points(group=group):
        if name is None or entry_point.name == name:
            yield entry_point


def _stand_in() -> types.ModuleType:
    """Return a module offering the slice of ``pkg_resources`` that ``fs`` uses."""
    module = types.ModuleType("pkg_resources")
    module.__doc__ = "inmemorystorage_fs stand-in: only what fs 2.4 uses."
    module.declare_namespace = _declare_namespace  # type: ignore[attr-defined]
    module.iter_entry_points = _iter_entry_points  # type: ignore[attr-defined]
    return module


def _import_fs() -> None:
    """Import the ``fs`` modules this package needs, with the stand-in if required."""
    if "pkg_resources" in sys.modules:
        import fs.memoryfs  # noqa: F401  (a real pkg_resources is already loaded)

        return
    sys.modules["pkg_resources"] = _stand_in()
    try:
        # fs.opener.registry binds the stand-in at import time and calls it
        # later, so it keeps working after the stand-in leaves sys.modules.
        import fs.copy  # noqa: F401
        import fs.memoryfs  # noqa: F401
        import fs.opener  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]


_import_fs()

from fs import errors  # noqa: E402
from fs.base import FS  # noqa: E402
from fs.copy import copy_fs  # noqa: E402
from fs.memoryfs import MemoryFS  # noqa: E402
from fs.opener import open_fs  # noqa: E402
from fs.opener.errors import OpenerError  # noqa: E402

__all__ = [
    "FS",
    "MemoryFS",
    "OpenerError",
    "Snapshot",
    "copy_fs",
    "errors",
    "open_fs",
    "restore_snapshot",
    "take_snapshot",
]


# -- snapshots: cheap copies of a MemoryFS for per-test rollback ---------------
#
# Re-saving every file of a test class before each test costs a write per
# file. A MemoryFS is a tree of ``_DirEntry`` objects whose file contents live
# in ``io.BytesIO`` buffers, and CPython shares bytes between
# ``BytesIO.getvalue()`` and ``BytesIO(bytes)`` until one side writes. So a
# snapshot is a frozen copy of the entry tree holding the stored ``bytes``
# themselves, and restoring one builds new entries around the same bytes and
# swaps the filesystem's root: no file content is copied either way. This
# touches ``fs.memoryfs`` internals, so any other filesystem (or a MemoryFS
# whose internals look different) goes through the public API instead.

try:
    from fs.enums import ResourceType
    from fs.memoryfs import _DirEntry
except ImportError:  # pragma: no cover - a future fs without these names
    _DirEntry = None  # type: ignore[assignment,misc]

# (name, (created, accessed, modified), bytes of a file or children of a directory)
_Frozen = tuple[str, tuple[float, float, float], "bytes | tuple[_Frozen, ...]"]


class Snapshot:
    """The files, directories and times of a filesystem at one moment."""

    __slots__ = ("_copy", "_tree")

    def __init__(self, tree: _Frozen | None = None, copy: FS | None = None) -> None:
        self._tree = tree
        self._copy = copy


def _has_entry_tree(target: FS) -> TypeGuard[MemoryFS]:
    """Return True if *target* is a MemoryFS whose entry tree this module understands."""
    root = getattr(target, "root", None)
    return (
        _DirEntry is not None
        and isinstance(target, MemoryFS)
        and type(root) is _DirEntry
        and isinstance(getattr(root, "_dir", None), dict)
    )


def take_snapshot(source: FS, *, public_api: bool = False) -> Snapshot:
    """Return a snapshot of every file and directory of *source*, sharing the bytes."""
    if not public_api and _has_entry_tree(source):
        with source._lock:
            return Snapshot(tree=_freeze(source.root))
    copy = MemoryFS()
    copy_fs(source, copy, preserve_time=True)
    return Snapshot(copy=copy)


def restore_snapshot(target: FS, snapshot: Snapshot, *, public_api: bool = False) -> None:
    """Make *target* hold exactly the files, directories and times of *snapshot*."""
    if snapshot._tree is not None and not public_api and _has_entry_tree(target):
        root = _thaw(snapshot._tree)
        with target._lock:
            target.root = root
        return
    with target.lock():
        target.removetree("/")
        if snapshot._copy is not None:
            copy_fs(snapshot._copy, target, preserve_time=True)
        elif snapshot._tree is not None:
            for name_and_rest in _children(snapshot._tree):
                _write_frozen(target, "/" + name_and_rest[0], name_and_rest)


def _freeze(entry: Any) -> _Frozen:
    """Return *entry* and everything below it as nested tuples."""
    times = (entry.created_time, entry.accessed_time, entry.modified_time)
    if entry.is_dir:
        return entry.name, times, tuple(_freeze(child) for child in entry._dir.values())
    with entry.lock:
        # getvalue() hands out the buffer itself; BytesIO copies it before
        # its next write, so the snapshot never changes.
        return entry.name, times, entry.bytes_file.getvalue()


def _thaw(frozen: _Frozen) -> Any:
    """Return a new entry tree for *frozen*, sharing its bytes."""
    name, (created, accessed, modified), payload = frozen
    if isinstance(payload, bytes):
        entry = _DirEntry(ResourceType.file, name)
        entry._bytes_file = io.BytesIO(payload)  # shares payload until written
    else:
        entry = _DirEntry(ResourceType.directory, name)
        for child in payload:
            entry._dir[child[0]] = _thaw(child)
    entry.created_time, entry.accessed_time, entry.modified_time = created, accessed, modified
    return entry


def _children(frozen: _Frozen) -> tuple[_Frozen, ...]:
    """Return the children of the frozen directory *frozen*."""
    payload = frozen[2]
    return () if isinstance(payload, bytes) else payload


def _write_frozen(target: FS, path: str, frozen: _Frozen) -> None:
    """Write the frozen entry *frozen* to *path* on *target* through the public API."""
    _name, (_created, accessed, modified), payload = frozen
    if isinstance(payload, bytes):
        target.writebytes(path, payload)
    else:
        target.makedir(path, recreate=True)
        for child in payload:
            _write_frozen(target, path + "/" + child[0], child)
    target.setinfo(path, {"details": {"accessed": accessed, "modified": modified}})
