"""dj-inmemorystorage 2.1, the package this one replaces, as a benchmark column.

``make bench-quick`` measures it side by side with the other backends. It
installs on Python 3.11 with ``six`` (requirements-dev.txt pins both), and
works on current Django but for one method: Django 2.0 replaced
``Storage.modified_time()`` with ``get_modified_time()``, which the shim below
maps back to its own. Nothing else is changed, so its figures are its own.
Not installed, its column is left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["legacy_storage"]


def legacy_storage() -> type[Any] | None:
    """Return dj-inmemorystorage's storage class with the shim, or None if it is not installed."""
    try:
        from inmemorystorage.storage import InMemoryStorage
    except ImportError:
        return None

    class LegacyInMemoryStorage(InMemoryStorage):  # type: ignore[misc]
        """dj-inmemorystorage 2.1's storage, answering the time method Django now calls."""

        def get_modified_time(self, name: str) -> datetime:
            # timezone.now() at its last write: aware under USE_TZ, as Django's are.
            value: datetime = self.modified_time(name)
            return value

    return LegacyInMemoryStorage
