"""How many changes each filesystem went through, as the trees recorded them.

Every change made through a tree counts one more change of its filesystem; a
``max_size`` tree compares the count with the one it last accounted for, to
know whether anyone else wrote since (see ``_limits``).
"""

from __future__ import annotations

import threading
import weakref

from ._fs import FS

__all__ = ["note_write", "writes"]

_changes: weakref.WeakKeyDictionary[FS, int] = weakref.WeakKeyDictionary()
_changes_lock = threading.Lock()


def note_write(fs: FS) -> None:
    """Record that *fs* changed (call it after the change)."""
    with _changes_lock:
        _changes[fs] = _changes.get(fs, 0) + 1


def writes(fs: FS) -> int:
    """Return how many changes of *fs* were recorded."""
    return _changes.get(fs, 0)
