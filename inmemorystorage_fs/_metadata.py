"""Object metadata kept with each file, and the HTTP headers a service sends for it.

What a production backend stores next to a file's bytes (``ContentType``,
``CacheControl``, ``ACL``...) lives on the file's MemoryFS entry, as one
attribute. So it follows the file: replacing a file links a new entry (with
the new metadata, or none), deleting a file drops both, a move carries both,
and ``_snapshot`` freezes and thaws it with the bytes, so a test's rollback,
a pickled storage and a seed keep bytes and metadata in step. A filesystem
whose entries ``_entries`` cannot reach keeps it in a table of its own, by
path, that the public path of ``_tree`` and ``_snapshot`` keep in step.

A metadata dict is never changed once stored: snapshots share it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from ._fs import FS

__all__ = [
    "ATTRIBUTE",
    "HEADERS",
    "Metadata",
    "drop_under",
    "headers",
    "remember",
    "stored_at",
    "table",
]

Metadata = dict[str, Any]

#: The attribute of a MemoryFS file entry that holds its metadata (absent: none).
ATTRIBUTE = "inmemorystorage_metadata"

#: Each metadata key, in the words of the backend that stores it, and the
#: response header its service answers with: S3 takes boto3's ``ExtraArgs``
#: names, Google Cloud Storage and Azure their SDKs' property names.
HEADERS: Mapping[str, str] = {
    "ContentType": "Content-Type",
    "content_type": "Content-Type",
    "CacheControl": "Cache-Control",
    "cache_control": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "content_disposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "content_encoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
    "content_language": "Content-Language",
}
#: Where each service sends user metadata: S3 each key of ``Metadata`` as an
#: ``x-amz-meta-*`` header, Google Cloud Storage each key of ``metadata`` as
#: ``x-goog-meta-*``.
_USER_METADATA = {"Metadata": "x-amz-meta-", "metadata": "x-goog-meta-"}


def headers(metadata: Metadata) -> dict[str, str]:
    """Return the response headers the service would send for a file with *metadata*."""
    sent = {
        HEADERS[key]: str(value)
        for key, value in metadata.items()
        if key in HEADERS and value is not None
    }
    for key, prefix in _USER_METADATA.items():
        user = metadata.get(key)
        if isinstance(user, Mapping):
            sent.update((f"{prefix}{name}".lower(), str(value)) for name, value in user.items())
    return sent


# A filesystem without reachable entries -> its files' metadata by path.
_tables: weakref.WeakKeyDictionary[FS, dict[str, Metadata]] = weakref.WeakKeyDictionary()


def table(fs: FS) -> dict[str, Metadata]:
    """Return the metadata of *fs*'s files by path, for a filesystem without entries."""
    found = _tables.get(fs)
    if found is None:
        found = _tables.setdefault(fs, {})
    return found


def stored_at(fs: FS, path: str) -> Metadata | None:
    """Return the metadata the table of *fs* holds for the file *path*, if any."""
    found = _tables.get(fs)
    return None if found is None else found.get(path)


def remember(fs: FS, path: str, metadata: Metadata | None) -> None:
    """Store *metadata* for the file *path* in the table of *fs* (None: forget it)."""
    if metadata is None:
        drop_under(fs, path)
    else:
        table(fs)[path] = metadata


def drop_under(fs: FS, path: str) -> None:
    """Forget the metadata of the file *path* and of every file below it."""
    found = _tables.get(fs)
    if not found:
        return
    below = path.rstrip("/") + "/"
    for key in [key for key in found if key == path or key.startswith(below)]:
        del found[key]
