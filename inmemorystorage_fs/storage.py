"""Django storages over PyFilesystem2: Django names in, one ``fs`` call, Django types out."""

from __future__ import annotations

import errno
import functools
import io
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import IO, Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.storage.mixins import StorageSettingsMixin
from django.core.files.utils import validate_file_name
from django.core.signals import setting_changed
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from django.utils.functional import cached_property

from . import _fs
from ._fs import FS, MemoryFS, OpenerError, copy_fs, errors, open_fs

__all__ = [
    "FSStorage",
    "InMemoryStorage",
    "PathDoesNotExist",
    "clear_persistent_fs",
    "normalize_name",
]

_READ_ONLY_MODES = frozenset({"r", "rb", "rt", "br", "tr"})
_SETTINGS = frozenset(
    {
        "MEDIA_ROOT",
        "MEDIA_URL",
        "FILE_UPLOAD_PERMISSIONS",
        "FILE_UPLOAD_DIRECTORY_PERMISSIONS",
        "INMEMORYSTORAGE_PERSIST",
    }
)


class PathDoesNotExist(FileNotFoundError):
    """A name that is not in the storage (the name dj-inmemorystorage used)."""


def normalize_name(name: Any) -> str:
    """Return *name* as a path relative to the storage root, or raise if it leaves it.

    ``/`` and ``\\`` both separate directories (as Django's ``generate_filename``
    treats them); empty and ``.`` segments vanish; ``..`` may climb back out
    of a directory but never above the root. The result has no leading or
    trailing ``/``; the root itself is ``""``.
    """
    if not isinstance(name, str):
        if name is None or not isinstance(name, os.PathLike):
            raise TypeError(f"A file name must be a str, not {type(name).__name__}.")
        name = os.fspath(name)
        if not isinstance(name, str):
            raise TypeError(f"A file name must be a str, not {type(name).__name__}.")
    if "\0" in name:
        raise ValueError(f"The file name {name!r} contains a NUL byte.")
    if "\\" not in name:
        # Most names are already normal: one split and three C-level scans.
        segments = name.split("/")
        if "" not in segments and "." not in segments and ".." not in segments:
            return name
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        raise SuspiciousFileOperation(
            f"The file name {name!r} is absolute; names are relative to the storage."
        )
    parts: list[str] = []
    for part in posix.split("/"):
        if part == "..":
            if not parts:
                raise SuspiciousFileOperation(
                    f"The file name {name!r} points outside the storage."
                )
            parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def max_size_problem(value: object) -> str | None:
    """Return why *value* cannot be a ``max_size``, or None if it can."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return None
    return f"max_size must be a number of bytes (an int >= 0) or None, not {value!r}."


def _entry_names(path: str) -> list[str]:
    """Return the entry names that lead from the filesystem root to the path *path*."""
    return path.split("/")[1:] if path not in ("", "/") else []


def _os_error(exc: errors.FSError, name: str) -> Exception:
    """Return the built-in exception a Django storage raises for *exc* on *name*."""
    if isinstance(exc, errors.ResourceNotFound):
        return PathDoesNotExist(errno.ENOENT, os.strerror(errno.ENOENT), name)
    if isinstance(exc, errors.FileExpected):
        return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    if isinstance(exc, errors.DirectoryExpected):
        return NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
    if isinstance(exc, (errors.FileExists, errors.DirectoryExists, errors.DestinationExists)):
        return FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name)
    if isinstance(exc, errors.InsufficientStorage):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
    if isinstance(exc, (errors.PermissionDenied, errors.ResourceReadOnly)):
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
    if isinstance(exc, errors.NoSysPath):
        return NotImplementedError("This backend doesn't support absolute paths.")
    if isinstance(exc, errors.IllegalBackReference):
        return SuspiciousFileOperation(f"The file name {name!r} points outside the storage.")
    if isinstance(exc, errors.InvalidPath):
        return ValueError(f"The file name {name!r} is not usable: {exc}")
    if isinstance(exc, errors.Unsupported):
        return NotImplementedError(f"{exc} ({name!r})")
    original = getattr(exc, "exc", None)
    if isinstance(original, OSError) and original.errno:
        # A real disk's own error (ENAMETOOLONG, EROFS, ...) says more than EIO.
        return OSError(original.errno, os.strerror(original.errno), name)
    return OSError(errno.EIO, str(exc), name)


def _check_mode(mode: str) -> None:
    """Raise ``ValueError`` unless *mode* is a mode ``open()`` accepts."""
    chars = set(mode)
    if (
        not isinstance(mode, str)
        or len(chars) != len(mode)
        or not chars <= set("rwaxbt+")
        or len(chars & set("rwax")) != 1
        or {"b", "t"} <= chars
    ):
        raise ValueError(f"invalid mode: {mode!r}")


class StorageFile(File):  # type: ignore[type-arg]  # File is generic only in django-stubs
    """A file opened from a storage; ``open()`` re-opens it through that storage."""

    def __init__(self, file: IO[Any], name: str, mode: str, storage: FSStorage) -> None:
        super().__init__(file, name)
        self.mode = mode
        self._storage = storage

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> StorageFile:
        """Rewind the file if it is open in *mode*, or open it afresh."""
        if not self.closed and mode in (None, self.mode):
            self.seek(0)
            return self
        if not self.closed:
            self.file.close()  # type: ignore[union-attr]  # not closed: there is a file
        self.mode = mode or self.mode
        self.file = self._storage._open_handle(self.name, self.mode)  # type: ignore[arg-type]
        return self


@deconstructible(path="inmemorystorage_fs.FSStorage")
class FSStorage(StorageSettingsMixin, Storage):
    """A Django storage over any PyFilesystem2 filesystem (an ``FS`` or an FS URL)."""

    def __init__(
        self,
        fs: FS | str | None = None,
        base_url: str | None = None,
        allow_overwrite: bool = False,
        max_size: int | None = None,
        **unknown: Any,
    ) -> None:
        self._reject_unknown(unknown)
        if fs is None or not isinstance(fs, (FS, str)):
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs 'fs': an FS object or an FS URL "
                f"such as 'mem://' or 'osfs:///tmp/media', not {fs!r}."
            )
        self._fs_option = fs
        self._opened_fs: FS | None = None
        self._init_common(base_url, allow_overwrite, max_size)

    def _reject_unknown(self, unknown: dict[str, Any]) -> None:
        """Raise ``ImproperlyConfigured`` naming the first option this class lacks."""
        for key in unknown:
            raise ImproperlyConfigured(f"Invalid option {key!r} for {type(self).__name__}")

    def _init_common(
        self, base_url: str | None, allow_overwrite: bool, max_size: int | None
    ) -> None:
        """Check and keep the options every storage here shares."""
        if base_url is not None and not isinstance(base_url, str):
            raise ImproperlyConfigured(f"base_url must be a str or None, not {base_url!r}.")
        if not isinstance(allow_overwrite, bool):
            raise ImproperlyConfigured(
                f"allow_overwrite must be True or False, not {allow_overwrite!r}."
            )
        problem = max_size_problem(max_size)
        if problem:
            raise ImproperlyConfigured(problem)
        self._base_url = base_url
        self._allow_overwrite = allow_overwrite
        self._max_size = max_size
        self._lock = threading.Lock()
        setting_changed.connect(self._clear_cached_properties)

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        if setting in _SETTINGS:
            for attr in ("base_location", "location", "_target"):
                self.__dict__.pop(attr, None)
        # django-stubs lists the settings Django's mixin handles; it is sent every one.
        super()._clear_cached_properties(setting, **kwargs)  # type: ignore[arg-type]

    # -- where files live --------------------------------------------------

    @cached_property
    def _target(self) -> tuple[FS, str]:
        """Return the filesystem and the path of this storage's root in it."""
        option = self._fs_option
        if not isinstance(option, str):
            return option, ""
        with self._lock:
            # Open the URL once per storage: threads racing here, or a setting
            # change clearing this cache, must not get a second (for "mem://",
            # empty) filesystem and lose the files of the first.
            if self._opened_fs is None:
                self._opened_fs = open_fs(option)
        return self._opened_fs, ""

    @property
    def fs(self) -> FS:
        """Return the filesystem that holds this storage's files, rooted at the storage."""
        target_fs, root = self._target
        return target_fs.opendir(root) if root else target_fs

    def _fs_path(self, name: Any) -> str:
        """Return the path in the filesystem of the storage name *name*."""
        return self._target[1] + "/" + normalize_name(name)

    def _entry(self, rel: str) -> Any:
        """Return the MemoryFS entry of the normalized name *rel*, or None.

        None also when the filesystem is not a MemoryFS whose entries ``_fs``
        can read: callers then take the public API, which also raises the
        errors for missing names and wrong types.
        """
        target, root = self._target
        root_entry = _fs.memory_root(target)
        if root_entry is None:
            return None
        return _fs.find(root_entry, _entry_names(f"{root}/{rel}" if rel else root))

    # The setting base_url defaults to; the static files storages use STATIC_URL.
    _base_url_setting = "MEDIA_URL"

    @cached_property
    def base_url(self) -> str | None:
        if self._base_url is not None and not self._base_url.endswith("/"):
            self._base_url += "/"
        default = getattr(settings, self._base_url_setting)
        url: str | None = self._value_or_setting(self._base_url, default)
        return url

    # -- reading and writing -----------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> StorageFile:
        rel = normalize_name(name)
        return StorageFile(self._open_handle(rel, mode), rel, mode, self)

    def _open_handle(self, name: str, mode: str) -> IO[Any]:
        """Return a new handle on the normalized name *name*, independent of every other."""
        if mode == "rb":
            entry = self._entry(name)
            if entry is not None and not _fs.is_dir(entry):
                _fs.mark_accessed(entry)
                # Shares the stored bytes until either side writes (see below).
                return io.BytesIO(_fs.file_bytes(entry))
        else:
            _check_mode(mode)
        target_fs, path = self._target[0], self._fs_path(name)
        text = "b" not in mode
        try:
            if mode in _READ_ONLY_MODES:
                # A snapshot shares the stored bytes until someone writes to
                # the handle, which then writes to its own copy: readers never
                # see a half-rewritten file and never change the stored one.
                data: IO[bytes] = io.BytesIO(target_fs.readbytes(path))
            elif "r" in mode:
                data = target_fs.openbin(path, mode.replace("t", "").replace("b", "") + "b")
                if self._max_size is not None:
                    data = _LimitedFile(data, self, name, "a" in mode)  # type: ignore[assignment]
            else:
                data = self._create(target_fs, path, mode.replace("t", "").replace("b", "") + "b")
        except errors.FSError as exc:
            raise _os_error(exc, name) from None
        if text:
            return io.TextIOWrapper(data, encoding="utf-8")
        return data

    def _create(self, target_fs: FS, path: str, mode: str) -> IO[bytes]:
        """Open *path* for writing with *mode*, creating its parents if missing."""
        existed = "x" not in mode and target_fs.exists(path)
        try:
            handle: IO[bytes] = target_fs.openbin(path, mode)
        except errors.ResourceNotFound:
            # Under the filesystem's lock (which removetree() holds too), a
            # concurrent delete of the tree cannot slip in before the open.
            with target_fs.lock():
                self._make_parents(target_fs, path)
                handle = target_fs.openbin(path, mode)
        if not existed:
            self._touch_parent(target_fs, path)
        if self._max_size is not None:
            shown = path[len(self._target[1]) + 1 :]
            return _LimitedFile(handle, self, shown, "a" in mode)  # type: ignore[return-value]
        return handle

    def _make_parents(self, target_fs: FS, path: str) -> None:
        """Create the directories missing above *path*."""
        missing = []
        parent = _dirname(path)
        while True:
            try:
                is_dir = target_fs.getinfo(parent).is_dir
            except errors.ResourceNotFound:
                missing.append(parent)
                parent = _dirname(parent)
                continue
            if not is_dir:
                shown = parent[len(self._target[1]) + 1 :]
                raise FileExistsError(
                    errno.EEXIST, f"{shown!r} exists and is not a directory", shown
                )
            break
        for directory in reversed(missing):
            try:
                target_fs.makedir(directory, recreate=True)
            except errors.ResourceNotFound:
                return  # a concurrent delete took a parent: the caller tries again
        self._touch(target_fs, parent)

    def _touch_parent(self, target_fs: FS, path: str) -> None:
        """Record that *path*'s directory gained or lost a child."""
        self._touch(target_fs, _dirname(path))

    @staticmethod
    def _touch(target_fs: FS, directory: str) -> None:
        now = time.time()
        try:
            target_fs.setinfo(directory, {"details": {"modified": now, "accessed": now}})
        except errors.ResourceNotFound:
            pass  # deleted concurrently: nothing left to date

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Save *content* as *name*, or as a free name like it; return the name used.

        Django's ``Storage.save()`` validates the name three times and asks
        ``get_available_name()`` (an ``exists()``) before ``_save()``: ~16 us.
        A name that is already normal passes every one of those checks, and
        ``_save()`` creates files exclusively and asks ``get_available_name()``
        when the name is taken, so such names go straight to ``_save()``: the
        same names come out, and every other name takes Django's own path.
        """
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        if (
            type(name) is str
            and name
            and (max_length is None or len(name) <= max_length)
            and _naming_is_ours(type(self))
        ):
            try:
                normal = normalize_name(name) == name
            except (ValueError, SuspiciousFileOperation):
                normal = False  # Django's checks below raise their own errors
            if normal:
                return self._save(name, content, max_length)
        if isinstance(name, str):
            # Django's first check splits on "/" alone: a name ending in "\\"
            # would pass it and then fail deeper, naming only an empty part.
            name = name.replace("\\", "/")
        return str(super().save(name, content, max_length=max_length))

    def _save(self, name: str, content: Any, max_length: int | None = None) -> str:
        rel = normalize_name(name)
        entry = None
        if self._max_size is None and _fs.memory_root(self._target[0]) is not None:
            # Read the content once, into a file entry no one sees until it is
            # complete and linked under a free name.
            chunks = content.chunks()
            entry = _fs.new_file(
                (chunk.encode() if isinstance(chunk, str) else chunk for chunk in chunks),
                _size_hint(content),
            )
        while True:
            try:
                self._write_new(rel, content, entry)
            except _NameTaken:
                if self._allow_overwrite:
                    self._replace(rel, content, entry)
                    break
                available = self.get_available_name(rel, max_length=max_length)
                validate_file_name(available, allow_relative_path=True)
                rel = normalize_name(available)
            else:
                break
        if hasattr(content, "temporary_file_path"):
            os.remove(content.temporary_file_path())
        return rel

    def _write_new(self, name: str, content: Any, entry: Any = None) -> None:
        """Stream *content* into the new file *name*; leave nothing if it fails.

        With *entry* (the content already read into a MemoryFS file entry),
        link that entry under *name* instead.
        """
        target_fs, path = self._target[0], self._fs_path(name)
        if entry is not None:
            root_entry = _fs.memory_root(target_fs)
            if root_entry is not None:
                parts = _entry_names(path)
                for _ in range(10):
                    linked = _fs.link(target_fs, root_entry, parts, entry)
                    if linked:
                        return
                    if linked is False:
                        raise _NameTaken(errno.EEXIST, os.strerror(errno.EEXIST), name)
                    self._make_parents(target_fs, path)
            # The root was swapped or closed meanwhile: write through the public API.
            content = File(io.BytesIO(_fs.file_bytes(entry)))
        try:
            handle = self._create(target_fs, path, "xb")
        except errors.FileExists:
            raise _NameTaken(errno.EEXIST, os.strerror(errno.EEXIST), name) from None
        except errors.FSError as exc:
            raise _os_error(exc, name) from None
        try:
            with handle:
                _copy_chunks(content, handle)
        except BaseException:
            self._remove_file(target_fs, path)
            raise

    def _replace(self, name: str, content: Any, entry: Any = None) -> None:
        """Replace the existing file *name* with *content* in one step."""
        target_fs, path = self._target[0], self._fs_path(name)
        root_entry = _fs.memory_root(target_fs)
        if entry is not None and root_entry is not None:
            for _ in range(10):
                linked = _fs.link(target_fs, root_entry, _entry_names(path), entry, replace=True)
                if linked:
                    return
                if linked is False:
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
                self._make_parents(target_fs, path)  # deleted meanwhile
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
        if entry is not None:  # the content was read already
            buffer = io.BytesIO(_fs.file_bytes(entry))
            buffer.seek(0, os.SEEK_END)
        else:
            buffer = io.BytesIO()
            _copy_chunks(content, buffer)
        try:
            if self._max_size is None:
                self._write_whole(target_fs, path, buffer.getvalue())
                return
            with _limit_lock:
                old_size = target_fs.getsize(path) if target_fs.exists(path) else 0
                self._check_room(name, buffer.tell() - old_size)
                self._write_whole(target_fs, path, buffer.getvalue())
        except errors.FSError as exc:
            raise _os_error(exc, name) from None

    @staticmethod
    def _write_whole(target_fs: FS, path: str, data: bytes) -> None:
        """Replace the file at *path* with *data* so that readers never see it half-written."""
        # writebytes() truncates and then writes: a reader in between would
        # get an empty or short file. A sibling renamed over it is atomic.
        directory, base = path.rsplit("/", 1)
        part = f"{directory}/.{base}.{uuid.uuid4().hex}.part"
        target_fs.writebytes(part, data)
        try:
            target_fs.move(part, path, overwrite=True)
        except BaseException:
            target_fs.remove(part)
            raise

    def _used_bytes(self) -> int:
        """Return the bytes taken by every file under this storage's root."""
        target_fs, root = self._target
        return sum(
            info.size
            for _path, info in target_fs.walk.info(
                root or "/", namespaces=["details"], ignore_errors=True
            )  # a directory deleted during the walk holds nothing
            if not info.is_dir
        )

    def _check_room(self, name: str, growth: int) -> None:
        """Raise ``OSError(ENOSPC)`` if *name* growing by *growth* bytes passes ``max_size``."""
        if growth <= 0 or self._max_size is None:
            return
        used = self._used_bytes()
        if used + growth > self._max_size:
            raise OSError(
                errno.ENOSPC,
                f"No space left: writing {growth} more bytes to {name!r} would pass "
                f"max_size={self._max_size} bytes ({used} bytes used)",
                name,
            )

    def _remove_file(self, target_fs: FS, path: str) -> None:
        """Remove the file at *path* if it is there."""
        try:
            target_fs.remove(path)
        except errors.ResourceNotFound:
            return
        self._touch_parent(target_fs, path)

    def delete(self, name: str) -> None:
        """Delete the file or directory tree *name*; a missing name is no error."""
        if not name:
            raise ValueError("The name must be given to delete().")
        rel = normalize_name(name)
        if not rel:
            raise ValueError(f"{name!r} is the storage root; use clear() to empty the storage.")
        target_fs, path = self._target[0], self._fs_path(rel)
        root_entry = _fs.memory_root(target_fs)
        if (
            root_entry is not None
            and _fs.unlink_file(target_fs, root_entry, _entry_names(path)) is not None
        ):
            return  # a file removed (its directory's times updated) or nothing there
        for attempt in range(100):
            try:
                try:
                    target_fs.remove(path)
                except errors.FileExpected:
                    target_fs.removetree(path)
            except (errors.ResourceNotFound, errors.DirectoryExpected):
                return  # already gone (perhaps deleted by another thread)
            except errors.DirectoryNotEmpty as exc:
                if attempt < 99:
                    continue  # another thread saved into the tree meanwhile: go again
                raise _os_error(exc, name) from None
            except errors.FSError as exc:
                raise _os_error(exc, name) from None
            break
        self._touch_parent(target_fs, path)

    def clear(self) -> None:
        """Delete every file and directory in this storage."""
        target_fs, root = self._target
        try:
            target_fs.removetree(root or "/")
        except errors.ResourceNotFound:
            pass
        if root:
            target_fs.makedirs(root, recreate=True)

    # -- asking about files ------------------------------------------------

    def exists(self, name: str) -> bool:
        """Return True if a file or directory called *name* exists."""
        rel = normalize_name(name)
        target = self._target[0]
        if _fs.memory_root(target) is not None:
            return self._entry(rel) is not None
        try:
            return bool(target.exists(self._fs_path(rel)))
        except errors.FSError as exc:  # a real disk refuses a name too long for it
            raise _os_error(exc, name) from None

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Return the sorted directory names and file names directly in *path*."""
        entry = self._entry(normalize_name(path))
        if entry is not None and _fs.is_dir(entry):
            return _fs.list_entry(self._target[0], entry)
        target_fs, fs_path = self._target[0], self._fs_path(path)
        try:
            infos = list(target_fs.scandir(fs_path))
        except errors.ResourceNotFound as exc:
            if fs_path.rstrip("/") == self._target[1]:
                return [], []  # the root of an emptied shared filesystem
            raise _os_error(exc, path) from None
        except errors.FSError as exc:
            raise _os_error(exc, path) from None
        directories = sorted(info.name for info in infos if info.is_dir)
        files = sorted(info.name for info in infos if not info.is_dir)
        return directories, files

    def _details(self, name: str) -> dict[str, Any]:
        """Return the ``details`` namespace of *name*'s info."""
        try:
            info = self._target[0].getinfo(self._fs_path(name), namespaces=("details",))
        except errors.FSError as exc:
            raise _os_error(exc, name) from None
        details: dict[str, Any] = info.raw["details"]  # type: ignore[assignment]
        details["is_dir"] = info.is_dir
        return details

    def size(self, name: str) -> int:
        """Return the size, in bytes, of the file *name*."""
        entry = self._entry(normalize_name(name))
        if entry is not None and not _fs.is_dir(entry):
            return _fs.file_size(entry)
        details = self._details(name)
        if details["is_dir"]:
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        return int(details["size"])

    def url(self, name: str | None) -> str:
        """Return the URL of *name* under ``base_url``."""
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL.")
        if name is None:
            return self.base_url
        uri = filepath_to_uri(normalize_name(name))
        if _joins_by_concatenation(self.base_url):
            return self.base_url + uri
        return urljoin(self.base_url, uri)

    def path(self, name: str) -> str:
        """Return *name*'s path on the OS, or raise ``NotImplementedError`` if it has none."""
        try:
            return str(self._target[0].getsyspath(self._fs_path(name)))
        except errors.FSError as exc:
            raise _os_error(exc, name) from None

    def _time(self, name: str, key: str) -> datetime:
        """Return *name*'s *key* time the way FileSystemStorage does."""
        entry = self._entry(normalize_name(name))
        timestamp = _fs.entry_time(entry, key) if entry is not None else self._details(name)[key]
        if timestamp is None:
            raise NotImplementedError(f"This filesystem does not record {key} times.")
        return datetime.fromtimestamp(timestamp, tz=timezone.utc if settings.USE_TZ else None)

    def get_accessed_time(self, name: str) -> datetime:
        """Return when *name* was last opened."""
        return self._time(name, "accessed")

    def get_created_time(self, name: str) -> datetime:
        """Return when *name* was created."""
        return self._time(name, "created")

    def get_modified_time(self, name: str) -> datetime:
        """Return when *name* was last written (a directory: gained or lost a child)."""
        return self._time(name, "modified")

    # -- names ---------------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """Return *name* when overwriting is allowed and it fits, else a free name."""
        if self._allow_overwrite and (max_length is None or len(name) <= max_length):
            name = str(name).replace("\\", "/")
            validate_file_name(name, allow_relative_path=True)
            normalize_name(name)
            return name
        return str(super().get_available_name(name, max_length=max_length))

    # -- looking at the files (export and tree) ---------------------------------

    def export(self, dest: str | os.PathLike[str] | FS, *, preserve_time: bool = True) -> str | FS:
        """Copy every file and directory to *dest* (folder, FS URL or FS) and return it.

        A folder path is created if missing and returned absolute; an FS URL is
        opened, filled and closed (so a ``zip://`` archive is complete) and
        returned as given, except ``mem://``, whose filesystem closing would
        discard, so it is returned open. An FS object is filled and returned.
        """
        if isinstance(dest, FS):
            self._export_to(dest, preserve_time, repr(dest))
            return dest
        target = os.fspath(dest)
        if "://" not in target:
            target = os.path.abspath(target)
            os.makedirs(target, exist_ok=True)
        try:
            dest_fs = open_fs(target, writeable=True, create=True)
        except OpenerError as exc:
            raise ValueError(f"Cannot export to {target!r}: {exc}") from None
        except errors.FSError as exc:
            raise _os_error(exc, target) from None
        if isinstance(dest_fs, MemoryFS):
            self._export_to(dest_fs, preserve_time, target)
            return dest_fs
        with dest_fs:
            self._export_to(dest_fs, preserve_time, target)
        return target

    def _export_to(self, dest_fs: FS, preserve_time: bool, shown: str) -> None:
        """Copy the files, then the directory times that copying moved, to *dest_fs*."""
        try:
            source = self.fs
        except errors.ResourceNotFound:
            return  # the root of an emptied shared filesystem: nothing to copy
        try:
            copy_fs(source, dest_fs, preserve_time=preserve_time)
            if preserve_time:
                for path in source.walk.dirs():
                    modified = source.getinfo(path, namespaces=("details",)).modified
                    if modified is not None:
                        dest_fs.setinfo(path, {"details": {"modified": modified.timestamp()}})
        except errors.FSError as exc:
            raise _os_error(exc, shown) from None

    def tree(self) -> str:
        """Return the directories and files, with their sizes, drawn as a tree."""
        lines: list[str] = []
        self._tree_lines("", "", lines)
        return "\n".join(lines) if lines else "(empty)"

    def _tree_lines(self, path: str, indent: str, lines: list[str]) -> None:
        """Append the tree lines of directory *path*, each prefixed by *indent*."""
        directories, files = self.listdir(path)
        entries = [(name, True) for name in directories] + [(name, False) for name in files]
        for index, (name, is_dir) in enumerate(entries):
            last = index == len(entries) - 1
            full = f"{path}/{name}" if path else name
            branch = "└── " if last else "├── "
            if is_dir:
                lines.append(f"{indent}{branch}{name}/")
                self._tree_lines(full, indent + ("    " if last else "│   "), lines)
            else:
                size = self.size(full)
                lines.append(f"{indent}{branch}{name}  ({size:,} byte{'' if size == 1 else 's'})")


