"""Snapshots: the files of a filesystem at one moment, for per-test rollback and pickling.

Re-saving every file of a test class before each test costs a write per
file. A MemoryFS is a tree of ``_DirEntry`` objects whose file contents live
in ``io.BytesIO`` buffers, and CPython shares bytes between
``BytesIO.getvalue()`` and ``BytesIO(bytes)`` until one side writes. So a
snapshot is a frozen copy of the entry tree holding the stored ``bytes``
themselves, and restoring one swaps the filesystem's root for an entry around
the same bytes: no file content is copied either way. Where
``_entries.has_entries()`` says no, the same frozen form is read and written
through the public API. A file's metadata (``_metadata``) is frozen with its
bytes. A snapshot holds only tuples, strings, floats, bytes and the metadata
dicts (never changed once stored), so it pickles.

Restoring costs the same for 10 files as for 100,000: the new root is an
``_Unread`` directory, whose entries are made from the frozen form when
anyone first reaches for them (this package or MemoryFS itself, which reaches
every child through ``_dir``), one directory at a time. A test pays for the
directories it walks into, never for the rest of the seed; taking a snapshot
reuses the frozen form of every directory no one walked into. A directory is
copied when first walked into rather than when first changed because MemoryFS
changes entries on reads too (access times, the position a handle shares).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

from ._changes import note_write
from ._entries import Entry, has_entries
from ._fs import FS, ResourceType, memoryfs
from ._metadata import ATTRIBUTE, Metadata, drop_under, remember, stored_at

__all__ = ["Snapshot", "graft_snapshot", "restore_snapshot", "snapshot_files", "take_snapshot"]

# (name, (created, accessed, modified), bytes of a file or children of a directory,
# a file's metadata or None)
_Frozen = tuple[str, tuple[float, float, float], "bytes | tuple[_Frozen, ...]", "Metadata | None"]


class Snapshot:
    """The files, directories and times of a filesystem at one moment."""

    __slots__ = ("tree",)

    def __init__(self, tree: _Frozen) -> None:
        self.tree = tree

    def __getstate__(self) -> _Frozen:
        return self.tree

    def __setstate__(self, state: _Frozen) -> None:
        self.tree = state


def take_snapshot(source: FS) -> Snapshot:
    """Return a snapshot of every file and directory of *source*, sharing the bytes."""
    if has_entries(source):
        with source._lock:
            return Snapshot(_freeze(source.__dict__["root"]))
    with source.lock():
        return Snapshot(("", (0.0, 0.0, 0.0), _freeze_public(source, "/"), None))


def restore_snapshot(target: FS, snapshot: Snapshot) -> None:
    """Make *target* hold exactly the files, directories and times of *snapshot*."""
    if has_entries(target):
        root = _thaw(snapshot.tree)  # one entry, whatever the snapshot holds
        with target._lock:
            target.__dict__["root"] = root
    else:
        with target.lock():
            target.removetree("/")
            drop_under(target, "/")
            for child in _children(snapshot.tree):
                _write_public(target, "/" + child[0], child)
    note_write(target)


def graft_snapshot(target: FS, root: str, snapshot: Snapshot) -> None:
    """Put the files of *snapshot* into the directory *root* of *target*, keeping the rest."""
    if not root:
        restore_snapshot(target, snapshot)
        return
    if has_entries(target):
        parent_path, _, name = root.rpartition("/")
        with target._lock:
            target.makedirs(parent_path or "/", recreate=True)
            parent = target.__dict__["root"]
            for part in filter(None, parent_path.split("/")):
                parent = parent._dir[part]
            grafted = _thaw(snapshot.tree)
            grafted.name = name
            parent._dir[name] = grafted
    else:
        with target.lock():
            target.makedirs(root, recreate=True)
            drop_under(target, root)
            for child in _children(snapshot.tree):
                _write_public(target, f"{root}/{child[0]}", child)
    note_write(target)


def snapshot_files(snapshot: Snapshot | None, root: str = "") -> dict[str, bytes]:
    """Return the files of *snapshot* under the directory *root*, by name relative to it.

    The bytes are the snapshot's own: a file nobody wrote since is the same
    ``bytes`` object in a later snapshot, so comparing them costs nothing.
    """
    if snapshot is None:
        return {}
    children = _children(snapshot.tree)
    for part in filter(None, root.split("/")):
        directory = next((child for child in children if child[0] == part), None)
        if directory is None:
            return {}
        children = _children(directory)
    found: dict[str, bytes] = {}
    pending = [("", child) for child in children]
    while pending:
        prefix, (name, _times, payload, _metadata) = pending.pop()
        if isinstance(payload, bytes):
            found[prefix + name] = payload
        else:
            pending.extend((f"{prefix}{name}/", child) for child in payload)
    return found


def _freeze(entry: Entry) -> _Frozen:
    """Return *entry* and everything below it as nested tuples."""
    times = (entry.created_time, entry.accessed_time, entry.modified_time)
    if isinstance(entry, _Unread):
        # Its children are still the frozen ones (its own name and times may
        # have changed). Read after the type: _read() drops it last.
        unread = entry.__dict__.get("frozen")
        if unread is not None:
            return entry.name, times, unread[2], None
    if entry._bytes_file is None:
        return entry.name, times, tuple(_freeze(child) for child in entry._dir.values()), None
    # getvalue() hands out the buffer itself; BytesIO copies it before its
    # next write, so the snapshot never changes.
    return entry.name, times, entry._bytes_file.getvalue(), getattr(entry, ATTRIBUTE, None)


class _Unread(memoryfs._DirEntry):
    """A directory whose entries are made from its frozen form when first reached for.

    ``_dir`` is the only way to its children, for MemoryFS as for this
    package; the first read of it makes them (one level: directories among
    them are ``_Unread`` too) and turns this object into a plain ``_DirEntry``.
    Until then it has no lock or open files of its own: MemoryFS takes a
    directory's lock only to say that its size is 0.
    """

    resource_type = ResourceType.directory
    _bytes_file = None
    _open_files = ()  # type: ignore[assignment]  # a directory's stays empty: refuse to grow
    lock = threading.RLock()

    # Read-only until made: MemoryFS never sets a directory's _dir.
    @property
    def _dir(self) -> OrderedDict[str, Any]:  # type: ignore[override]
        return _read(self)


# Two threads reaching into one unread directory must make one set of children.
_read_lock = threading.Lock()


def _read(directory: _Unread) -> OrderedDict[str, Any]:
    """Make *directory*'s entries from its frozen form, once, and return them."""
    with _read_lock:
        state = directory.__dict__
        if type(directory) is _Unread:
            children: OrderedDict[str, Any] = OrderedDict()
            for child in state["frozen"][2]:
                children[child[0]] = _thaw(child)
            state.update(
                _dir=children,
                _open_files=[],
                _bytes_file=None,
                lock=threading.RLock(),
                resource_type=ResourceType.directory,
            )
            directory.__class__ = memoryfs._DirEntry  # type: ignore[assignment]
            del state["frozen"]  # last: _freeze() reads it after the type
        children = state["_dir"]
    return children


