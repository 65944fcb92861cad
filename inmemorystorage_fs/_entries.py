"""The MemoryFS fast path: ``EntryTree`` reads and changes MemoryFS's directory entries.

Every public MemoryFS call validates and normalizes its path again, takes the
filesystem lock and builds an Info object (~6 us), where the storage has
already normalized the name. fs 2.4 is frozen upstream (setup.py pins <2.5),
so for a plain MemoryFS the storage's tree walks the ``_DirEntry`` objects
itself, and changes them only under MemoryFS's own lock. This module and
``_snapshot`` are the only readers of those internals, and both ask
``has_entries()`` first: it is False for any other filesystem, and for every
filesystem if the probe below finds the internals changed (the tests force
that too). ``EntryTree`` calls ``Tree``'s public-API method whenever it cannot
serve a call (a missing name, the wrong kind, a root swapped or closed), so
errors have one source.
"""

from __future__ import annotations

import io
import operator
import time
from collections.abc import Iterable, Iterator
from itertools import compress
from typing import IO, Any, Literal, Protocol

from ._changes import Changes
from ._errors import is_a_directory, name_taken
from ._fs import FS, MemoryFS, ResourceType, memoryfs
from ._metadata import ATTRIBUTE, Metadata
from ._names import known_parts, name_parts
from ._tree import LINK_RETRIES, Staged, Tree

__all__ = ["MEMORY_INTERNALS", "Entry", "EntryTree", "has_entries", "new_file", "tree_class"]


class Entry(Protocol):
    """What this module reads of a MemoryFS ``_DirEntry``."""

    name: str
    created_time: float
    accessed_time: float
    modified_time: float
    _dir: dict[str, Entry]  # a file's is empty
    _bytes_file: io.BytesIO | None  # None for a directory


def _entries_work() -> bool:
    """Return True if MemoryFS's directory entries look as this module expects."""
    try:
        probe = MemoryFS()
        probe.makedir("/d")
        probe.writebytes("/d/f", b"xy")
        directory = probe.__dict__["root"]._dir["d"]
        file = directory._dir["f"]
        made = memoryfs._DirEntry(ResourceType.file, "f")
        return (
            type(directory) is memoryfs._DirEntry
            and directory._bytes_file is None
            and file._bytes_file.getvalue() == b"xy"
            and not file._dir
            and isinstance(made._dir, dict)
            and all(
                isinstance(getattr(file, key + "_time"), float)
                for key in ("created", "accessed", "modified")
            )
            and hasattr(probe._lock, "acquire")
            and hasattr(made, "__dict__")  # where a file's metadata goes (see _metadata)
            and probe.lock() is probe._lock  # the lock each Changes count is kept under
        )
    except Exception:  # any change in the internals means: use the public API
        return False


MEMORY_INTERNALS = _entries_work()


def has_entries(fs: FS) -> bool:
    """Return True if this module (and ``_snapshot``) may work on *fs*'s entries."""
    return MEMORY_INTERNALS and type(fs) is MemoryFS


def tree_class(fs: FS) -> type[Tree]:
    """Return the tree class that serves *fs* best."""
    return EntryTree if has_entries(fs) else Tree


def root_entry(fs: FS) -> Entry | None:
    """Return *fs*'s root entry, or None once it is closed."""
    # Read on every call: restore_snapshot() swaps the root, close() drops it.
    root: Entry | None = fs.__dict__.get("root")
    return root


def find(entry: Entry, parts: Iterable[str]) -> Entry | None:
    """Return the entry at the path *parts* below *entry*, or None if there is none."""
    for part in parts:
        # A file's _dir is empty, so a path through a file finds nothing.
        found = entry._dir.get(part)
        if found is None:
            return None
        entry = found
    return entry


def file_bytes(entry: Entry) -> bytes:
    """Return the stored bytes of the file *entry*, shared rather than copied."""
    # getvalue() hands out the buffer itself; the stored BytesIO copies it
    # before its next write, so the caller holds an unchanging snapshot.
    assert entry._bytes_file is not None
    return entry._bytes_file.getvalue()


_BYTES_FILE = operator.attrgetter("_bytes_file")
# Each time's attribute, named once: a name built per call is hashed per call.
_TIMES = {key: operator.attrgetter(f"{key}_time") for key in ("created", "accessed", "modified")}
# Below this, growing the buffer chunk by chunk costs less than reserving it.
_RESERVE_FROM = 1024 * 1024
# A content's size is only what it says (a wrong or hostile one may say 2**40
# for 4 bytes): reserve at most this, and let the buffer grow past it as bytes
# arrive. 64 MiB keeps one allocation for the 64 MiB uploads of bench-big-files.
_RESERVE_AT_MOST = 64 * 1024 * 1024


