"""A long run does not grow: nothing a test's storages hold outlives the test."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.signals import setting_changed

from inmemorystorage_fs.testing import fresh_storage


def one_test(options: dict[str, object]) -> list[weakref.ref[object]]:
    """Run a test-like block that saves 100 KiB; return weak references to what it built."""
    with fresh_storage(**options) as storage:  # type: ignore[arg-type]
        storage.save("upload.bin", ContentFile(b"x" * 100 * 1024))
        built: list[object] = [storage, storage._tree]
        if options.get("record"):
            storage.open("upload.bin").read()
            built.append(storage.operations)
        if options.get("aliases"):
            built.append(storages["private"])
        if not storage.persist:
            built.append(storage.filesystem)  # its own MemoryFS (persistent ones share one)
    return [weakref.ref(thing) for thing in built]


OPTION_SETS: list[dict[str, object]] = [{}, {"record": True}]
if apps.is_installed("tests.billing"):
    OPTION_SETS.append({"aliases": "__all__", "fields": True})
    OPTION_SETS.append({"aliases": "__all__", "fields": True, "record": True})


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "-".join(o) or "default")
def test_no_storage_filesystem_or_receiver_outlives_its_test(options: dict[str, object]) -> None:
    one_test(options)  # warm the caches a first run fills
    gc.collect()
    receivers = len(setting_changed.receivers)
    refs = [ref for _ in range(20) for ref in one_test(options)]
    gc.collect()
    alive = [ref() for ref in refs if ref() is not None]
    assert alive == [], f"{len(alive)} objects outlived their test: {alive[:3]!r}"
    assert len(setting_changed.receivers) == receivers
    assert not default_storage.exists("upload.bin")
