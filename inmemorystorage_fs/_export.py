"""Looking at a storage's files: ``export()`` to a folder, FS URL or FS, ``tree()``, ``load()``."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import SuspiciousFileOperation

from ._errors import translate
from ._fs import FS, MemoryFS, copy_fs, parse_fs_url
from ._limits import Reserved, byte_count_problem, reserve
from ._names import normalize_name
from ._snapshot import restore_snapshot, take_snapshot
from ._tree import Tree, open_folder, open_url

__all__ = [
    "LOAD_LIMIT",
    "LOAD_LIMIT_NAME",
    "Exports",
    "draw",
    "export",
    "export_each",
    "load",
    "load_limit",
]


class Exports:
    """A storage's ``export()``, ``tree()`` and ``load()`` (a mixin of the storages)."""

    if TYPE_CHECKING:

        @property
        def _tree(self) -> Tree: ...  # the tree that does the storage's work

        @property
        def _anchor(self) -> str | None: ...  # where absolute names are read against

    def export(self, dest: str | os.PathLike[str] | FS, *, preserve_time: bool = True) -> str | FS:
        """Copy every file and directory to *dest* (folder, FS URL or FS) and return it."""
        return export(self._tree, dest, preserve_time)

    def tree(self) -> str:
        """Return the directories and files, with their sizes, drawn as a tree."""
        return draw(self._tree)

    def load(
        self, source: str | os.PathLike[str] | FS, into: str = "", *, limit: int | None = None
    ) -> int:
        """Copy every file and directory of *source* (folder, FS URL or FS) under *into*.

        Return the number of files. Modification times are kept; files of the
        same names are replaced. The files may hold at most *limit* bytes (None:
        the ``INMEMORYSTORAGE_LOAD_LIMIT`` setting, else ``LOAD_LIMIT``, 100 MiB)
        and must fit ``max_size``. If anything fails, the storage is left as it was.
        """
        prefix = normalize_name(into, self._anchor)
        return load(self._tree, source, prefix, load_limit(limit))


def export(tree: Tree, dest: str | os.PathLike[str] | FS, preserve_time: bool) -> str | FS:
    """Copy every file and directory of *tree* to *dest* and return where they went.

    A folder path (anything without ``://``) is opened as a folder, never read
    as an FS URL, created if missing and returned absolute: ``/tmp/out@sub``
    is a folder named ``out@sub``. An FS URL is opened, filled and closed (so a
    ``zip://`` archive is complete) and returned as given, except ``mem://``,
    whose filesystem closing would discard, so it is returned open. An FS
    object is filled and returned.
    """
    if isinstance(dest, FS):
        _copy(tree, dest, preserve_time, repr(dest))
        return dest
    target = os.fspath(dest)
    if "://" not in target:
        target = os.path.abspath(target)
        os.makedirs(target, exist_ok=True)
        with open_folder(target) as folder:
            _copy(tree, folder, preserve_time, target)
        return target
    dest_fs = open_url(target, writeable=True, create=True)
    if isinstance(dest_fs, MemoryFS):
        _copy(tree, dest_fs, preserve_time, target)
        return dest_fs
    with dest_fs:
        _copy(tree, dest_fs, preserve_time, target)
    return target


def _copy(tree: Tree, dest_fs: FS, preserve_time: bool, shown: str) -> None:
    """Copy the files, then the directory times that copying moved, to *dest_fs*."""
    if tree.root and not tree.fs.isdir(tree.root):
        return  # the root of an emptied shared filesystem: nothing to copy
    source = tree.view()
    with translate(shown):
        copy_fs(source, dest_fs, preserve_time=preserve_time)
        if preserve_time:
            for path in source.walk.dirs():
                modified = source.getinfo(path, namespaces=("details",)).modified
                if modified is not None:
                    dest_fs.setinfo(path, {"details": {"modified": modified.timestamp()}})


def export_each(source: FS, folder: str) -> list[tuple[str, str]]:
    """Copy *source* to *folder* file by file; return each path not written, and why.

    One name the disk refuses (too long for it, not encodable) costs that
    file only, where ``export()`` stops at the first.
    """
    missed: list[tuple[str, str]] = []
    copied: list[str] = []
    with open_folder(folder) as dest:
        paths = [(path, False) for path in source.walk.dirs()]
        paths += [(path, True) for path in source.walk.files()]
        for path, is_file in paths:
            try:
                with translate(path.lstrip("/")):
                    dest.makedirs(path.rpartition("/")[0] or "/", recreate=True)
                    if is_file:
                        with source.openbin(path) as src, dest.openbin(path, "w") as out:
                            shutil.copyfileobj(src, out)
                    else:
                        dest.makedir(path, recreate=True)
                copied.append(path)
            except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot encode
                reason = exc.strerror if isinstance(exc, OSError) else None
                missed.append((path.lstrip("/"), reason or str(exc)))
        with translate(folder):
            # Children first: writing them moved their folder's time.
            for path in reversed(copied):
                modified = source.getinfo(path, namespaces=("details",)).raw["details"]["modified"]
                if modified is not None:
                    dest.setinfo(
                        path, {"details": {"modified": modified, "accessed": time.time()}}
                    )
    return missed


