"""A fresh default storage per test, with files rolled back like the database.

``fresh_storage(**options)`` installs a new ``InMemoryStorage`` as the default
storage for a block, a function or a class. ``InMemoryStorageMixin`` gives
every test of a unittest/Django ``TestCase`` its own storage that starts with
the files the class saved in ``setUpClass``/``setUpTestData``, and exports a
failed test's files to ``$INMEMORYSTORAGE_DUMP_DIR/<test id>/``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import re
import shutil
import sys
import unittest
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

# Django's own receiver resets the default storage when STORAGES changes; it
# must be connected before ours, which puts the fresh storage back.
import django.test.signals  # noqa: F401
from django.conf import settings
from django.core.files.storage import default_storage, storages
from django.core.signals import setting_changed

from ._persist import clear_persistent_fs, persistent_fs, shared_fs
from ._snapshot import Snapshot, restore_snapshot, take_snapshot
from .storage import InMemoryStorage

__all__ = ["DUMP_DIR_ENV", "InMemoryStorageMixin", "fresh_storage"]

DUMP_DIR_ENV = "INMEMORYSTORAGE_DUMP_DIR"

_F = TypeVar("_F", bound=Callable[..., Any])
# Django's handler caches storages in _storages and default_storage is a
# LazyObject around _wrapped: the two places a default storage is looked up.
_handler: Any = storages
_default: Any = default_storage
_MISSING = object()
#: A layer's base that means: start from the innermost layer's files.
INHERIT = object()
# Settings whose change makes Django forget the default storage.
_RESET_BY = frozenset({"STORAGES", "STATIC_ROOT", "STATIC_URL", "DEFAULT_FILE_STORAGE"})

# Set by the pytest plugin's --inmemorystorage-dump; wins over the environment.
_dump_dir_option: str | None = None


def set_dump_dir(folder: str | None) -> None:
    """Export failed tests' files to *folder* (None: to ``$INMEMORYSTORAGE_DUMP_DIR``, if set)."""
    global _dump_dir_option
    _dump_dir_option = folder


class _State:
    """What a storage and the process-wide filesystem held at one moment."""

    __slots__ = ("own", "world")

    def __init__(self, world: Snapshot | None, own: Snapshot | None) -> None:
        self.world = world  # the process-wide filesystem (None: not created yet)
        self.own = own  # the storage's own MemoryFS (None: it persists, so it is the world)


class Layer:
    """One fresh default storage, installed on enter and removed on exit."""

    def __init__(self, options: dict[str, Any], base: _State | object | None = None) -> None:
        self._options = dict(options)
        self._base = base
        self.storage: InMemoryStorage | None = None

    def __enter__(self) -> InMemoryStorage:
        base = self._base
        if base is INHERIT:
            base = _layers[-1].state() if _layers else None
        storage = InMemoryStorage(**self._options)
        world = persistent_fs()
        self._world_before = take_snapshot(world) if world is not None else None
        if isinstance(base, _State) and base.world is not None:
            restore_snapshot(shared_fs(), base.world)
        else:
            # With INMEMORYSTORAGE_PERSIST every storage shares this filesystem,
            # so emptying it (not creating another) is what makes a test fresh.
            clear_persistent_fs()
        if isinstance(base, _State) and base.own is not None and not storage.persist:
            restore_snapshot(storage.filesystem, base.own)
        self.storage = storage
        self._prev_entry = _handler._storages.get("default", _MISSING)
        self._prev_wrapped = _default._wrapped
        self._storages_setting = _storages_setting()
        _layers.append(self)
        _install(storage)
        return storage

    def __exit__(self, *exc_info: object) -> None:
        if self in _layers:
            _layers.remove(self)
        if self._prev_entry is _MISSING:
            _handler._storages.pop("default", None)
        else:
            _handler._storages["default"] = self._prev_entry
        _default._wrapped = self._prev_wrapped
        world = persistent_fs()
        if self._world_before is not None:
            restore_snapshot(shared_fs(), self._world_before)
        elif world is not None:
            clear_persistent_fs()

    def state(self) -> _State:
        """Return a snapshot of this layer's storage and of the process-wide filesystem."""
        assert self.storage is not None, "the layer is not entered"
        world = persistent_fs()
        own = None if self.storage.persist else take_snapshot(self.storage.filesystem)
        return _State(take_snapshot(world) if world is not None else None, own)


_layers: list[Layer] = []