def new_file(chunks: Iterable[bytes], size_hint: int = 0) -> Entry:
    """Return a file entry holding *chunks*, not yet in any directory."""
    # fs types _dir as a MutableMapping of _DirEntry; it is the dict Entry names.
    entry: Entry = memoryfs._DirEntry(ResourceType.file, "")  # type: ignore[assignment]
    reserve = min(size_hint, _RESERVE_AT_MOST) if size_hint >= _RESERVE_FROM else 0
    if reserve:
        # Take the whole size at once: growing chunk by chunk, BytesIO would
        # reallocate ~60 times for 64 MiB (copying whenever realloc cannot grow
        # in place) and keep up to 12.5% more memory than the file needs.
        # bytes(n) is calloc'd (pages arrive as they are written) and, being
        # referenced by the BytesIO alone, is written in place, not copied.
        entry._bytes_file = io.BytesIO(bytes(reserve))
    buffer = entry._bytes_file
    assert buffer is not None
    write = buffer.write
    for chunk in chunks:
        write(chunk)
    if reserve and buffer.tell() < reserve:
        buffer.truncate(buffer.tell())  # the content was shorter than it said
    entry.modified_time = time.time()
    return entry


Link = Literal["linked", "taken", "no-parent"]
Unlink = Literal["removed", "missing", "directory", "no-parent"]


def link(
    fs: FS,
    root: Entry,
    parts: tuple[str, ...],
    entry: Entry,
    changes: Changes,
    replace: bool = False,
) -> Link:
    """Put the file *entry* at *parts* below *root*, counting the change in *changes*.

    Check and insertion happen under MemoryFS's lock, so creation stays
    exclusive against every other writer, through this module or the public
    API. With *replace*, a file (not a directory) at *parts* is swapped for
    *entry* in one step, keeping its created time: readers see the old bytes
    or the new. "taken": a file (or, with *replace*, a directory) is there;
    "no-parent": the parent directory is missing or is a file.
    """
    with fs._lock:
        parent = find(root, parts[:-1])
        if parent is None or parent._bytes_file is not None:
            return "no-parent"
        name = parts[-1]
        old = parent._dir.get(name)
        if old is not None:
            if not replace or old._bytes_file is None:
                return "taken"
            entry.created_time = old.created_time
        entry.name = name
        parent._dir[name] = entry
        parent.modified_time = parent.accessed_time = time.time()
        changes.count += 1  # under fs's lock, which is changes.lock (see the probe)
        return "linked"


def make_dirs(fs: FS, root: Entry, parts: tuple[str, ...]) -> bool:
    """Create the missing directories *parts* below *root*; False if a file is in the way."""
    with fs._lock:
        entry = root
        for index, part in enumerate(parts):
            child = entry._dir.get(part)
            if child is None:
                now = time.time()
                entry.modified_time = entry.accessed_time = now  # it gains a child
                for name in parts[index:]:
                    made: Entry = memoryfs._DirEntry(ResourceType.directory, name)  # type: ignore[assignment]
                    entry._dir[name] = made
                    entry = made
                return True
            if child._bytes_file is not None:
                return False
            entry = child
        return True


def unlink_file(fs: FS, root: Entry, parts: tuple[str, ...], changes: Changes) -> Unlink:
    """Remove the file at *parts* below *root*, if that is what is there, counting it."""
    with fs._lock:
        parent = find(root, parts[:-1])
        if parent is None or parent._bytes_file is not None:
            return "no-parent"
        entry = parent._dir.get(parts[-1])
        if entry is None:
            return "missing"
        if entry._bytes_file is None:
            return "directory"
        del parent._dir[parts[-1]]
        parent.modified_time = parent.accessed_time = time.time()
        changes.count += 1  # under fs's lock, which is changes.lock (see the probe)
        return "removed"


def list_entry(fs: FS, entry: Entry) -> tuple[list[str], list[str]]:
    """Return the sorted directory and file names directly in the directory *entry*."""
    # OrderedDict iterates ~15x slower than the dict beneath it; the names are
    # sorted anyway, so read the plain dict, names and entries in one order.
    children = entry._dir
    with fs._lock:
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