@functools.lru_cache(maxsize=64)
def _joins_by_concatenation(base_url: str) -> bool:
    """Return True if ``urljoin(base_url, uri)`` is ``base_url + uri`` for our URIs.

    A normalized, quoted name has no scheme, query, fragment, dot or empty
    segment, so only the base decides: it must end with ``/`` and urljoin
    must leave it as it is (no dot segments, query or fragment to resolve).
    """
    return (
        base_url.endswith("/")
        and "?" not in base_url
        and "#" not in base_url
        and urljoin(base_url, "a/b%20c") == base_url + "a/b%20c"
    )


class _NameTaken(FileExistsError):
    """A file or directory already has the name a new file was to take."""


_NAMING_IS_OURS: dict[type, bool] = {}


def _naming_is_ours(cls: type) -> bool:
    """Return True if *cls* picks names with this module's and Django's own methods."""
    try:
        return _NAMING_IS_OURS[cls]
    except KeyError:
        ours = (
            cls.get_available_name is FSStorage.get_available_name  # type: ignore[attr-defined]
            # Django 4.2's Storage has no is_name_available (5.1 added it).
            and getattr(cls, "is_name_available", None)
            is getattr(Storage, "is_name_available", None)
            and cls.exists is FSStorage.exists  # type: ignore[attr-defined]
        )
        return _NAMING_IS_OURS.setdefault(cls, ours)


