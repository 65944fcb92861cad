"""The one file handle every tree hands out, layered exactly as ``open()`` layers a file.

``open()`` stacks a ``BufferedReader``/``BufferedWriter``/``BufferedRandom``
(and, for text, a ``TextIOWrapper``) over a ``FileIO``. Here the same standard
classes sit over ``Handle``, a raw file that behaves as ``FileIO`` does on a
POSIX disk: appends land at the end whatever the position (``O_APPEND``),
``truncate`` keeps the position and extends with NUL bytes, seeking before the
start is ``EINVAL``. Every quirk of the layers above (what ``tell()`` says
after an append that is still buffered, text ``"a+"`` past 8 KiB) is then the
standard library's own, on disk and here alike.

Bytes reach the storage when the buffered layer hands them to ``Handle``: on
``flush()``, ``close()``, a seek or read that flushes, or a write larger than
the buffer, exactly when ``open()`` would hand them to the disk. So another
reader sees what a disk reader sees after ``write()`` and ``flush()``, and
``max_size`` refuses (``ENOSPC``) the very write the full disk would refuse.
"""

from __future__ import annotations

import errno
import functools
import io
import os
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Protocol

__all__ = [
    "BUFFER_SIZE",
    "Handle",
    "Limit",
    "Locks",
    "Seek",
    "Snapshot",
    "buffered",
    "read_only_method",
    "text",
]

#: The buffer size of every handle: ``open()``'s default where a disk reports
#: none, so that the same writes reach the storage when they reach a disk.
BUFFER_SIZE = io.DEFAULT_BUFFER_SIZE
# A cursor past this many bytes cannot be stored in a file (C's off_t).
_MAX_OFFSET = 2**63 - 1


class Lock(Protocol):
    """A lock held around each change of a file."""

    def __enter__(self) -> object: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> object: ...


#: How a tree moves a file's position without recording an access, as a
#: disk's ``lseek()`` does: ``seek(file, offset, whence)`` returns the position.
Seek = Callable[[IO[bytes], int, int], int]


def _seek(file: IO[bytes], offset: int, whence: int) -> int:
    return file.seek(offset, whence)


class Limit(Protocol):
    """What a ``max_size`` tree offers a handle: room checks and accounting."""

    def grow(self, file: IO[bytes], name: str, growth: int) -> None:
        """Take *growth* bytes (negative: give them back) for *file*, opened as *name*."""

    def recount(self) -> None:
        """Count the bytes in use again: a change failed after ``grow()``."""


class Locks:
    """Hold two locks, in order, as one."""

    __slots__ = ("first", "second")

    def __init__(self, first: Lock, second: Lock) -> None:
        self.first = first
        self.second = second

    def __enter__(self) -> None:
        self.first.__enter__()
        try:
            self.second.__enter__()
        except BaseException:
            self.first.__exit__(None, None, None)
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.second.__exit__(kind, exc, tb)
        finally:
            self.first.__exit__(kind, exc, tb)


def _invalid(offset: int) -> OSError:
    return OSError(errno.EINVAL, os.strerror(errno.EINVAL), offset)


