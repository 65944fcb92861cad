"""Object metadata kept with each file, and the HTTP headers a service sends for it.

What a production backend stores next to a file's bytes (``ContentType``,
``CacheControl``, ``ACL``...) lives on the file's MemoryFS entry, as one
attribute. So it follows the file: replacing a file links a new entry (with
the new metadata, or none), deleting a file drops both, a move carries both,
and ``_snapshot`` freezes and thaws it with the bytes, so a test's rollback,
a pickled storage and a seed keep bytes and metadata in step. A filesystem
whose entries ``_entries`` cannot reach keeps it in a table of its own, by
path, that the public path of ``_tree`` and ``_snapshot`` keep in step.

``new_object()`` says what a backend family stores with a new object, quoting
its django-storages 1.14 code; ``_profiles`` says which family a storage follows.
A metadata dict is never changed once stored: snapshots share it.
"""

from __future__ import annotations

import mimetypes
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
    "new_object",
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
_DEFAULT_TYPE = "application/octet-stream"  # each backend's default_content_type


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


# -- what a new object gets, per family ---------------------------------------------


def new_object(
    family: str,
    backend: Any,
    key: str,
    content: Any,
    params: dict[str, Any] | None,
    sent: Mapping[str, str] | None,
    acl: str | None,
) -> Metadata:
    """Return the metadata *family*'s backend stores with *content* as the object *key*.

    *backend*: the production instance (its ``default_content_type``...), or
    None; *params*: ``get_object_parameters(key)``; *sent*: instead, the
    headers of a direct upload (a presigned PUT), which the service stores
    without django-storages in between; *acl*: the ACL to apply, if any.
    """
    if sent is not None:
        return _uploaded(family, sent)
    params = dict(params or {})
    if family == "gcs":
        return _gcs(params, key, acl)
    if family == "azure":
        return _azure(params, key, content, backend)
    return _s3(params, key, content, backend, acl)


def _s3(params: Metadata, key: str, content: Any, backend: Any, acl: str | None) -> Metadata:
    # S3Storage._get_write_parameters(name, content):
    #     params = self.get_object_parameters(name)
    #     if "ContentType" not in params:
    #         _type, encoding = mimetypes.guess_type(name)
    #         content_type = getattr(content, "content_type", None)
    #         content_type = content_type or _type or self.default_content_type
    #         params["ContentType"] = content_type
    #         if encoding:
    #             params["ContentEncoding"] = encoding
    #     if "ACL" not in params and self.default_acl:
    #         params["ACL"] = self.default_acl
    # (AWS_IS_GZIPPED is not kept: the bytes are stored as given, so no
    # "ContentEncoding": "gzip" claims otherwise.)
    if "ContentType" not in params:
        guessed, encoding = mimetypes.guess_type(key)
        default = getattr(backend, "default_content_type", _DEFAULT_TYPE)
        params["ContentType"] = getattr(content, "content_type", None) or guessed or default
        if encoding:
            params["ContentEncoding"] = encoding
    if "ACL" not in params and acl:
        params["ACL"] = acl
    return params


def _gcs(params: Metadata, key: str, acl: str | None) -> Metadata:
    # GoogleCloudStorage._save(name, content):
    #     blob_params = self.get_object_parameters(name)
    #     if file_object.mime_encoding and CONTENT_ENCODING not in blob_params:
    #         blob_params[CONTENT_ENCODING] = file_object.mime_encoding
    #     upload_params["predefined_acl"] = blob_params.pop("acl", self.default_acl)
    #     upload_params[CONTENT_TYPE] = blob_params.pop(CONTENT_TYPE, file_object.mime_type)
    # where file_object.mime_type, mime_encoding = mimetypes.guess_type(name), and
    # Blob._get_content_type() stores 'application/octet-stream' for None.
    guessed, encoding = mimetypes.guess_type(key)
    if encoding and "content_encoding" not in params:
        params["content_encoding"] = encoding
    acl = params.pop("acl", acl)
    params["content_type"] = params.pop("content_type", guessed) or _DEFAULT_TYPE
    if acl is not None:
        params["acl"] = acl
    return params


def _azure(params: Metadata, key: str, content: Any, backend: Any) -> Metadata:
    # AzureStorage._get_content_settings_parameters(name, content):
    #     guessed_type, content_encoding = mimetypes.guess_type(name)
    #     content_type = (
    #         _content_type(content) or guessed_type or self.default_content_type
    #     )
    #     params["cache_control"] = self.cache_control
    #     params["content_type"] = content_type
    #     params["content_encoding"] = content_encoding
    #     params.update(self.get_object_parameters(name))
    guessed, encoding = mimetypes.guess_type(key)
    default = getattr(backend, "default_content_type", _DEFAULT_TYPE)
    return {
        "cache_control": getattr(backend, "cache_control", None),
        "content_type": _azure_content_type(content) or guessed or default,
        "content_encoding": encoding,
        **params,
    }


def _azure_content_type(content: Any) -> str | None:
    """Return what azure_storage._content_type(content) returns, in its order."""
    for holder in ("file", None):
        try:
            owner = content if holder is None else getattr(content, holder)
            found: str | None = owner.content_type
            return found
        except AttributeError:
            continue
    return None


#: The type a service gives an object uploaded without a Content-Type: S3
#: answers "binary/octet-stream"; Google Cloud Storage and Azure
#: "application/octet-stream".
_UPLOAD_DEFAULT_TYPE = {"s3": "binary/octet-stream"}


def _uploaded(family: str, sent: Mapping[str, str]) -> Metadata:
    """Return what the service stores from the headers of a direct upload, in *family*'s words."""
    s3 = family == "s3"  # boto3's CamelCase words; the SDKs of the others: snake_case
    lowered = {header.lower(): value for header, value in sent.items()}
    metadata: Metadata = {
        key: lowered[header.lower()]
        for key, header in HEADERS.items()
        if key[0].isupper() == s3 and lowered.get(header.lower())
    }
    metadata.setdefault(
        "ContentType" if s3 else "content_type", _UPLOAD_DEFAULT_TYPE.get(family, _DEFAULT_TYPE)
    )
    for key, prefix in _USER_METADATA.items():
        user = {h[len(prefix) :]: v for h, v in lowered.items() if h.startswith(prefix)}
        if user and key[0].isupper() == s3 and family != "azure":
            metadata[key] = user
    return metadata
