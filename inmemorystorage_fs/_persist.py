"""The process-wide filesystem that persistent storages are views of."""

from __future__ import annotations

import threading

from ._fs import FS, MemoryFS

__all__ = ["clear_persistent_fs", "persistent_fs", "shared_fs", "view"]

_shared: MemoryFS | None = None
_lock = threading.Lock()
# One view object per location, so that storages at one location share it.
_views: dict[str, FS] = {}


def shared_fs() -> MemoryFS:
    """Return the process-wide MemoryFS, creating it on first use."""
    global _shared
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
