"""A fresh default storage per test, with files rolled back like the database.

``fresh_storage(**options)`` installs a new ``InMemoryStorage`` as the default
storage for a block, a function or a class. ``InMemoryStorageMixin`` gives
every test of a unittest/Django ``TestCase`` its own storage that starts with
the files the class saved in ``setUpClass``/``setUpTestData``, and exports a
failed test's files to ``$INMEMORYSTORAGE_DUMP_DIR/<test id>/``.
``fake_image``, ``fake_file`` and ``fake_pdf`` make valid upload files, and
``assert_image`` checks a stored image.
"""

from __future__ import annotations

import functools
import inspect
import os
import unittest
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.core.files.storage import storages

from ._assertions import assert_image
from ._dumps import DUMP_DIR_ENV, dump_files, point_to
from ._fakes import fake_file, fake_image, fake_pdf
from ._faults import Fault
from ._layers import INHERIT, Layer, State, checked_options
from ._observable import Diff, Mark
from ._orphans import OrphanFilesError, OrphanFilesWarning, assert_no_orphans
from ._record import Operation, Operations, Record, RecordingOff, Stats
from ._scope_options import RESERVED, Seed
from ._strict import Origin, RealStorageUsed
from .storage import FSStorage, InMemoryStorage

if TYPE_CHECKING:
    from ._runner import DiscoverRunner

__all__ = [
    "DUMP_DIR_ENV",
    "INHERIT",
    "RESERVED",
    "Diff",
    "DiscoverRunner",
    "Fault",
    "InMemoryStorageMixin",
    "Layer",
    "Mark",
    "Operation",
    "Operations",
    "OrphanFilesError",
    "OrphanFilesWarning",
    "RealStorageUsed",
    "Record",
    "RecordingOff",
    "Stats",
    "assert_image",
    "assert_no_orphans",
    "fake_file",
    "fake_image",
    "fake_pdf",
    "fresh_storage",
]


_F = TypeVar("_F", bound=Callable[..., Any])
# This thread's or task's open fresh_storage() blocks, innermost last: a
# fresh_storage entered by several leaves, in each, the layer entered there.
_entered_here: ContextVar[tuple[tuple[fresh_storage, Layer], ...]] = ContextVar(
    "inmemorystorage_fs_entered", default=()
)


