"""``Layer``: the fresh storages of one scope, and the stack of scopes entered.

A layer installs, on enter, the in-memory storages its options ask for (the
default one made on first use where it can be), restores the files it starts
with (a seed, or an earlier layer's ``State``) and the process-wide
filesystem, and on exit puts back what it replaced. ``fresh_storage()``,
``InMemoryStorageMixin``, the runner and the pytest plugin all enter layers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Django's own receiver resets the default storage when STORAGES changes; it
# must be connected before ours, which puts the fresh storage back.
import django.test.signals  # noqa: F401
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.core.signals import setting_changed

from ._changes import writes
from ._errors import no_space
from ._faults import Fault
from ._liveserver import serving, stop_serving
from ._names import forget_names
from ._options import did_you_mean
from ._orphans import OrphanWatch
from ._persist import clear_persistent_fs, persistent_fs, shared_fs, world_mark
from ._record import Operations, RecordingOff
from ._scope_options import TestingOptions, split_options
from ._snapshot import Snapshot, graft_snapshot, restore_snapshot, take_snapshot
from ._strict import Origin, Strictness, StrictScope, allowed_classes
from ._strict import enter as enter_strict
from ._strict import leave as leave_strict
from ._swaps import Swap
from ._watch import watch_of
from .storage import InMemoryStorage

__all__ = ["INHERIT", "Layer", "State", "checked_options", "entered_layers", "seed_files"]

#: A layer's base that means: start from the innermost layer's files.
INHERIT = object()
# Settings whose change makes Django forget the default storage.
_RESET_BY = frozenset({"STORAGES", "STATIC_ROOT", "STATIC_URL", "DEFAULT_FILE_STORAGE"})


class State:
    """What a storage and the process-wide filesystem held at one moment."""

    __slots__ = ("own", "seed", "world")

    def __init__(self, world: Snapshot | None, own: Snapshot | None, seed: str | None) -> None:
        self.world = world  # the process-wide filesystem (None: not created yet)
        self.own = own  # the storage's own MemoryFS (None: it persists, so it is the world)
        self.seed = seed  # the seed the files started from, if any


class Layer:
    """The fresh storages of one scope, installed on enter and removed on exit.

    *options* are ``fresh_storage()``'s: the reserved ``aliases``, ``fields``,
    ``strict`` and ``allow``, and the default storage's own options (or
    *split*, what ``split_options()`` made of them); *origin* says what
    entered it, for strict mode's hint. ``enter()`` leaves the
    default storage to be made on first use when it is the only one swapped
    and no seed is planted: ``storage`` makes it.
    """

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        base: State | object | None = None,
        split: tuple[TestingOptions, dict[str, Any]] | None = None,
        origin: Origin = "fresh_storage",
    ) -> None:
        self.testing, self._storage_options = split or split_options(options or {})
        self.origin = origin  # what entered it, for strict mode's hint
        self._base = base
        self.swap: Swap | None = None
        self._strict: StrictScope | None = None
        self.orphan_watch: OrphanWatch | None = None
        self._inherited: State | None = None
        self.recording = self.testing.record  # the record_operations() of a fixture turns it on
        self._watched: dict[int, tuple[InMemoryStorage, str]] = {}  # id -> (storage, label)

    def __enter__(self) -> InMemoryStorage:
        self.enter()
        assert self.swap is not None
        try:
            return self.swap.default_storage()
        except BaseException:
            # A storage that cannot be made leaves nothing installed behind it.
            self.exit()
            raise

    def enter(self) -> None:
        """Install this layer's storages (the default one lazily, where it can be)."""
        with _scope_lock:  # threads entering and leaving scopes take turns
            self._enter()

    def _enter(self) -> None:
        base = self._base
        if base is INHERIT:
            base = _layers[-1].state() if _layers else None
        inherited = self._inherited = base if isinstance(base, State) else None
        seed = self.testing.seed
        # Faults and strict mode name the storages as the scope starts: made at once.
        testing = self.testing
        lazy = seed is None and (testing.only_default or not (testing.faults or testing.strict))
        swap = Swap(testing, self._storage_options, lazy=lazy, on_build=self._prepare)
        world = persistent_fs()
        self._world_before = take_snapshot(world) if world is not None else None
        if inherited is not None and inherited.world is not None:
            restore_snapshot(shared_fs(), inherited.world)
        else:
            # Persistent storages share this filesystem, so emptying it (not
            # creating another) is what makes a test fresh.
            clear_persistent_fs()
        try:
            swap.install()
            try:
                self._observe_named(swap)
            except BaseException:
                swap.restore()
                raise
        except BaseException:
            # A replacement that cannot be made: the files go back as they were.
            if self._world_before is not None:
                restore_snapshot(shared_fs(), self._world_before)
            raise
        self.swap = swap
        self._seed = seed if seed is not None else getattr(inherited, "seed", None)
        self._storages_setting = _storages_setting()
        if self.testing.strict:
            level: Strictness = "all" if self.testing.strict == "all" else "writes"
            allow = allowed_classes(self.testing.allow)
            self._strict = StrictScope(level, allow, swap.origins, self.origin)
            enter_strict(self._strict)
        _layers.append(self)
        self._served: Callable[[], Iterable[Storage]] | None
        self._served = serving(self._served_storages)
        # The end-of-test check of orphan files: its driver knows when the test ends.
        self.orphan_watch = OrphanWatch(self) if self.testing.orphans else None
        self._parent = _layers[-2] if len(_layers) > 1 else None
        self._mark = self._marks()

    def _marks(self) -> tuple[int, int, int]:
        """Return what ``untouched()`` compares: the world's mark, the parent's own writes."""
        parent = self._parent
        swap = None if parent is None else parent.swap
        made = None if swap is None else swap.storages.get("default")
        own = -1 if made is None or made._own_fs is None else writes(made._own_fs)
        return (*world_mark(), own)

    def untouched(self) -> bool:
        """Return True if this entered scope is as fresh as one entered now in its place.

        Nothing of it was made, watched or recorded, the process-wide
        filesystem was neither written nor handed out, and the files it
        inherited from the scope below were not written: a pytest run hands
        it to the next test of the same module and class instead of leaving
        it and entering another.
        """
        swap = self.swap
        return (
            swap is not None
            and not swap.storages
            and not self._watched
            and self.orphan_watch is None
            and self._strict is None
            and not self.recording
            and bool(_layers)
            and _layers[-1] is self
            and self._marks() == self._mark
        )

    def _prepare(self, storage: InMemoryStorage) -> None:
        """Give the default storage, just made, the files it starts with (and its watch).

        Made on first use, the other storages of the scope are watched too.
        """
        self._observe(storage, "default")
        if self.swap is not None:
            self._observe_named(self.swap)
        inherited = self._inherited
        if inherited is not None and inherited.own is not None and not storage.persist:
            restore_snapshot(storage.filesystem, inherited.own)
        seed = self.testing.seed
        if seed is not None and not (inherited is not None and inherited.seed == seed):
            _plant(storage, seed)

    def __exit__(self, *exc_info: object) -> None:
        self.exit()

    def exit(self) -> None:
        """Remove this layer's storages and put back what they replaced."""
        with _scope_lock:
            self._exit()

    def _exit(self) -> None:
        # Left before a later layer (threads, tasks): the later one puts the
        # process-wide filesystem back to what it was before this one.
        later = _layers[_layers.index(self) + 1 :] if self in _layers else []
        if self in _layers:
            _layers.remove(self)
        if self._served is not None:
            stop_serving(self._served)
        if self._strict is not None:
            leave_strict(self._strict)
        for storage, _label in self._watched.values():
            watch = watch_of(storage)
            if watch is not None:
                watch.stop()  # the record of a test lasts as long as the test
        self._watched.clear()
        if self.swap is not None:
            self.swap.restore()
            # Free this layer by reference counting, not by the garbage
            # collector: the swap and the live server held bound methods of it.
            self.swap.forget_builder()
        self._served = None
        forget_names()  # the next test names its own files
        if later:
            later[0]._world_before = self._world_before
            return
        world = persistent_fs()
        if self._world_before is not None:
            restore_snapshot(shared_fs(), self._world_before)
        elif world is not None:
            clear_persistent_fs()

    # -- records and faults -------------------------------------------------------

    def _observe_named(self, swap: Swap) -> None:
        """Watch the aliases' and fields' storages; raise if a fault names another one."""
        labels = {"default", *swap.storages, *swap.field_storages}
        for spec in self.testing.faults:
            if spec.storage not in labels:
                raise ImproperlyConfigured(
                    f"faults: {spec.storage!r} is no storage this scope put in memory. "
                    f"{did_you_mean(spec.storage, labels)}It has: {', '.join(sorted(labels))} "
                    "(aliases=[...] and fields=True put more in memory)."
                )
        for label, storage in {**swap.storages, **swap.field_storages}.items():
            if label != "default" and id(storage) not in self._watched:
                self._observe(storage, label)

    def _observe(self, storage: InMemoryStorage, label: str) -> None:
        """Start *storage*'s record and faults, as the options of this scope ask."""
        faults = [spec for spec in self.testing.faults if spec.storage == label]
        self._watched[id(storage)] = (storage, label)
        if not (self.recording or faults):
            return  # a storage nobody watches costs nothing
        watch = watch_of(storage, create=True)
        assert watch is not None
        watch.owner = label
        if self.recording:
            watch.start(label)
        for spec in faults:
            watch.add_fault(Fault(watch, spec.op, spec.pattern, spec.exc, spec.times, spec.after))

    def record_operations(self) -> None:
        """Make every storage of this scope record its operations from now on."""
        with _scope_lock:
            self.recording = True
            for storage, label in self._watched.values():
                watch = watch_of(storage, create=True)
                if watch is not None and watch.main is None:
                    watch.start(label)

    def operations(self) -> Operations:
        """Return the records of this scope's storages, read as one (raise if it records none)."""
        if not self.recording:
            raise RecordingOff("This test's scope")
        self.storage  # noqa: B018  # the default storage records too, made now if it was lazy
        records = []
        for storage, _label in self._watched.values():
            watch = watch_of(storage)
            if watch is not None and watch.main is not None:
                records.append(watch.main)
        return Operations(records)

    @property
    def storage(self) -> InMemoryStorage | None:
        """Return the default storage, made now if it was left for first use (None: no enter)."""
        return None if self.swap is None else self.swap.default_storage()

    def state(self) -> State:
        """Return a snapshot of this layer's storages and of the process-wide filesystem."""
        assert self.swap is not None, "the layer is not entered"
        world = persistent_fs()
        world_files = take_snapshot(world) if world is not None else None
        storage = self.swap.storages.get("default")
        if storage is None:  # never made: it holds what it would have started with
            own = self._inherited.own if self._inherited is not None else None
        elif storage.persist or storage._own_fs is None:
            own = None  # its files are in the world, or it never held any
        else:
            own = take_snapshot(storage._own_fs)
        return State(world_files, own, self._seed)

    def _served_storages(self) -> list[InMemoryStorage]:
        # The default storage is made for a request that comes first, as it
        # would have been made for the test: a name it lacks goes to the disk.
        storages = [self.storage, *self.named_storages().values()]
        return list({id(s): s for s in storages if s is not None}.values())

    def named_storages(self) -> dict[str, InMemoryStorage]:
        """Return each storage this layer made, by alias or ``app_label.Model.field``."""
        if self.swap is None:
            return {}
        return {**self.swap.storages, **self.swap.field_storages}