class Handle(io.RawIOBase):
    """A raw handle on a stored file, with ``FileIO``'s semantics on a POSIX disk.

    *file* is the filesystem's own binary file, opened for update; every call
    seeks it to this handle's position under *lock*, so handles on one file
    keep positions of their own and see each other's writes, as file
    descriptors do. *seek* moves *file*'s position without recording an
    access (default: ``file.seek``).
    """

    def __init__(
        self,
        file: IO[bytes],
        name: str,
        mode: str,
        lock: Lock,
        limit: Limit | None = None,
        seek: Seek = _seek,
    ) -> None:
        super().__init__()
        self._file = file
        self.name = name
        self._mode = mode
        self._reading = "r" in mode or "+" in mode
        self._writing = "r" not in mode or "+" in mode
        self._appending = "a" in mode
        self._lock = lock
        self._limit = limit
        self._seek = seek
        self._pos = 0
        if self._appending:
            with lock:
                self._pos = self._end()  # FileIO opened for appending starts at the end

    @property
    def mode(self) -> str:
        """Return the mode as ``FileIO.mode`` spells it."""
        return self._mode

    def _end(self) -> int:
        """Return the file's size (hold the lock: the filesystem's file is shared)."""
        return self._seek(self._file, 0, os.SEEK_END)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def readable(self) -> bool:
        self._check_open()
        return self._reading

    def writable(self) -> bool:
        self._check_open()
        return self._writing

    def seekable(self) -> bool:
        self._check_open()
        return True

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        offset = offset.__index__()
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            with self._lock:
                target = self._end() + offset
        elif whence in (getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)):
            with self._lock:
                end = self._end()
            # A file in memory has no holes: data everywhere, the hole at the end.
            if not 0 <= offset < end:
                raise OSError(errno.ENXIO, os.strerror(errno.ENXIO))
            target = offset if whence == os.SEEK_DATA else end
        else:
            raise _invalid(offset)
        if not 0 <= target <= _MAX_OFFSET:
            raise _invalid(offset)
        self._pos = target
        return target

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        if not self._reading:
            raise io.UnsupportedOperation("File not open for reading")
        view = memoryview(buffer).cast("B")
        with self._lock:
            self._seek(self._file, self._pos, os.SEEK_SET)
            data = self._file.read(len(view))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        self._check_open()
        if not self._reading:
            raise io.UnsupportedOperation("File not open for reading")
        with self._lock:
            self._seek(self._file, self._pos, os.SEEK_SET)
            data = self._file.read()
        self._pos += len(data)
        return data

    def write(self, data: Any) -> int:
        self._check_open()
        if not self._writing:
            raise io.UnsupportedOperation("File not open for writing")
        view = memoryview(data).cast("B")
        with self._lock:
            end = self._end()
            start = end if self._appending else self._pos
            self._change(max(start + len(view) - end, 0), start, view)
        self._pos = start + len(view)
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        self._check_open()
        if not self._writing:
            raise io.UnsupportedOperation("File not open for writing")
        size = self._pos if size is None else size.__index__()
        if size < 0:
            raise _invalid(size)
        with self._lock:
            end = self._end()
            if size > end:
                self._change(size - end, end, b"\0" * (size - end))
            elif size < end:
                self._change(size - end, size, None)
        return size  # FileIO leaves the position where it was

    def _change(self, growth: int, start: int, data: Any) -> None:
        """Write *data* at *start* (None: cut the file at *start*), taking *growth* bytes."""
        if self._limit is not None:
            self._limit.grow(self._file, self.name, growth)
        try:
            self._seek(self._file, start, os.SEEK_SET)
            if data is None:
                self._file.truncate(start)
            else:
                self._file.write(data)
            self._file.flush()  # a disk file's own buffer must not hold the bytes back
        except BaseException:
            if self._limit is not None:
                self._limit.recount()
            raise

    def close(self) -> None:
        if not self.closed:
            try:
                self._file.close()
            finally:
                super().close()


def buffered(raw: Handle) -> IO[bytes]:
    """Return *raw* behind the buffered class ``open()`` would put it behind."""
    # Read-only handles are Snapshots: a Handle always writes.
    if raw.readable():
        return io.BufferedRandom(raw, BUFFER_SIZE)
    return io.BufferedWriter(raw, BUFFER_SIZE)


def text(binary: IO[bytes], mode: str) -> IO[str]:
    """Return the text handle ``open(..., mode, encoding="utf-8")`` makes over *binary*."""
    wrapper = io.TextIOWrapper(binary, encoding="utf-8")
    wrapper.mode = mode  # type: ignore[misc]  # open() sets it too
    return wrapper


class Snapshot(io.BytesIO):
    """A read-only handle on the stored bytes as they were at ``open()``.

    ``BytesIO`` shares the bytes it is given until it is written, which this
    class refuses as ``open(name, "rb")`` does; reads stay at C speed. Its
    methods take any ``BytesIO`` as *self* (``storage.open(name)`` hands out a
    plain one, see ``read_only_method``).
    """

    mode = "rb"

    def writable(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        return False

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("write")

    def writelines(self, lines: Any) -> None:
        raise io.UnsupportedOperation("write")

    def truncate(self, size: int | None = None) -> int:
        if self.closed:
            raise ValueError("truncate of closed file")
        raise io.UnsupportedOperation("truncate")

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET and offset < 0 and not self.closed:
            raise _invalid(offset)  # BytesIO says ValueError; a disk says EINVAL
        if whence != os.SEEK_SET and not self.closed:
            start = (
                self.tell() if whence == os.SEEK_CUR else len(self.getvalue())
            )  # getbuffer() would copy the shared bytes
            if whence in (os.SEEK_CUR, os.SEEK_END) and start + offset < 0:
                raise _invalid(offset)  # BytesIO would stop at 0
        return io.BytesIO.seek(self, offset, whence)


def read_only_method(name: str) -> property:
    """Return a ``File`` property for the method *name* that refuses as ``Snapshot`` does.

    ``storage.open(name)`` ("rb") hands out a plain ``BytesIO``: a subclass
    costs 0.25 us more per handle, an eighth of ``open(name).read()``. The
    ``File`` around it reaches its writing and seeking methods through these
    properties, which give ``Snapshot``'s behaviour to a plain ``BytesIO``.
    """
    snapshot_method = getattr(Snapshot, name)

    def method(self: Any) -> Any:
        file = self.file
        if type(file) is io.BytesIO:
            return functools.partial(snapshot_method, file)
        return getattr(file, name)

    return property(method)
