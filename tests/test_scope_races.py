"""Scopes and settings under threads and tasks: nothing fails, nothing stale stays behind."""

import asyncio
import itertools
import threading
from collections.abc import Callable

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import override_settings

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import fresh_storage
from tests.helpers import needs_aliases

from .test_concurrency import frequent_switches

# Rounds of override_settings while other threads build storages: each round
# is one more chance for a race; 300 show both on every run of the old code.
ROUNDS = 300
BUILDERS = 3
# Storages each builder makes at most per round: bounds the test's work.
PER_ROUND = 100


def django_settings_race(exc: BaseException) -> bool:
    """Return True for the error Django's own settings raise when read mid-override."""
    # override_settings empties LazySettings.__dict__ before it sets the new
    # settings: a read at that instant finds _wrapped None, with or without us.
    return isinstance(exc, AttributeError) and "'NoneType' object" in str(exc)


def build_during_overrides(
    work: Callable[[], InMemoryStorage], check: Callable[[list[InMemoryStorage]], None]
) -> None:
    """Call *work()* in threads as this one leaves override_settings; *check* what they made."""
    raised: list[BaseException] = []

    def build(made: list[InMemoryStorage], stop: threading.Event) -> None:
        for _ in range(PER_ROUND):
            if stop.is_set():
                return
            try:
                made.append(work())
            except BaseException as exc:
                if not django_settings_race(exc):
                    raised.append(exc)

    with frequent_switches():
        for _ in range(ROUNDS):
            made: list[InMemoryStorage] = []
            stop = threading.Event()
            threads = [threading.Thread(target=build, args=(made, stop)) for _ in range(BUILDERS)]
            try:
                with override_settings(MEDIA_URL="/inner/"):
                    for thread in threads:
                        thread.start()
                    while len(made) < BUILDERS and any(t.is_alive() for t in threads):
                        pass  # leave the block while the builders are busy
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            check(made)  # and let them go: a few storages live at a time
    assert raised == []


def test_override_settings_never_fails_while_threads_build_storages() -> None:
    build_during_overrides(InMemoryStorage, lambda made: None)


def test_after_override_settings_every_storage_has_the_outer_media_url() -> None:
    def build_and_ask() -> InMemoryStorage:
        storage = InMemoryStorage()
        storage.url("a.txt")  # computes and caches base_url, maybe as the block ends
        return storage

    stale: list[str] = []
    checked = django_stale = 0

    def check(made: list[InMemoryStorage]) -> None:
        nonlocal checked, django_stale
        if settings.MEDIA_URL != "/media/":
            # Django's LazySettings cached the inner value itself (a thread
            # read it across the exit): no storage can be right this round.
            django_stale += 1
            with override_settings():  # empties Django's cache of settings
                return
        checked += len(made)
        urls = [storage.url("a.txt") for storage in made]
        stale.extend(url for url in urls if url != "/media/a.txt")

    build_during_overrides(build_and_ask, check)
    assert django_stale < ROUNDS // 10  # nearly every round was checked
    assert stale == [], f"{len(stale)} of {checked} storages kept the inner MEDIA_URL"


# -- fresh_storage() scopes left in any order ----------------------------------------

# Each scope's options: the middle one swaps every alias and field (persistent
# replacements, one disk), so every kind of swap is left out of order.
SCOPES = [{}, {"aliases": "__all__", "fields": True}, {}]
ORDERS = list(itertools.permutations(range(len(SCOPES))))
# Seconds a step may wait for another thread: a guard against a hang, not a timing.
PATIENCE = 30


def originals() -> dict[str, object]:
    """Return what is installed now: each alias's storage and the fields' storages."""
    Invoice = apps.get_model("billing", "Invoice")
    installed: dict[str, object] = {alias: storages[alias] for alias in ("default", "private")}
    installed["Invoice.pdf"] = Invoice._meta.get_field("pdf").storage
    return installed


def assert_installed(expected: InMemoryStorage) -> None:
    """Fail unless *expected* is the default storage, for storages[...] and default_storage."""
    assert storages["default"] is expected
    name = default_storage.save("probe.txt", ContentFile(b"p"))
    assert expected.exists(name)  # default_storage is the same storage
    default_storage.delete(name)


