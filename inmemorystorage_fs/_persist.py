"""The process-wide filesystem that persistent storages are views of."""

from __future__ import annotations

import threading

from ._changes import writes
from ._fs import FS, MemoryFS

__all__ = ["clear_persistent_fs", "persistent_fs", "shared_fs", "view", "world_mark"]

_shared: MemoryFS | None = None
# Counts the calls that may lead to the filesystem changing unseen by the
# trees' count of writes (a view's fs API, clearing): see world_mark().
_handed_out = 0
_lock = threading.Lock()
# One view object per location, so that storages at one location share it.
_views: dict[str, FS] = {}


def shared_fs() -> MemoryFS:
    """Return the process-wide MemoryFS, creating it on first use."""
    global _shared, _handed_out
    _handed_out += 1
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = MemoryFS()
    return _shared


def persistent_fs() -> MemoryFS | None:
    """Return the process-wide MemoryFS, or None if nothing has used it yet."""
    return _shared


def clear_persistent_fs() -> None:
    """Delete every file of every persistent storage in this process."""
    global _handed_out
    _handed_out += 1
    if _shared is not None:
        _shared.removetree("/")


def view(root: str) -> FS:
    """Return the process-wide filesystem seen from the directory *root* ("" for all of it)."""
    shared = shared_fs()
    if not root:
        return shared
    shared.makedirs(root, recreate=True)  # cleared meanwhile, perhaps
    with _lock:
        found = _views.get(root)
        if found is None:
            found = _views[root] = shared.opendir(root)
        return found


def world_mark() -> tuple[int, int]:
    """Return a mark that stays the same for as long as the process-wide filesystem does.

    It changes with every write a tree makes, and with every hand-out of the
    filesystem (``shared_fs()``, ``view()``), after which its own API may
    write: so an equal mark means the files are as they were, but not the
    other way round. Reads (which set access times) leave it alone.
    """
    return (_handed_out, -1 if _shared is None else writes(_shared))
