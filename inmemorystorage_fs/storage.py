"""Django storages over PyFilesystem2: Django names in, one tree call, Django types out."""

from __future__ import annotations

import copy
import errno
import io
import os
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import InMemoryStorage as DjangoInMemoryStorage
from django.core.files.storage import Storage
from django.core.files.storage.mixins import StorageSettingsMixin
from django.core.files.utils import validate_file_name
from django.utils.deconstruct import deconstructible

from . import _persist
from ._assertions import StorageAssertions
from ._cloud import StandIn
from ._entries import tree_class
from ._errors import (
    BackendAttributeError,
    FileInPathError,
    NameTaken,
    NameTooLong,
    PathDoesNotExist,
)
from ._export import Exports
from ._files import LegacyTimes, StorageFile, chunks_of, size_hint
from ._fs import FS, MemoryFS
from ._handle import text
from ._limits import limited
from ._names import DjangoNaming, binary_mode, join_url, normalize_name, overrides_any
from ._observable import Observable
from ._options import (
    cached_from_settings,
    check_memory_options,
    check_shared_options,
    follow_settings,
    reject_unknown,
)
from ._persist import clear_persistent_fs
from ._pickling import PicklesFiles, PicklesOptions
from ._profiles import Profile
from ._tree import Tree, open_url

__all__ = [
    "BackendAttributeError",
    "FSStorage",
    "FileInPathError",
    "InMemoryStorage",
    "NameTooLong",
    "PathDoesNotExist",
    "Stamped",
    "StorageFile",
    "clear_persistent_fs",
    "is_in_memory",
    "normalize_name",
    "read_stamped",
]


class Place(NamedTuple):
    """Where a storage's files live: a filesystem and the directory of the storage in it."""

    fs: FS
    root: str  # "" for the whole filesystem, else an absolute path such as "/srv/media"


