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

import dataclasses
import functools
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._plugin_options import (
    ALIASES_INI,
    AUTOUSE_INI,
    BOOL_INIS,
    DUMP_DIR_ENV,
    MARKER,
    OPERATIONS_FIXTURE,
    add_options,
    check_bool_ini,
    check_orphans_ini,
    configured,
    marker_options,
    rooted,
)

if TYPE_CHECKING:
    from ._layers import Layer
    from ._record import Operations
    from .storage import InMemoryStorage

__all__ = ["inmemory_operations", "inmemory_storage"]

# What a test's set-up needs, worked out once at collection: (scopes, marked,
# records, family). scopes: (depth, node) of the scopes whose layers it gets,
# 1 its module, 2 its class, 3 itself; marked: the marker is on the test, its
# class or module; records: it asks for the operations; family: one object
# per parent node, shared by the tests of one module and class.
_Plan = tuple[list[tuple[int, "pytest.Item | pytest.Collector"]], bool, bool, "_Family"]
_plan_key = pytest.StashKey[_Plan]()
_layers_key = pytest.StashKey["_Layers"]()
_leaving_key = pytest.StashKey[bool]()  # the node's finalizer leaves its layer


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): give the test a fresh InMemoryStorage(**options) "
        "as the default storage.",
    )
    for name in BOOL_INIS:
        check_bool_ini(config, name)
    check_orphans_ini(config)
    folder = config.getoption("inmemorystorage_dump") or os.environ.get(DUMP_DIR_ENV)
    if folder:
        # Resolved now, against where pytest started: a test may chdir.
        _set_dump_option(str(config.invocation_params.dir / folder))
        config.add_cleanup(lambda: _set_dump_option(None))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to run with bad settings of this package: pytest-django runs no system checks."""
    django_conf = sys.modules.get("django.conf")
    if django_conf is None or not django_conf.settings.configured:
        return  # not a Django run, or one that configures Django later
    from ._options import did_you_mean
    from .checks import setting_errors

    errors = setting_errors()
    known = list(getattr(django_conf.settings, "STORAGES", None) or {"default": {}})
    aliases = session.config.getini(ALIASES_INI)
    for alias in aliases if aliases != ["__all__"] else ():
        if alias not in known:
            errors.append(
                f"{ALIASES_INI} = {' '.join(aliases)}: {alias!r} is not a STORAGES alias. "
                f"{did_you_mean(alias, known)}Use __all__ or some of: "
                f"{', '.join(known)}."
            )
    if errors:
        raise pytest.UsageError(
            "inmemorystorage_fs: fix these settings before the tests run:\n"
            + "\n".join(f"  {error}" for error in errors)
        )


def _set_dump_option(value: str | None) -> None:
    from . import _dumps

    _dumps.set_dump_dir(value)


def _autouse(config: pytest.Config) -> bool:
    return bool(config.getoption("inmemorystorage_autouse") or config.getini(AUTOUSE_INI))


# (module, class, a mixin's test, the marker on either) of a parent node
_Family = tuple["pytest.Module | None", "pytest.Class | None", bool, bool]


def _family(item: pytest.Item, families: dict[int, _Family]) -> _Family:
    """Return *item*'s module and class and what they say, found once per parent node."""
    found = families.get(id(item.parent))
    if found is None:
        klass = item.getparent(pytest.Class)
        # InMemoryStorageMixin classes isolate their tests themselves.
        mixin = bool(getattr(getattr(klass, "obj", None), "_inmemorystorage_mixin", False))
        marked = item.parent is not None and item.parent.get_closest_marker(MARKER) is not None
        found = families[id(item.parent)] = (item.getparent(pytest.Module), klass, mixin, marked)
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    autouse = _autouse(config)
    families: dict[int, _Family] = {}
    rows = []  # (item, family, marked, records, uses a fresh storage)
    for item in items:
        family = _family(item, families)
        marked = family[3]
        for mark in item.own_markers:
            marked = marked or mark.name == MARKER
        fixtures = getattr(item, "fixturenames", ())
        records = OPERATIONS_FIXTURE in fixtures
        uses = not family[2] and (autouse or marked or records or MARKER in fixtures)
        rows.append((item, family, marked, records, uses))
    # A module or class holding a test that uses a fresh storage gets one for
    # all its tests, so its fixtures save into it whichever test sets them up.
    scoped = {node for row in rows if row[4] for node in row[1][:2] if node is not None}
    if not any(row[4] for row in rows):
        return
    _layers(config)
    for item, family, marked, records, uses in rows:
        scopes: list[tuple[int, pytest.Item | pytest.Collector]] = []
        if family[0] in scoped:
            scopes.append((1, family[0]))
        if family[1] in scoped:
            scopes.append((2, family[1]))
        if uses:
            scopes.append((3, item))
        if scopes:
            item.stash[_plan_key] = (scopes, marked, records and uses, family)