_layers: list[Layer] = []
_scope_lock = threading.RLock()
# seed source -> its files, read once per process
_seeds: dict[str, Snapshot] = {}
_seed_sizes: dict[str, int] = {}  # seed source -> the bytes of its files


def entered_layers() -> list[Layer]:
    """Return the layers entered and not yet left, innermost last."""
    return list(_layers)


def checked_options(options: dict[str, Any]) -> tuple[TestingOptions, dict[str, Any]]:
    """Return ``split_options(options)``, once a storage and a layer can be made of them."""
    testing, storage_options = split_options(options)
    InMemoryStorage(**{**testing.options, **storage_options})
    allowed_classes(testing.allow)
    return testing, storage_options


def seed_files(seed: str) -> Snapshot:
    """Return the files of *seed*, read from it on first use only.

    A seed is read as ``load()`` reads (``INMEMORYSTORAGE_LOAD_LIMIT`` bounds it).
    """
    snapshot = _seeds.get(seed)
    if snapshot is None:
        reader = InMemoryStorage()
        reader.load(seed)
        _seed_sizes[seed] = sum(reader.size(name) for name in reader.files())
        snapshot = _seeds[seed] = take_snapshot(reader.filesystem)
    return snapshot


def _plant(storage: InMemoryStorage, seed: str) -> None:
    """Give *storage* the files of *seed*, or raise ENOSPC if they pass its ``max_size``."""
    snapshot = seed_files(seed)
    size, max_size = _seed_sizes[seed], storage._max_size
    if max_size is not None and size > max_size:
        raise no_space(seed, size, max_size, 0)
    if storage.persist:
        graft_snapshot(shared_fs(), storage.location.replace(os.sep, "/").rstrip("/"), snapshot)
    else:
        restore_snapshot(storage.filesystem, snapshot)  # zero-copy: shares the bytes


def _storages_setting() -> Any:
    return getattr(settings, "STORAGES", None)


def _reinstall(sender: Any, setting: str, **kwargs: Any) -> None:
    # override_settings(STORAGES=...) inside a fresh storage wins for its block;
    # once the setting is back to what it was, the fresh storages are back too.
    if _layers and setting in _RESET_BY:
        top = _layers[-1]
        if top.swap is not None and _storages_setting() == top._storages_setting:
            top.swap.reinstall()


setting_changed.connect(_reinstall, dispatch_uid="inmemorystorage_fs._layers._reinstall")