@deconstructible(path="inmemorystorage_fs.FSStorage")
class FSStorage(
    Observable,
    StorageAssertions,
    Exports,
    LegacyTimes,
    DjangoNaming,
    PicklesOptions,
    StorageSettingsMixin,
    Storage,
):
    """A Django storage over any PyFilesystem2 filesystem (an ``FS`` or an FS URL)."""

    #: The setting ``base_url`` defaults to; the static files storages use STATIC_URL.
    _base_url_setting: ClassVar[str] = "MEDIA_URL"
    #: The cached attributes that a change of each setting drops.
    _cached_by_setting: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "MEDIA_URL": ("base_url",),
        "USE_TZ": ("_timezone",),
    }
    #: Whose rules new files' metadata follows (see _cloud.StandIn); None: they get none.
    _objects: Profile | None = None
    _default_acl: str | None = None

    def __init__(
        self,
        fs: FS | str | None = None,
        base_url: str | None = None,
        allow_overwrite: bool = False,
        max_size: int | None = None,
        alternative_names: str = "random",
        **unknown: Any,
    ) -> None:
        reject_unknown(self, unknown)
        self._check_fs(fs)
        check_shared_options(base_url, allow_overwrite, max_size, alternative_names)
        self._alternative_names = alternative_names
        self._fs_option = fs
        self._base_url = base_url  # a lazy string stays lazy until url() needs it
        self._allow_overwrite = allow_overwrite
        self._max_size = max_size
        self._start()

    def _start(self) -> None:
        """Set up what is never pickled: the lock, and following the settings."""
        self._lock = threading.Lock()
        self._opened_fs: FS | None = None
        follow_settings(self)

    def _check_fs(self, fs: object) -> None:
        if not isinstance(fs, (FS, str)):
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs 'fs': an FS object or an FS URL "
                f"such as 'mem://' or 'osfs:///tmp/media', not {fs!r}."
            )

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        for attr in self._cached_by_setting.get(setting, ()):
            self.__dict__.pop(attr, None)

    # -- where files live --------------------------------------------------

    def _place(self) -> Place:
        """Return where this storage's files live."""
        option = self._fs_option
        if isinstance(option, str):
            with self._lock:
                # Open the URL once per storage: threads racing here must not
                # get a second (for "mem://", empty) filesystem and lose files.
                if self._opened_fs is None:
                    self._opened_fs = open_url(option)
            return Place(self._opened_fs, "")
        assert isinstance(option, FS)
        return Place(option, "")

    @cached_from_settings
    def _tree(self) -> Tree:
        """Return the tree that does this storage's work, chosen once."""
        fs, root = self._place()
        if self._max_size is None:
            tree = tree_class(fs)(fs, root)
        else:
            tree = limited(tree_class(fs), fs, root, self._max_size)
        tree.location = self._anchor  # errors name a file in the way under it, as Django's do
        return tree

    @cached_from_settings
    def _anchor(self) -> str | None:
        """Return the absolute location that absolute names are read against, if any."""
        return None

    @property
    def filesystem(self) -> FS:
        """Return the filesystem that holds this storage's files, rooted at the storage."""
        return self._tree.view()

    @property
    def fs(self) -> FS:
        """Return ``filesystem`` (the name this package used first)."""
        return self.filesystem

    @cached_from_settings
    def base_url(self) -> str | None:
        if self._base_url is not None and not self._base_url.endswith("/"):
            self._base_url += "/"
        url = self._value_or_setting(self._base_url, getattr(settings, self._base_url_setting))
        return None if url is None else str(url)

    # -- reading and writing -----------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> StorageFile:
        rel = normalize_name(name, self._anchor)
        return StorageFile(self._handle(rel, mode), rel, mode, self)

    def _handle(self, name: str, mode: str) -> IO[Any]:
        """Return a new handle on the normalized name *name*, independent of every other."""
        if mode == "rb":
            # A plain BytesIO, whose refusals StorageFile gives (see _handle.read_only_method).
            return io.BytesIO(self._tree.read(name))
        objects, metadata = self._objects, None
        if objects is not None and not mode.startswith("r"):
            # A backend writing through a file object uploads it whole on close,
            # with a new object's parameters (S3File: _get_write_parameters(key)).
            metadata = objects.written(self, name, None, self._default_acl)
        handle = self._tree.open(name, binary_mode(mode))
        if metadata is not None:
            self._tree.attach(name, metadata)
        return handle if "b" in mode else text(handle, mode)

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Save *content* as *name*, or as a free name like it; return the name used."""
        # Django's save() validates the name three times and asks exists()
        # before _save(): ~16 us. A name already normal passes every check, and
        # _store() creates exclusively and asks get_available_name() when the
        # name is taken: the same names come out. Other names, and subclasses
        # overriding a naming hook, take Django's own path.
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        if (
            type(name) is str
            and name
            and (max_length is None or len(name) <= max_length)
            and not overrides_any(type(self), FSStorage)
        ):
            try:
                normal = normalize_name(name) == name
            except (ValueError, SuspiciousFileOperation):
                normal = False  # Django's checks below raise their own errors
            if normal:
                return self._store(name, content, max_length)
        if isinstance(name, str):
            # Django's first check splits on "/" alone: a name ending in "\\"
            # would pass it and then fail deeper, naming only an empty part.
            name = name.replace("\\", "/")
        return str(super().save(name, content, max_length=max_length))

    def _save(self, name: str, content: Any) -> str:
        return self._store(name, content, None)

    def _store(self, name: str, content: Any, max_length: int | None) -> str:
        """Write *content* as a new file *name*, or under a free name if it is taken."""
        rel = normalize_name(name, self._anchor)
        staged = self._tree.stage(chunks_of(content), size_hint(content))
        objects = self._objects
        while True:
            if objects is not None:  # for this name: its type, its limit
                staged.metadata = objects.written(self, rel, content, self._default_acl)
            try:
                self._tree.add(rel, staged)
            except NameTaken:
                if not self._allow_overwrite:
                    available = self.get_available_name(rel, max_length=max_length)
                    validate_file_name(available, allow_relative_path=True)
                    available = normalize_name(available, self._anchor)
                    if available != rel:
                        rel = available
                        continue
                    # The naming hooks kept the taken name: they overwrite (S3's
                    # file_overwrite), as the backend's upload then does.
                self._tree.replace(rel, staged)
            break
        if hasattr(content, "temporary_file_path"):
            os.remove(content.temporary_file_path())
        return rel

    def delete(self, name: str) -> None:
        """Delete the file or directory tree *name*; a missing name is no error."""
        if not name:
            raise ValueError("The name must be given to delete().")
        rel = normalize_name(name, self._anchor)
        if not rel:
            raise ValueError(f"{name!r} is the storage root; use clear() to empty the storage.")
        self._tree.remove(rel)

    def clear(self) -> None:
        """Delete every file and directory in this storage."""
        self._tree.clear()

    # -- asking about files ------------------------------------------------

    def exists(self, name: str) -> bool:
        """Return True if a file or directory called *name* exists."""
        try:
            return self._tree.exists(normalize_name(name, self._anchor))
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                return False  # as os.path.lexists(), which FileSystemStorage asks, answers
            raise

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Return the sorted directory names and file names directly in *path*."""
        return self._tree.listdir(normalize_name(path, self._anchor))

    def size(self, name: str) -> int:
        """Return the size, in bytes, of the file *name*."""
        return self._tree.size(normalize_name(name, self._anchor))

    def metadata(self, name: str) -> dict[str, Any]:
        """Return the metadata stored with the file *name* (``{}`` if it has none)."""
        return copy.deepcopy(self._tree.metadata(normalize_name(name, self._anchor)) or {})

    def url(self, name: str | None) -> str:
        """Return the URL of *name* under ``base_url``, as ``FileSystemStorage`` gives it."""
        base_url = self.base_url
        if base_url is None:
            raise ValueError("This file is not accessible via a URL.")
        return base_url if name is None else join_url(base_url, name)

    def path(self, name: str) -> str:
        """Return *name*'s path on the OS, or raise ``NotImplementedError`` if it has none."""
        # A name too long for a disk raises ENAMETOOLONG here, where FileSystemStorage
        # returns a path that every file call then refuses with the same error.
        return self._tree.syspath(normalize_name(name, self._anchor))

    def _time(self, name: str, key: str) -> datetime:
        """Return *name*'s *key* time the way FileSystemStorage does."""
        timestamp = self._tree.stamp(normalize_name(name, self._anchor), key)
        if timestamp is None:
            raise NotImplementedError(f"This filesystem does not record {key} times.")
        # tz passed by position: by keyword, datetime parses it three times slower.
        return datetime.fromtimestamp(timestamp, self._timezone)

    @cached_from_settings
    def _timezone(self) -> timezone | None:
        """Return the zone of the times returned: UTC under ``USE_TZ``, else None (local)."""
        # Read once: each read of a setting goes through LazySettings (~0.3 us).
        return timezone.utc if settings.USE_TZ else None

    def get_accessed_time(self, name: str) -> datetime:
        """Return when *name* was last opened."""
        return self._time(name, "accessed")

    def get_created_time(self, name: str) -> datetime:
        """Return when *name* was created."""
        return self._time(name, "created")

    def get_modified_time(self, name: str) -> datetime:
        """Return when *name* was last written (a directory: gained or lost a child)."""
        return self._time(name, "modified")


