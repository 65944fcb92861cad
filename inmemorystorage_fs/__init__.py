"""Django file storage in memory, on PyFilesystem2's MemoryFS."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .staticfiles import InMemoryManifestStaticFilesStorage, InMemoryStaticFilesStorage
    from .storage import FSStorage, InMemoryStorage

__all__ = [
    "FSStorage",
    "InMemoryManifestStaticFilesStorage",
    "InMemoryStaticFilesStorage",
    "InMemoryStorage",
    "__version__",
]
__version__ = "0.1.0"

# Loaded on first use: pytest imports the pytest11 plugin (a submodule) in
# every run, Django project or not, and must not pay for Django and fs here.
_LAZY = {
    "FSStorage": "storage",
    "InMemoryStorage": "storage",
    "InMemoryManifestStaticFilesStorage": "staticfiles",
    "InMemoryStaticFilesStorage": "staticfiles",
}


def __getattr__(name: str) -> Any:
    """Import the storages on first use (Django, fs and staticfiles cost time)."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value
