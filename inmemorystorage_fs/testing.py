"""A fresh default storage per test, with files rolled back like the database.

``fresh_storage(**options)`` installs a new ``InMemoryStorage`` as the default
storage for a block, a function or a class. ``InMemoryStorageMixin`` gives
every test of a unittest/Django ``TestCase`` its own storage that starts with
the files the class saved in ``setUpClass``/``setUpTestData``, and exports a
failed test's files to ``$INMEMORYSTORAGE_DUMP_DIR/<test id>/``.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import unittest
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

# Django's own receiver resets the default storage when STORAGES changes; it
# must be connected before ours, which puts the fresh storage back.
import django.test.signals  # noqa: F401
from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed

from ._dumps import DUMP_DIR_ENV, dump_files, point_to, set_dump_dir
from ._errors import no_space
from ._liveserver import serving, stop_serving
from ._persist import clear_persistent_fs, persistent_fs, shared_fs
from ._snapshot import Snapshot, graft_snapshot, restore_snapshot, take_snapshot
from ._strict import RealStorageUsed, Strictness, StrictScope, allowed_classes
from ._strict import enter as enter_strict
from ._strict import leave as leave_strict
from ._swaps import RESERVED, Swap, TestingOptions, split_options
from .storage import FSStorage, InMemoryStorage

__all__ = [
    "DUMP_DIR_ENV",
    "RESERVED",
    "DiscoverRunner",
    "InMemoryStorageMixin",
    "RealStorageUsed",
    "fresh_storage",
]


_F = TypeVar("_F", bound=Callable[..., Any])
#: A layer's base that means: start from the innermost layer's files.
INHERIT = object()
# Settings whose change makes Django forget the default storage.
_RESET_BY = frozenset({"STORAGES", "STATIC_ROOT", "STATIC_URL", "DEFAULT_FILE_STORAGE"})


class _State:
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
    *split*, what ``split_options()`` made of them). ``enter()`` leaves the
    default storage to be made on first use when it is the only one swapped
    and no seed is planted: ``storage`` makes it.
    """

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        base: _State | object | None = None,
        split: tuple[TestingOptions, dict[str, Any]] | None = None,
    ) -> None:
        self.testing, self._storage_options = split or split_options(options or {})
        self._base = base
        self.swap: Swap | None = None
        self._strict: StrictScope | None = None
        self._inherited: _State | None = None

    def __enter__(self) -> InMemoryStorage:
        self.enter()
        assert self.swap is not None
        return self.swap.default_storage()

    def enter(self) -> None:
        """Install this layer's storages (the default one lazily, where it can be)."""
        with _scope_lock:  # threads entering and leaving scopes take turns
            self._enter()

    def _enter(self) -> None:
        base = self._base
        if base is INHERIT:
            base = _layers[-1].state() if _layers else None
        inherited = self._inherited = base if isinstance(base, _State) else None
        seed = self.testing.seed
        swap = Swap(self.testing, self._storage_options, lazy=seed is None, on_build=self._prepare)
        world = persistent_fs()
        self._world_before = take_snapshot(world) if world is not None else None
        if inherited is not None and inherited.world is not None:
            restore_snapshot(shared_fs(), inherited.world)
        else:
            # Persistent storages share this filesystem, so emptying it (not
            # creating another) is what makes a test fresh.
            clear_persistent_fs()
        self.swap = swap
        swap.install()
        self._seed = seed if seed is not None else getattr(inherited, "seed", None)
        self._storages_setting = _storages_setting()
        if self.testing.strict:
            level: Strictness = "all" if self.testing.strict == "all" else "writes"
            allow = allowed_classes(self.testing.allow)
            self._strict = StrictScope(level, allow, swap.origins)
            enter_strict(self._strict)
        _layers.append(self)
        self._served: Callable[[], Iterable[Storage]] | None
        self._served = serving(self._served_storages)

    def _prepare(self, storage: InMemoryStorage) -> None:
        """Give the default storage, just made, the files it starts with."""
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
        if self.swap is not None:
            self.swap.restore()
            # Free this layer by reference counting, not by the garbage
            # collector: the swap and the live server held bound methods of it.
            self.swap.forget_builder()
        self._served = None
        if later:
            later[0]._world_before = self._world_before
            return
        world = persistent_fs()
        if self._world_before is not None:
            restore_snapshot(shared_fs(), self._world_before)
        elif world is not None:
            clear_persistent_fs()

    @property
    def storage(self) -> InMemoryStorage | None:
        """Return the default storage, made now if it was left for first use (None: no enter)."""
        return None if self.swap is None else self.swap.default_storage()

    def state(self) -> _State:
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
        return _State(world_files, own, self._seed)

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
# This thread's or task's open fresh_storage() blocks, innermost last: a
# fresh_storage entered by several leaves, in each, the layer entered there.
_entered_here: ContextVar[tuple[tuple[fresh_storage, Layer], ...]] = ContextVar(
    "inmemorystorage_fs_entered", default=()
)
# seed source -> its files, read once per process
_seeds: dict[str, Snapshot] = {}
_seed_sizes: dict[str, int] = {}  # seed source -> the bytes of its files


