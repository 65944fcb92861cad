"""Pickling storages: what they were given travels, what follows the settings does not.

A storage over an FS URL pickles as its options; the cached values are
dropped, so they follow the settings where it is unpickled. An
``InMemoryStorage`` of its own takes its files along as a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.functional import cached_property

from ._fs import FS, MemoryFS
from ._snapshot import Snapshot, restore_snapshot, take_snapshot
from ._watch import OBSERVED, WATCH_ATTRS

__all__ = ["PicklesFiles", "PicklesOptions"]


class PicklesOptions:
    """Pickle a storage without its lock, its opened filesystem and its cached values."""

    _fs_option: FS | str | None
    _start: Callable[[], None]  # sets up again what is never pickled

    def __getstate__(self) -> dict[str, Any]:
        if isinstance(self._fs_option, FS):
            raise TypeError(
                f"{type(self).__name__} over an FS object cannot be pickled; "
                "give it an FS URL (such as 'osfs:///srv/media') instead."
            )
        cached = {
            attr
            for cls in type(self).__mro__
            for attr, value in vars(cls).items()
            if isinstance(value, cached_property)
        }
        # Cached values follow the settings where the storage is unpickled.
        # A watch (record, faults) belongs to the scope, not to the storage's copy;
        # _twin, a stand-in's copy of its original, is made again on first use.
        skip = cached | {"_lock", "_opened_fs", "_twin", *WATCH_ATTRS, *OBSERVED}
        return {key: value for key, value in self.__dict__.items() if key not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start()


class PicklesFiles(PicklesOptions):
    """Pickle an in-memory storage with the files of its own ``MemoryFS``."""

    _own_fs: MemoryFS | None
    _own: Callable[[], MemoryFS]  # its MemoryFS, made on first use

    if TYPE_CHECKING:

        @property
        def persist(self) -> bool: ...  # whether it is a view of the process-wide filesystem

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        own = state.pop("_own_fs", None)
        if own is not None and not self.persist:
            state["_files"] = take_snapshot(own)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        files: Snapshot | None = state.pop("_files", None)
        super().__setstate__(state)
        self._own_fs = None
        if files is not None:
            restore_snapshot(self._own(), files)
