"""Django file storage in memory, on PyFilesystem2's MemoryFS."""

from typing import TYPE_CHECKING, Any

from .storage import FSStorage, InMemoryStorage

if TYPE_CHECKING:
    from .staticfiles import InMemoryManifestStaticFilesStorage, InMemoryStaticFilesStorage

__all__ = [
    "FSStorage",
    "InMemoryManifestStaticFilesStorage",
    "InMemoryStaticFilesStorage",
    "InMemoryStorage",
    "__version__",
]
__version__ = "0.1.0"

_STATICFILES = frozenset({"InMemoryManifestStaticFilesStorage", "InMemoryStaticFilesStorage"})


def __getattr__(name: str) -> Any:
    """Import the static files storages on first use (django.contrib.staticfiles is slow)."""
    if name in _STATICFILES:
        from . import staticfiles

        return getattr(staticfiles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
