"""Fixtures for this repository's own tests."""

from collections.abc import Iterator

import pytest
from django.core.files.storage import default_storage, storages

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.storage import clear_persistent_fs

# tests/test_pytest_plugin.py runs small pytest sessions with pytester.
pytest_plugins = ["pytester"]


@pytest.fixture
def storage() -> InMemoryStorage:
    """Return a fresh, non-persistent storage."""
    return InMemoryStorage()


@pytest.fixture(autouse=True)
def _empty_media() -> Iterator[None]:
    """Give every test an empty default storage and process-wide filesystem."""
    clear_persistent_fs()
    storages._storages.pop("default", None)
    default_storage._setup()
    yield
    clear_persistent_fs()
