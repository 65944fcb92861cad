"""The package's exceptions, and the one translation of ``fs`` errors into built-in ones.

Every error a storage raises about a file names the normalized storage name
(relative to the storage, with ``/``: the name ``save()`` returns), whatever
spelling the caller used.
"""

from __future__ import annotations

import errno
import os
from types import TracebackType
from typing import Protocol

from django.core.exceptions import SuspiciousFileOperation

from ._fs import errors

__all__ = [
    "BackendAttributeError",
    "FileInPathError",
    "NameTaken",
    "NameTooLong",
    "PathDoesNotExist",
    "Translate",
    "file_exists",
    "file_in_path",
    "is_a_directory",
    "name_taken",
    "no_space",
    "not_found",
    "os_error",
    "translate",
]


class PathDoesNotExist(FileNotFoundError):
    """A name that is not in the storage (the name dj-inmemorystorage used)."""


class FileInPathError(FileExistsError, NotADirectoryError):
    """A file stands where a directory is needed.

    A disk raises ``NotADirectoryError`` there; Django's ``InMemoryStorage``
    raises ``FileExistsError``. Code written for either catches this one, and
    its message starts with the sentence both of Django's storages raise,
    ``"<path> exists and is not a directory."``, when the file is known.
    """

    #: The path of the file in the way, under the storage's location if it has one.
    in_the_way: str | None = None

    def __str__(self) -> str:
        plain = super().__str__()
        if self.in_the_way is None:
            return plain
        return f"{self.in_the_way} exists and is not a directory. ({plain})"


class NameTaken(FileExistsError):
    """A file or directory already has the name a new file was to take."""


class NameTooLong(SuspiciousFileOperation, ValueError):
    """A name longer than the production backend a storage stands in for allows.

    Django refuses a name it cannot fit with ``SuspiciousFileOperation``;
    django-storages' ``AzureStorage`` refuses one with ``ValueError``: code
    written for either catches this one.
    """


class BackendAttributeError(AttributeError):
    """An object of a production backend's SDK (``bucket``, ``client``) that memory lacks.

    An ``AttributeError``, so ``hasattr()`` and ``getattr(storage, name, None)``
    answer as for any storage without it.
    """


def _error(cls: type[OSError], code: int, name: str) -> OSError:
    return cls(code, os.strerror(code), name)


def not_found(name: str) -> OSError:
    """Return the error for a *name* that is not in the storage."""
    return _error(PathDoesNotExist, errno.ENOENT, name)


def is_a_directory(name: str) -> OSError:
    """Return the error for a directory *name* where a file is needed."""
    return _error(IsADirectoryError, errno.EISDIR, name)


def file_in_path(name: str, in_the_way: str | None = None) -> OSError:
    """Return the error for a file *name* (or a file above it) where a directory is needed.

    *in_the_way* is the path of that file, as the message shows it.
    """
    error = FileInPathError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), name)
    error.in_the_way = in_the_way
    return error


def file_exists(name: str) -> OSError:
    """Return the error for a *name* that is taken."""
    return _error(FileExistsError, errno.EEXIST, name)


def name_taken(name: str) -> NameTaken:
    """Return the error for a new file's *name* that is taken."""
    return NameTaken(errno.EEXIST, os.strerror(errno.EEXIST), name)


def no_space(name: str, growth: int, max_size: int, used: int) -> OSError:
    """Return the error for *name* growing by *growth* bytes past *max_size*."""
    return OSError(
        errno.ENOSPC,
        f"No space left: writing {growth} more bytes to {name!r} would pass "
        f"max_size={max_size} bytes ({used} bytes used)",
        name,
    )


def os_error(
    exc: errors.FSError | errors.IllegalBackReference, name: str, through_file: bool = False
) -> Exception:
    """Return the built-in exception a Django storage raises for *exc* on *name*.

    *through_file* says that a file stands on the way to *name*, which ``fs``
    reports as a missing resource.
    """
    if isinstance(exc, errors.ResourceNotFound):
        return file_in_path(name) if through_file else not_found(name)
    if isinstance(exc, errors.FileExpected):
        return is_a_directory(name)
    if isinstance(exc, errors.DirectoryExpected):
        return file_in_path(name)
    if isinstance(exc, (errors.FileExists, errors.DirectoryExists, errors.DestinationExists)):
        return file_exists(name)
    if isinstance(exc, errors.InsufficientStorage):
        return _error(OSError, errno.ENOSPC, name)
    if isinstance(exc, (errors.PermissionDenied, errors.ResourceReadOnly)):
        return _error(PermissionError, errno.EACCES, name)
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
        return _error(OSError, original.errno, name)
    return OSError(errno.EIO, str(exc), name)


class InTheWay(Protocol):
    """What ``Translate`` asks a tree when a name's parent may be a file."""

    def through_file(self, name: str) -> bool: ...

    def in_the_way(self, name: str) -> OSError: ...


class Translate:
    """Turn an ``fs`` error raised in the block into the built-in one for *name*."""

    __slots__ = ("name", "tree")

    def __init__(self, tree: InTheWay | None, name: str) -> None:
        self.tree = tree
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # IllegalBackReference (a name climbing out with "..") is a ValueError.
        if isinstance(exc, (errors.FSError, errors.IllegalBackReference)):
            through = (
                self.tree is not None
                and isinstance(exc, errors.ResourceNotFound)
                and self.tree.through_file(self.name)
            )
            if self.tree is not None and (through or isinstance(exc, errors.DirectoryExpected)):
                raise self.tree.in_the_way(self.name) from None
            raise os_error(exc, self.name, through) from None


def translate(shown: str) -> Translate:
    """Return a context manager turning ``fs`` errors into built-in ones naming *shown*."""
    return Translate(None, shown)
