"""File handles behave exactly like the builtin ``open()`` on a real file.

A hypothesis state machine runs the same random sequence of opens (every
mode, binary and text) and handle calls on a storage and on a folder on disk,
and compares what comes back, what is raised and what the file holds. The
number of sequences comes from the ``handles`` profile (tests/conftest.py).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
from typing import Any

import pytest
from django.core.files.base import ContentFile
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs._fs import OSFS

NAME = "f.txt"
# Our handles' buffer size; the disk's handles are given the same one, as the
# disk's block size could differ.
BUFFER_SIZE = io.DEFAULT_BUFFER_SIZE
# A little over one buffer: buffered writes reach the limit, and so do direct ones.
LIMIT = BUFFER_SIZE + 3000
BINARY_MODES = ["rb", "r+b", "wb", "w+b", "ab", "a+b", "xb", "x+b", "+rb", "b+a", "br+", "+xb"]
TEXT_MODES = ["r", "r+", "w", "w+", "a", "a+", "x", "x+", "rt", "rt+", "+r", "+a", "at+", "wt"]
READ_ONLY = {"rb", "r", "rt"}
# Text with every newline convention and characters of 2, 3 and 4 bytes in UTF-8.
TEXT_PIECES = st.sampled_from(["a", "\n", "\r\n", "\r", "é", "€", "𝄞", "line\n", "xyz"])


def outcome(call: Any) -> tuple[str, Any]:
    """Return ("ok", result) or ("raised", exception) for *call*()."""
    try:
        return "ok", call()
    except Exception as exc:  # compared below, kind by kind
        return "raised", exc


def same(ours: tuple[str, Any], disk: tuple[str, Any]) -> None:
    """Assert that *ours* and *disk* returned the same value or raised alike."""
    assert ours[0] == disk[0], (ours, disk)
    if ours[0] == "ok":
        assert ours[1] == disk[1], (ours, disk)
        return
    assert isinstance(ours[1], type(disk[1])), (ours, disk)
    if isinstance(disk[1], OSError):
        assert ours[1].errno == disk[1].errno, (ours, disk)


def full(result: tuple[str, Any]) -> bool:
    return result[0] == "raised" and getattr(result[1], "errno", None) == errno.ENOSPC


class PeakFileIO(io.FileIO):
    """A disk file that remembers the largest size it reached."""

    peak = 0

    def write(self, data: Any) -> int | None:
        written = super().write(data)
        self.peak = max(self.peak, os.fstat(self.fileno()).st_size)
        return written

    def truncate(self, size: int | None = None) -> int:
        result = super().truncate(size)
        self.peak = max(self.peak, os.fstat(self.fileno()).st_size)
        return result


def open_watched(path: str, mode: str) -> Any:
    """Return what ``open(path, mode)`` returns, built as open() builds it, over a PeakFileIO."""
    raw = PeakFileIO(path, mode.replace("t", "").replace("b", ""))
    if "+" in mode:
        binary: Any = io.BufferedRandom(raw, BUFFER_SIZE)
    elif "r" in mode:
        binary = io.BufferedReader(raw, BUFFER_SIZE)
    else:
        binary = io.BufferedWriter(raw, BUFFER_SIZE)
    if "b" in mode:
        return binary
    text = io.TextIOWrapper(binary, encoding="utf-8")
    text.mode = mode  # type: ignore[misc]
    return text


def raw_of(handle: Any) -> PeakFileIO:
    return handle.buffer.raw if isinstance(handle, io.TextIOWrapper) else handle.raw


class Handles(RuleBasedStateMachine):
    """Random sequences of handle calls, on a storage and on a disk, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp()
        self.disk_path = os.path.join(self.folder, "disk", NAME)
        os.mkdir(os.path.dirname(self.disk_path))
        self.open_pairs: list[tuple[Any, Any, bool, str]] = []  # ours, disk, text, mode
        self.told: list[int] = []
        self.limit: int | None = None

    @initialize(
        backend=st.sampled_from(["memory", "memory-max-size", "osfs"]),
        content=st.none() | st.binary(max_size=40),
    )
    def start(self, backend: str, content: bytes | None) -> None:
        if backend == "osfs":
            os.mkdir(os.path.join(self.folder, "ours"))
            self.storage: Any = FSStorage(OSFS(os.path.join(self.folder, "ours")))
        else:
            self.limit = LIMIT if backend == "memory-max-size" else None
            self.storage = InMemoryStorage(max_size=self.limit)
        if content is not None:
            self.storage.save(NAME, ContentFile(content))
            with open(self.disk_path, "wb") as disk:
                disk.write(content)

    def teardown(self) -> None:
        for ours, disk, _text, _mode in self.open_pairs:
            outcome(ours.close)
            outcome(disk.close)
        if isinstance(self.storage, FSStorage) and not isinstance(self.storage, InMemoryStorage):
            self.storage.filesystem.close()
        shutil.rmtree(self.folder)

    # -- helpers --------------------------------------------------------------

    def stored(self) -> bytes | None:
        if not self.storage.exists(NAME):
            return None
        with self.storage.open(NAME, "rb") as handle:
            data: bytes = handle.read()
        return data

    def on_disk(self) -> bytes | None:
        if not os.path.exists(self.disk_path):
            return None
        with open(self.disk_path, "rb") as handle:
            return handle.read()

    def both(self, index: int, call: Any) -> tuple[tuple[str, Any], tuple[str, Any]]:
        """Run *call*(handle) on pair *index*'s two handles; compare unless the storage is full."""
        ours, disk, _text, _mode = self.open_pairs[index % len(self.open_pairs)]
        if self.limit is not None:
            for _ours, other, _text, _mode in self.open_pairs:
                raw_of(other).peak = os.path.getsize(self.disk_path)
        ours_result, disk_result = outcome(lambda: call(ours)), outcome(lambda: call(disk))
        # The disk has no limit: it passes max_size exactly when we refuse.
        passed = self.limit is not None and any(
            raw_of(other).peak > self.limit for _ours, other, _text, _mode in self.open_pairs
        )
        assert full(ours_result) == passed, (ours_result, disk_result)
        if passed:
            self.start_again()
        else:
            same(ours_result, disk_result)
        return ours_result, disk_result

    def start_again(self) -> None:
        """Close every handle and make the disk file what the storage holds."""
        for ours, disk, _text, _mode in self.open_pairs:
            outcome(ours.close)  # the refused bytes are still buffered: refused again
            disk.close()
        self.open_pairs.clear()
        with open(self.disk_path, "wb") as disk:
            disk.write(self.stored() or b"")

    def text_pair(self, index: int) -> bool:
        return self.open_pairs[index % len(self.open_pairs)][2]

    # -- rules ----------------------------------------------------------------

    @precondition(lambda self: len(self.open_pairs) < 2)
    @rule(mode=st.sampled_from(BINARY_MODES + TEXT_MODES))
    def open(self, mode: str) -> None:
        if self.open_pairs and (mode in READ_ONLY or self.open_pairs[0][3] in READ_ONLY):
            # Our read-only handles are snapshots; a disk reader would see a
            # writer's later flushes. Readers are compared with no writer open.
            return
        text = "b" not in mode
        encoding = {"encoding": "utf-8"} if text else {}
        ours = outcome(lambda: self.storage.open(NAME, mode))
        if self.limit is None:
            disk = outcome(lambda: open(self.disk_path, mode, buffering=BUFFER_SIZE, **encoding))
        else:
            disk = outcome(lambda: open_watched(self.disk_path, mode))
        same(("ok", None) if ours[0] == "ok" else ours, ("ok", None) if disk[0] == "ok" else disk)
        if ours[0] == "ok":
            self.open_pairs.append((ours[1], disk[1], text, mode))

    @precondition(lambda self: self.open_pairs)
    @rule(
        index=st.integers(0, 1),
        data=st.binary(max_size=30),
        text=st.lists(TEXT_PIECES, max_size=8).map("".join),
        times=st.sampled_from([1, 1, 1, 300]),
    )
    def write(self, index: int, data: bytes, text: str, times: int) -> None:
        piece: Any = text * times if self.text_pair(index) else data * times
        self.both(index, lambda handle: handle.write(piece))

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1), size=st.none() | st.integers(-1, 40) | st.just(BUFFER_SIZE))
    def read(self, index: int, size: int | None) -> None:
        self.both(index, lambda handle: handle.read(size))

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1), size=st.integers(-1, 10))
    def readline(self, index: int, size: int) -> None:
        self.both(index, lambda handle: handle.readline(size))

    @precondition(lambda self: self.open_pairs)
    @rule(
        index=st.integers(0, 1),
        offset=st.integers(-5, 60) | st.just(BUFFER_SIZE + 7),
        whence=st.sampled_from([os.SEEK_SET, os.SEEK_CUR, os.SEEK_END]),
    )
    def seek(self, index: int, offset: int, whence: int) -> None:
        if self.text_pair(index):
            # Text handles seek only to the start, the end, or where tell() said.
            offset = 0
        self.both(index, lambda handle: handle.seek(offset, whence))

    @precondition(lambda self: self.open_pairs and self.told)
    @rule(index=st.integers(0, 1), which=st.integers(0, 5))
    def seek_told(self, index: int, which: int) -> None:
        cookie = self.told[which % len(self.told)]
        self.both(index, lambda handle: handle.seek(cookie))

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1))
    def tell(self, index: int) -> None:
        ours, _disk = self.both(index, lambda handle: handle.tell())
        if ours[0] == "ok":
            self.told.append(ours[1])

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1), size=st.none() | st.integers(-1, 50) | st.just(LIMIT + 1))
    def truncate(self, index: int, size: int | None) -> None:
        self.both(index, lambda handle: handle.truncate(size))

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1))
    def flush(self, index: int) -> None:
        self.both(index, lambda handle: handle.flush())

    @precondition(lambda self: self.open_pairs)
    @rule(index=st.integers(0, 1), after=st.sampled_from(["read", "write", "seek", "tell"]))
    def close(self, index: int, after: str) -> None:
        position = index % len(self.open_pairs)
        ours_result, _disk = self.both(position, lambda handle: handle.close())
        if full(ours_result):
            return  # every handle was closed
        ours, disk, text, _mode = self.open_pairs.pop(position)
        assert ours.closed and disk.closed
        argument = {"read": (), "write": ("x" if text else b"x",), "seek": (0,), "tell": ()}
        same(
            outcome(lambda: getattr(ours, after)(*argument[after])),
            outcome(lambda: getattr(disk, after)(*argument[after])),
        )

    @invariant()
    def same_file(self) -> None:
        if not hasattr(self, "storage"):
            return
        assert self.stored() == self.on_disk()
        if self.on_disk() is not None:
            assert self.storage.size(NAME) == os.path.getsize(self.disk_path)