def _layers(config: pytest.Config) -> _Layers:
    """Return the run's ``_Layers``, registering its hooks on first use.

    A run where no test uses a fresh storage never registers them, so the
    plugin costs its tests nothing.
    """
    layers = config.stash.get(_layers_key, None)
    if layers is None:
        layers = config.stash[_layers_key] = _Layers(config)
        config.pluginmanager.register(layers, "inmemorystorage_fs-layers")
        config.add_cleanup(lambda: config.pluginmanager.unregister(layers))
    return layers


class _Layers:
    """The layers of the running test, entered as pytest sets up its fixtures.

    A module's layer is entered before its first module-scoped fixture, a
    class's before its first class-scoped one, a test's before its first
    function-scoped one (or at the end of set-up), from ``pytest_fixture_setup``;
    each leaves as a finalizer of its node, so it outlives the fixtures of its
    scope and nothing wider. A test that asks for no fixture of ours pays for
    no fixture: pytest's fixture set-up costs more than a lazy layer.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # (depth, node, layer) still to enter for the item being set up; depth
        # 1 is its module, 2 its class, 3 the item itself
        self.due: list[tuple[int, pytest.Item | pytest.Collector, Layer]] = []
        # (node, layer) of the module, the class and the test being run
        self.entered: list[tuple[pytest.Item | pytest.Collector, Layer]] = []
        # node id -> the layer the fixture made itself (a test collection missed)
        self.own: dict[str, Layer] = {}
        self.dumped: set[str] = set()  # node ids whose files were exported
        self.failed: set[str] = set()  # node ids of tests that failed (not checked for orphans)
        self.error: Exception | None = None  # a layer that could not be entered
        self._split: Any = None
        # A test's layer left untouched, still entered, kept for the next test
        # of its module and class (``spare_for``): entering a fresh one would
        # give that test the same.
        self.spare: Layer | None = None
        self.spare_for: pytest.Item | None = None
        self.tearing: tuple[pytest.Item, pytest.Item | None] | None = None  # (item, nextitem)
        self.depths: dict[object, int] = {}  # FixtureDef -> the depth of its scope
        self.classless = False  # the test being set up is in no class
        self.settled = False  # its own layer is entered: fixtures set up need nothing more

    def layer_of(self, item: pytest.Item) -> Layer | None:
        """Return *item*'s own layer, if it is entered."""
        if self.entered and self.entered[-1][0] is item:
            return self.entered[-1][1]
        return None

    def _new(
        self,
        node: pytest.Item | pytest.Collector,
        inherit: bool,
        marked: bool,
        base: Any = None,
        record: bool = False,
    ) -> Layer:
        """Return the layer for *node*, its options checked (a bad one fails here).

        It starts from *base* (a layer's ``state()``) if given, else empty or,
        with *inherit*, from the files of the layer it is entered in.
        """
        from ._layers import INHERIT, Layer, checked_options, seed_files

        options = marker_options(node) if marked else None
        if options is not None:
            split = checked_options(options)
        else:
            if self._split is None:
                options = rooted(self.config, configured(self.config))
                self._split = checked_options(options)
            split = self._split
        if split[0].seed is not None:
            seed_files(split[0].seed)  # a missing folder fails here too
        if base is None and inherit:
            base = INHERIT
        if record and not split[0].record:
            split = (dataclasses.replace(split[0], record=True), split[1])
        return Layer(None, base, split, "pytest" if options is None else "marker")

    def _enter_due(self, depth: int) -> None:
        while self.due and self.due[0][0] <= depth:
            _depth, node, layer = self.due.pop(0)
            if layer is self.spare:
                self.spare = None  # entered for the test before
            else:
                layer.enter()
            self.entered.append((node, layer))
            self.settled = _depth == _FUNCTION
            # Once per node: a layer back from a step out leaves where the one
            # it stands for would have, after the fixtures of its scope.
            if not node.stash.get(_leaving_key, False):
                node.stash[_leaving_key] = True
                node.addfinalizer(functools.partial(self._leave, node))

    def _leave(self, node: pytest.Item | pytest.Collector) -> None:
        """Leave *node*'s layer (or keep it for the next test), forget the one due for it."""
        del node.stash[_leaving_key]
        if self.spare is not None:
            self._drop_spare()  # it stands above the layer leaving
        if self.due:
            self.due = [entry for entry in self.due if entry[1] is not node]
        for entry in self.entered:
            if entry[0] is node:
                self.entered.remove(entry)
                if self._keeps(node, entry[1]):
                    self.spare, self.spare_for = entry[1], self.tearing[1]  # type: ignore[index]
                else:
                    entry[1].exit()
                break

    def _keeps(self, node: pytest.Item | pytest.Collector, layer: Layer) -> bool:
        """Return True if *node*'s layer, left untouched, can be the next test's.

        The next test must be of the same module and class (no finalizer of
        theirs runs in between), unmarked and not recording, as *node* is.
        """
        tearing = self.tearing
        if tearing is None or tearing[0] is not node or tearing[1] is None:
            return False
        plan, after = node.stash.get(_plan_key, None), tearing[1].stash.get(_plan_key, None)
        return (
            plan is not None
            and after is not None
            and not (plan[1] or plan[2] or after[1] or after[2])
            and after[3] is plan[3]
            and after[0][-1][1] is tearing[1]
            and layer.untouched()
        )

    def _drop_spare(self) -> None:
        """Leave the kept layer; a fresh one is due in its place if it was."""
        spare, self.spare = self.spare, None
        assert spare is not None
        spare.exit()
        for index, (depth, node, layer) in enumerate(self.due):
            if layer is spare:
                self.due[index] = (depth, node, self._new(node, True, False))

    def _step_out(self) -> None:
        """Leave the entered layers for a session fixture; each comes back, with its files, as due.

        A session fixture then saves into the settings' storages whichever
        test asks for it first, as it does when that test is the run's first.
        """
        if self.spare is not None:
            self._drop_spare()
        if isinstance(self.entered[-1][0], pytest.Item):
            return  # asked for from the test itself: its storage is in use
        back: list[tuple[int, pytest.Item | pytest.Collector, Layer]] = []
        while self.entered:
            node, layer = self.entered.pop()
            state = layer.state()
            layer.exit()
            depth = 1 if isinstance(node, pytest.Module) else 2
            back.insert(0, (depth, node, self._new(node, False, True, state)))
        self.due = back + self.due

    # Plain hook functions, not wrappers: a wrapper costs a generator per call,
    # and pytest_fixture_setup is called for every fixture of every test.

    # Not tryfirst: after the skipping plugin's (a skipped test reads no seed
    # and checks no option), before pytest's own set-up of the fixtures.
    @pytest.hookimpl
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Make the item's layers before any fixture is set up: a bad option fails here."""
        # A module's or class's layer that stepped out for a session fixture
        # and a failed set-up kept from coming back: it comes back now.
        waiting = {id(node): layer for depth, node, layer in self.due if depth < 3}
        self.due, self.error, self.settled = [], None, False
        plan = item.stash.get(_plan_key, None)
        if self.spare is not None and (plan is None or self.spare_for is not item):
            self._drop_spare()
        if plan is None:
            return  # a test that uses no fresh storage
        scopes, marked, records, family = plan
        self.classless = family[1] is None
        entered = [node for node, _layer in self.entered]
        for depth, node in scopes:
            if node in entered:
                continue
            layer = self.spare if depth == 3 else None
            if layer is None:
                record = records and depth == _FUNCTION
                layer = waiting.get(id(node)) or self._new(node, depth > 1, marked, record=record)
            self.due.append((depth, node, layer))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Enter the layers no fixture of their scope asked for, before the test runs."""
        error, self.error = self.error, None
        if error is not None:
            raise error
        if self.due:
            self._enter_due(_FUNCTION)
        layer = self.layer_of(item)
        if layer is not None and layer.orphan_watch is not None:
            from ._plugin_orphans import check_in_a_cleanup

            check_in_a_cleanup(item, layer)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Iterator[None]:
        """Check the test's files for orphans before any fixture's teardown touches the rows.

        Inside pytest's own teardown, which goes on if the check raises (a
        plain hook's exception would keep pytest from tearing anything down).
        """
        __tracebackhide__ = True
        if self.spare is not None:
            self._drop_spare()  # kept for this test, whose set-up stopped before ours
        layer = self.layer_of(item) or self.own.get(item.nodeid)
        error: Exception | None = None
        if layer is not None and layer.orphan_watch is not None and item.nodeid not in self.failed:
            from ._plugin_orphans import check_before_teardown

            error = check_before_teardown(item, layer.orphan_watch)
        self.tearing = (item, nextitem)  # for _keeps(), called from the item's finalizer
        try:
            yield
        finally:
            self.tearing = None
        if error is not None:
            raise error

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        if self.settled:
            return  # a session fixture now is the test's own: it is not stepped out for
        depth = self.depths.get(fixturedef)
        if depth is None:
            depth = self.depths[fixturedef] = _DEPTH.get(fixturedef.scope, 0)
        if depth == _CLASS and self.classless:
            # pytest sets a class fixture up for each test that is in no
            # class: its files are the test's, not its module's for the next.
            depth = _FUNCTION
        if depth < _FUNCTION and self.spare is not None:
            try:
                self._drop_spare()  # a wider fixture's files go to its scope's layer
            except Exception as exc:  # raised as the test is called, as below
                self.due, self.error = [], exc
        if depth == _SESSION and self.entered:
            try:
                self._step_out()
            except Exception as exc:  # raised as the test is called, as below
                self.due, self.error = [], exc
        if self.due:
            try:
                self._enter_due(depth)
            except Exception as exc:
                # Raised as the test is called, not here: pytest's state of
                # this fixture must not be left half made.
                self.due, self.error = [], exc

    @pytest.hookimpl
    def pytest_sessionfinish(self) -> None:
        """Leave a layer kept for a test that never ran (``-x``, an interrupted run)."""
        if self.spare is not None:
            self._drop_spare()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Export a failed test's files, once, and say where in its report."""
        if report.outcome != "failed" or report.nodeid in self.dumped:
            return
        self.failed.add(report.nodeid)
        layer = self.own.get(report.nodeid)
        if layer is None and self.entered and self.entered[-1][0].nodeid == report.nodeid:
            layer = self.entered[-1][1]
        if layer is None:
            return
        from . import _dumps

        self.dumped.add(report.nodeid)
        dump = _dumps.dump_files(layer, report.nodeid)
        if dump is not None:
            message = dump.message()
            longrepr: Any = report.longrepr
            if hasattr(longrepr, "addsection"):
                longrepr.addsection("inmemorystorage_fs", message)
            else:
                report.sections.append(("inmemorystorage_fs", message))


