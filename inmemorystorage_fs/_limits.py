"""``max_size``: a tree mixin that refuses writes past a number of bytes, like a full disk.

The bytes in use are counted once, by walking the tree, and then kept up to
date by the tree's own writes, so the room check costs the same with 10,000
files as with 10. Every change made through any storage's tree counts as a
change of its filesystem (``_changes.Changes``); when the filesystem's count
is not the one this tree last accounted for, someone else wrote (another
storage at the same persistent location, a rollback), and the next check
counts again. Writes made on ``storage.filesystem`` directly bypass storages,
so the count sees them only after the next write through another storage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from ._errors import name_taken, no_space
from ._fs import FS
from ._handle import Limit, Lock, Locks
from ._tree import Staged, Tree

__all__ = ["Reserved", "byte_count_problem", "limited", "reserve"]

# One lock for every storage with a max_size, so that two handles (perhaps of
# two storages at one persistent location) cannot both take the last bytes.
_limit_lock = threading.RLock()


def byte_count_problem(value: object, what: str) -> str | None:
    """Return why *value* cannot be *what* (``max_size``, a load limit), or None if it can."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return None
    return f"{what} must be a number of bytes (an int >= 0) or None, not {value!r}."


class Reserved:
    """The room a storage keeps for one writer: ``max_size`` less its other files."""

    __slots__ = ("max_size", "used")

    def __init__(self, max_size: int | None, used: int) -> None:
        self.max_size = max_size  # None: no limit
        self.used = used

    def check(self, total: int, shown: str) -> None:
        """Raise ENOSPC if writing *total* bytes, shown as *shown*, would pass ``max_size``."""
        if self.max_size is not None and self.used + total > self.max_size:
            raise no_space(shown, total, self.max_size, self.used)


@contextmanager
def reserve(tree: Tree, replaced: Iterable[str]) -> Iterator[Reserved]:
    """Keep *tree*'s room for the block's writes, which replace the files *replaced*."""
    if isinstance(tree, _Limited):
        with tree.reserve(replaced) as reserved:
            yield reserved
    else:
        yield Reserved(None, 0)


class _Limited(Tree):
    """The ``max_size`` behaviour, mixed in before a ``Tree`` class."""

    def __init__(self, fs: FS, root: str = "", *, max_size: int) -> None:
        super().__init__(fs, root)
        self.max_size = max_size
        self._used = 0
        self._counted_at = -1  # no count yet

    def _in_use(self) -> int:
        """Return the bytes in use, counting them again if anyone else wrote since."""
        if self._counted_at != self.changes.count:
            self._used = self.used_bytes()
            self._counted_at = self.changes.count
        return self._used

    def _grew(self, growth: int, before: int) -> None:
        """Account for this tree's own write of *growth* bytes, made after change *before*."""
        if self.changes.count == self._counted_at + 1 and before == self._counted_at:
            self._used += growth  # only our own write happened since the count
            self._counted_at = self.changes.count
        else:
            self._counted_at = -1

    def check_room(self, name: str, growth: int) -> None:
        """Raise ENOSPC if *name* growing by *growth* bytes would pass ``max_size``."""
        if growth <= 0:
            return
        used = self._in_use()
        if used + growth > self.max_size:
            raise no_space(name, growth, self.max_size, used)

    def _is_file(self, name: str) -> bool:
        try:
            self.size(name)
        except OSError:
            return False
        return True

    def add(self, name: str, staged: Staged) -> None:
        with _limit_lock:
            if self.exists(name):
                raise name_taken(name)  # before the room check: the caller may replace it
            size = self.staged_size(staged)
            self.check_room(name, size)
            before = self.changes.count
            super().add(name, staged)
            self._grew(size, before)

    def replace(self, name: str, staged: Staged) -> None:
        with _limit_lock:
            size = self.staged_size(staged)
            old = self.size(name) if self.exists(name) else 0
            self.check_room(name, size - old)
            before = self.changes.count
            super().replace(name, staged)
            self._grew(size - old, before)

    def remove(self, name: str) -> None:
        with _limit_lock:
            try:
                freed: int | None = self.size(name)
            except OSError:
                freed = None  # a directory tree (count again) or nothing
            before = self.changes.count
            super().remove(name)
            if freed is None:
                self._counted_at = -1
            else:
                self._grew(-freed, before)

    def clear(self) -> None:
        with _limit_lock:
            super().clear()
            self._counted_at = -1

    def open(self, name: str, mode: str) -> IO[bytes]:
        if mode == "rb":
            return super().open(name, mode)
        with _limit_lock:
            emptied = self.size(name) if mode.startswith("w") and self._is_file(name) else 0
            before = self.changes.count
            handle = super().open(name, mode)
            self._grew(-emptied, before)  # "w" empties the file; opening adds nothing
        return handle

    def handle_lock(self) -> Lock:
        # The limit's lock first, as everywhere: two handles, perhaps of two
        # storages at one persistent location, cannot both take the last bytes.
        return Locks(_limit_lock, super().handle_lock())

    def limit(self) -> Limit:
        return self

    @contextmanager
    def reserve(self, replaced: Iterable[str]) -> Iterator[Reserved]:
        """Keep the room for the block's writes, which replace the files *replaced*."""
        # No other save or handle write of any max_size storage can take the
        # room until the block ends: they all wait for this lock.
        with _limit_lock:
            used = self._in_use()
            for name in replaced:
                try:
                    used -= self.size(name)
                except OSError:
                    pass  # not there, or a directory (which the writer may not replace)
            try:
                yield Reserved(self.max_size, used)
            finally:
                self._counted_at = -1  # the block wrote without accounting

    def grow(self, file: IO[bytes], name: str, growth: int) -> None:
        """Take *growth* bytes (negative: give them back) for *file*, opened as *name*."""
        # Handles call this holding handle_lock(), so _limit_lock is held.
        if not self.holds(name, file):
            # Deleted or replaced since it was opened: its bytes are in no
            # listing, so they take no room (a disk frees them at close()).
            # Count again rather than add: the name may hold a new file.
            self._counted_at = -1
            return
        self.check_room(name, growth)
        before = self.changes.count
        self.changes.note()
        self._grew(growth, before)

    def recount(self) -> None:
        """Count the bytes in use again at the next check."""
        self._counted_at = -1


def limited(tree_class: type[Tree], fs: FS, root: str, max_size: int) -> Tree:
    """Return a tree of *tree_class* over *fs* at *root* that holds at most *max_size* bytes."""
    return _limited_class(tree_class)(fs, root, max_size=max_size)


_classes: dict[type[Tree], type[_Limited]] = {}


def _limited_class(tree_class: type[Tree]) -> type[_Limited]:
    found = _classes.get(tree_class)
    if found is None:
        made = type(f"Limited{tree_class.__name__}", (_Limited, tree_class), {})
        found = _classes.setdefault(tree_class, made)
    return found