Handles.TestCase.settings = settings.get_profile("handles")
TestHandles = Handles.TestCase


# -- one example per promise, side by side with open() ------------------------


def both_open(storage: Any, tmp_path: Any, mode: str, content: bytes | None) -> tuple[Any, Any]:
    """Return our handle and the disk's on a file holding *content* (None: no file)."""
    path = tmp_path / NAME
    if content is not None:
        storage.save(NAME, ContentFile(content))
        path.write_bytes(content)
    encoding = {} if "b" in mode else {"encoding": "utf-8"}
    return storage.open(NAME, mode), open(path, mode, **encoding)


def stored_bytes(storage: Any) -> bytes:
    with storage.open(NAME, "rb") as handle:
        data: bytes = handle.read()
    return data


@pytest.mark.parametrize("mode", ["ab", "a+b", "a", "a+", "+a", "b+a"])
def test_appending_writes_at_the_end_wherever_the_position_is(storage, tmp_path, mode):
    ours, disk = both_open(storage, tmp_path, mode, b"header\n")
    piece = b"tail\n" if "b" in mode else "tail\n"
    for handle in (ours, disk):
        handle.seek(0)
        handle.write(piece)
        handle.close()
    assert stored_bytes(storage) == (tmp_path / NAME).read_bytes() == b"header\ntail\n"


