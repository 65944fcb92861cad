"""Names: the one name normalizer, open() modes, URL joining, and whose naming hooks run."""

from __future__ import annotations

import errno
import functools
import os
import pathlib
import posixpath
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urljoin

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils.encoding import filepath_to_uri

__all__ = [
    "NAMING_HOOKS",
    "DjangoNaming",
    "attempt",
    "available_name",
    "binary_mode",
    "forget_names",
    "join_url",
    "known_parts",
    "name_bytes",
    "name_parts",
    "normalize_name",
    "overrides_any",
]

_MODE_CHARS = frozenset("rwaxbt+")
#: The most bytes a name component may take on disk: NAME_MAX of ext4, XFS,
#: btrfs, tmpfs and APFS alike (NTFS counts 255 UTF-16 units instead).
NAME_MAX = 255
# A UTF-8 character takes at most 4 bytes, so a name this long or shorter
# cannot hold a component over NAME_MAX: most names skip the measuring.
_SURELY_SHORT = NAME_MAX // 4
# Lone surrogates that os.listdir()'s surrogateescape did not make.
_FOREIGN_SURROGATES = re.compile("([\ud800-\udc7f\udd00-\udfff]+)")
# Names found normal, each with its parts. A test names the same files again
# and again (save, then open, exists, size, delete), and one dict hit (~50 ns)
# replaces the checks and the split below (~350 ns, a fifth of a delete()).
# A normal name is normal wherever the storage is, so one cache serves all.
_NORMAL: dict[str, tuple[str, ...]] = {}
#: Emptied when it holds this many names (~4 MB at most), and as each test's
#: scope ends (forget_names()): 10,000 tests of new names keep memory flat.
NORMAL_CACHE_SIZE = 16384


def normalize_name(name: Any, location: str | None = None) -> str:
    """Return *name* as a path relative to the storage root, or raise if it leaves it.

    ``/`` and ``\\`` both separate directories (as Django's ``generate_filename``
    treats them); empty and ``.`` segments vanish; ``..`` climbs. The result
    has no leading or trailing ``/``; the root itself is ``""``.

    *location* is the storage's absolute location (with ``/``), if it has one:
    as ``FileSystemStorage`` does through ``safe_join``, an absolute name, or
    one that climbs out with ``..``, is then read against it, and is accepted
    when it ends up inside it. Without *location*, names never leave the root.
    """
    # The type first: a str subclass may hash and compare as it likes.
    if type(name) is str and name in _NORMAL:
        return name
    if not isinstance(name, str):
        if name is None or not isinstance(name, os.PathLike):
            raise TypeError(f"A file name must be a str, not {type(name).__name__}.")
        name = os.fspath(name)
        if not isinstance(name, str):
            raise TypeError(f"A file name must be a str, not {type(name).__name__}.")
    if "\0" in name:
        raise ValueError(f"The file name {name!r} contains a NUL byte.")
    if not name:
        return ""  # the storage root, wherever the storage is
    if "\\" not in name:
        # Most names are already normal: one split and three C-level scans.
        segments = name.split("/")
        if "" not in segments and "." not in segments and ".." not in segments:
            if len(name) > _SURELY_SHORT:
                _fitting(name)  # raises if a part is too long for a disk
            if type(name) is str:
                if len(_NORMAL) >= NORMAL_CACHE_SIZE:
                    _NORMAL.clear()
                _NORMAL[name] = tuple(segments)
            return name
    posix = name.replace("\\", "/")
    if location is not None:
        return _fitting(
            _inside(name, posixpath.normpath(posixpath.join(location, posix)), location)
        )
    if posix.startswith("/"):
        raise SuspiciousFileOperation(
            f"The file name {name!r} is absolute; names are relative to the storage."
        )
    parts: list[str] = []
    for part in posix.split("/"):
        if part == "..":
            if not parts:
                raise _outside(name)
            parts.pop()
        elif part and part != ".":
            parts.append(part)
    return _fitting("/".join(parts))


#: Return the parts of a normal name seen before, or None: ``name_parts()``
#: without its Python call, for the walks that every read makes.
known_parts: Callable[[str], tuple[str, ...] | None] = _NORMAL.get


def forget_names() -> None:
    """Forget the names found normal (each test's scope does, as it ends: memory stays flat)."""
    _NORMAL.clear()


def name_parts(name: str) -> tuple[str, ...]:
    """Return the parts of the normal name *name* (none for the root ``""``)."""
    parts = _NORMAL.get(name)
    if parts is None:
        parts = tuple(name.split("/")) if name else ()
    return parts