def _size_hint(content: Any) -> int:
    """Return the size *content* says it has, or 0 if it cannot say."""
    try:
        size = content.size
    except (AttributeError, OSError, TypeError, ValueError):
        return 0
    return size if type(size) is int and size > 0 else 0


def _dirname(path: str) -> str:
    """Return the parent of the absolute filesystem path *path*."""
    return path.rsplit("/", 1)[0] or "/"


def _copy_chunks(content: Any, handle: IO[bytes]) -> None:
    """Write *content*'s chunks to *handle*, encoding str chunks as UTF-8."""
    for chunk in content.chunks():
        handle.write(chunk.encode() if isinstance(chunk, str) else chunk)


# One lock for every storage with a max_size, so that two handles (perhaps of
# two storages at one persistent location) cannot both take the last bytes.
_limit_lock = threading.Lock()


class _LimitedFile:
    """A binary write handle that refuses to grow its storage past ``max_size``."""

    def __init__(self, handle: IO[bytes], storage: FSStorage, name: str, appending: bool) -> None:
        self._handle = handle
        self._storage = storage
        self._name = name
        self._appending = appending

    def write(self, data: Any) -> int:
        """Write *data* if the storage has room for what it adds, else raise ENOSPC."""
        length = memoryview(data).nbytes
        with _limit_lock:
            position, end = self._position_and_end()
            start = end if self._appending else position
            self._storage._check_room(self._name, start + length - end)
            return self._handle.write(data)

    def _position_and_end(self) -> tuple[int, int]:
        """Return the handle's position and the file's size, leaving the position as it was."""
        position = self._handle.tell()
        end = self._handle.seek(0, os.SEEK_END)
        self._handle.seek(position)
        return position, end

    def writelines(self, lines: Any) -> None:
        """Write each of *lines* through ``write()``."""
        for line in lines:
            self.write(line)

    def truncate(self, size: int | None = None) -> int:
        """Truncate (or zero-extend, if there is room) the file to *size* bytes."""
        with _limit_lock:
            if size is not None:
                self._storage._check_room(self._name, size - self._position_and_end()[1])
            return self._handle.truncate(size)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._handle, attr)

    def __iter__(self) -> Any:
        return iter(self._handle)

    def __enter__(self) -> _LimitedFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._handle.close()