def _thaw(frozen: _Frozen) -> Any:
    """Return a new entry for *frozen*, sharing its bytes; a directory's entries come later."""
    if not LAZY_DIRECTORIES:
        return _thaw_with_init(frozen)
    name, (created, accessed, modified), payload, metadata = frozen
    if isinstance(payload, bytes):
        # What _DirEntry.__init__ sets, in its order (instances then share
        # one table of keys), without the BytesIO and the clock read it would
        # replace: half the cost, paid per file of every directory walked into.
        entry = _new_entry(memoryfs._DirEntry)
        entry.resource_type = ResourceType.file
        entry.name = name
        entry._dir = OrderedDict()
        entry._open_files = []
        entry._bytes_file = io.BytesIO(payload)  # shares payload until written
        entry.lock = threading.RLock()
        entry.created_time, entry.accessed_time = created, accessed
        entry.modified_time = modified
        if metadata is not None:
            setattr(entry, ATTRIBUTE, metadata)
        return entry
    unread = _new_entry(_Unread)  # __init__ would set _dir, a property here
    unread.name = name
    unread.created_time, unread.accessed_time = created, accessed
    unread.modified_time = modified
    unread.frozen = frozen
    return unread


def _thaw_with_init(frozen: _Frozen) -> Any:
    """Return a new entry tree for *frozen*, sharing its bytes, made by ``_DirEntry``."""
    name, (created, accessed, modified), payload, metadata = frozen
    if isinstance(payload, bytes):
        entry = memoryfs._DirEntry(ResourceType.file, name)
        entry._bytes_file = io.BytesIO(payload)  # shares payload until written
        if metadata is not None:
            setattr(entry, ATTRIBUTE, metadata)
    else:
        entry = memoryfs._DirEntry(ResourceType.directory, name)
        for child in payload:
            entry._dir[child[0]] = _thaw_with_init(child)
    entry.created_time, entry.accessed_time, entry.modified_time = created, accessed, modified
    return entry