def test_text_append_past_eight_kib_writes_at_the_end(storage, tmp_path):
    ours, disk = both_open(storage, tmp_path, "a+", b"x" * 10_000)
    for handle in (ours, disk):
        handle.seek(0)
        assert handle.read(10) == "x" * 10  # the text layer reads a chunk of 8 KiB
        handle.write("end")
        handle.close()
    assert stored_bytes(storage) == (tmp_path / NAME).read_bytes() == b"x" * 10_000 + b"end"


@pytest.mark.parametrize("size", [2, 6, 12])
def test_truncate_keeps_the_position_extends_with_nul_and_returns_the_size(
    storage, tmp_path, size
):
    ours, disk = both_open(storage, tmp_path, "r+b", b"abcdef")
    results = []
    for handle in (ours, disk):
        handle.seek(4)
        results.append((handle.truncate(size), handle.tell(), handle.truncate(), handle.tell()))
        handle.close()
    assert results[0] == results[1] == (size, 4, 4, 4)
    assert stored_bytes(storage) == (tmp_path / NAME).read_bytes()


@pytest.mark.parametrize("mode", ["r+b", "wb", "ab", "r+", "w"])
@pytest.mark.parametrize("call", ["write", "read", "seek", "tell", "truncate", "flush"])
def test_a_closed_handle_refuses_everything_as_open_does(storage, tmp_path, mode, call):
    ours, disk = both_open(storage, tmp_path, mode, b"content")
    argument = {"write": (b"x" if "b" in mode else "x",), "seek": (0,)}.get(call, ())
    raised = []
    for handle in (ours, disk):
        handle.close()
        with pytest.raises(ValueError) as exc_info:
            getattr(handle, call)(*argument)
        raised.append(type(exc_info.value))
    assert raised[0] is raised[1]
    assert stored_bytes(storage) == (tmp_path / NAME).read_bytes()