_persistent_fs: MemoryFS | None = None
_persistent_lock = threading.Lock()


def _shared_fs() -> MemoryFS:
    """Return the process-wide MemoryFS, creating it on first use."""
    global _persistent_fs
    if _persistent_fs is None:
        with _persistent_lock:
            if _persistent_fs is None:
                _persistent_fs = MemoryFS()
    return _persistent_fs


def clear_persistent_fs() -> None:
    """Delete every file of every persistent storage in this process."""
    if _persistent_fs is not None:
        _persistent_fs.removetree("/")


@deconstructible(path="inmemorystorage_fs.InMemoryStorage")
class InMemoryStorage(FSStorage):
    """A storage keeping files in memory: its own MemoryFS, or a view of the process's."""

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        file_permissions_mode: int | None = None,
        directory_permissions_mode: int | None = None,
        allow_overwrite: bool = False,
        persist: bool | None = None,
        max_size: int | None = None,
        **unknown: Any,
    ) -> None:
        self._reject_unknown(unknown)
        if location is not None and not isinstance(location, (str, os.PathLike)):
            raise ImproperlyConfigured(f"location must be a path or None, not {location!r}.")
        if persist is not None and not isinstance(persist, bool):
            raise ImproperlyConfigured(f"persist must be True, False or None, not {persist!r}.")
        for option, mode in (
            ("file_permissions_mode", file_permissions_mode),
            ("directory_permissions_mode", directory_permissions_mode),
        ):
            if mode is not None and (isinstance(mode, bool) or not isinstance(mode, int)):
                raise ImproperlyConfigured(f"{option} must be an int such as 0o644, not {mode!r}.")
        self._location = location
        self._file_permissions_mode = file_permissions_mode
        self._directory_permissions_mode = directory_permissions_mode
        self._persist = persist
        self._own_fs: MemoryFS | None = None
        self._init_common(base_url, allow_overwrite, max_size)

    @cached_property
    def base_location(self) -> str:
        location: str | os.PathLike[str] = self._value_or_setting(
            self._location, settings.MEDIA_ROOT
        )
        return os.fspath(location)

    @cached_property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @cached_property
    def file_permissions_mode(self) -> int | None:
        mode: int | None = self._value_or_setting(
            self._file_permissions_mode, settings.FILE_UPLOAD_PERMISSIONS
        )
        return mode

    @cached_property
    def directory_permissions_mode(self) -> int | None:
        mode: int | None = self._value_or_setting(
            self._directory_permissions_mode, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS
        )
        return mode

    @property
    def persist(self) -> bool:
        """Return whether this storage is a view of the process-wide filesystem."""
        value = self._value_or_setting(
            self._persist, getattr(settings, "INMEMORYSTORAGE_PERSIST", False)
        )
        if not isinstance(value, bool):
            # "False" or 0 would silently mean the opposite of what was meant.
            raise ImproperlyConfigured(
                f"INMEMORYSTORAGE_PERSIST must be True or False, not {value!r}."
            )
        return value

    @cached_property
    def _target(self) -> tuple[FS, str]:
        if self.persist:
            root = self.location.replace(os.sep, "/").rstrip("/")
            shared = _shared_fs()
            if root:
                shared.makedirs(root, recreate=True)
            return shared, root
        if self._own_fs is None:
            with self._lock:
                if self._own_fs is None:
                    self._own_fs = MemoryFS()
        return self._own_fs, ""
