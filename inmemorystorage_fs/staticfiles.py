"""Static files in memory: backends for ``STORAGES["staticfiles"]``.

Kept out of the package's ``__init__`` imports because importing
``django.contrib.staticfiles`` costs time that media-only projects never need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.contrib.staticfiles.utils import check_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from ._options import cached_from_settings
from .storage import LOCATION_CACHES, InMemoryStorage

__all__ = ["InMemoryManifestStaticFilesStorage", "InMemoryStaticFilesStorage"]

#: What Django's ``StaticFilesStorage`` raises without ``STATIC_ROOT``: tests and
#: tools that match Django's message match ours.
_NO_STATIC_ROOT = (
    "You're using the staticfiles app without having set the STATIC_ROOT setting to a "
    "filesystem path."
)


@deconstructible(path="inmemorystorage_fs.InMemoryStaticFilesStorage")
class InMemoryStaticFilesStorage(InMemoryStorage):
    """An in-memory ``StaticFilesStorage``: ``STATIC_ROOT`` and ``STATIC_URL`` by default."""

    _base_url_setting = "STATIC_URL"
    _cached_by_setting: ClassVar[Mapping[str, tuple[str, ...]]] = {
        **InMemoryStorage._cached_by_setting,
        "MEDIA_URL": (),
        "MEDIA_ROOT": (),
        "STATIC_URL": ("base_url",),
        "STATIC_ROOT": LOCATION_CACHES,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # StaticFilesStorage checks at construction; so do we, for the same errors.
        check_settings(self._base_url)

    @cached_from_settings
    def base_location(self) -> str:
        root: str | os.PathLike[str] | None = self._value_or_setting(
            self._location, settings.STATIC_ROOT
        )
        if root:
            return os.fspath(root)
        if self.persist:
            raise ImproperlyConfigured(
                f"{_NO_STATIC_ROOT} {type(self).__name__} persists at STATIC_ROOT: set "
                "STATIC_ROOT or the 'location' option, or persist=False for files of its own."
            )
        return ""  # a storage with a MemoryFS of its own needs no location


# HashedFilesMixin.url() adds a "force" argument; django-stubs ignores the same clash
# for ManifestStaticFilesStorage.
@deconstructible(path="inmemorystorage_fs.InMemoryManifestStaticFilesStorage")
class InMemoryManifestStaticFilesStorage(ManifestFilesMixin, InMemoryStaticFilesStorage):  # type: ignore[misc]
    """An in-memory ``ManifestStaticFilesStorage``: hashed names and a manifest."""

    def __init__(self, *args: Any, manifest_storage: Storage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, manifest_storage=manifest_storage, **kwargs)