# A fixture's scope -> the layers entered before it is set up (a session
# fixture's steps out of them).
_SESSION, _CLASS, _FUNCTION = -1, 2, 3
_DEPTH = {"session": _SESSION, "package": 0, "module": 1, "class": _CLASS, "function": _FUNCTION}


@pytest.fixture
def inmemory_storage(request: pytest.FixtureRequest) -> Iterator[InMemoryStorage]:
    """Yield a fresh ``InMemoryStorage``, installed as the default storage for the test.

    It starts with the files that module- and class-scoped fixtures saved;
    ``@pytest.mark.inmemory_storage(**options)`` passes options to it.
    """
    layers = _layers(request.config)
    layer = layers.layer_of(request.node)
    if layer is not None:
        yield layer.storage  # type: ignore[misc]
        return
    # Asked for by request.getfixturevalue() in a test collection did not see
    # using it (or by a test of an InMemoryStorageMixin class).
    from ._layers import INHERIT, Layer

    marked = marker_options(request.node)
    options = marked or rooted(request.config, configured(request.config))
    layer = Layer(options, INHERIT, origin="pytest" if marked is None else "marker")
    with layer as storage:
        layers.own[request.node.nodeid] = layer
        try:
            yield storage
        finally:
            # Past this point the test's files may be gone (a persistent
            # storage's filesystem is restored), so nothing dumps them.
            del layers.own[request.node.nodeid]


@pytest.fixture
def inmemory_operations(request: pytest.FixtureRequest) -> Operations:
    """Return the operations of every storage the test put in memory, in order.

    Asking for it makes the test's storages record their operations.
    """
    layer = _layers(request.config).layer_of(request.node)
    if layer is None:
        # Asked for by request.getfixturevalue(): the test's own storages record from now.
        request.getfixturevalue("inmemory_storage")
        layer = _layers(request.config).own[request.node.nodeid]
        layer.record_operations()
    return layer.operations()
