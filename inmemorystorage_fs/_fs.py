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

import io
import operator
import pkgutil
import sys
import time
import types
from collections.abc import Iterable, Iterator
from itertools import compress
from typing import Any, TypeGuard


def _declare_namespace(package_name: str) -> None:
    """Extend *package_name*'s ``__path__`` as ``pkg_resources`` would."""
    package = sys.modules[package_name]
    package.__path__ = pkgutil.extend_path(package.__path__, package_name)


def _iter_entry_points(group: str, name: str | None = None) -> Iterator[Any]:
    """Yield the installed entry points of *group* (named *name* if given)."""
    import importlib.metadata  # only when an FS URL needs an opener plugin: it costs ~15 ms

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
        import fs.memoryfs  # a real pkg_resources is already loaded

        return
    sys.modules["pkg_resources"] = _stand_in()
    try:
        # fs.opener.registry binds the stand-in at import time and calls it
        # later, so it keeps working after the stand-in leaves sys.modules.
        import fs.copy
        import fs.memoryfs
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


# -- the fast path through MemoryFS's directory entries ----------------------
# Every public MemoryFS call validates and normalizes its path again, takes the
# filesystem lock and builds an Info object (~6 us), where the storage has
# already normalized the name. fs 2.4 is frozen upstream (setup.py pins <2.5),
# so for a plain MemoryFS the storage reads the ``_DirEntry`` tree directly
# through the functions below, and changes it only under MemoryFS's own lock.
# _entries_work() checks at import that the tree is what they expect; if not,
# MEMORY_INTERNALS is False and the storage uses the public API only (the
# tests force that fallback too).


def _entries_work() -> bool:
    """Return True if MemoryFS's directory entries look as this module expects."""
    try:
        probe = MemoryFS()
        probe.makedir("/d")
        probe.writebytes("/d/f", b"xy")
        directory = probe.__dict__["root"]._dir["d"]
        file = directory._dir["f"]
        return (
            type(directory) is _DirEntry
            and directory._bytes_file is None
            and file._bytes_file.getvalue() == b"xy"
            and not file._dir
            and all(
                isinstance(getattr(file, key + "_time"), float)
                for key in ("created", "accessed", "modified")
            )
            and hasattr(probe._lock, "acquire")
        )
    except Exception:  # any change in the internals means: use the public API
        return False


MEMORY_INTERNALS = _entries_work()
_BYTES_FILE = operator.attrgetter("_bytes_file")


def memory_root(target: FS) -> Any | None:
    """Return *target*'s root entry if the fast path may use it, else None."""
    if MEMORY_INTERNALS and type(target) is MemoryFS:
        # Read on every call: restore_snapshot() swaps the root, close() drops it.
        return target.__dict__.get("root")
    return None


def find(root: Any, parts: Iterable[str]) -> Any | None:
    """Return the entry at the path *parts* below *root*, or None if there is none."""
    entry = root
    for part in parts:
        # A file's _dir is empty, so a path through a file finds nothing.
        entry = entry._dir.get(part)
        if entry is None:
            return None
    return entry


def is_dir(entry: Any) -> bool:
    """Return True if *entry* is a directory."""
    return entry._bytes_file is None


def file_bytes(entry: Any) -> bytes:
    """Return the stored bytes of the file *entry*, shared rather than copied."""
    # getvalue() hands out the buffer itself; the stored BytesIO copies it
    # before its next write, so the caller holds an unchanging snapshot.
    return entry._bytes_file.getvalue()  # type: ignore[no-any-return]


def file_size(entry: Any) -> int:
    """Return the size in bytes of the file *entry*."""
    return len(entry._bytes_file.getvalue())


def entry_time(entry: Any, key: str) -> float:
    """Return *entry*'s ``created``, ``modified`` or ``accessed`` timestamp."""
    return getattr(entry, key + "_time")  # type: ignore[no-any-return]


def mark_accessed(entry: Any) -> None:
    """Record that *entry* was read just now."""
    entry.accessed_time = time.time()


def list_entry(target: FS, entry: Any) -> tuple[list[str], list[str]]:
    """Return the sorted directory and file names directly in the directory *entry*."""
    # OrderedDict iterates ~15x slower than the dict beneath it; the names are
    # sorted anyway, so read the plain dict, names and entries in one order.
    children = entry._dir
    with target._lock:
        names = list(dict.keys(children))
        # _bytes_file is None for a directory; one pass finds the files, and
        # a second runs only where there are directories too.
        files = list(compress(names, map(_BYTES_FILE, dict.values(children))))
        directories: list[str] = []
        if len(files) != len(names):
            is_directory = map(operator.not_, map(_BYTES_FILE, dict.values(children)))
            directories = list(compress(names, is_directory))
    directories.sort()
    files.sort()
    return directories, files


def new_file(chunks: Iterable[bytes], size_hint: int = 0) -> Any:
    """Return a file entry holding *chunks*, not yet in any directory."""
    entry = _DirEntry(ResourceType.file, "")
    reserve = size_hint >= _RESERVE_FROM
    if reserve:
        # Take the whole size at once: growing chunk by chunk, BytesIO would
        # reallocate ~60 times for 64 MiB (copying whenever realloc cannot grow
        # in place) and keep up to 12.5% more memory than the file needs.
        # bytes(n) is calloc'd (pages arrive as they are written) and, being
        # referenced by the BytesIO alone, is written in place, not copied.
        entry._bytes_file = io.BytesIO(bytes(size_hint))
    buffer: io.BytesIO = entry._bytes_file  # type: ignore[assignment]  # set just above or by fs
    write = buffer.write
    for chunk in chunks:
        write(chunk)
    if reserve and buffer.tell() < size_hint:
        buffer.truncate(buffer.tell())  # the content was shorter than it said
    entry.modified_time = time.time()
    return entry


_RESERVE_FROM = 1024 * 1024


def link(
    target: FS, root: Any, parts: list[str], entry: Any, replace: bool = False
) -> bool | None:
    """Put the file *entry* at *parts*: True if done, False if the name is taken, None if
    the parent directory is missing.

    Check and insertion happen under MemoryFS's lock, so creation stays exclusive
    against every other writer, through this module or the public API. With
    *replace*, a file (not a directory) at *parts* is swapped for *entry* in
    one step, keeping its created time: readers see the old bytes or the new.
    """
    with target._lock:
        parent = find(root, parts[:-1])
        if parent is None or parent._bytes_file is not None:
            return None
        name = parts[-1]
        old = parent._dir.get(name)
        if old is not None:
            if not replace or old._bytes_file is None:
                return False
            entry.created_time = old.created_time
        entry.name = name
        parent._dir[name] = entry
        parent.modified_time = parent.accessed_time = time.time()
        return True


def unlink_file(target: FS, root: Any, parts: list[str]) -> bool | None:
    """Remove the file at *parts*: True if removed, False if missing, None if a directory."""
    with target._lock:
        parent = find(root, parts[:-1])
        entry = None if parent is None else parent._dir.get(parts[-1])
        if parent is None or entry is None:
            return False
        if entry._bytes_file is None:
            return None
        del parent._dir[parts[-1]]
        parent.modified_time = parent.accessed_time = time.time()
        return True
