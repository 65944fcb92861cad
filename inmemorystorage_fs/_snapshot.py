"""Snapshots: the files of a filesystem at one moment, for per-test rollback and pickling.

Re-saving every file of a test class before each test costs a write per
file. A MemoryFS is a tree of ``_DirEntry`` objects whose file contents live
in ``io.BytesIO`` buffers, and CPython shares bytes between
``BytesIO.getvalue()`` and ``BytesIO(bytes)`` until one side writes. So a
snapshot is a frozen copy of the entry tree holding the stored ``bytes``
themselves, and restoring one builds new entries around the same bytes and
swaps the filesystem's root: no file content is copied either way. Where
``_entries.has_entries()`` says no, the same frozen form is read and written
through the public API. A file's metadata (``_metadata``) is frozen with its
bytes. A snapshot holds only tuples, strings, floats, bytes and the metadata
dicts (never changed once stored), so it pickles.
"""

from __future__ import annotations

import io
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
        root = _thaw(snapshot.tree)
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
    if entry._bytes_file is None:
        return entry.name, times, tuple(_freeze(child) for child in entry._dir.values()), None
    # getvalue() hands out the buffer itself; BytesIO copies it before its
    # next write, so the snapshot never changes.
    return entry.name, times, entry._bytes_file.getvalue(), getattr(entry, ATTRIBUTE, None)


def _thaw(frozen: _Frozen) -> Any:
    """Return a new entry tree for *frozen*, sharing its bytes."""
    name, (created, accessed, modified), payload, metadata = frozen
    if isinstance(payload, bytes):
        entry = memoryfs._DirEntry(ResourceType.file, name)
        entry._bytes_file = io.BytesIO(payload)  # shares payload until written
        if metadata is not None:
            setattr(entry, ATTRIBUTE, metadata)
    else:
        entry = memoryfs._DirEntry(ResourceType.directory, name)
        for child in payload:
            entry._dir[child[0]] = _thaw(child)
    entry.created_time, entry.accessed_time, entry.modified_time = created, accessed, modified
    return entry


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
