"""Helpers several test modules share."""

from django.core.files.storage import Storage


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
