"""Scopes and settings under threads and tasks: nothing fails, nothing stale stays behind."""

import threading
from collections.abc import Callable

from django.conf import settings
from django.test import override_settings

from inmemorystorage_fs import InMemoryStorage

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