def __getattr__(name: str) -> Any:
    # The runner imports Django's test runner, which fresh_storage and the
    # mixin do not need: it is loaded when TEST_RUNNER (or an import) asks.
    if name == "DiscoverRunner":
        from . import _runner

        return _runner.DiscoverRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        layer = self._leaving()
        try:
            if exc_type is None:
                _check_orphans(layer)
        finally:
            layer.__exit__(exc_type, exc, traceback)

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
                layer = Layer(options)
                with layer:
                    result = await decorated(*args, **kwargs)
                    _check_orphans(layer)
                    return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(decorated)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            layer = Layer(options)
            with layer:
                result = decorated(*args, **kwargs)
                _check_orphans(layer)
                return result

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
                "_inmemory_origin": "fresh_storage",
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
    #: ``"warn"`` or ``"error"``: check each test's files for orphans at its end (None: don't).
    inmemory_storage_orphans: ClassVar[Any] = None
    #: Glob patterns of files the orphans check never reports.
    inmemory_storage_orphans_ignore: ClassVar[Any] = ()
    #: Whether every storage of each test records its operations (``storage_operations``).
    inmemory_storage_record: ClassVar[bool] = False
    #: The default storage of the running test.
    storage: InMemoryStorage
    _inmemory_layer: Layer
    _inmemorystorage_mixin: ClassVar[bool] = True  # the pytest plugin reads this
    _inmemory_origin: ClassVar[Origin] = "mixin"  # the runner and fresh_storage set theirs
    _inmemory_class_state: ClassVar[State | None] = None
    _inmemory_class_layer: ClassVar[Layer | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        if unittest.TestCase in mro and mro.index(unittest.TestCase) < mro.index(
            InMemoryStorageMixin
        ):
            # unittest's __call__ and setUpClass would run instead of the mixin's.
            names = [base.__name__ for base in cls.__bases__]
            mixins = [
                base.__name__ for base in cls.__bases__ if issubclass(base, InMemoryStorageMixin)
            ]
            fixed = mixins + [name for name in names if name not in mixins]
            raise TypeError(
                f"{cls.__name__} lists InMemoryStorageMixin after TestCase in its bases, "
                "so unittest would never run it: put it first, "
                f"class {cls.__name__}({', '.join(fixed)})."
            )

    @classmethod
    def _inmemory_options(cls) -> dict[str, Any]:
        """Return the options of this class's layers: the attributes, then the options."""
        options = {
            "aliases": cls.inmemory_storage_aliases,
            "fields": cls.inmemory_storage_fields,
            "strict": cls.inmemory_storage_strict,
            "orphans": cls.inmemory_storage_orphans,
            "orphans_ignore": cls.inmemory_storage_orphans_ignore,
            "record": cls.inmemory_storage_record,
            "seed": _named_seed(
                cls.inmemory_storage_seed, f"{cls.__name__}.inmemory_storage_seed"
            ),
            **cls.inmemory_storage_options,
        }
        if "seed" in cls.inmemory_storage_options:
            where = f"{cls.__name__}.inmemory_storage_options['seed']"
            options["seed"] = _named_seed(options["seed"], where)
        return options

    @classmethod
    def setUpClass(cls) -> None:
        layer = Layer(cls._inmemory_options(), origin=cls._inmemory_origin)
        layer.__enter__()  # on failure it leaves nothing installed
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
    def _inmemory_class_files(cls) -> State | None:
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

    def assertStorageImage(
        self,
        name: str,
        size: tuple[int, int] | None = None,
        format: str | None = None,
        mode: str | None = None,
        alias: str = "default",
    ) -> None:
        """Fail unless *name* of ``storages[alias]`` is an image of *size*, *format*, *mode*."""
        _ours(alias).assert_image(name, size, format, mode)

    def assertStorageNoOrphans(self, alias: str = "default", ignore: Any = ()) -> None:
        """Fail if a file of ``storages[alias]`` is referenced by no row, *ignore* aside."""
        assert_no_orphans(alias, ignore)

    # -- assertions on the operations record (default: every storage of the test) --

    @property
    def storage_operations(self) -> Operations:
        """Return the operations of every storage this test put in memory, in order."""
        return self._inmemory_layer.operations()

    def _operations_of(self, alias: str | None) -> Operations:
        operations = self.storage_operations
        return operations if alias is None else operations.of(alias)

    def assertStorageSaved(
        self, pattern: str = "**", count: int | None = None, alias: str | None = None
    ) -> None:
        """Fail unless a save (exactly *count*, if given) matched *pattern*."""
        self._operations_of(alias).assert_saved(pattern, count)

    def assertStorageDeleted(self, pattern: str = "**", alias: str | None = None) -> None:
        """Fail unless a delete matched *pattern*."""
        self._operations_of(alias).assert_deleted(pattern)

    def assertStorageRead(self, pattern: str = "**", alias: str | None = None) -> None:
        """Fail unless bytes were read from a name matching *pattern*."""
        self._operations_of(alias).assert_read(pattern)

    def assertStorageNotRead(self, pattern: str = "**", alias: str | None = None) -> None:
        """Fail if bytes were read from a name matching *pattern*."""
        self._operations_of(alias).assert_not_read(pattern)

    def assertStorageNothingWritten(self, alias: str | None = None) -> None:
        """Fail if anything was saved, written, deleted or opened in a writing mode."""
        self._operations_of(alias).assert_nothing_written()

    def __call__(self, result: unittest.result.TestResult | None = None) -> Any:
        layer = Layer(
            self._inmemory_options(), self._inmemory_class_files(), origin=self._inmemory_origin
        )
        with layer as storage:
            self.storage = storage
            self._inmemory_layer = layer
            watcher = None if result is None else _FailureWatcher(result, self)
            if layer.orphan_watch is not None:
                check_at_test_end(self, layer, watcher)
            return super().__call__(result if watcher is None else watcher)  # type: ignore[arg-type]


def check_at_test_end(test: unittest.TestCase, layer: Layer, watcher: Any = None) -> None:
    """Have *test* run *layer*'s orphans check at its end, if it may read the database.

    A cleanup registered before the test runs is run last, after ``tearDown``
    and the test's own cleanups, and before Django's teardown rolls back
    (``TestCase``) or empties (``TransactionTestCase``) the tables: the rows
    read are those the test left. A test that failed or was skipped is not
    checked, nor one that may not read the database (a ``SimpleTestCase``).
    """
    if getattr(test, "databases", None):
        test.addCleanup(_check_unless_failed, test, layer, watcher)


def _check_unless_failed(
    test: unittest.TestCase, layer: Layer, watcher: _FailureWatcher | None
) -> None:
    __tracebackhide__ = True  # pytest shows the message, not these frames
    if watcher is not None and watcher.failed_or_skipped:
        return
    # Python 3.10 reports a test's failures and skips to the result only after
    # its cleanups; its outcome holds them until then (3.11+ reports at once).
    # Its success flag is no guide: each cleanup starts it afresh.
    outcome = getattr(test, "_outcome", None)
    held = getattr(outcome, "errors", ())
    if getattr(outcome, "skipped", None) or any(info is not None for _, info in held):
        return
    _check_orphans(layer)


def _check_orphans(layer: Layer) -> None:
    """Run *layer*'s orphans check, if its options ask for one."""
    __tracebackhide__ = True
    if layer.orphan_watch is not None:
        layer.orphan_watch.check()


def _named_seed(seed: Any, named_by: str) -> Any:
    """Return a seed folder as a ``Seed`` that says who named it; anything else as given."""
    if isinstance(seed, (str, os.PathLike)):
        return Seed(os.fspath(seed), f"the {named_by} attribute")
    return seed


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
        #: the test failed or was skipped: its files say nothing of orphans
        self.failed_or_skipped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    def _failed(self, err: Any) -> None:
        self.failed_or_skipped = True
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

    def addSkip(self, test: Any, reason: str) -> None:
        self.failed_or_skipped = True
        self._result.addSkip(test, reason)

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        if err is not None:
            self._failed(err)
        self._result.addSubTest(test, subtest, err)
