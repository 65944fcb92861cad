"""The storages' one observer hook: recording operations and injecting faults.

A storage nobody watches pays nothing: its methods are the class's. A
``Watch`` (``storage._watch``) puts, on the storage instance itself, a wrapper
in front of each observed method, and takes them away when nothing is left to
record or to fail. Both the record and the faults go through those wrappers.

Calls a storage makes to itself while serving one (``save()`` asking
``exists()``, an assertion listing the files) are not operations of their
own: a thread-local depth hides them.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ._faults import Fault
from ._handle import Snapshot
from ._record import Operation, Record

__all__ = ["OBSERVED", "WATCH_ATTRS", "Watch", "WatchedFile", "caller", "quietly", "watch_of"]

#: What a watched storage holds in its ``__dict__`` (pickling leaves them out).
WATCH_ATTRS = ("_watch", "_watcher")
#: The storage methods a watch observes, and the operation each is.
OBSERVED = {
    "save": "save",
    "_handle": "open",  # every handle: storage.open() and StorageFile.open() alike
    "delete": "delete",
    "exists": "exists",
    "listdir": "listdir",
    "size": "size",
    "url": "url",
    "get_accessed_time": "get_accessed_time",
    "get_created_time": "get_created_time",
    "get_modified_time": "get_modified_time",
}
# Frames of these modules are never "the caller": the user's code is.
_SKIPPED = ("django.", "inmemorystorage_fs.")
_SKIPPED_ROOTS = frozenset({"django", "inmemorystorage_fs"})
_CWD = os.getcwd() + os.sep  # callers are shown relative to where the run started
# A plain BytesIO handle ("rb") refuses writes as Snapshot does (see _handle).
_SNAPSHOT_METHODS = frozenset({"write", "writelines", "truncate", "seek", "writable"})
_install_lock = threading.Lock()


def caller() -> str:
    """Return ``file:line`` of the first frame outside Django and this package."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_SKIPPED) and module not in _SKIPPED_ROOTS:
            path = frame.f_code.co_filename
            if path.startswith(_CWD):
                path = path[len(_CWD) :]
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _failure(exc: BaseException, injected: bool) -> str:
    return f"{type(exc).__name__}: {exc}" + (" (injected)" if injected else "")