def _storages_setting() -> Any:
    return getattr(settings, "STORAGES", None)


def _install(storage: InMemoryStorage) -> None:
    """Make *storage* what ``storages["default"]`` and ``default_storage`` return."""
    _handler._storages["default"] = storage
    _default._wrapped = storage


def _reinstall(sender: Any, setting: str, **kwargs: Any) -> None:
    # override_settings(STORAGES=...) inside a fresh storage wins for its block;
    # once the setting is back to what it was, the fresh storage is back too.
    if _layers and setting in _RESET_BY:
        top = _layers[-1]
        if top.storage is not None and _storages_setting() == top._storages_setting:
            _install(top.storage)


setting_changed.connect(_reinstall, dispatch_uid="inmemorystorage_fs.testing._reinstall")


class fresh_storage:  # lower case: used like override_settings
    """Install a new ``InMemoryStorage(**options)`` as the default storage.

    A context manager (``with fresh_storage() as storage:``) and a decorator
    of functions, methods and classes. On a ``unittest.TestCase`` class it
    works as ``InMemoryStorageMixin`` does; on another class it decorates
    each ``test*`` method. The previous default storage comes back on exit,
    also after an exception.
    """

    def __init__(self, **options: Any) -> None:
        InMemoryStorage(**options)  # a misspelt option fails here, not in the test
        self.options = options
        self._entered: list[Layer] = []

    def __enter__(self) -> InMemoryStorage:
        layer = Layer(self.options)
        storage = layer.__enter__()
        self._entered.append(layer)
        return storage

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._entered.pop().__exit__(exc_type, exc, traceback)

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

    #: Options of every ``InMemoryStorage`` this class creates.
    inmemory_storage_options: ClassVar[dict[str, Any]] = {}
    #: The default storage of the running test.
    storage: InMemoryStorage
    _inmemorystorage_mixin: ClassVar[bool] = True  # the pytest plugin reads this
    _inmemory_class_state: ClassVar[_State | None] = None

    @classmethod
    def setUpClass(cls) -> None:
        layer = Layer(cls.inmemory_storage_options)
        layer.__enter__()
        cls.addClassCleanup(cls._inmemory_class_cleanup, layer)
        super().setUpClass()
        cls._inmemory_class_state = layer.state()

    @classmethod
    def _inmemory_class_cleanup(cls, layer: Layer) -> None:
        cls._inmemory_class_state = None
        layer.__exit__(None, None, None)

    def __call__(self, result: unittest.result.TestResult | None = None) -> Any:
        layer = Layer(self.inmemory_storage_options, type(self)._inmemory_class_state)
        with layer as storage:
            self.storage = storage
            if result is not None:
                result = _FailureWatcher(result, self)  # type: ignore[assignment]
            return super().__call__(result)


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
            folder = dump_files(self._test.storage, self._test.id())
            if folder is not None:
                _point_to(folder, err)

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


def _point_to(folder: Path, err: Any) -> None:
    """Show where the files went: as a note on the failure where Python has notes."""
    message = f"inmemorystorage_fs: this test's files are in {folder}"
    exc = err[1] if isinstance(err, tuple) and len(err) > 1 else None
    if isinstance(exc, BaseException) and hasattr(exc, "add_note"):
        exc.add_note(message)
    else:
        print(message, file=sys.stderr)


def _dump_dir() -> Path | None:
    """Return the folder that failed tests' files go to, if one is configured."""
    configured = _dump_dir_option or os.environ.get(DUMP_DIR_ENV)
    return Path(configured).absolute() if configured else None


def _dump_folder_name(test_id: str) -> str:
    """Return *test_id* (a pytest node id or unittest id) as a safe folder name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id).strip("._-") or "test"
    if len(name) > 120:
        digest = hashlib.sha1(test_id.encode(), usedforsecurity=False).hexdigest()[:12]
        name = f"{name[:100]}-{digest}"
    return name


def dump_files(storage: InMemoryStorage, test_id: str) -> Path | None:
    """Export *storage* to the dump folder's subfolder for *test_id*; return it, if any."""
    base = _dump_dir()
    if base is None:
        return None
    folder = base / _dump_folder_name(test_id)
    try:
        if folder.exists():
            shutil.rmtree(folder)  # a previous run's files would mislead
        storage.export(folder)
    except Exception as exc:  # the test's own failure matters more
        print(f"inmemorystorage_fs: could not export to {folder}: {exc!r}", file=sys.stderr)
        return None
    return folder
