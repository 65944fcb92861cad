"""URL patterns serving a storage's files at its ``base_url``, for a test URLconf."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.urls import URLPattern, re_path

from ._profiles import profile_for
from .storage import is_in_memory
from .views import check_in_memory, serve

__all__ = ["media_patterns"]


def media_patterns(alias: str = "default", *, storage: Storage | None = None) -> list[URLPattern]:
    """Return patterns serving the storage *alias* (or *storage*) under its ``base_url``.

    ``urlpatterns += media_patterns()``. Unlike ``static()``, they do not
    depend on ``DEBUG``. With *alias*, each request reads ``storages[alias]``
    and serves it only if it is in memory then, so an alias on a disk in the
    settings may be served while a test swap puts it in memory (the system
    check ``inmemorystorage_fs.E010`` reports one no test swap covers). A
    *storage* given is fixed: one not in memory is ``ImproperlyConfigured`` now.
    A bucket alias (S3, GCS, Azure) is served where its replacements' URLs
    point: ``/<host of its real URLs>/<location>/``.
    """
    if storage is None:
        target = storages[alias]  # for its base_url only: requests look it up again
    else:
        check_in_memory(storage, "the storage given")
        target = storage
    base_url = getattr(target, "base_url", None)
    profile = None if is_in_memory(target) else profile_for(target)
    if profile is not None and profile.base_url is not None:
        base_url = profile.base_url  # a bucket: where its test swaps' replacements serve it
    parts = urlsplit(base_url or "")
    if not base_url or parts.netloc or not parts.path.startswith("/"):
        raise ImproperlyConfigured(
            f"media_patterns() needs a storage whose base_url is a path on this site, "
            f"such as '/media/', not {base_url!r}."
        )
    prefix = re.escape(parts.path.lstrip("/"))
    kwargs = {"alias": alias} if storage is None else {"storage": storage}
    return [re_path(rf"^{prefix}(?P<path>.*)$", serve, kwargs)]
