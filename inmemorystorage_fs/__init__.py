"""Django file storage in memory, on PyFilesystem2's MemoryFS."""

from .storage import FSStorage, InMemoryStorage

__all__ = ["FSStorage", "InMemoryStorage", "__version__"]
__version__ = "0.1.0"