def _fitting(name: str) -> str:
    """Return the normal *name*, or raise ``ENAMETOOLONG`` as a disk does for a long component.

    Every storage name passes here, so the memory refuses the names a disk
    refuses, and a test that passes in memory does not fail on the disk.
    """
    if len(name) <= _SURELY_SHORT:
        return name
    for part in name.split("/"):
        if len(part) > _SURELY_SHORT and len(name_bytes(part)) > NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), name)
    return name


def name_bytes(name: str) -> bytes:
    """Return *name* as the bytes a disk holds for it: UTF-8, undecodable bytes restored.

    ``os.listdir()`` turns each byte of a name that is not UTF-8 into a lone
    surrogate (``surrogateescape``); those become the bytes again. Any other
    lone surrogate, which no disk name can hold, is encoded as its three bytes.
    """
    try:
        return name.encode()
    except UnicodeEncodeError:
        pieces = _FOREIGN_SURROGATES.split(name)  # odd indexes: the foreign runs
        return b"".join(
            piece.encode("utf-8", "surrogatepass" if index % 2 else "surrogateescape")
            for index, piece in enumerate(pieces)
        )


def _inside(name: str, joined: str, location: str) -> str:
    """Return the absolute, normal path *joined* relative to *location*, or raise."""
    if joined.startswith("//"):
        joined = "/" + joined.lstrip("/")  # normpath keeps a leading "//"
    if location == "/":
        return joined.lstrip("/")
    if joined == location:
        return ""
    if joined.startswith(location + "/"):
        return joined[len(location) + 1 :]
    raise _outside(name)


def _outside(name: str) -> SuspiciousFileOperation:
    return SuspiciousFileOperation(f"The file name {name!r} points outside the storage.")


def binary_mode(mode: Any) -> str:
    """Return the binary mode ("r+b") for the ``open()`` mode *mode*; raise as ``open()`` does."""
    # The checks, their order and their messages are those of io.open().
    if not isinstance(mode, str):
        # open()'s own words, and the value, which they leave out.
        raise TypeError(f"open() argument 'mode' must be str, not {type(mode).__name__}: {mode!r}")
    if "\0" in mode:
        raise ValueError("embedded null character")
    for index, char in enumerate(mode):
        if char not in _MODE_CHARS or char in mode[index + 1 :]:
            raise ValueError(f"invalid mode: '{mode}'")
    if "t" in mode and "b" in mode:
        raise ValueError("can't have text and binary mode at once")
    kinds = [char for char in mode if char in "rwax"]
    if len(kinds) > 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    if not kinds:
        raise ValueError(
            "Must have exactly one of create/read/write/append mode and at most one plus"
        )
    return kinds[0] + ("+b" if "+" in mode else "b")


def join_url(base_url: str, name: str) -> str:
    """Return the URL of *name* under *base_url*, as ``FileSystemStorage.url()`` gives it.

    Leading ``/`` and ``\\`` are dropped and the name is quoted the way
    ``encodeURIComponent`` does, so no name reaches another host or scheme.
    One deliberate difference: where ``..`` segments would climb above
    *base_url*, they are quoted instead, so the URL never leaves *base_url*.
    A name with lone surrogates (``load()`` makes them of a name that is not
    UTF-8), where Django's raises, is quoted byte by byte, as ``name_bytes()``
    gives it: the URL a web server gives the file on disk.
    """
    try:
        uri = filepath_to_uri(name).lstrip("/")
    except UnicodeEncodeError:
        uri = quote(name_bytes(name.replace("\\", "/")), safe="/~!*()'").lstrip("/")
    if (
        _joins_by_concatenation(base_url)
        and not uri.startswith(".")
        and "/." not in uri
        and "//" not in uri
    ):
        return base_url + uri
    url = urljoin(base_url, uri)
    if url.startswith(base_url) or not _has_dot_segment(uri):
        return url
    quoted = "/".join("%2E" * len(s) if s in (".", "..") else s for s in uri.split("/"))
    return urljoin(base_url, quoted)


def _has_dot_segment(uri: str) -> bool:
    segments = uri.split("/")
    return "." in segments or ".." in segments


