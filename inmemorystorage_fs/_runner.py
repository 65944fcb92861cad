"""A Django test runner giving every test fresh in-memory storages.

``TEST_RUNNER = "inmemorystorage_fs.testing.DiscoverRunner"`` (this module's
class, which ``testing`` hands out). Each test not already using
``InMemoryStorageMixin`` gets it, under its own name, with the options of the
``INMEMORYSTORAGE_TESTING`` setting.
"""

from __future__ import annotations

import os
import sys
import unittest
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test.runner import DiscoverRunner as DjangoDiscoverRunner

from ._dumps import DUMP_DIR_ENV, set_dump_dir
from ._options import no_key
from ._scope_options import RESERVED, Seed, split_options
from .testing import InMemoryStorageMixin

__all__ = ["TESTING_SETTING", "DiscoverRunner"]

#: The setting the runner reads: the reserved keywords of ``fresh_storage()``.
TESTING_SETTING = "INMEMORYSTORAGE_TESTING"

_Frozen = tuple[tuple[str, Any], ...]
_scoped_classes: dict[tuple[type, _Frozen], type] = {}


def _freeze(options: dict[str, Any]) -> _Frozen:
    """Return *options* as a hashable, picklable tuple."""
    return tuple(sorted((k, _frozen(v)) for k, v in options.items()))


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):  # the "options" of every storage, a fault of "faults"
        return _FrozenDict(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_frozen(item) for item in value)
    return value


def _thawed(value: Any) -> Any:
    """Return a value ``_frozen()`` made as it was given (its lists as tuples)."""
    if isinstance(value, _FrozenDict):
        return {k: _thawed(v) for k, v in value}
    if isinstance(value, tuple):
        return tuple(_thawed(item) for item in value)
    return value


class _FrozenDict(tuple[tuple[str, Any], ...]):
    """A dict's items, hashable; ``dict(frozen)`` gives the dict back."""

    __slots__ = ()


def _scoped(cls: type, options: _Frozen) -> type:
    """Return *cls* with ``InMemoryStorageMixin`` and *options*, made once per process."""
    key = (cls, options)
    found = _scoped_classes.get(key)
    if found is None:
        attrs = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "inmemory_storage_options": {k: _thawed(v) for k, v in options},
            "_inmemory_scoped": (cls, options),
            "_inmemory_origin": "runner",
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


class DiscoverRunner(DjangoDiscoverRunner):
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
        inmemorystorage_orphans: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.inmemorystorage_dump = inmemorystorage_dump
        self.inmemorystorage_strict = inmemorystorage_strict
        self.inmemorystorage_orphans = inmemorystorage_orphans

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
        parser.add_argument(
            "--inmemorystorage-orphans",
            choices=("warn", "error"),
            help="Warn of, or fail, a test whose files no row references at its end.",
        )

    def storage_options(self) -> dict[str, Any]:
        """Return the options of every test's layer: the setting, then the flags."""
        options = dict(getattr(settings, TESTING_SETTING, None) or {})
        for key in options:
            if key not in RESERVED:
                # Not "Invalid option for InMemoryStorage": the setting has no such key.
                raise ImproperlyConfigured(no_key(TESTING_SETTING, key, RESERVED))
        if self.inmemorystorage_strict and options.get("strict") != "all":
            options["strict"] = True
        if self.inmemorystorage_orphans:
            options["orphans"] = self.inmemorystorage_orphans
        seed = options.get("seed")
        if isinstance(seed, (str, os.PathLike)):
            # Read against BASE_DIR (or the working directory), as unittest reads it.
            options["seed"] = Seed(os.fspath(seed), f"the {TESTING_SETTING}['seed'] setting")
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
