"""The file objects storages hand out, reading saved content, and dj-inmemorystorage's times."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from django.core.files.base import File

from ._handle import read_only_method

if TYPE_CHECKING:
    from .storage import FSStorage

__all__ = ["LegacyTimes", "StorageFile", "chunks_of", "size_hint"]


class StorageFile(File):  # type: ignore[type-arg]  # File is generic only in django-stubs
    """A file opened from a storage; ``open()`` re-opens it through that storage."""

    # An "rb" handle is a plain BytesIO (see read_only_method): these refuse
    # what open(name, "rb") refuses.
    write = read_only_method("write")
    writelines = read_only_method("writelines")
    truncate = read_only_method("truncate")
    seek = read_only_method("seek")

    def __init__(self, file: IO[Any], name: str, mode: str, storage: FSStorage) -> None:
        super().__init__(file, name)
        self.mode = mode
        self._storage = storage

    def writable(self) -> bool:
        """Return whether the file takes writes, as ``open()``'s handle in its mode does."""
        if not self.closed and type(self.file) is io.BytesIO:
            return False
        return bool(super().writable())

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> StorageFile:
        """Rewind the file if it is open in *mode*, or open it afresh."""
        if not self.closed and mode in (None, self.mode):
            self.seek(0)
            return self
        if not self.closed:
            self.file.close()  # type: ignore[union-attr]  # not closed: there is a file
        self.mode = mode or self.mode
        self.file = self._storage._handle(self.name, self.mode)  # type: ignore[arg-type]
        return self


def chunks_of(content: Any) -> Iterator[bytes]:
    """Yield *content*'s chunks, encoding str chunks as UTF-8."""
    for chunk in content.chunks():
        yield chunk.encode() if isinstance(chunk, str) else chunk


def size_hint(content: Any) -> int:
    """Return the size *content* says it has, or 0 if it cannot say."""
    try:
        size = content.size
    except (AttributeError, OSError, TypeError, ValueError):
        return 0
    return size if type(size) is int and size > 0 else 0


class LegacyTimes:
    """dj-inmemorystorage's time methods, which Django's ``Storage`` dropped in 2.0."""

    def accessed_time(self, name: str) -> datetime:
        """Return ``get_accessed_time(name)``."""
        return self.get_accessed_time(name)  # type: ignore[attr-defined, no-any-return]

    def created_time(self, name: str) -> datetime:
        """Return ``get_created_time(name)``."""
        return self.get_created_time(name)  # type: ignore[attr-defined, no-any-return]

    def modified_time(self, name: str) -> datetime:
        """Return ``get_modified_time(name)``."""
        return self.get_modified_time(name)  # type: ignore[attr-defined, no-any-return]