class Watch:
    """What is observed of one storage: its records and its faults."""

    def __init__(self, storage: Any, owner: str = "") -> None:
        # Weak: the storage holds its watch, and a test's storages must be
        # freed by reference counting when the test ends.
        self._storage = weakref.ref(storage)
        self.owner = owner
        self.main: Record | None = None  # the scope's record
        self.records: list[Record] = []  # the main one and open recording() blocks
        self.faults: list[Fault] = []
        self._local = threading.local()

    @property
    def storage(self) -> Any:
        storage = self._storage()
        if storage is None:
            raise ReferenceError("the watched storage is gone")
        return storage

    # -- turning it on and off ---------------------------------------------

    def _update(self) -> None:
        """Put the wrappers on the storage if anything is watched, else take them off."""
        with _install_lock:
            storage = self.storage
            active = bool(self.records or self.faults)
            if active and storage.__dict__.get("_watch") is not self:
                cls = type(storage)
                for attr, op in OBSERVED.items():
                    method = getattr(cls, attr)
                    if attr == "save":
                        wrapper: Any = functools.partial(self._save, method)
                    elif attr == "_handle":
                        wrapper = functools.partial(self._open, method)
                    else:
                        wrapper = functools.partial(self._call, op, method)
                    storage.__dict__[attr] = wrapper
                storage.__dict__["_watch"] = self
            elif not active and storage.__dict__.get("_watch") is self:
                for attr in (*OBSERVED, "_watch"):
                    storage.__dict__.pop(attr, None)

    def start(self, owner: str) -> Record:
        """Start the scope's record (a fresh one), kept until ``stop()``."""
        self.owner = owner
        if self.main is not None:
            self.records.remove(self.main)
        self.main = Record(owner)
        self.records.append(self.main)
        self._update()
        return self.main

    def stop(self) -> None:
        """Drop every record and fault: the scope is over."""
        self.main = None
        self.records = []
        self.faults = []
        self._update()

    def open_record(self) -> Record:
        """Return a new record of the operations from now on, until ``close_record()``."""
        record = Record(self.owner)
        self.records = [*self.records, record]
        self._update()
        return record

    def close_record(self, record: Record) -> None:
        self.records = [r for r in self.records if r is not record]
        self._update()

    def add_fault(self, fault: Fault) -> Fault:
        self.faults = [*self.faults, fault]
        self._update()
        return fault

    def _drop_fault(self, fault: Fault) -> None:
        self.faults = [f for f in self.faults if f is not fault]
        self._update()

    def quiet(self) -> _Quiet:
        """Return a context manager in which this thread's calls are not operations."""
        return _Quiet(self._local)

    # -- observing -----------------------------------------------------------

    def _busy(self) -> bool:
        return bool(getattr(self._local, "depth", 0))

    def fault(self, op: str, name: str) -> BaseException | None:
        """Return the exception an injected fault makes *op* on *name* raise, if any."""
        for fault in self.faults:
            if fault.matches(op, name):
                exc = fault.take(name)
                if exc is not None:
                    return exc
        return None

    def note(
        self, op: str, name: str, mode: str = "", size: int = 0, error: str = ""
    ) -> list[tuple[Record, int | None]]:
        """Record one operation in every record; return where each keeps it."""
        records = self.records
        if not records:
            return []
        if all(record.full for record in records):
            for record in records:
                record.tally(op)
            return [(record, None) for record in records]
        operation = Operation(op, name, mode, size, time.monotonic(), self.owner, caller(), error)
        return [(record, record.add(operation)) for record in records]

    def _enter(self) -> None:
        self._local.depth = 1

    def _leave(self) -> None:
        self._local.depth = 0

    def _call(self, op: str, method: Callable[..., Any], name: Any, *args: Any, **kw: Any) -> Any:
        storage = self.storage
        if self._busy():
            return method(storage, name, *args, **kw)
        shown = storage._observed_name(name)
        exc = self.fault(op, shown)
        if exc is not None:
            self.note(op, shown, error=_failure(exc, True))
            raise exc
        self._enter()
        try:
            result = method(storage, name, *args, **kw)
        except BaseException as error:
            self.note(op, shown, error=_failure(error, False))
            raise
        finally:
            self._leave()
        self.note(op, shown)
        return result

    def _save(
        self, method: Callable[..., str], name: Any, content: Any, max_length: int | None = None
    ) -> str:
        storage = self.storage
        if self._busy():
            return method(storage, name, content, max_length)
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            from django.core.files.base import File

            content = File(content, name)
        shown = storage._observed_name(name)
        counted = CountedContent(content, self.fault("save", shown))
        self._enter()
        try:
            saved = method(storage, name, counted, max_length)
        except BaseException as error:
            self.note("save", shown, error=_failure(error, error is counted.fault))
            raise
        finally:
            self._leave()
        self.note("save", saved, size=counted.written)
        return saved

    def _open(self, method: Callable[..., Any], name: str, mode: str) -> Any:
        storage = self.storage
        if self._busy():
            return method(storage, name, mode)
        exc = self.fault("open", name)
        if exc is not None:
            self.note("open", name, mode, error=_failure(exc, True))
            raise exc
        self._enter()
        try:
            handle = method(storage, name, mode)
        except BaseException as error:
            self.note("open", name, mode, error=_failure(error, False))
            raise
        finally:
            self._leave()
        self.note("open", name, mode)
        return WatchedFile(handle, name, self)


