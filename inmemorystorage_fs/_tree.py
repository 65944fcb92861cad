"""``Tree``: the storage operations on normalized names, over the public ``fs`` API.

A storage makes one call on its tree per operation. The tree speaks the names
``_names.normalize_name`` returns (``""`` is the storage root) and raises only
built-in exceptions: this module is the only place that catches ``fs.errors``,
and it hands them to ``_errors.os_error`` in one context manager.
``_entries.EntryTree`` serves the same calls faster for a plain ``MemoryFS``
and comes back here whenever it cannot.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ._changes import changes_of
from ._errors import Translate, file_in_path, is_a_directory, name_taken, translate
from ._fs import FS, OSFS, OpenerError, errors, open_fs
from ._handle import Handle, Limit, Lock, Snapshot, buffered
from ._metadata import Metadata, drop_under, remember, stored_at
from ._whole import PART_NAME, create_whole, replace_whole

__all__ = [
    "DELETE_RETRIES",
    "LINK_RETRIES",
    "Staged",
    "Tree",
    "open_folder",
    "open_url",
]

#: A concurrent delete can take a new file's parent directories between their
#: creation and the file's; each retry creates them again. Ten lost races in a
#: row means something keeps deleting, and the caller should hear of it.
LINK_RETRIES = 10
#: Another thread may keep saving into a directory tree that is being deleted;
#: each retry deletes what it added. A hundred rounds outlast any test's writer.
DELETE_RETRIES = 100

# What FileIO.mode says for each binary mode (a file opened "w+" reads too).
_FILE_IO_MODES = {
    "r+b": "rb+",
    "wb": "wb",
    "w+b": "rb+",
    "ab": "ab",
    "a+b": "ab+",
    "xb": "xb",
    "x+b": "xb+",
}


@dataclass(slots=True)
class Staged:
    """Content for a new file, read (``entry``) or still to be read (``chunks``)."""

    chunks: Iterator[bytes] | None
    size_hint: int = 0
    entry: Any = field(default=None)
    metadata: Metadata | None = None  # stored with the file

    def data(self) -> Iterable[bytes]:
        """Return the content as chunks, once."""
        chunks, self.chunks = self.chunks, None
        if chunks is None:
            raise RuntimeError("staged content was already consumed")
        return chunks


def open_url(url: str, *, writeable: bool = False, create: bool = False) -> FS:
    """Open the FS URL *url*; raise ``ValueError`` if no opener knows it."""
    try:
        with translate(url):
            return open_fs(url, writeable=writeable, create=create)
    except OpenerError as exc:
        raise ValueError(f"Cannot open {url!r}: {exc}") from None


def open_folder(path: str) -> FS:
    """Open the folder *path* (created if missing) as a filesystem, never as an FS URL."""
    with translate(path):
        return OSFS(path, create=True)


class Tree:
    """A storage's files: the directory *root* ("" for the whole) of the filesystem *fs*."""

    #: The storage's absolute location (with "/"), under which errors show the
    #: file in the way as Django's storages do; None shows storage names.
    location: str | None = None

    def __init__(self, fs: FS, root: str = "") -> None:
        self.fs = fs
        self.changes = changes_of(fs)
        self.root = root

    def path(self, name: str) -> str:
        """Return the filesystem path of the storage name *name*."""
        return f"{self.root}/{name}" if name else self.root or "/"

    def errors(self, name: str) -> Translate:
        """Return a context manager translating ``fs`` errors about *name*."""
        return Translate(self, name)

    def through_file(self, name: str) -> bool:
        """Return True if a file stands where a directory above *name* should be."""
        parts = name.split("/")
        try:
            for end in range(1, len(parts)):
                if self.fs.isfile(self.path("/".join(parts[:end]))):
                    return True
        except errors.FSError:
            return False
        return False

    def in_the_way(self, name: str) -> OSError:
        """Return the error for a file where a directory at or above *name* is needed."""
        parts = name.split("/")
        for end in range(1, len(parts) + 1):
            above = "/".join(parts[:end])
            try:
                if self.fs.isfile(self.path(above)):
                    location = self.location
                    shown = above if location is None else f"{location.rstrip('/')}/{above}"
                    return file_in_path(name, shown)
            except errors.FSError:
                break
        return file_in_path(name)  # gone meanwhile: no file to name

    # -- asking ---------------------------------------------------------------

    def exists(self, name: str) -> bool:
        """Return True if a file or directory *name* exists."""
        with self.errors(name):  # a real disk refuses a name too long for it
            return bool(self.fs.exists(self.path(name)))

    def read(self, name: str) -> bytes:
        """Return the bytes of the file *name*, recording the access."""
        with self.errors(name):
            return bytes(self.fs.readbytes(self.path(name)))

    def read_stamped(self, name: str) -> tuple[bytes, float | None]:
        """Return the bytes of the file *name* and its modified timestamp, recording the access."""
        info = self._details(name)
        if info["is_dir"]:
            raise is_a_directory(name)
        return self.read(name), info["modified"]

    def size(self, name: str) -> int:
        """Return the size in bytes of the file *name*."""
        info = self._details(name)
        if info["is_dir"]:
            raise is_a_directory(name)
        return int(info["size"])

    def metadata(self, name: str) -> Metadata | None:
        """Return the metadata stored with the file *name* (None: none)."""
        self.size(name)  # a missing name or a directory raises as every file call does
        return stored_at(self.fs, self.path(name))

    def attach(self, name: str, metadata: Metadata | None) -> None:
        """Store *metadata* with the file *name* (None: forget what it had)."""
        remember(self.fs, self.path(name), metadata)

    def stamp(self, name: str, key: str) -> float | None:
        """Return *name*'s ``created``, ``accessed`` or ``modified`` timestamp."""
        value: float | None = self._details(name)[key]
        return value

    def _details(self, name: str) -> dict[str, Any]:
        with self.errors(name):
            info = self.fs.getinfo(self.path(name), namespaces=("details",))
        details: dict[str, Any] = dict(info.raw["details"])
        details["is_dir"] = info.is_dir
        return details

    def listdir(self, name: str) -> tuple[list[str], list[str]]:
        """Return the sorted directory and file names directly in the directory *name*."""
        try:
            infos = list(self.fs.scandir(self.path(name)))
        except errors.ResourceNotFound:
            if not name and self.root:
                return [], []  # the root of an emptied shared filesystem
            with self.errors(name):
                raise
        except errors.FSError:
            with self.errors(name):
                raise
        directories = sorted(info.name for info in infos if info.is_dir)
        files = sorted(info.name for info in infos if not info.is_dir)
        parts = [file for file in files if PART_NAME.fullmatch(file)]
        if parts and self.fs.hassyspath(self.path(name)):
            # On a disk, a file still being written under a hidden name is not
            # there yet. Elsewhere parts are never seen, and a user's own file
            # named like one is listed, as on every other tree.
            files = [file for file in files if file not in parts]
        return directories, files

    def used_bytes(self) -> int:
        """Return the bytes taken by every file under the root."""
        return sum(
            info.size
            for _path, info in self.fs.walk.info(
                self.root or "/", namespaces=["details"], ignore_errors=True
            )  # a directory deleted during the walk holds nothing
            if not info.is_dir
        )

    def view(self) -> FS:
        """Return the filesystem rooted at the storage's root."""
        if not self.root:
            return self.fs
        with self.errors(""):
            self.fs.makedirs(self.root, recreate=True)
            return self.fs.opendir(self.root)

    def syspath(self, name: str) -> str:
        """Return *name*'s path on the OS, or raise ``NotImplementedError``."""
        with self.errors(name):
            if self.fs.hassyspath(self.path(name)):
                return str(self.fs.getsyspath(self.path(name)))
        # Thumbnailers and image code call path(): say what works instead.
        raise NotImplementedError(
            f"{name!r} is not on a disk, so it has no path on the OS. Read it with "
            f"storage.open({name!r}), or, for a model's file, with field_file.open() "
            "(Pillow opens that too: Image.open(field_file))."
        )

    # -- reading and writing ----------------------------------------------

    def open(self, name: str, mode: str) -> IO[bytes]:
        """Return a new binary handle on *name*, independent of every other.

        *mode* is a binary mode as ``_names.binary_mode`` spells it ("r+b").
        """
        if mode == "rb":
            # A snapshot shares the stored bytes: readers never see a
            # half-rewritten file, and nothing is copied.
            return Snapshot(self.read(name))
        with self.errors(name):
            # The filesystem's file is opened for update whatever the mode:
            # Handle decides what the mode allows, and reads the end itself.
            update = mode[0] + "+b"
            if mode.startswith("r"):
                file: IO[bytes] = self.fs.openbin(self.path(name), update)
            else:
                file = self._create(name, update)
        self.changes.note()
        raw = Handle(
            file, name, _FILE_IO_MODES[mode], self.handle_lock(), self.limit(), self.seek_quietly
        )
        return buffered(raw)

    def handle_lock(self) -> Lock:
        """Return the lock a handle holds around each read or change of a file."""
        lock: Lock = self.fs.lock()
        return lock

    def limit(self) -> Limit | None:
        """Return what a handle asks for room before it grows a file (None: no limit)."""
        return None

    def seek_quietly(self, file: IO[bytes], offset: int, whence: int) -> int:
        """Move *file*'s position without recording an access; return the position."""
        return file.seek(offset, whence)  # a disk's lseek() records none

    def holds(self, name: str, file: IO[bytes]) -> bool:
        """Return False if *file*, opened as *name*, is no longer the file at *name*."""
        try:
            opened = os.fstat(file.fileno())
        except (OSError, ValueError):
            return True  # no descriptor to compare: assume it still is
        try:
            current = os.stat(self.fs.getsyspath(self.path(name)))
        except (OSError, errors.FSError):
            return False  # deleted, or never on a disk with this path
        return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)

    def _create(self, name: str, mode: str) -> IO[bytes]:
        """Open *name* for writing with *mode*, creating its parents if missing."""
        path = self.path(name)
        existed = "x" not in mode and self.fs.exists(path)
        try:
            handle: IO[bytes] = self.fs.openbin(path, mode)
        except errors.ResourceNotFound:
            # Under the filesystem's lock (which removetree() holds too), a
            # concurrent delete of the tree cannot slip in before the open.
            with self.fs.lock():
                self.make_parents(name)
                handle = self.fs.openbin(path, mode)
        if not existed:
            self.touch(_parent(name))
        return handle

    def make_parents(self, name: str) -> None:
        """Create the directories missing above *name*; raise if a file is in the way."""
        missing = []
        parent = _parent(name)
        while True:
            try:
                is_dir = self.fs.getinfo(self.path(parent)).is_dir
            except errors.ResourceNotFound:
                if not parent:
                    # The root itself went (the shared filesystem was emptied).
                    self.fs.makedirs(self.root, recreate=True)
                    break
                missing.append(parent)
                parent = _parent(parent)
                continue
            if not is_dir:
                raise self.in_the_way(name)
            break
        for directory in reversed(missing):
            try:
                self.fs.makedir(self.path(directory), recreate=True)
            except errors.ResourceNotFound:
                return  # a concurrent delete took a parent: the caller tries again
        self.touch(parent)

    def touch(self, directory: str) -> None:
        """Record that the directory *directory* gained or lost a child."""
        now = time.time()
        try:
            self.fs.setinfo(self.path(directory), {"details": {"modified": now, "accessed": now}})
        except errors.ResourceNotFound:
            pass  # deleted concurrently: nothing left to date

    def stage(self, chunks: Iterator[bytes], size_hint: int) -> Staged:
        """Return *chunks* ready for ``add()``; here they are read while written."""
        return Staged(chunks, size_hint)

    def staged_size(self, staged: Staged) -> int:
        """Return the size of *staged*, reading chunks still to be read into memory."""
        data = b"".join(staged.data())
        staged.chunks = iter((data,))
        return len(data)

    def add(self, name: str, staged: Staged) -> None:
        """Create the file *name* holding *staged*; raise ``NameTaken`` if the name is taken.

        Creation is exclusive, and a failure while writing leaves no file.
        """
        target = self.disk_path(name)
        if target is not None:
            create_whole(self, name, target, staged, LINK_RETRIES)
            self.attach(name, staged.metadata)
            self.touch(_parent(name))
            return
        with self.errors(name):
            try:
                handle = self._create(name, "xb")
            except errors.FileExists:
                raise name_taken(name) from None
        try:
            with handle:
                for chunk in staged.data():
                    handle.write(chunk)
        except BaseException:
            self._discard(name)
            raise
        finally:
            self.changes.note()
        self.attach(name, staged.metadata)

    def disk_path(self, name: str) -> str | None:
        """Return *name*'s path on the OS, or None if the filesystem has none."""
        try:
            return str(self.fs.getsyspath(self.path(name)))
        except errors.NoSysPath:
            return None

    def replace(self, name: str, staged: Staged) -> None:
        """Replace the file *name* with *staged* so that readers see the old bytes or the new."""
        data = b"".join(staged.data())
        self.write_whole(name, data)
        self.attach(name, staged.metadata)

    def write_whole(self, name: str, data: bytes) -> None:
        """Make *data* the content of the file *name* in one step."""
        # writebytes() truncates and then writes: a reader in between would
        # get an empty or short file. A sibling renamed over it is atomic.
        target = self.disk_path(name)
        if target is not None:
            replace_whole(self, name, target, data)
            self.changes.note()
            return
        path = self.path(name)
        directory, base = path.rsplit("/", 1)
        part = f"{directory}/.{base}.{uuid.uuid4().hex}.part"
        with self.errors(name):
            if self.fs.isdir(path):
                raise is_a_directory(name)
            if not self.fs.exists(directory or "/"):
                self.make_parents(name)
            with self.fs.lock():  # which every listing takes: no one sees the part
                self.fs.writebytes(part, data)
                try:
                    self.fs.move(part, path, overwrite=True)
                except BaseException:
                    self.fs.remove(part)
                    raise
        self.changes.note()

    def make_directory(self, name: str) -> None:
        """Create the directory *name* and any missing above it."""
        if name:
            self.make_parents(f"{name}/-")  # the parents of a child of it: name and above
        self.changes.note()

    def set_modified(self, name: str, modified: float) -> None:
        """Set the modified (and accessed) time of *name*."""
        with self.errors(name):
            self.fs.setinfo(
                self.path(name), {"details": {"modified": modified, "accessed": modified}}
            )

    def _discard(self, name: str) -> None:
        """Remove the file *name* if it is there."""
        try:
            self.fs.remove(self.path(name))
        except errors.ResourceNotFound:
            return
        self.touch(_parent(name))

    def remove(self, name: str) -> None:
        """Remove the file or directory tree *name*; a missing name is no error."""
        path = self.path(name)
        for attempt in range(DELETE_RETRIES):
            try:
                try:
                    self.fs.remove(path)
                except errors.FileExpected:
                    self.fs.removetree(path)
            except errors.ResourceNotFound:
                if self.through_file(name):
                    raise self.in_the_way(name) from None
                return  # already gone (perhaps deleted by another thread)
            except errors.DirectoryExpected:
                return  # removed by another thread between the two calls
            except errors.DirectoryNotEmpty:
                if attempt < DELETE_RETRIES - 1:
                    continue  # another thread saved into the tree meanwhile: go again
                with self.errors(name):
                    raise
            except errors.FSError:
                with self.errors(name):
                    raise
            break
        drop_under(self.fs, path)
        self.touch(_parent(name))
        self.changes.note()

    def clear(self) -> None:
        """Remove every file and directory under the root."""
        try:
            self.fs.removetree(self.root or "/")
        except errors.ResourceNotFound:
            pass
        drop_under(self.fs, self.root or "/")
        if self.root:
            self.fs.makedirs(self.root, recreate=True)
        self.changes.note()


def _parent(name: str) -> str:
    """Return the storage name of *name*'s directory ("" for the root)."""
    return name.rpartition("/")[0]