def _new_entry(cls: type[memoryfs._DirEntry]) -> Any:
    """Return an instance of the entry class *cls* with no attributes set."""
    return object.__new__(cls)


def _freeze_public(source: FS, path: str) -> tuple[_Frozen, ...]:
    """Return the children of the directory *path* of *source*, read through the public API."""
    frozen: list[_Frozen] = []
    for info in source.scandir(path, namespaces=("details",)):
        child = f"{path.rstrip('/')}/{info.name}"
        raw: dict[str, Any] = dict(info.raw["details"])
        times = (
            float(raw.get("created") or 0.0),
            float(raw.get("accessed") or 0.0),
            float(raw.get("modified") or 0.0),
        )
        if info.is_dir:
            frozen.append((info.name, times, _freeze_public(source, child), None))
        else:
            metadata = stored_at(source, child)
            frozen.append((info.name, times, source.readbytes(child), metadata))
    return tuple(frozen)


def _children(frozen: _Frozen) -> tuple[_Frozen, ...]:
    """Return the children of the frozen directory *frozen*."""
    payload = frozen[2]
    return () if isinstance(payload, bytes) else payload


def _write_public(target: FS, path: str, frozen: _Frozen) -> None:
    """Write the frozen entry *frozen* to *path* on *target* through the public API."""
    _name, (_created, accessed, modified), payload, metadata = frozen
    if isinstance(payload, bytes):
        target.writebytes(path, payload)
        remember(target, path, metadata)
    else:
        target.makedir(path, recreate=True)
        for child in payload:
            _write_public(target, path + "/" + child[0], child)
    target.setinfo(path, {"details": {"accessed": accessed, "modified": modified}})


def _unread_works() -> bool:
    """Return True if a directory made on first use ends up as MemoryFS makes one."""
    try:
        frozen: _Frozen = ("d", (1.0, 2.0, 3.0), (("f", (4.0, 5.0, 6.0), b"xy", None),), None)
        unread = _thaw(frozen)
        children = unread._dir
        made = memoryfs._DirEntry(ResourceType.directory, "d")
        made_file = memoryfs._DirEntry(ResourceType.file, "f")
        return (
            type(unread) is memoryfs._DirEntry
            and set(vars(unread)) == set(vars(made))
            and list(vars(children["f"])) == list(vars(made_file))
            and children["f"]._bytes_file.getvalue() == b"xy"
            and children["f"].size == 2
            and unread.size == 0
            and _freeze(unread) == frozen  # type: ignore[arg-type]  # fs types _dir loosely
        )
    except Exception:  # any change in the internals means: make every entry at once
        return False


#: Whether restoring makes a directory's entries on first use and its files
#: without ``_DirEntry.__init__`` (else as before): the probe tries it, on.
LAZY_DIRECTORIES = True
LAZY_DIRECTORIES = has_entries(memoryfs.MemoryFS()) and _unread_works()
