"""pytest plugin: a fresh in-memory default storage per test, and failed tests' files on disk.

Registered through the ``pytest11`` entry point, so it is loaded in every
pytest run where the package is installed. It stays inert (it imports neither
Django nor ``fs``) until a test uses the ``inmemory_storage`` fixture or marker,
or ``--inmemorystorage-autouse`` / ``inmemorystorage_autouse = true`` is set.

Storages are layered like Django's ``TestCase`` data: a module and a class
that hold tests using the storage get a fresh storage of their own, so files
saved by module- or class-scoped fixtures are present at the start of every
test, and each test works on its own copy of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .storage import InMemoryStorage
    from .testing import Layer

__all__ = ["inmemory_storage"]

MARKER = "inmemory_storage"
AUTOUSE_INI = "inmemorystorage_autouse"
ALIASES_INI = "inmemorystorage_aliases"
FIELDS_INI = "inmemorystorage_fields"
STRICT_INI = "inmemorystorage_strict"
SEED_INI = "inmemorystorage_seed"
DUMP_DIR_ENV = "INMEMORYSTORAGE_DUMP_DIR"  # the same name as testing.DUMP_DIR_ENV

_using_key = pytest.StashKey[set[str]]()
_layer_key = pytest.StashKey["Layer"]()
_dumped_key = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("inmemorystorage", "inmemorystorage_fs")
    group.addoption(
        "--inmemorystorage-autouse",
        action="store_true",
        default=False,
        help="Give every test a fresh in-memory default storage (as if it used the "
        "inmemory_storage fixture).",
    )
    group.addoption(
        "--inmemorystorage-dump",
        metavar="DIR",
        default=None,
        help=f"Export each failed test's files to DIR/<test id>/ (default: ${DUMP_DIR_ENV}).",
    )
    group.addoption(
        "--inmemorystorage-strict",
        action="store_true",
        default=False,
        help="Fail a test that writes to a storage that is not in memory.",
    )
    group.addoption(
        "--inmemorystorage-all",
        action="store_true",
        default=False,
        help="Put every STORAGES alias (but staticfiles) and every model FileField's "
        "storage in memory.",
    )
    parser.addini(
        ALIASES_INI,
        type="args",
        default=[],
        help="STORAGES aliases each test gets in memory (space-separated), or __all__.",
    )
    parser.addini(
        FIELDS_INI, type="bool", default=False, help="Put model FileFields' storages in memory."
    )
    parser.addini(
        STRICT_INI, type="bool", default=False, help="Fail tests that write to a real storage."
    )
    parser.addini(
        SEED_INI,
        default="",
        help="A folder or FS URL (relative to the rootdir) whose files each test starts with.",
    )
    parser.addini(
        AUTOUSE_INI,
        type="bool",
        default=False,
        help="Give every test a fresh in-memory default storage.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): give the test a fresh InMemoryStorage(**options) "
        "as the default storage.",
    )
    option = config.getoption("inmemorystorage_dump")
    if option:
        # Resolved now: a test may change the working directory.
        _set_dump_option(str(config.invocation_params.dir / option))
        config.add_cleanup(lambda: _set_dump_option(None))


def _set_dump_option(value: str | None) -> None:
    from . import testing

    testing.set_dump_dir(value)


def _autouse(config: pytest.Config) -> bool:
    return bool(config.getoption("inmemorystorage_autouse") or config.getini(AUTOUSE_INI))


def _is_mixin_test(item: pytest.Item) -> bool:
    """Return True for tests of InMemoryStorageMixin classes, which isolate themselves."""
    return bool(getattr(getattr(item, "cls", None), "_inmemorystorage_mixin", False))


def _uses_storage(item: pytest.Item, autouse: bool) -> bool:
    if _is_mixin_test(item):
        return False
    return (
        autouse
        or MARKER in getattr(item, "fixturenames", ())
        or item.get_closest_marker(MARKER) is not None
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    autouse = _autouse(config)
    using: set[str] = set()
    for item in items:
        if _uses_storage(item, autouse):
            using.update(node.nodeid for node in item.listchain())
    config.stash[_using_key] = using


def _configured(config: pytest.Config) -> dict[str, Any]:
    """Return the reserved options the ini file and the command line set for every test."""
    options: dict[str, Any] = {}
    aliases = config.getini(ALIASES_INI)
    if aliases:
        options["aliases"] = "__all__" if aliases == ["__all__"] else list(aliases)
    if config.getini(FIELDS_INI):
        options["fields"] = True
    if config.getini(STRICT_INI) or config.getoption("inmemorystorage_strict"):
        options["strict"] = True
    if config.getoption("inmemorystorage_all"):
        options.update(aliases="__all__", fields=True)
    if config.getini(SEED_INI):
        options["seed"] = config.getini(SEED_INI)
    return options


def _from_rootdir(config: pytest.Config, seed: Any) -> Any:
    """Return a relative seed folder as a path under the rootdir; anything else as given."""
    if isinstance(seed, (str, os.PathLike)) and "://" not in os.fspath(seed):
        return str(config.rootpath / seed)  # an absolute seed stays itself
    return seed


def _options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    options = _configured(node.config)
    marker = node.get_closest_marker(MARKER)
    if marker is not None:
        if marker.args:
            raise TypeError(
                f"@pytest.mark.{MARKER} takes keyword options only, got {marker.args!r}"
            )
        options.update(marker.kwargs)
    if options.get("seed") is not None:
        options["seed"] = _from_rootdir(node.config, options["seed"])
    return options


def _layer(node: pytest.Item | pytest.Collector, inherit: bool) -> Layer:
    from . import testing

    return testing.Layer(_options(node), testing.INHERIT if inherit else None)


def _scope_layer(request: pytest.FixtureRequest, inherit: bool) -> Iterator[None]:
    """Hold a fresh storage for a module or class whose tests use one."""
    node = request.node
    if node.nodeid not in request.config.stash.get(_using_key, set()):
        yield
        return
    with _layer(node, inherit):
        yield


@pytest.fixture(scope="module", autouse=True)
def _inmemory_storage_module(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give a module's module-scoped fixtures a fresh storage to save files into."""
    yield from _scope_layer(request, inherit=False)


