"""Helpers several test modules share."""

import pytest
from django.core.files.storage import Storage

from inmemorystorage_fs import FSStorage, InMemoryStorage


def files_of(storage: Storage, path: str = "") -> dict[str, bytes]:
    """Return every file of *storage* below *path* with its bytes."""
    directories, files = storage.listdir(path)
    found = {}
    for name in files:
        full = f"{path}/{name}" if path else name
        with storage.open(full) as handle:
            found[full] = handle.read()
    for name in directories:
        found.update(files_of(storage, f"{path}/{name}" if path else name))
    return found


def _has_aliases() -> bool:
    from django.apps import apps

    return apps.is_installed("tests.billing")


#: Skip a test that needs STORAGES aliases besides default and staticfiles, which
#: Django 4.2's DEFAULT_FILE_STORAGE settings style (a nox session) cannot have.
needs_aliases = pytest.mark.skipif(
    not _has_aliases(), reason="needs STORAGES aliases, which DEFAULT_FILE_STORAGE has not"
)


#: The kinds of storage whose saves every fault test runs on: memory (own,
#: persistent, with max_size) and a real folder; each takes tmp_path and options.
STORAGE_KINDS = {
    "own MemoryFS": lambda tmp_path, **kw: InMemoryStorage(**kw),
    "persistent": lambda tmp_path, **kw: InMemoryStorage(location="/srv/f", persist=True, **kw),
    "max_size": lambda tmp_path, **kw: InMemoryStorage(max_size=10**6, **kw),
    "real folder": lambda tmp_path, **kw: FSStorage(fs=f"osfs://{tmp_path}", **kw),
}