class EntryTree(Tree):
    """A ``Tree`` over a plain MemoryFS that works on its entries where it can."""

    def __init__(self, fs: FS, root: str = "") -> None:
        super().__init__(fs, root)
        self._root_parts = tuple(root.split("/")[1:]) if root else ()
        # Where MemoryFS keeps its root entry, which a restore swaps and close() drops.
        self._fs_dict: dict[str, Any] = fs.__dict__

    def _parts(self, name: str) -> tuple[str, ...]:
        parts = known_parts(name) or name_parts(name)
        return self._root_parts + parts if self._root_parts else parts

    def _find(self, name: str) -> Entry | None:
        """Return the entry of *name*, or None if there is none or the root is gone."""
        # find(), root_entry() and _parts() inlined: every read walks here,
        # and each Python call costs what a whole level of the walk does.
        entry: Entry | None = self._fs_dict.get("root")
        parts = known_parts(name) or name_parts(name)
        if self._root_parts:
            parts = self._root_parts + parts
        for part in parts:
            if entry is None:
                return None
            entry = entry._dir.get(part)
        return entry

    def exists(self, name: str) -> bool:
        if self._find(name) is not None:
            return True
        if root_entry(self.fs) is None:
            return super().exists(name)
        return False

    def read(self, name: str) -> bytes:
        entry = self._find(name)
        if entry is None or entry._bytes_file is None:
            return super().read(name)
        entry.accessed_time = time.time()
        return entry._bytes_file.getvalue()

    def read_stamped(self, name: str) -> tuple[bytes, float | None]:
        entry = self._find(name)  # the one walk: bytes and time from the same entry
        if entry is None or entry._bytes_file is None:
            return super().read_stamped(name)
        entry.accessed_time = time.time()
        return entry._bytes_file.getvalue(), entry.modified_time

    def size(self, name: str) -> int:
        entry = self._find(name)
        if entry is None or entry._bytes_file is None:
            return super().size(name)
        return len(entry._bytes_file.getvalue())

    def metadata(self, name: str) -> Metadata | None:
        entry = self._find(name)
        if entry is None or entry._bytes_file is None:
            return super().metadata(name)
        found: Metadata | None = getattr(entry, ATTRIBUTE, None)
        return found

    def attach(self, name: str, metadata: Metadata | None) -> None:
        entry = self._find(name)
        if entry is not None and entry._bytes_file is not None:
            setattr(entry, ATTRIBUTE, metadata)
        # else deleted meanwhile: nothing to store it with

    def stamp(self, name: str, key: str) -> float | None:
        entry = self._find(name)
        if entry is None:
            return super().stamp(name, key)
        value: float = _TIMES[key](entry)
        return value

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        entry = self._find(name)
        if entry is None or entry._bytes_file is not None:
            return super().listdir(name)
        return list_entry(self.fs, entry)

    def make_parents(self, name: str) -> None:
        root = root_entry(self.fs)
        if root is None:
            super().make_parents(name)
        elif not make_dirs(self.fs, root, self._parts(name)[:-1]):
            raise self.in_the_way(name)

    def stage(self, chunks: Iterator[bytes], size_hint: int) -> Staged:
        # Read the content once, into a file entry no one sees until it is
        # complete and linked under a free name.
        return Staged(None, size_hint, entry=new_file(chunks, size_hint))

    def staged_size(self, staged: Staged) -> int:
        if staged.entry is None:
            return super().staged_size(staged)
        return len(file_bytes(staged.entry))

    def _link(self, name: str, staged: Staged, replace: bool) -> bool:
        """Link *staged*'s entry at *name*: True if done, False if the public API must."""
        parts = self._parts(name)
        if staged.metadata is not None:
            setattr(staged.entry, ATTRIBUTE, staged.metadata)  # linked with its bytes
        for _ in range(LINK_RETRIES):
            root = root_entry(self.fs)
            if root is None:
                return False
            outcome = link(self.fs, root, parts, staged.entry, self.changes, replace)
            if outcome == "linked":
                return True
            if outcome == "taken":
                raise is_a_directory(name) if replace else name_taken(name)
            self.make_parents(name)  # raises if a file is in the way
        return False

    def _unstaged(self, staged: Staged) -> Staged:
        """Return *staged*'s read content as chunks for the public API."""
        if staged.entry is None:
            return staged
        return Staged(iter((file_bytes(staged.entry),)), staged.size_hint, None, staged.metadata)

    def add(self, name: str, staged: Staged) -> None:
        if staged.entry is None or not self._link(name, staged, replace=False):
            super().add(name, self._unstaged(staged))

    def replace(self, name: str, staged: Staged) -> None:
        if staged.entry is None or not self._link(name, staged, replace=True):
            super().replace(name, self._unstaged(staged))

    def seek_quietly(self, file: IO[bytes], offset: int, whence: int) -> int:
        # MemoryFS's own seek() records an access; lseek() on a disk does not.
        entry, stored = getattr(file, "_dir_entry", None), getattr(file, "_bytes_io", None)
        if entry is None or stored is None:
            return super().seek_quietly(file, offset, whence)
        with entry.lock:  # the stored BytesIO's position is shared by every handle
            file.pos = stored.seek(offset, whence)  # type: ignore[attr-defined]
        return int(file.pos)  # type: ignore[attr-defined]

    def holds(self, name: str, file: IO[bytes]) -> bool:
        opened = getattr(file, "_dir_entry", None)
        if opened is None:
            return super().holds(name, file)
        return self._find(name) is opened

    def remove(self, name: str) -> None:
        root: Entry | None = self._fs_dict.get("root")  # root_entry(), inlined
        if root is not None:
            outcome = unlink_file(self.fs, root, self._parts(name), self.changes)
            if outcome == "removed" or outcome == "missing":
                return
        super().remove(name)  # a directory tree, or a missing or file parent