@functools.lru_cache(maxsize=64)
def _joins_by_concatenation(base_url: str) -> bool:
    """Return True if ``urljoin(base_url, uri)`` is ``base_url + uri`` for our URIs.

    A quoted name with no empty segment and none starting with a dot has no
    scheme, query, fragment or dot segment, so only the base decides: it must
    end with ``/`` and urljoin must leave it as it is (no dot segments, query
    or fragment to resolve).
    """
    return (
        base_url.endswith("/")
        and "?" not in base_url
        and "#" not in base_url
        and urljoin(base_url, "a/b%20c") == base_url + "a/b%20c"
    )


#: The methods Django's ``Storage.save()`` and ``FileField`` call, which a subclass
#: may override: ``save()``'s shortcut steps aside when any of them is.
NAMING_HOOKS = (
    "_save",
    "_open",
    "exists",
    "get_available_name",
    "get_alternative_name",
    "get_valid_name",
    "generate_filename",
    "is_name_available",
)

_OVERRIDES: dict[tuple[type, type], bool] = {}


def overrides_any(cls: type, base: type) -> bool:
    """Return True if *cls* overrides any of *base*'s ``NAMING_HOOKS``."""
    key = (cls, base)
    try:
        return _OVERRIDES[key]
    except KeyError:
        found = any(getattr(cls, hook) is not getattr(base, hook) for hook in NAMING_HOOKS)
        return _OVERRIDES.setdefault(key, found)


class _Naming(Protocol):
    def is_name_available(self, name: str, max_length: int | None = None) -> bool: ...
    def get_alternative_name(self, file_root: str, file_ext: str) -> str: ...


_attempts = threading.local()


def attempt() -> int:
    """Return the number of the alternative name ``available_name()`` is asking for (1, 2 …)."""
    return int(getattr(_attempts, "number", 1))


def available_name(storage: _Naming, name: str, max_length: int | None) -> str:
    """Return a free name like *name* for *storage*, as Django 5.1+'s ``Storage`` picks it.

    Django 4.2's ``Storage.get_available_name()`` does not ask
    ``is_name_available()``; this is 5.1's loop, so that every supported Django
    picks names (and truncates, and raises) the same way.
    """
    name = str(name).replace("\\", "/")
    dir_name, file_name = os.path.split(name)
    if ".." in pathlib.PurePath(dir_name).parts:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
    validate_file_name(file_name)
    file_ext = "".join(pathlib.PurePath(file_name).suffixes)
    file_root = file_name.removesuffix(file_ext)
    number = 0
    try:
        while not storage.is_name_available(name, max_length=max_length):
            number += 1
            _attempts.number = number  # what a counting get_alternative_name() uses
            name, file_root = _alternative(storage, dir_name, file_root, file_ext, max_length)
    finally:
        _attempts.__dict__.pop("number", None)
    return name


def _alternative(
    storage: _Naming, dir_name: str, file_root: str, file_ext: str, max_length: int | None
) -> tuple[str, str]:
    """Return the next name to try and its root, cut to fit *max_length* as Django cuts it."""
    name = os.path.join(dir_name, storage.get_alternative_name(file_root, file_ext))
    if max_length is not None:
        truncation = len(name) - max_length
        if truncation > 0:
            file_root = file_root[:-truncation]
            if not file_root:
                raise SuspiciousFileOperation(
                    f'Storage can not find an available filename for "{name}". '
                    "Please make sure that the corresponding file field "
                    'allows sufficient "max_length".'
                )
            name = os.path.join(dir_name, storage.get_alternative_name(file_root, file_ext))
    return name, file_root


class DjangoNaming:
    """Django 5.1+'s naming protocol on every supported Django, for ``FSStorage``.

    ``allow_overwrite`` keeps a taken name (as ``FileSystemStorage`` does), and
    ``alternative_names="counter"`` numbers it instead of Django's random suffix.
    """

    _allow_overwrite: bool
    _alternative_names: str

    def exists(self, name: str) -> bool:  # pragma: no cover - the storage's own
        raise NotImplementedError

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        """Return True if a new file may take *name* (with overwriting: if it fits)."""
        exceeds = bool(max_length and len(name) > max_length)
        if self._allow_overwrite:
            return not exceeds
        return not exceeds and not self.exists(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        """Return a name for a taken one (with overwriting: the name itself)."""
        if self._allow_overwrite:
            return f"{file_root}{file_ext}"
        if self._alternative_names == "counter":
            return f"{file_root}_{attempt()}{file_ext}"  # the smallest free number
        return str(Storage.get_alternative_name(self, file_root, file_ext))  # type: ignore[arg-type]

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """Return a free name like *name*, within *max_length*, as Django 5.1+ does."""
        return available_name(self, name, max_length)
