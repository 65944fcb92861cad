"""Serving stored files over HTTP, as a good static server does, straight from memory.

``serve(request, path, alias="default")`` is ``django.views.static.serve``
reading from a storage instead of a folder: GET and HEAD, ``Content-Type``
(with ``Cache-Control``, ``Content-Disposition``, ``Content-Encoding``... from
the file's stored metadata, as the service would send them, else guessed),
``Content-Length``, ``Last-Modified``, an ``ETag`` with ``If-None-Match`` and
``If-Modified-Since`` answering 304, one ``Range`` answering 206 (or 416;
an invalid one is ignored, as RFC 9110 says), and 404 for a missing name,
a directory or a name that leaves the storage.
The body is streamed from the stored bytes, which are not copied whole.
Signed URLs are checked (403 when tampered, expired or missing where the
storage signs), and a URL signed for PUT stores the request's body, with the
metadata its headers give where the storage keeps metadata (``_access``).
"""

from __future__ import annotations

import errno
import mimetypes
import re
from collections.abc import Iterator
from typing import Literal

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.storage import Storage, storages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.utils.http import http_date, parse_http_date_safe

from . import _access
from ._errors import NameTooLong
from ._metadata import headers
from ._signing import Verdict
from .storage import FSStorage, is_in_memory, read_stamped

__all__ = ["check_in_memory", "serve", "swap_advice"]

#: Bytes per chunk of a streamed body: big enough for few WSGI writes, small
#: enough that a 64 MiB file never needs a second copy of itself.
CHUNK_SIZE = 256 * 1024
#: One byte range, as RFC 9110 writes it: ``bytes=first-last``, ``bytes=first-`` or
#: ``bytes=-suffix``. ASCII digits only (``\d`` would take "٣"); the unit in any case.
_RANGE = re.compile(r"bytes=[ \t]*([0-9]*)-([0-9]*)", re.ASCII | re.IGNORECASE)


def check_in_memory(storage: object, where: str) -> None:
    """Raise ``ImproperlyConfigured`` unless *storage* is in memory; *where* names it."""
    if not is_in_memory(storage):
        raise ImproperlyConfigured(
            f"inmemorystorage_fs.views.serve serves in-memory storages only; {where} is "
            f"{_class_path(storage)}. Serve a disk with "
            "django.views.static.serve, or put the storage in memory in this settings."
        )


def swap_advice(alias: str) -> str:
    """Return what to do about ``STORAGES[alias]`` served while it is on a disk."""
    return (
        f"Put it in memory for the tests: INMEMORYSTORAGE_TESTING = {{'aliases': [{alias!r}]}} "
        "(or '__all__') with TEST_RUNNER = 'inmemorystorage_fs.testing.DiscoverRunner', "
        f"inmemorystorage_aliases = {alias} (or --inmemorystorage-all) under pytest, or "
        f"fresh_storage(aliases=[{alias!r}]); or serve a disk with django.views.static.serve."
    )


#: The errors that mean: no file by that name to serve (404); any other OSError is raised.
_NOT_A_FILE = frozenset({errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.ENAMETOOLONG})


def serve(
    request: HttpRequest, path: str, alias: str = "default", storage: Storage | None = None
) -> HttpResponseBase:
    """Answer *request* with the file *path* of the storage *alias* (or *storage*)."""
    if request.method not in ("GET", "HEAD", "PUT"):
        return HttpResponseNotAllowed(["GET", "HEAD", "PUT"])
    if storage is None:
        storage = storages[alias]  # now, at the request: a test's swap is the one served
        if not is_in_memory(storage):
            raise ImproperlyConfigured(
                "inmemorystorage_fs.views.serve serves in-memory storages only; "
                f"STORAGES[{alias!r}] is {_class_path(storage)}, and no test swap has put it "
                f"in memory. {swap_advice(alias)}"
            )
    else:
        check_in_memory(storage, "the storage given")
    signed = _access.verdict(storage, request, path)
    refused = _access.refusal(storage, request, signed)
    if refused is not None:
        return refused
    if request.method == "PUT":
        return _upload(request, path, storage)
    try:
        data, modified = _stored(storage, path)
    except OSError as exc:
        if exc.errno not in _NOT_A_FILE:
            raise  # a failing read (EIO, EACCES...) is a 500, as static.serve's open() gives
        raise Http404(f"{path!r} is not a file of the storage") from None
    except (SuspiciousFileOperation, ValueError):
        raise Http404(f"{path!r} is not a file of the storage") from None
    etag = _etag(len(data), modified)
    if _not_modified(request, etag, modified):
        response: HttpResponseBase = HttpResponseNotModified()
        response.headers["ETag"] = etag
        return response
    sent = _metadata_headers(storage, path)
    content_type = sent.pop("Content-Type", None)
    start, end, status = 0, len(data), 200
    wanted = request.META.get("HTTP_RANGE")
    if wanted and request.META.get("HTTP_IF_RANGE", etag) == etag:
        span = _span(wanted, len(data))
        if span is None:
            refused = HttpResponse(status=416)
            refused.headers["Content-Range"] = f"bytes */{len(data)}"
            return refused
        if span != "whole":
            start, end = span
            status = 206
    body = _chunks(data, start, end) if request.method == "GET" else iter(())
    response = StreamingHttpResponse(
        body, status=status, content_type=content_type or "application/octet-stream"
    )
    response.headers["Content-Length"] = str(end - start)
    response.headers["Last-Modified"] = http_date(modified)
    response.headers["ETag"] = etag
    response.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
    for header, value in sent.items():
        response.headers[header] = value
    if signed is Verdict.SIGNED:
        for header, value in _access.override_headers(request).items():
            response.headers[header] = value
    return response


