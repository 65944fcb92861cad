"""How many changes each filesystem went through, as the trees recorded them.

Every change made through a tree counts one more change of its filesystem; a
``max_size`` tree compares the count with the one it last accounted for, to
know whether anyone else wrote since (see ``_limits``). A tree holds its
filesystem's ``Changes`` from the start: looking the count up by filesystem
(a weak mapping, which makes a weak reference per call) cost ~1 us, a third
of a ``delete()``. The count is guarded by the filesystem's own lock, so a
tree that changes the filesystem under that lock counts in the same step.
"""

from __future__ import annotations

import threading
import weakref

from ._fs import FS
from ._handle import Lock

__all__ = ["Changes", "changes_of", "note_write", "writes"]


class Changes:
    """The count of one filesystem's changes; change ``count`` only holding ``lock``."""

    __slots__ = ("__weakref__", "count", "lock")

    def __init__(self, lock: Lock) -> None:
        self.lock = lock
        self.count = 0

    def note(self) -> None:
        """Record one more change (call it after the change)."""
        with self.lock:  # += is a read and a write: two threads could count one
            self.count += 1


_changes: weakref.WeakKeyDictionary[FS, Changes] = weakref.WeakKeyDictionary()
_changes_lock = threading.Lock()


def changes_of(fs: FS) -> Changes:
    """Return the count of *fs*'s changes, the same object for as long as *fs* lives."""
    found = _changes.get(fs)
    if found is None:
        with _changes_lock:
            # The filesystem's lock (an RLock): re-entered by a tree holding it.
            found = _changes.setdefault(fs, Changes(fs.lock()))
    return found


def note_write(fs: FS) -> None:
    """Record that *fs* changed (call it after the change)."""
    changes_of(fs).note()


def writes(fs: FS) -> int:
    """Return how many changes of *fs* were recorded."""
    found = _changes.get(fs)
    return 0 if found is None else found.count
