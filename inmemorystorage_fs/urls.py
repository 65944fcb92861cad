"""URL patterns serving a storage's files at its ``base_url``, for a test URLconf."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.urls import URLPattern, re_path

from .views import check_in_memory, serve

__all__ = ["media_patterns"]


def media_patterns(alias: str = "default", *, storage: Storage | None = None) -> list[URLPattern]:
    """Return patterns serving the storage *alias* (or *storage*) under its ``base_url``.

    ``urlpatterns += media_patterns()``. Unlike ``static()``, they do not
    depend on ``DEBUG``. The storage is checked now, when the URLconf loads:
    one that is not in memory is ``ImproperlyConfigured``, never served. With
    *alias*, each request reads ``storages[alias]``, so a test's fresh storage
    is the one served.
    """
    target = storages[alias] if storage is None else storage
    check_in_memory(target, f"STORAGES[{alias!r}]" if storage is None else "the storage given")
    base_url = getattr(target, "base_url", None)
    parts = urlsplit(base_url or "")
    if not base_url or parts.netloc or not parts.path.startswith("/"):
        raise ImproperlyConfigured(
            f"media_patterns() needs a storage whose base_url is a path on this site, "
            f"such as '/media/', not {base_url!r}."
        )
    prefix = re.escape(parts.path.lstrip("/"))
    kwargs = {"alias": alias} if storage is None else {"storage": storage}
    return [re_path(rf"^{prefix}(?P<path>.*)$", serve, kwargs)]