def _metadata_headers(storage: Storage, path: str) -> dict[str, str]:
    """Return the headers for *path*: its stored metadata's, else those guessed from its name."""
    metadata = getattr(storage, "metadata", None)
    stored = metadata(path) if metadata is not None else None
    if stored:
        return headers(stored)  # what the service sends: nothing guessed on top
    content_type, encoding = mimetypes.guess_type(path)
    guessed = {"Content-Type": content_type, "Content-Encoding": encoding}
    return {header: value for header, value in guessed.items() if value}


def _stored(storage: Storage, path: str) -> tuple[bytes, float]:
    """Return the bytes of *path* (the stored ones, not a copy) and its modified timestamp."""
    # A watched storage (recording or faults: its methods are wrapped on the
    # instance) is read through open(), so a served read is recorded and can fail.
    if (
        isinstance(storage, FSStorage)
        and not _reads_its_own_way(type(storage))
        and "_watch" not in storage.__dict__
    ):
        return read_stamped(storage, path)  # one lookup in the tree for both
    with storage.open(path, "rb") as handle:  # Django's InMemoryStorage
        data: bytes = handle.read()
    return data, storage.get_modified_time(path).timestamp()


def _reads_its_own_way(cls: type[FSStorage]) -> bool:
    """Return True if *cls* overrides how a file is opened or dated: serve asks those."""
    return (
        cls.open is not Storage.open
        or cls._open is not FSStorage._open
        or cls.get_modified_time is not FSStorage.get_modified_time
    )


# Stored files are written by signed PUTs, as to a bucket: no CSRF token is involved.
serve.csrf_exempt = True  # type: ignore[attr-defined]


def _upload(request: HttpRequest, path: str, storage: Storage) -> HttpResponseBase:
    """Store the body of a signed PUT as *path*, by the storage's overwrite rule."""
    try:
        if storage.exists(path) and storage.get_available_name(path) != path:
            return HttpResponse(
                f"BlobAlreadyExists: {path!r} is taken and this storage does not overwrite.",
                status=409,
                content_type="text/plain",
            )
        name = storage.save(path, _access.RequestBody(request, path))
        size, modified = storage.size(name), storage.get_modified_time(name).timestamp()
    except NameTooLong as exc:  # S3 answers 400 KeyTooLongError
        return HttpResponseBadRequest(f"KeyTooLongError: {exc}", content_type="text/plain")
    except (SuspiciousFileOperation, ValueError):
        raise Http404(f"{path!r} is not a name in the storage") from None
    response = HttpResponse(status=200)
    response.headers["ETag"] = _etag(size, modified)
    return response


def _etag(size: int, modified: float) -> str:
    """Return the ETag of a file of *size* bytes last written at *modified*."""
    return f'"{size:x}-{int(modified * 1_000_000):x}"'


def _class_path(storage: object) -> str:
    """Return the dotted path of *storage*'s class."""
    return f"{type(storage).__module__}.{type(storage).__qualname__}"


def _not_modified(request: HttpRequest, etag: str, modified: float) -> bool:
    """Return True if the client's copy, by ETag or date, is the current one."""
    meta = request.META  # request.headers builds a dict of every header: slower
    if_none_match = meta.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    header = meta.get("HTTP_IF_MODIFIED_SINCE")
    since = parse_http_date_safe(header) if header else None
    return since is not None and int(modified) <= since


def _span(header: str, size: int) -> tuple[int, int] | Literal["whole"] | None:
    """Return the ``[start, end)`` bytes one ``Range`` header asks for, or None if none fit.

    "whole": a header this view does not serve (several ranges, other units,
    an invalid range such as ``bytes=5-2``), answered with the whole file, as
    RFC 9110 (section 14.2) lets a server do. None: a valid range that is not
    satisfiable (416). Positions are compared as digit strings, so a number of
    any length is read without ``int()``'s digit limit.
    """
    match = _RANGE.fullmatch(header.strip(" \t"))
    if match is None:
        return "whole"
    first, last = match.groups()
    if first:
        if last and _by_value(last) < _by_value(first):
            return "whole"  # last-pos before first-pos: an invalid range, ignored
        start = _at_most(first, size)
        if start >= size:
            return None
        return (start, _at_most(last, size - 1) + 1 if last else size)
    if not last:
        return "whole"  # "bytes=-" names no range
    if not last.strip("0"):
        return None  # a suffix of no bytes is never satisfiable
    if not size:
        # The last N bytes of an empty file are satisfiable (RFC 9110, section
        # 14.1.2), but no Content-Range can name zero bytes: send the file.
        return "whole"
    return (size - _at_most(last, size), size)


def _by_value(digits: str) -> tuple[int, str]:
    """Return a key that orders decimal *digits* by the number they write."""
    significant = digits.lstrip("0")
    return (len(significant), significant)


def _at_most(digits: str, bound: int) -> int:
    """Return the number the decimal *digits* write, or *bound* if it is larger."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(bound)):
        return bound  # more digits than any size has: never handed to int()
    return min(int(significant or "0"), bound)


def _chunks(data: bytes, start: int, end: int) -> Iterator[bytes]:
    """Yield ``data[start:end]`` in pieces, copying one piece at a time."""
    view = memoryview(data)
    for offset in range(start, end, CHUNK_SIZE):
        yield bytes(view[offset : min(offset + CHUNK_SIZE, end)])
