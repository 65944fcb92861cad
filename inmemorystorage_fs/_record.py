"""The operations record: what happened to a storage, in order, and assertions on it.

A ``Record`` keeps ``Operation``s up to a cap (``RECORD_CAP``) and counts
every operation in its ``Stats``, kept or not. ``Operations`` reads the
records of several storages (a test's aliases and fields) as one, in time
order. Imports neither Django nor ``fs``: the dumps write records too.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from ._assertions import TREE_LINES, glob_regex

__all__ = [
    "CHANGING",
    "OPS",
    "RECORD_CAP",
    "Log",
    "Operation",
    "Operations",
    "Record",
    "RecordingOff",
    "Stats",
]

#: What an operation can be: a storage method, or ``read``/``write`` through a handle.
OPS = (
    "save",
    "open",
    "read",
    "write",
    "delete",
    "exists",
    "listdir",
    "size",
    "url",
    "get_accessed_time",
    "get_created_time",
    "get_modified_time",
)
#: Modes in which ``open`` changes nothing (every other one may truncate or create).
READ_MODES = frozenset({"r", "rb", "rt", "br", "tr"})
#: The operations ``assert_nothing_written()`` refuses (and ``open`` in a writing mode).
CHANGING = frozenset({"save", "write", "delete"})
#: The most operations one record keeps. A test doing more is rare; 10,000
#: lines of about 200 bytes (~2 MB) bound a runaway loop's memory per storage.
RECORD_CAP = 10_000


class RecordingOff(RuntimeError):
    """An operation record was asked for where recording is off."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} records no operations: recording is off. Turn it on with "
            "fresh_storage(record=True), @pytest.mark.inmemory_storage(record=True), "
            "the inmemory_operations fixture, inmemorystorage_record = true (pytest ini), "
            "INMEMORYSTORAGE_TESTING = {'record': True} (the runner), "
            "inmemory_storage_record = True (the mixin) or `with storage.recording():`."
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing done to a storage."""

    op: str  # one of OPS
    name: str  # the normalized storage name ("" for the root)
    mode: str = ""  # the mode of an ``open``
    bytes: int = 0  # read or written (``save``, ``read``, ``write``)
    time: float = 0.0  # time.monotonic() when it happened (a handle: its first read or write)
    owner: str = ""  # the alias or ``app_label.Model.field`` whose storage it is
    caller: str = ""  # the first ``file:line`` outside Django and this package
    error: str = ""  # what it raised, if it failed ("OSError: ... (injected)")

    def line(self) -> str:
        """Return this operation as one readable line (its time is in ``as_dict()``)."""
        what = f"{self.op}({self.mode})" if self.mode else self.op
        parts = [f"{what:<10}", repr(self.name)]
        if self.bytes or self.op in ("save", "read", "write"):
            parts.append(f"{self.bytes:,} B")
        if self.owner:
            parts.append(f"[{self.owner}]")
        if self.caller:
            parts.append(f"at {self.caller}")
        if self.error:
            parts.append(f"FAILED: {self.error}")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a dict (a line of ``operations.jsonl``)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Stats:
    """Counts of a record's operations by op, and the bytes read and written."""

    counts: dict[str, int]
    bytes_read: int
    bytes_written: int

    def __str__(self) -> str:
        ops = ", ".join(f"{op} {count}" for op, count in self.counts.items()) or "no operations"
        return f"{ops}; {self.bytes_read:,} B read, {self.bytes_written:,} B written"