@pytest.fixture(scope="class", autouse=True)
def _inmemory_storage_class(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give a class's class-scoped fixtures a storage starting with the module's files."""
    if request.cls is None:
        yield
        return
    yield from _scope_layer(request, inherit=True)


@pytest.fixture(autouse=True)
def _inmemory_storage_autouse(request: pytest.FixtureRequest) -> None:
    """Set up ``inmemory_storage`` first for tests that use it, so fixtures see it."""
    if _uses_storage(request.node, _autouse(request.config)):
        request.getfixturevalue("inmemory_storage")


@pytest.fixture
def inmemory_storage(request: pytest.FixtureRequest) -> Iterator[InMemoryStorage]:
    """Yield a fresh ``InMemoryStorage``, installed as the default storage for the test.

    It starts with the files that module- and class-scoped fixtures saved;
    ``@pytest.mark.inmemory_storage(**options)`` passes options to it.
    """
    layer = _layer(request.node, inherit=True)
    with layer as storage:
        request.node.stash[_layer_key] = layer
        try:
            yield storage
        finally:
            # Past this point the test's files may be gone (a persistent
            # storage's filesystem is restored), so nothing dumps them.
            del request.node.stash[_layer_key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    layer = item.stash.get(_layer_key, None)
    if report.failed and layer is not None and not item.stash.get(_dumped_key, False):
        from . import testing

        item.stash[_dumped_key] = True
        folder = testing.dump_files(layer, item.nodeid)
        if folder is not None:
            message = f"this test's files are in {folder}{os.sep}"
            longrepr = report.longrepr
            if hasattr(longrepr, "addsection"):
                longrepr.addsection("inmemorystorage_fs", message)
            else:
                report.sections.append(("inmemorystorage_fs", message))
    return report
