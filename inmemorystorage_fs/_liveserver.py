"""The live server serves swapped storages' files from memory.

Django's ``LiveServerTestCase`` (and pytest-django's ``live_server``) wrap the
site in ``_MediaFilesHandler``, which reads ``MEDIA_ROOT`` from the disk. While
a test's fresh storages are installed, a request under one of their
``base_url`` paths is answered by ``views.serve`` from memory instead; every
other request, and a name the storage does not hold, goes where it went
before. The handler is patched once, at the first fresh storage, so servers
started before and after both serve from memory; the server's threads read
the same storages as the test thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage
from django.http import Http404, HttpResponseNotFound

from ._names import normalize_name

__all__ = ["install", "serving", "stop_serving"]

# What serving() was given, innermost last: each returns the storages to serve.
_Source = Callable[[], Iterable[Storage]]
_served: list[_Source] = []
_lock = threading.Lock()
_installed = False


def serving(source: _Source) -> _Source:
    """Serve the storages *source()* returns at their ``base_url`` paths; return a token.

    *source* is called per request, so a storage made after this call (a
    test's default storage, made on first use) is served too.
    """
    install()
    with _lock:
        _served.append(source)
    return source


def stop_serving(token: _Source) -> None:
    """Stop serving what ``serving()`` returned *token* for."""
    with _lock:
        for index in range(len(_served) - 1, -1, -1):
            if _served[index] is token:
                del _served[index]
                break


def _prefixes(storages: Iterable[Storage]) -> list[tuple[str, Storage]]:
    prefixes = []
    for storage in storages:
        base_url = getattr(storage, "base_url", None)
        parts = urlsplit(base_url or "")
        if base_url and not parts.netloc and parts.path.startswith("/"):
            prefixes.append((parts.path, storage))
    prefixes.sort(key=lambda pair: -len(pair[0]))  # the longest prefix wins
    return prefixes


def _match(path: str) -> tuple[Storage, str] | None:
    """Return the storage serving the URL *path*, and the name in it, if one does."""
    with _lock:
        source = _served[-1] if _served else None
    if source is None:
        return None
    for prefix, storage in _prefixes(source()):
        if path.startswith(prefix):
            return storage, path[len(prefix) :]  # PATH_INFO is decoded already
    return None


def _leaves(name: str) -> bool:
    """Return True if the URL name *name* climbs out of the storage."""
    try:
        normalize_name(name)
    except (SuspiciousFileOperation, ValueError, TypeError):
        return True
    return False


def install() -> None:
    """Patch Django's live server media handler to ask ``_match()`` first (once)."""
    global _installed
    if _installed:
        return
    from django.core.handlers.wsgi import WSGIRequest, get_path_info
    from django.test import testcases

    from .views import serve

    handler: Any = testcases._MediaFilesHandler
    original = handler.__call__

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        found = _match(get_path_info(environ))
        if found is None:
            return original(self, environ, start_response)
        storage, name = found
        try:
            response = serve(WSGIRequest(environ), name, storage=storage)
        except Http404:
            if _leaves(name):
                response = HttpResponseNotFound()  # not for Django's disk handler either
            else:
                return original(self, environ, start_response)
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(status, list(response.items()))
        return response

    handler.__call__ = __call__
    _installed = True