#: The most bytes ``load()`` and seeds read, unless ``limit=`` or the
#: ``INMEMORYSTORAGE_LOAD_LIMIT`` setting says otherwise. Fixture folders and
#: seeds hold kilobytes to a few megabytes; a zip bomb holds gigabytes (a
#: 300 KB archive of zeros inflates to about 300 MB) and fails before it is read.
LOAD_LIMIT = 100 * 1024 * 1024
#: What errors call the load limit.
LOAD_LIMIT_NAME = "a load limit"
# Files are read a MiB at a time: few calls for big files, and a source that
# holds more than it declared is stopped within a MiB of the limit.
_CHUNK = 1024 * 1024


class _Entry(NamedTuple):
    """A file or directory of a source, as the source names and describes it."""

    path: str  # relative, as the source spells it ("a\\b" stays one name)
    is_dir: bool
    size: int | None  # declared; None if the source does not say
    modified: float | None


class _Room(NamedTuple):
    """How many bytes a load may write, and why no more."""

    limit: int
    reserved: Reserved  # what max_size leaves, kept for the load

    def check(self, total: int, shown: str) -> None:
        """Raise if loading *total* bytes from *shown* passes the limit or ``max_size``."""
        if total > self.limit:
            raise OSError(
                errno.EFBIG,
                f"Loading more than {self.limit} bytes, the load limit (pass limit= "
                "or set INMEMORYSTORAGE_LOAD_LIMIT to raise it); nothing was loaded",
                shown,
            )
        self.reserved.check(total, shown)


def load_limit(limit: int | None) -> int:
    """Return *limit*, or the ``INMEMORYSTORAGE_LOAD_LIMIT`` setting, or ``LOAD_LIMIT``."""
    if limit is None:
        from django.conf import settings

        limit = getattr(settings, "INMEMORYSTORAGE_LOAD_LIMIT", None)
    problem = byte_count_problem(limit, LOAD_LIMIT_NAME)
    if problem is not None:
        raise ValueError(problem)
    return LOAD_LIMIT if limit is None else limit


def load(tree: Tree, source: str | os.PathLike[str] | FS, prefix: str, limit: int) -> int:
    """Copy every file and directory of *source* into *tree* under *prefix*; return the files.

    A folder path (anything without ``://``) is a folder, as in ``export()``;
    a ``zip://`` URL is read with ``zipfile``, its times as local time. Every
    name and the declared sizes are checked before anything is written, the
    bytes read while reading, and if anything fails the tree is restored as it
    was, so a load happens whole or not at all.
    """
    with _opened(source) as (reader, shown):
        planned = _plan(reader.entries(), prefix, shown)
        files = [(entry, name) for entry, name in planned if not entry.is_dir]
        with reserve(tree, [name for _entry, name in files]) as reserved:
            _write(tree, reader, planned, _Room(limit, reserved), shown)
        return len(files)


def _write(
    tree: Tree,
    reader: _FSReader | _ZipReader,
    planned: list[tuple[_Entry, str]],
    room: _Room,
    shown: str,
) -> None:
    """Write the *planned* entries of *reader* to *tree*, or nothing if any fails."""
    files = [(entry, name) for entry, name in planned if not entry.is_dir]
    room.check(sum(entry.size or 0 for entry, _name in files), shown)
    before = take_snapshot(tree.view())
    try:
        for entry, name in planned:
            if entry.is_dir:
                tree.make_directory(name)
        read = 0
        for entry, name in files:
            data = reader.read(entry.path, room, read)
            read += len(data)
            tree.write_whole(name, data)
        for entry, name in planned:  # after the files, which move directory times
            if entry.modified is not None:
                tree.set_modified(name, entry.modified)
    except BaseException:
        restore_snapshot(tree.view(), before)
        raise


def _plan(entries: list[_Entry], prefix: str, shown: str) -> list[tuple[_Entry, str]]:
    """Return each entry with its storage name, or raise if any two would share one."""
    named: dict[str, _Entry] = {}
    for entry in entries:
        parts = entry.path.replace("\\", "/").split("/")
        if entry.path.startswith(("/", "\\")) or ".." in parts:
            how = "climbs with '..'" if ".." in parts else "is absolute"
            raise SuspiciousFileOperation(
                f"{shown!r} holds the entry {entry.path!r}, which {how}; nothing was loaded."
            )
        name = normalize_name(f"{prefix}/{entry.path}" if prefix else entry.path)
        if name == prefix:
            if entry.is_dir:
                continue  # a "./" entry: the place the load goes to
            raise SuspiciousFileOperation(
                f"{shown!r} holds the entry {entry.path!r}, which names no file; "
                "nothing was loaded."
            )
        other = named.get(name)
        if other is not None:
            raise _merged(shown, other, entry, name)
        named[name] = entry
    for name, entry in named.items():
        parent = name
        while "/" in parent:
            parent = parent.rpartition("/")[0]
            other = named.get(parent)
            if other is not None and not other.is_dir:
                raise _merged(shown, other, entry, name)
    return [(entry, name) for name, entry in named.items()]