def checked_options(options: dict[str, Any]) -> tuple[TestingOptions, dict[str, Any]]:
    """Return ``split_options(options)``, once a storage and a layer can be made of them."""
    testing, storage_options = split_options(options)
    InMemoryStorage(**storage_options)
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


setting_changed.connect(_reinstall, dispatch_uid="inmemorystorage_fs.testing._reinstall")


class fresh_storage:  # lower case: used like override_settings
    """Install a new ``InMemoryStorage(**options)`` as the default storage.

    A context manager (``with fresh_storage() as storage:``) and a decorator
    of functions, methods and classes. On a ``unittest.TestCase`` class it
    works as ``InMemoryStorageMixin`` does; on another class it decorates
    each ``test*`` method. The previous default storage comes back on exit,
    also after an exception.

    Scopes are process-wide, as Django's storages are (a live server's
    threads see the test's storage): the storages installed are those of the
    last scope entered that is still open. Threads and asyncio tasks may
    leave their scopes in any order: a scope left before a later one hands
    what it replaced to that one, so no left scope's storage stays installed.
    Not contextvars (a new thread would not see the test's storage), and not
    an error (whether a test failed would depend on which thread ran first).
    """

    def __init__(self, **options: Any) -> None:
        # A misspelt option or a bad value fails here, not in the test.
        checked_options(options)
        self.options = options
        self._entered: list[Layer] = []

    def __enter__(self) -> InMemoryStorage:
        layer = Layer(self.options)
        storage = layer.__enter__()
        self._entered.append(layer)
        _entered_here.set((*_entered_here.get(), (self, layer)))
        return storage

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._leaving().__exit__(exc_type, exc, traceback)

    def _leaving(self) -> Layer:
        """Return the layer this thread or task entered last with this object."""
        here = _entered_here.get()
        for index in range(len(here) - 1, -1, -1):
            owner, layer = here[index]
            if owner is self and layer in self._entered:
                _entered_here.set(here[:index] + here[index + 1 :])
                self._entered.remove(layer)
                return layer
        # Entered in another context (an async fixture's set-up runs in its own task).
        return self._entered.pop()

    def __call__(self, decorated: _F) -> _F:
        """Decorate a function, method or class (see the class docstring)."""
        if isinstance(decorated, type):
            return self._decorate_class(decorated)  # type: ignore[return-value]
        options = self.options
        if inspect.iscoroutinefunction(decorated):

            @functools.wraps(decorated)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with Layer(options):
                    return await decorated(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(decorated)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Layer(options):
                return decorated(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _decorate_class(self, cls: type) -> type:
        if issubclass(cls, unittest.TestCase):
            # A subclass under the same name: test runners and pickling (for
            # --parallel) find it where the original was.
            bases = (
                (cls,) if issubclass(cls, InMemoryStorageMixin) else (InMemoryStorageMixin, cls)
            )
            attrs = {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
                "inmemory_storage_options": dict(self.options),
            }
            return type(cls.__name__, bases, attrs)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and inspect.isfunction(value):
                setattr(cls, name, self(value))
        return cls


if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object


class InMemoryStorageMixin(_TestCaseBase):
    """Give each test its own default storage holding the files its class set up.

    Put it before ``TestCase``: ``class Tests(InMemoryStorageMixin, TestCase)``.
    Files saved in ``setUpClass``/``setUpTestData`` are in every test's
    ``self.storage``; what a test changes is gone before the next test. A
    failed test's files are exported to ``$INMEMORYSTORAGE_DUMP_DIR/<test id>/``.
    """

    #: Options of the default ``InMemoryStorage`` (and the reserved ones) of each test.
    inmemory_storage_options: ClassVar[dict[str, Any]] = {}
    #: The ``STORAGES`` aliases each test gets in memory, or ``"__all__"``.
    inmemory_storage_aliases: ClassVar[Any] = ("default",)
    #: Whether every model ``FileField``'s storage is put in memory too.
    inmemory_storage_fields: ClassVar[bool] = False
    #: ``True`` (refuse writes) or ``"all"`` (refuse every call) to real storages.
    inmemory_storage_strict: ClassVar[Any] = False
    #: A folder, FS URL or zip whose files every test starts with (None: none).
    inmemory_storage_seed: ClassVar[Any] = None
    #: The default storage of the running test.
    storage: InMemoryStorage
    _inmemory_layer: Layer
    _inmemorystorage_mixin: ClassVar[bool] = True  # the pytest plugin reads this
    _inmemory_class_state: ClassVar[_State | None] = None
    _inmemory_class_layer: ClassVar[Layer | None] = None

    @classmethod
    def _inmemory_options(cls) -> dict[str, Any]:
        """Return the options of this class's layers: the attributes, then the options."""
        return {
            "aliases": cls.inmemory_storage_aliases,
            "fields": cls.inmemory_storage_fields,
            "strict": cls.inmemory_storage_strict,
            "seed": cls.inmemory_storage_seed,
            **cls.inmemory_storage_options,
        }

    @classmethod
    def setUpClass(cls) -> None:
        layer = Layer(cls._inmemory_options())
        layer.__enter__()
        cls.addClassCleanup(cls._inmemory_class_cleanup, layer)
        cls._inmemory_class_layer = layer
        cls._inmemory_class_state = None
        super().setUpClass()

    @classmethod
    def _inmemory_class_cleanup(cls, layer: Layer) -> None:
        cls._inmemory_class_state = None
        cls._inmemory_class_layer = None
        layer.__exit__(None, None, None)

    @classmethod
    def _inmemory_class_files(cls) -> _State | None:
        """Return the class's files, snapshotted when its first test starts."""
        # Not at the end of our setUpClass: a subclass's setUpClass saves its
        # files after calling ours. By the first test every setUpClass is done.
        state = cls.__dict__.get("_inmemory_class_state")
        layer = cls.__dict__.get("_inmemory_class_layer")
        if state is None and layer is not None:
            state = cls._inmemory_class_state = layer.state()
        return state

    # -- assertions on the files of a storage (default: the test's default storage) --

    def assertStorageExists(self, *patterns: str, alias: str = "default") -> None:
        """Fail unless each pattern matches a file or directory of ``storages[alias]``."""
        _ours(alias).assert_exists(*patterns)

    def assertStorageMissing(self, *patterns: str, alias: str = "default") -> None:
        """Fail if a pattern matches a file or directory of ``storages[alias]``."""
        _ours(alias).assert_missing(*patterns)

    def assertStorageCount(
        self, expected: int, pattern: str = "**", alias: str = "default"
    ) -> None:
        """Fail unless *expected* files of ``storages[alias]`` match *pattern*."""
        _ours(alias).assert_count(expected, pattern)

    def assertStorageContent(
        self, name: str, expected: bytes | str, alias: str = "default"
    ) -> None:
        """Fail unless the file *name* of ``storages[alias]`` holds *expected*."""
        _ours(alias).assert_content(name, expected)

    def assertStorageEmpty(self, path: str = "", alias: str = "default") -> None:
        """Fail if any file is under *path* in ``storages[alias]``."""
        _ours(alias).assert_empty(path)

    def __call__(self, result: unittest.result.TestResult | None = None) -> Any:
        layer = Layer(self._inmemory_options(), self._inmemory_class_files())
        with layer as storage:
            self.storage = storage
            self._inmemory_layer = layer
            if result is not None:
                result = _FailureWatcher(result, self)  # type: ignore[assignment]
            return super().__call__(result)


def _ours(alias: str) -> InMemoryStorage:
    """Return ``storages[alias]``, which must be one of this package's storages."""
    storage = storages[alias]
    if not isinstance(storage, FSStorage):
        raise TypeError(
            f"STORAGES[{alias!r}] is {type(storage).__name__}, not an inmemorystorage_fs "
            "storage: put it in memory (inmemory_storage_aliases) to assert on it."
        )
    return storage  # type: ignore[return-value]


class _FailureWatcher:
    """Pass everything on to a test result, dumping the test's files at its first failure."""

    def __init__(self, result: Any, test: InMemoryStorageMixin) -> None:
        self._result = result
        self._test = test
        self._dumped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    def _failed(self, err: Any) -> None:
        if not self._dumped:
            self._dumped = True
            dump = dump_files(self._test._inmemory_layer, self._test.id())
            if dump is not None:
                point_to(dump, err)

    def addError(self, test: Any, err: Any) -> None:
        self._failed(err)
        self._result.addError(test, err)

    def addFailure(self, test: Any, err: Any) -> None:
        self._failed(err)
        self._result.addFailure(test, err)

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        if err is not None:
            self._failed(err)
        self._result.addSubTest(test, subtest, err)


# -- a Django test runner --------------------------------------------------------

#: The setting the runner reads: {"aliases": ..., "fields": ..., "strict": ..., "allow": ...}.
TESTING_SETTING = "INMEMORYSTORAGE_TESTING"

_Frozen = tuple[tuple[str, Any], ...]
_scoped_classes: dict[tuple[type, _Frozen], type] = {}


def _freeze(options: dict[str, Any]) -> _Frozen:
    """Return *options* as a hashable, picklable tuple."""
    return tuple(
        sorted(
            (k, tuple(v) if isinstance(v, (list, set, frozenset)) else v)
            for k, v in options.items()
        )
    )


def _scoped(cls: type, options: _Frozen) -> type:
    """Return *cls* with ``InMemoryStorageMixin`` and *options*, made once per process."""
    key = (cls, options)
    found = _scoped_classes.get(key)
    if found is None:
        attrs = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "inmemory_storage_options": dict(options),
            "_inmemory_scoped": (cls, options),
            "__reduce_ex__": _reduce_scoped,
        }
        found = _scoped_classes.setdefault(
            key, type(cls.__name__, (InMemoryStorageMixin, cls), attrs)
        )
    return found


def _reduce_scoped(test: Any, protocol: Any) -> tuple[Any, ...]:
    # --parallel pickles tests to its workers: send the original class, which
    # pickles by name, and build the scoped one again there.
    cls, options = type(test)._inmemory_scoped
    return _rebuild_scoped, (cls, options, dict(test.__dict__))


def _rebuild_scoped(cls: type, options: _Frozen, state: dict[str, Any]) -> Any:
    scoped: Any = _scoped(cls, options)
    test = scoped.__new__(scoped)
    test.__dict__.update(state)
    return test


def _tests_of(suite: Any) -> list[unittest.TestCase]:
    """Return every test in *suite*, a (parallel) test suite."""
    found: list[unittest.TestCase] = []
    pending = [suite]
    while pending:
        item = pending.pop()
        if isinstance(item, unittest.TestCase):
            found.append(item)
        else:
            pending.extend(getattr(item, "subsuites", None) or list(item))
    return found


def _runner_base() -> type:
    from django.test.runner import DiscoverRunner as DjangoDiscoverRunner

    return DjangoDiscoverRunner


class DiscoverRunner(_runner_base()):  # type: ignore[misc]
    """Django's ``DiscoverRunner``, giving every test fresh in-memory storages.

    ``TEST_RUNNER = "inmemorystorage_fs.testing.DiscoverRunner"``. What goes
    in memory comes from the ``INMEMORYSTORAGE_TESTING`` setting (the keys of
    ``fresh_storage()``'s reserved options); files roll back like the database.
    """

    def __init__(
        self,
        *args: Any,
        inmemorystorage_dump: str | None = None,
        inmemorystorage_strict: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.inmemorystorage_dump = inmemorystorage_dump
        self.inmemorystorage_strict = inmemorystorage_strict

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--inmemorystorage-dump",
            metavar="DIR",
            help="Export each failed test's files to DIR/<test id>/.",
        )
        parser.add_argument(
            "--inmemorystorage-strict",
            action="store_true",
            help="Fail a test that writes to a storage that is not in memory.",
        )

    def storage_options(self) -> dict[str, Any]:
        """Return the options of every test's layer: the setting, then the flags."""
        options = dict(getattr(settings, TESTING_SETTING, None) or {})
        if self.inmemorystorage_strict and options.get("strict") != "all":
            options["strict"] = True
        split_options(options)  # a bad setting fails before any test runs
        return options

    def setup_test_environment(self, **kwargs: Any) -> None:
        super().setup_test_environment(**kwargs)
        configured = self.inmemorystorage_dump or os.environ.get(DUMP_DIR_ENV)
        if configured:
            # Resolved once, here: a test may change the working directory.
            set_dump_dir(configured)
            os.environ[DUMP_DIR_ENV] = os.path.abspath(configured)  # for spawned workers

    def build_suite(self, *args: Any, **kwargs: Any) -> Any:
        suite = super().build_suite(*args, **kwargs)
        options = _freeze(self.storage_options())
        for test in _tests_of(suite):
            if not isinstance(test, InMemoryStorageMixin):
                test.__class__ = _scoped(type(test), options)
        return suite

    def suite_result(self, suite: Any, result: Any, **kwargs: Any) -> Any:
        used = sorted(
            {
                line.split("RealStorageUsed: ", 1)[1]
                for _test, text in [*result.failures, *result.errors]
                for line in str(text).splitlines()
                if "RealStorageUsed: " in line
            }
        )
        if used:
            print(f"\ninmemorystorage_fs: {len(used)} use(s) of a real storage:", file=sys.stderr)
            for message in used:
                print(f"  - {message}", file=sys.stderr)
        return super().suite_result(suite, result, **kwargs)