@pytest.mark.parametrize("mode", ["wb", "ab", "xb", "w", "a"])
@pytest.mark.parametrize("call", ["read", "readline"])
def test_a_write_only_handle_refuses_reads(storage, tmp_path, mode, call):
    ours, disk = both_open(storage, tmp_path, mode, None)
    for handle in (ours, disk):
        with pytest.raises(io.UnsupportedOperation):
            getattr(handle, call)()
        handle.close()


@pytest.mark.parametrize("mode", ["rb", "r+b", "wb", "r", "r+"])
@pytest.mark.parametrize("whence", [os.SEEK_SET, os.SEEK_CUR, os.SEEK_END])
def test_a_negative_seek_raises_what_open_raises(storage, tmp_path, mode, whence):
    ours, disk = both_open(storage, tmp_path, mode, b"abc")
    raised = []
    for handle in (ours, disk):
        with pytest.raises((OSError, ValueError)) as exc_info:
            handle.seek(-10 if "b" in mode else -1, whence if "b" in mode else os.SEEK_SET)
        raised.append((type(exc_info.value), getattr(exc_info.value, "errno", None)))
        assert handle.tell() == 0
        handle.close()
    assert raised[0] == raised[1]


@pytest.mark.parametrize("mode", ["+r", "+rb", "+a", "rt+", "r+t", "b+r", "+w", "t+x"])
def test_every_mode_python_accepts_works(storage, tmp_path, mode):
    ours, disk = both_open(storage, tmp_path, mode, None if "x" in mode else b"abc")
    piece = b"xy" if "b" in mode else "xy"
    for handle in (ours, disk):
        handle.write(piece)
        handle.seek(0)
        handle.read()
        handle.close()
    assert stored_bytes(storage) == (tmp_path / NAME).read_bytes()


def test_max_size_counts_what_the_file_holds_after_a_truncate():
    storage = InMemoryStorage(max_size=10)
    with storage.open(NAME, "wb") as handle:
        handle.write(b"01234")
        handle.seek(9)
        handle.truncate()  # 9 bytes
        handle.truncate(2)
        handle.seek(2)
        handle.write(b"abcdefgh")  # fits again: the file holds 2 bytes
    assert stored_bytes(storage) == b"01abcdefgh"
    with storage.open(NAME, "r+b") as handle:
        handle.truncate(4)
        handle.truncate(10)  # NULs count too, and fit
    assert stored_bytes(storage) == b"01ab" + b"\0" * 6


@pytest.mark.parametrize("mode", ["r+b", "a+b", "rb"])
def test_seeking_records_no_access(storage, tmp_path, mode):
    ours, disk = both_open(storage, tmp_path, mode, b"abc")
    path = tmp_path / NAME
    past = 1_000_000_000.0  # an access time no seek could set
    os.utime(path, (past, past))
    storage.filesystem.setinfo(NAME, {"details": {"accessed": past, "modified": past}})
    with ours, disk:
        for handle in (ours, disk):
            handle.seek(1)
            handle.seek(0, os.SEEK_END)
            handle.seek(-1, os.SEEK_CUR)
            handle.tell()
        assert os.stat(path).st_atime == past
        assert storage.get_accessed_time(NAME).timestamp() == past