def _merged(shown: str, first: _Entry, second: _Entry, name: str) -> SuspiciousFileOperation:
    return SuspiciousFileOperation(
        f"{shown!r} holds {first.path!r} and {second.path!r}, which would both be {name!r} "
        "('\\' separates directories in storage names, as in Django's); nothing was loaded."
    )


class _FSReader:
    """A folder, FS URL or FS object to load from, read through the public ``fs`` API."""

    def __init__(self, source_fs: FS, shown: str) -> None:
        self.fs = source_fs
        self.shown = shown

    def entries(self) -> list[_Entry]:
        """Return every file and directory, each after its directory."""
        with translate(self.shown):
            walked = list(self.fs.walk.info("/", namespaces=("details",)))
        found = []
        for path, info in walked:
            # A zip's implied directories have no details, so no time to keep.
            details: dict[str, Any] = dict(info.raw.get("details") or {})
            modified = details.get("modified")
            size = None if info.is_dir else details.get("size")
            found.append(
                _Entry(
                    path.lstrip("/"),
                    info.is_dir,
                    size,
                    None if modified is None else float(modified),
                )
            )
        return found

    def read(self, path: str, room: _Room, read: int) -> bytes:
        """Return the bytes of *path*, once *room* has room for them after *read* bytes."""
        with translate(self.shown), self.fs.openbin("/" + path) as handle:
            return _read_within(handle, room, read, self.shown)


class _ZipReader:
    """A zip archive, read with ``zipfile``: entry names as stored, times as local time."""

    def __init__(self, archive: zipfile.ZipFile, shown: str) -> None:
        self.archive = archive
        self.shown = shown

    def entries(self) -> list[_Entry]:
        """Return every entry of the archive, directories without their ``/``."""
        return [
            _Entry(
                info.filename.rstrip("/") if info.is_dir() else info.filename,
                info.is_dir(),
                None if info.is_dir() else info.file_size,
                # A zip holds the local wall-clock time, as zip tools write and read it.
                time.mktime((*info.date_time, 0, 0, -1)),
            )
            for info in self.archive.infolist()
        ]

    def read(self, path: str, room: _Room, read: int) -> bytes:
        """Return the bytes of the entry *path*, once *room* has room for them."""
        try:
            with self.archive.open(path) as handle:
                return _read_within(handle, room, read, self.shown)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
            raise OSError(errno.EIO, f"cannot read {path!r}: {exc}", self.shown) from None


def _read_within(handle: IO[bytes], room: _Room, read: int, shown: str) -> bytes:
    """Return what *handle* holds, checking *room* after each chunk."""
    chunks = []
    while chunk := handle.read(_CHUNK):
        chunks.append(chunk)
        read += len(chunk)
        room.check(read, shown)
    return b"".join(chunks)


@contextlib.contextmanager
def _opened(source: str | os.PathLike[str] | FS) -> Iterator[tuple[_FSReader | _ZipReader, str]]:
    """Yield a reader of *source* and how to name it in errors; close what was opened."""
    if isinstance(source, FS):
        yield _FSReader(source, repr(source)), repr(source)
        return
    shown = os.fspath(source)
    if "://" in shown:
        archive = _zip_archive(shown)
        if archive is not None:
            with archive:
                yield _ZipReader(archive, shown), shown
            return
        try:
            opened = open_url(shown)
        except OSError as exc:
            raise FileNotFoundError(errno.ENOENT, f"cannot open it: {exc}", shown) from None
    elif not os.path.isdir(shown):
        raise FileNotFoundError(errno.ENOENT, "no such folder", shown)
    else:
        opened = open_folder(os.path.abspath(shown))
    with opened:
        yield _FSReader(opened, shown), shown


def _zip_archive(url: str) -> zipfile.ZipFile | None:
    """Return the archive the ``zip://`` URL *url* names, or None for another URL."""
    parsed = parse_fs_url(url)
    if parsed.protocol != "zip" or parsed.path:
        return None  # a folder inside an archive ("zip://a.zip!/docs") goes through fs
    try:
        return zipfile.ZipFile(parsed.resource)
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileNotFoundError(errno.ENOENT, f"cannot open it: {exc}", url) from None


def draw(tree: Tree) -> str:
    """Return the directories and files of *tree*, with their sizes, drawn as a tree."""
    lines: list[str] = []
    _draw_lines(tree, "", "", lines)
    return "\n".join(lines) if lines else "(empty)"


def _draw_lines(tree: Tree, path: str, indent: str, lines: list[str]) -> None:
    """Append the lines of directory *path*, each prefixed by *indent*."""
    directories, files = tree.listdir(path)
    entries = [(name, True) for name in directories] + [(name, False) for name in files]
    for index, (name, is_dir) in enumerate(entries):
        last = index == len(entries) - 1
        full = f"{path}/{name}" if path else name
        branch = "└── " if last else "├── "
        if is_dir:
            lines.append(f"{indent}{branch}{name}/")
            _draw_lines(tree, full, indent + ("    " if last else "│   "), lines)
        else:
            size = tree.size(full)
            lines.append(f"{indent}{branch}{name}  ({size:,} byte{'' if size == 1 else 's'})")