def check_exits(before: dict[str, object], made: list, exited: list[int]) -> None:
    """Check what is installed once the scopes in *exited* are left, in that order."""
    open_scopes = [i for i in range(len(SCOPES)) if i not in exited]
    if open_scopes:
        assert_installed(made[open_scopes[-1]])  # the last one entered that is still open
    else:
        assert originals() == before  # every scope's storages are gone


def leave_threads_in_order(order: tuple[int, ...], scope_of) -> None:
    before = originals()
    made: list = [None] * len(SCOPES)
    entered = [threading.Event() for _ in SCOPES]
    leave = [threading.Event() for _ in SCOPES]
    left = [threading.Event() for _ in SCOPES]
    raised: list[BaseException] = []

    def run(i: int) -> None:
        try:
            if i:
                assert entered[i - 1].wait(PATIENCE)  # enter one after the other
            with scope_of(i) as storage:
                made[i] = storage
                entered[i].set()
                assert leave[i].wait(PATIENCE)
        except BaseException as exc:
            raised.append(exc)
        finally:
            entered[i].set()
            left[i].set()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(SCOPES))]
    for thread in threads:
        thread.start()
    try:
        assert entered[-1].wait(PATIENCE)
        for step, i in enumerate(order):
            leave[i].set()
            assert left[i].wait(PATIENCE)
            check_exits(before, made, list(order[: step + 1]))
    finally:
        for event in leave:
            event.set()
        for thread in threads:
            thread.join()
    assert raised == []


async def leave_tasks_in_order(order: tuple[int, ...], scope_of) -> None:
    before = originals()
    made: list = [None] * len(SCOPES)
    leave = [asyncio.Event() for _ in SCOPES]

    async def run(i: int) -> None:
        with scope_of(i) as storage:
            made[i] = storage
            await leave[i].wait()

    tasks = []
    for i in range(len(SCOPES)):
        tasks.append(asyncio.create_task(run(i)))
        await asyncio.sleep(0)  # the task enters its scope before the next starts
    for step, i in enumerate(order):
        leave[i].set()
        await tasks[i]
        check_exits(before, made, list(order[: step + 1]))


def separate(i: int) -> fresh_storage:
    return fresh_storage(**SCOPES[i])


@pytest.mark.django_db
@needs_aliases  # the scopes swap tests.billing's aliases and fields
@pytest.mark.parametrize("order", ORDERS)
def test_threads_leaving_scopes_in_any_order_leave_no_dead_storage(order) -> None:
    leave_threads_in_order(order, separate)


@pytest.mark.django_db
@needs_aliases  # the scopes swap tests.billing's aliases and fields
@pytest.mark.parametrize("order", ORDERS)
def test_tasks_leaving_scopes_in_any_order_leave_no_dead_storage(order) -> None:
    asyncio.run(leave_tasks_in_order(order, separate))


@needs_aliases  # the scopes swap tests.billing's aliases and fields
@pytest.mark.parametrize("order", ORDERS)
def test_one_fresh_storage_entered_by_several_tasks_leaves_each_its_own(order) -> None:
    shared = fresh_storage()  # one object, entered by every thread and task
    leave_threads_in_order(order, lambda i: shared)
    asyncio.run(leave_tasks_in_order(order, lambda i: shared))


def test_a_persistent_scope_keeps_its_files_when_an_earlier_one_is_left_first() -> None:
    outside = InMemoryStorage(persist=True)
    outside.save("before.txt", ContentFile(b"0"))

    async def main() -> None:
        b_entered, a_left = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            with fresh_storage(persist=True) as storage:
                storage.save("a.txt", ContentFile(b"a"))
                await b_entered.wait()
            a_left.set()

        async def second() -> None:
            with fresh_storage(persist=True) as storage:
                storage.save("b.txt", ContentFile(b"b"))
                b_entered.set()
                await a_left.wait()
                assert storage.listdir("")[1] == ["b.txt"]  # not the files before the first

        await asyncio.gather(first(), second())

    asyncio.run(main())
    assert outside.listdir("")[1] == ["before.txt"]
