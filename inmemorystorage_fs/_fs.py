"""The one module that imports PyFilesystem2 (``fs``).

``fs`` 2.4.16 calls ``__import__("pkg_resources")`` while it is imported (to
declare namespace packages) and keeps a reference to it for opener plugins.
setuptools 82 removed ``pkg_resources``, 80-81 warn when it is imported, and
importing it costs tens of milliseconds. Unless a real ``pkg_resources`` is
already loaded, a small stand-in supplies the two functions ``fs`` uses, for
the duration of the import only. Every other module imports ``fs`` names from
here; this module holds nothing else.
"""

from __future__ import annotations

import pkgutil
import sys
import types
from collections.abc import Iterator
from typing import Any


def _declare_namespace(package_name: str) -> None:
    """Extend *package_name*'s ``__path__`` as ``pkg_resources`` would."""
    package = sys.modules[package_name]
    package.__path__ = pkgutil.extend_path(package.__path__, package_name)


def _iter_entry_points(group: str, name: str | None = None) -> Iterator[Any]:
    """Yield the installed entry points of *group* (named *name* if given)."""
    import importlib.metadata  # only when an FS URL needs an opener plugin: it costs ~15 ms

    for entry_point in importlib.metadata.entry_points(group=group):
        if name is None or entry_point.name == name:
            yield entry_point


def _stand_in() -> types.ModuleType:
    """Return a module offering the slice of ``pkg_resources`` that ``fs`` uses."""
    module = types.ModuleType("pkg_resources")
    module.__doc__ = "inmemorystorage_fs stand-in: only what fs 2.4 uses."
    module.declare_namespace = _declare_namespace  # type: ignore[attr-defined]
    module.iter_entry_points = _iter_entry_points  # type: ignore[attr-defined]
    return module


def _import_fs() -> None:
    """Import the ``fs`` modules this package needs, with the stand-in if required."""
    if "pkg_resources" in sys.modules:
        import fs.memoryfs  # a real pkg_resources is already loaded

        return
    sys.modules["pkg_resources"] = _stand_in()
    try:
        # fs.opener.registry binds the stand-in at import time and calls it
        # later, so it keeps working after the stand-in leaves sys.modules.
        import fs.copy
        import fs.memoryfs
        import fs.opener
        import fs.osfs  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]


_import_fs()

from fs import errors, memoryfs  # noqa: E402
from fs.base import FS  # noqa: E402
from fs.copy import copy_fs  # noqa: E402
from fs.enums import ResourceType  # noqa: E402
from fs.memoryfs import MemoryFS  # noqa: E402
from fs.opener import open_fs  # noqa: E402
from fs.opener.errors import OpenerError  # noqa: E402
from fs.opener.parse import parse_fs_url  # noqa: E402
from fs.osfs import OSFS  # noqa: E402

__all__ = [
    "FS",
    "OSFS",
    "MemoryFS",
    "OpenerError",
    "ResourceType",
    "copy_fs",
    "errors",
    "memoryfs",
    "open_fs",
    "parse_fs_url",
]