#: The cached attributes that depend on where the storage is.
LOCATION_CACHES = ("base_location", "location", "_anchor", "_tree")


@deconstructible(path="inmemorystorage_fs.InMemoryStorage")
class InMemoryStorage(PicklesFiles, StandIn, FSStorage):
    """A storage keeping files in memory: its own MemoryFS, or a view of the process's.

    With *backend* (S3Storage, GoogleCloudStorage, AzureStorage, SFTPStorage,
    FileSystemStorage: an instance, a class or a dotted path), it keeps what
    that backend promises (``_profiles``, ``_cloud``).
    """

    _cached_by_setting: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "MEDIA_URL": ("base_url",),
        "USE_TZ": ("_timezone",),
        "MEDIA_ROOT": LOCATION_CACHES,
        "INMEMORYSTORAGE_PERSIST": LOCATION_CACHES,
        "FILE_UPLOAD_PERMISSIONS": ("file_permissions_mode",),
        "FILE_UPLOAD_DIRECTORY_PERMISSIONS": ("directory_permissions_mode",),
    }

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        file_permissions_mode: Any = None,
        directory_permissions_mode: Any = None,
        allow_overwrite: bool | None = None,
        persist: bool | None = None,
        max_size: int | None = None,
        alternative_names: str = "random",
        object_parameters: dict[str, Any] | None = None,
        default_acl: str | None = None,
        querystring_auth: bool | None = None,
        querystring_expire: int | None = None,
        backend: object = None,
        **unknown: Any,
    ) -> None:
        reject_unknown(self, unknown)
        check_memory_options(location, persist)
        self._follow(backend, object_parameters, default_acl, querystring_auth, querystring_expire)
        profile = self._profile
        if allow_overwrite is None:
            allow_overwrite = profile is not None and profile.overwrite
        if base_url is None and profile is not None:
            base_url = profile.base_url
        self._location = location
        # Memory has no permission bits: kept as given, as Django's storages keep them.
        self._file_permissions_mode = file_permissions_mode
        self._directory_permissions_mode = directory_permissions_mode
        self._persist = persist
        self._own_fs: MemoryFS | None = None
        super().__init__(None, base_url, allow_overwrite, max_size, alternative_names)

    def _check_fs(self, fs: object) -> None:
        pass  # the filesystem is chosen by _place()

    @cached_from_settings
    def base_location(self) -> str:
        location: str | os.PathLike[str] = self._value_or_setting(
            self._location, settings.MEDIA_ROOT
        )
        return os.fspath(location)

    @cached_from_settings
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @cached_from_settings
    def _anchor(self) -> str | None:
        return self.location.replace(os.sep, "/")

    @cached_from_settings
    def file_permissions_mode(self) -> Any:
        return self._value_or_setting(
            self._file_permissions_mode, settings.FILE_UPLOAD_PERMISSIONS
        )

    @cached_from_settings
    def directory_permissions_mode(self) -> Any:
        return self._value_or_setting(
            self._directory_permissions_mode, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS
        )

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

    def _persistent_root(self) -> str:
        return self.location.replace(os.sep, "/").rstrip("/")

    def _place(self) -> Place:
        if self.persist:
            # The location's directory appears with its first file, as on a disk.
            return Place(_persist.shared_fs(), self._persistent_root())
        return Place(self._own(), "")

    def _own(self) -> MemoryFS:
        """Return this storage's own MemoryFS, creating it on first use."""
        if self._own_fs is None:
            with self._lock:
                if self._own_fs is None:
                    self._own_fs = MemoryFS()
        return self._own_fs

    @property
    def filesystem(self) -> FS:
        """Return this storage's own MemoryFS, or, persisting, the view of its location.

        Persistent storages at one location share one view object.
        """
        if self.persist:
            return _persist.view(self._persistent_root())
        return self._own()


class Stamped(NamedTuple):
    """A file's stored bytes (shared, not copied) and when it was last written."""

    data: bytes
    modified: float  # a timestamp


def read_stamped(storage: FSStorage, name: str) -> Stamped:
    """Return *name*'s bytes and modified time from one lookup, recording the access.

    What ``open(name).read()`` and ``get_modified_time(name)`` give, for the
    serving view, which needs both for every request.
    """
    data, modified = storage._tree.read_stamped(normalize_name(name, storage._anchor))
    if modified is None:
        raise NotImplementedError("This filesystem does not record modified times.")
    return Stamped(data, modified)


def is_in_memory(storage: object) -> bool:
    """Return True if *storage* keeps its files in memory (this package's or Django's)."""
    if isinstance(storage, (InMemoryStorage, DjangoInMemoryStorage)):
        return True
    return isinstance(storage, FSStorage) and isinstance(storage.filesystem, MemoryFS)
