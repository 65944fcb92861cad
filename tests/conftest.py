"""Fixtures for this repository's own tests."""

import os
from collections.abc import Iterator

import pytest
from django.core.files.storage import default_storage, storages
from hypothesis import HealthCheck, settings

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.storage import clear_persistent_fs

# tests/test_pytest_plugin.py runs small pytest sessions with pytester.
pytest_plugins = ["pytester"]

# Property tests run the same fixed examples everywhere, fast enough for CI;
# HYPOTHESIS_PROFILE=thorough searches wider and at random, for a local hunt.
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# The differential handle machine (tests/test_handles.py): 500 sequences in a
# normal run; `nox -s handles` sets INMEMORYSTORAGE_HANDLE_EXAMPLES=20000.
settings.register_profile(
    "handles",
    settings.default,
    max_examples=int(os.environ.get("INMEMORYSTORAGE_HANDLE_EXAMPLES", "500")),
    stateful_step_count=40,
)


@pytest.fixture
def storage() -> InMemoryStorage:
    """Return a fresh, non-persistent storage."""
    return InMemoryStorage()


@pytest.fixture(autouse=True)
def _empty_media(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give every test an empty default storage and process-wide filesystem."""
    if "inmemory_storage" in request.fixturenames or getattr(
        request.cls, "_inmemorystorage_mixin", False
    ):
        yield  # the plugin's fixture or the mixin gives the test its storages
        return
    clear_persistent_fs()
    storages._storages.pop("default", None)
    default_storage._setup()
    yield
    clear_persistent_fs()