class _Quiet(AbstractContextManager[None]):
    def __init__(self, local: threading.local) -> None:
        self._local = local

    def __enter__(self) -> None:
        self._before = getattr(self._local, "depth", 0)
        self._local.depth = self._before + 1

    def __exit__(self, *exc_info: object) -> None:
        self._local.depth = self._before


def watch_of(storage: Any, create: bool = False) -> Watch | None:
    """Return *storage*'s watch (made now, with *create*), or None."""
    watch: Watch | None = storage.__dict__.get("_watcher")
    if watch is None and create:
        with _install_lock:
            watch = storage.__dict__.setdefault("_watcher", Watch(storage))
    return watch


def quietly(storage: Any) -> AbstractContextManager[None]:
    """Return a context manager in which *storage*'s calls on this thread are not recorded."""
    watch = storage.__dict__.get("_watch")
    return nullcontext() if watch is None else watch.quiet()


class CountedContent:
    """Content to save, counted as it is read, raising *fault* after its first chunk."""

    def __init__(self, content: Any, fault: BaseException | None) -> None:
        self._content = content
        self.fault = fault
        self.written = 0

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._content, attr)

    def chunks(self, chunk_size: int | None = None) -> Iterator[Any]:
        content = self._content
        chunks = content.chunks() if chunk_size is None else content.chunks(chunk_size)
        for chunk in chunks:
            self.written += len(chunk.encode() if isinstance(chunk, str) else chunk)
            yield chunk
            if self.fault is not None:
                self.written = 0
                raise self.fault  # mid-write, as a failing disk does
        if self.fault is not None:
            raise self.fault


def _size(data: Any) -> int:
    return len(data.encode()) if isinstance(data, str) else len(data)


class WatchedFile:
    """A handle whose reads and writes are recorded: one ``read`` and one ``write`` each.

    The operation is recorded at the first read (write) with its bytes, and
    grows with every later one, so nothing is missing if it is never closed.
    """

    def __init__(self, file: Any, name: str, watch: Watch) -> None:
        self._file = file
        self._name = name
        self._watch = watch
        self._snapshot = type(file) is io.BytesIO
        self._kept: dict[str, list[tuple[Record, int | None]]] = {}

    def __getattr__(self, attr: str) -> Any:
        if self._snapshot and attr in _SNAPSHOT_METHODS:
            return functools.partial(getattr(Snapshot, attr), self._file)
        return getattr(self._file, attr)

    def __enter__(self) -> WatchedFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()

    def _check(self, op: str) -> None:
        exc = self._watch.fault(op, self._name)
        if exc is not None:
            self._watch.note(op, self._name, error=_failure(exc, True))
            raise exc

    def _moved(self, op: str, size: int) -> None:
        kept = self._kept.get(op)
        if kept is None:
            self._kept[op] = self._watch.note(op, self._name, size=size)
        else:
            for record, index in kept:
                record.grow(index, op, size)

    def read(self, *args: Any) -> Any:
        self._check("read")
        data = self._file.read(*args)
        self._moved("read", _size(data))
        return data

    def read1(self, *args: Any) -> Any:
        self._check("read")
        data = self._file.read1(*args)
        self._moved("read", len(data))
        return data

    def readinto(self, buffer: Any) -> Any:
        self._check("read")
        count = self._file.readinto(buffer)
        self._moved("read", count or 0)
        return count

    def readline(self, *args: Any) -> Any:
        self._check("read")
        line = self._file.readline(*args)
        self._moved("read", _size(line))
        return line

    def readlines(self, *args: Any) -> list[Any]:
        self._check("read")
        lines: list[Any] = self._file.readlines(*args)
        self._moved("read", sum(map(_size, lines)))
        return lines

    def __iter__(self) -> WatchedFile:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def write(self, data: Any) -> int:
        if self._snapshot:
            return int(Snapshot.write(self._file, data))  # refuses, as open(name, "rb")'s
        self._check("write")
        count: int = self._file.write(data)
        self._moved("write", _size(data))
        return count

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)
