"""What a storage tells about itself: its operations record, faults, and diffs of its files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._faults import Fault
from ._names import normalize_name
from ._record import Record, RecordingOff, Stats
from ._snapshot import snapshot_files, take_snapshot
from ._watch import quietly, watch_of

if TYPE_CHECKING:
    from ._fs import FS
    from ._tree import Tree
    from ._watch import Watch

__all__ = ["Diff", "Mark", "Observable", "files_below"]


@dataclass(frozen=True)
class Mark:
    """The files of a storage at one moment (their bytes are shared, not copied)."""

    files: dict[str, bytes] = field(repr=False)

    def __repr__(self) -> str:
        return f"<Mark: {len(self.files)} files>"


@dataclass(frozen=True)
class Diff:
    """The files added, changed and removed between a ``Mark`` and now, sorted."""

    added: list[str]
    changed: list[str]
    removed: list[str]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def __str__(self) -> str:
        lines = [
            f"{sign} {name}"
            for sign, names in (("+", self.added), ("~", self.changed), ("-", self.removed))
            for name in names
        ]
        return "\n".join(lines) or "(no changes)"


def files_below(fs: FS, root: str) -> dict[str, bytes]:
    """Return every file under the directory *root* of *fs* with its bytes, sharing them."""
    return snapshot_files(take_snapshot(fs), root)


class Observable:
    """A storage's operations record, ``fail_on()``, and ``mark()``/``diff()``."""

    #: The storage's watch while it records or fails (see ``_watch``), else None.
    _watch: Watch | None = None

    if TYPE_CHECKING:

        @property
        def _tree(self) -> Tree: ...  # the storage's tree

        @property
        def _anchor(self) -> str | None: ...  # what absolute names are read against

    def _observed_name(self, name: Any) -> str:
        """Return *name* as the record shows it: normalized when it can be."""
        if name is None:
            return ""
        try:
            return normalize_name(str(name), self._anchor)
        except Exception:  # the storage's own call raises what is wrong with it
            return str(name)

    def _quiet(self) -> AbstractContextManager[None]:
        return quietly(self)

    def _main_record(self) -> Record:
        watch = watch_of(self)
        if watch is None or watch.main is None:
            raise RecordingOff(f"{type(self).__name__}")
        return watch.main

    @property
    def operations(self) -> Record:
        """Return this storage's record of operations in this scope, in order."""
        return self._main_record()

    def stats(self) -> Stats:
        """Return the operations counted per op, and the bytes read and written."""
        return self._main_record().stats()

    @contextmanager
    def recording(self) -> Iterator[Record]:
        """Record the operations of a ``with`` block, whatever the scope records."""
        watch = watch_of(self, create=True)
        assert watch is not None
        record = watch.open_record()
        try:
            yield record
        finally:
            watch.close_record(record)

    def fail_on(
        self,
        op: str,
        pattern: str = "**",
        exc: BaseException | type[Exception] | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> Fault:
        """Make *op* on names matching *pattern* raise *exc* (None: ``OSError`` EIO).

        The first *after* matching operations pass; the next *times* raise
        (None: all). It lasts until the test's scope ends, or, used as a
        context manager, until its block ends.
        """
        watch = watch_of(self, create=True)
        assert watch is not None
        return watch.add_fault(Fault(watch, op, pattern, exc, times, after))

    def mark(self) -> Mark:
        """Return the files now, for ``diff()``."""
        tree = self._tree
        return Mark(files_below(tree.fs, tree.root))

    def diff(self, since: Mark) -> Diff:
        """Return the files added, changed and removed since the ``mark()`` *since*."""
        if not isinstance(since, Mark):
            raise TypeError(f"diff() takes what mark() returned, not {since!r}.")
        tree = self._tree
        now = files_below(tree.fs, tree.root)
        before = since.files
        return Diff(
            added=sorted(name for name in now if name not in before),
            changed=sorted(
                name
                for name, data in now.items()
                if name in before and before[name] is not data and before[name] != data
            ),
            removed=sorted(name for name in before if name not in now),
        )

    def assert_saved(self, pattern: str = "**", count: int | None = None) -> None:
        """Fail unless a save (exactly *count* saves, if given) matched *pattern*."""
        self._main_record().assert_saved(pattern, count)

    def assert_deleted(self, pattern: str = "**") -> None:
        """Fail unless a delete matched *pattern*."""
        self._main_record().assert_deleted(pattern)

    def assert_read(self, pattern: str = "**") -> None:
        """Fail unless bytes were read through a handle on a name matching *pattern*."""
        self._main_record().assert_read(pattern)

    def assert_not_read(self, pattern: str = "**") -> None:
        """Fail if bytes were read through a handle on a name matching *pattern*."""
        self._main_record().assert_not_read(pattern)

    def assert_nothing_written(self) -> None:
        """Fail if anything was saved, written, deleted or opened in a writing mode."""
        self._main_record().assert_nothing_written()