class Log(Sequence[Operation]):
    """Operations in order, with assertions whose failures show them."""

    def _operations(self) -> list[Operation]:
        raise NotImplementedError

    def _dropped(self) -> int:
        return 0

    @overload
    def __getitem__(self, index: int) -> Operation: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Operation]: ...

    def __getitem__(self, index: int | slice) -> Operation | Sequence[Operation]:
        return self._operations()[index]

    def __len__(self) -> int:
        return len(self._operations())

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations())

    def lines(self) -> list[str]:
        """Return one readable line per operation, and a last one if the cap dropped some."""
        lines = [f"{number:>4} {o.line()}" for number, o in enumerate(self._operations(), 1)]
        dropped = self._dropped()
        if dropped:
            lines.append(
                f"… the record stopped at its cap of {RECORD_CAP:,} operations: "
                f"{dropped:,} later ones are in stats() only"
            )
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines()) or "(no operations)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} operations>"

    def _shown(self, expected: str) -> str:
        lines = self.lines()
        if len(lines) > TREE_LINES:
            # The last ones: the end of a test is where it went wrong.
            lines = [f"… {len(lines) - TREE_LINES} earlier lines", *lines[-TREE_LINES:]]
        return f"{expected}\nThe record holds:\n" + ("\n".join(lines) or "(no operations)")

    def matching(self, op: str | Iterable[str], pattern: str = "**") -> list[Operation]:
        """Return the operations of *op* (a name or several) whose names match *pattern*."""
        ops = {op} if isinstance(op, str) else set(op)
        regex = glob_regex(pattern)
        return [o for o in self._operations() if o.op in ops and regex.match(o.name)]

    def _assert_some(self, op: str, pattern: str, count: int | None, noun: str) -> None:
        found = [o for o in self.matching(op, pattern) if not o.error]
        if (count is None and not found) or (count is not None and len(found) != count):
            wanted = f"{count} {noun}s" if count is not None else f"a {noun}"
            names = ", ".join(repr(o.name) for o in found[:10])
            raise AssertionError(
                self._shown(
                    f"Expected {wanted} matching {pattern!r}, found {len(found)}"
                    + (f": {names}" if names else "")
                )
            )

    def assert_saved(self, pattern: str = "**", count: int | None = None) -> None:
        """Fail unless a save (exactly *count* saves, if given) matched *pattern*."""
        self._assert_some("save", pattern, count, "save")

    def assert_deleted(self, pattern: str = "**") -> None:
        """Fail unless a delete matched *pattern*."""
        self._assert_some("delete", pattern, None, "delete")

    def assert_read(self, pattern: str = "**") -> None:
        """Fail unless bytes were read through a handle on a name matching *pattern*."""
        self._assert_some("read", pattern, None, "read")

    def assert_not_read(self, pattern: str = "**") -> None:
        """Fail if bytes were read through a handle on a name matching *pattern*."""
        found = [o for o in self.matching("read", pattern) if not o.error]
        if found:
            names = ", ".join(f"{o.name!r} ({o.bytes:,} B)" for o in found[:10])
            raise AssertionError(
                self._shown(f"Expected no read matching {pattern!r}, found {len(found)}: {names}")
            )

    def assert_nothing_written(self) -> None:
        """Fail if anything was saved, written, deleted or opened in a writing mode.

        Operations that failed changed nothing, and pass.
        """
        found = [
            o
            for o in self._operations()
            if not o.error and (o.op in CHANGING or (o.op == "open" and o.mode not in READ_MODES))
        ]
        if found:
            listed = ", ".join(
                f"{o.op}({o.mode}) {o.name!r}" if o.mode else f"{o.op} {o.name!r}"
                for o in found[:10]
            )
            raise AssertionError(
                self._shown(f"Expected nothing written, found {len(found)}: {listed}")
            )

    def jsonl(self) -> str:
        """Return the operations as JSON lines, one object each."""
        return "".join(json.dumps(o.as_dict()) + "\n" for o in self._operations())


class Record(Log):
    """The operations of one storage, from a start (a test, a ``recording()`` block) on."""

    def __init__(self, owner: str = "", cap: int = RECORD_CAP) -> None:
        self.owner = owner
        self.cap = cap
        self._kept: list[Operation] = []
        self._counts: dict[str, int] = {}
        self._read = 0
        self._written = 0
        self._dropped_count = 0
        self._lock = threading.Lock()  # a live server's threads record as the test does

    def _operations(self) -> list[Operation]:
        return self._kept

    def _dropped(self) -> int:
        return self._dropped_count

    @property
    def full(self) -> bool:
        """Return True once the record keeps no more operations."""
        return len(self._kept) >= self.cap

    def add(self, operation: Operation) -> int | None:
        """Count *operation* and keep it, if under the cap; return where it is kept."""
        with self._lock:
            op = operation.op
            self._counts[op] = self._counts.get(op, 0) + 1
            self._count_bytes(op, operation.bytes)
            if len(self._kept) >= self.cap:
                self._dropped_count += 1
                return None
            self._kept.append(operation)
            return len(self._kept) - 1

    def tally(self, op: str) -> None:
        """Count an operation of *op* past the cap, without making it."""
        with self._lock:
            self._counts[op] = self._counts.get(op, 0) + 1
            self._dropped_count += 1

    def grow(self, index: int | None, op: str, size: int) -> None:
        """Add *size* bytes to the kept operation at *index* (None: to the stats only)."""
        with self._lock:
            self._count_bytes(op, size)
            if index is not None:
                kept = self._kept[index]
                self._kept[index] = dataclasses.replace(kept, bytes=kept.bytes + size)

    def _count_bytes(self, op: str, size: int) -> None:
        if op in ("read",):
            self._read += size
        elif op in ("save", "write"):
            self._written += size

    def stats(self) -> Stats:
        """Return the counts per op and the bytes read and written (past the cap too)."""
        with self._lock:
            counts = {op: self._counts[op] for op in OPS if op in self._counts}
            return Stats(counts, self._read, self._written)


class Operations(Log):
    """The records of several storages read as one, in time order."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = list(records)

    def _operations(self) -> list[Operation]:
        if len(self.records) == 1:
            return list(self.records[0])
        return sorted((o for r in self.records for o in r), key=lambda o: o.time)

    def _dropped(self) -> int:
        return sum(record._dropped() for record in self.records)

    def of(self, owner: str) -> Operations:
        """Return the operations of the storage of *owner* (an alias or a field label)."""
        records = [record for record in self.records if record.owner == owner]
        if not records:
            known = ", ".join(repr(record.owner) for record in self.records)
            raise KeyError(f"No recorded storage is {owner!r}; the recorded ones: {known}.")
        return Operations(records)

    def stats(self) -> Stats:
        """Return the counts per op and the bytes read and written, over every storage."""
        counts: dict[str, int] = {}
        read = written = 0
        for record in self.records:
            stats = record.stats()
            read += stats.bytes_read
            written += stats.bytes_written
            for op, count in stats.counts.items():
                counts[op] = counts.get(op, 0) + count
        return Stats({op: counts[op] for op in OPS if op in counts}, read, written)
