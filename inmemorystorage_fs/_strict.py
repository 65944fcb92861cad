"""Strict mode: a test that writes to (or, with ``"all"``, reads from) a real storage fails.

No swap reaches a storage that code builds itself (a module-level
``FileSystemStorage()``, an S3 client made in a view). While strict mode is on,
the storage methods of every ``Storage`` class loaded are wrapped: a call on a
storage that is not in memory raises ``RealStorageUsed``, naming the storage's
class, the call, the name and where the storage came from. The wrappers are put
on when the first strict scope starts and taken off when the last one ends.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import InMemoryStorage as DjangoInMemoryStorage
from django.core.files.storage import Storage, storages
from django.db.models.fields.files import FieldFile
from django.utils.module_loading import import_string

from .storage import InMemoryStorage, is_in_memory

__all__ = ["Origin", "RealStorageUsed", "StrictScope", "Strictness", "enter", "leave", "seen"]

Strictness = Literal["writes", "all"]
#: What turned strict mode on: fresh_storage(), the mixin's attributes, the
#: runner's setting, the pytest ini file or flags, or a pytest marker.
Origin = Literal["fresh_storage", "mixin", "runner", "pytest", "marker"]

WRITES = ("save", "_save", "delete")
OPENS = ("open", "_open")
READS = ("exists", "listdir", "size", "get_accessed_time", "get_created_time", "get_modified_time")


class RealStorageUsed(AssertionError):
    """A test used a storage that is not in memory while strict mode was on.

    An ``AssertionError``, so that test runners report a failure, not an error.
    """


@dataclass
class StrictScope:
    """What one strict scope refuses, allows, and knows of where storages came from."""

    level: Strictness
    allow: tuple[type, ...]
    # id(storage) -> (the storage, kept so that the id stays its own; where it came from)
    origins: dict[int, tuple[object, str]] = field(default_factory=dict)
    origin: Origin = "fresh_storage"  # how the test asked for it, for the hint


# Origin -> (how to put a storage in memory, how to let a class through ({cls!r})),
# each said the way that origin is written.
_HINTS: dict[Origin, tuple[str, str]] = {
    "fresh_storage": ("fresh_storage(aliases=..., fields=True)", "allow=[{cls!r}]"),
    "marker": (
        "@pytest.mark.inmemory_storage(aliases=..., fields=True)",
        "@pytest.mark.inmemory_storage(allow=[{cls!r}])",
    ),
    "pytest": (
        "inmemorystorage_aliases = ... or inmemorystorage_fields = true in the pytest ini "
        "file (or --inmemorystorage-all)",
        "@pytest.mark.inmemory_storage(allow=[{cls!r}])",
    ),
    "mixin": (
        "inmemory_storage_aliases = [...] or inmemory_storage_fields = True on the test class",
        "inmemory_storage_options = {{'allow': [{cls!r}]}}",
    ),
    "runner": (
        "INMEMORYSTORAGE_TESTING['aliases'] or INMEMORYSTORAGE_TESTING['fields'] = True",
        "INMEMORYSTORAGE_TESTING['allow'] = [{cls!r}]",
    ),
}


_scopes: list[StrictScope] = []
_patched: list[tuple[type, str, Any]] = []
_seen: list[str] = []


def seen() -> list[str]:
    """Return the message of every ``RealStorageUsed`` raised in this process so far."""
    return list(_seen)


def enter(scope: StrictScope) -> None:
    """Turn strict mode on for *scope* (the innermost scope decides)."""
    if not _scopes:
        _patch()
    _scopes.append(scope)


def leave(scope: StrictScope) -> None:
    """Turn *scope*'s strict mode off."""
    if scope in _scopes:
        _scopes.remove(scope)
    if not _scopes:
        _unpatch()


def allowed_classes(paths: Iterable[str]) -> tuple[type, ...]:
    """Return the classes that the dotted *paths* name; raise if one names none."""
    classes = []
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"allow names {path!r}, which cannot be imported: {exc}"
            ) from None
        if not isinstance(cls, type):
            raise ImproperlyConfigured(f"allow names {path!r}, which is not a class.")
        classes.append(cls)
    return tuple(classes)


def dotted(cls: type) -> str:
    """Return the dotted path of *cls*."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _classes() -> Iterator[type]:
    """Yield ``Storage`` and every subclass loaded, except the in-memory ones."""
    pending: list[type] = [Storage]
    found: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in found:
            continue
        found.add(cls)
        pending.extend(cls.__subclasses__())
        if not issubclass(cls, (DjangoInMemoryStorage, InMemoryStorage)):
            yield cls  # in-memory classes never refuse: no need to wrap them


def _patch() -> None:
    for cls in list(_classes()):
        for name in (*WRITES, *OPENS, *READS):
            original = cls.__dict__.get(name)
            if original is None or getattr(original, "_inmemorystorage_strict", False):
                continue
            setattr(cls, name, _guard(original, name))
            _patched.append((cls, name, original))
    for cls, reopen in ((File, _reopen_file), (FieldFile, _reopen_field_file)):
        original = cls.__dict__["open"]
        cls.open = reopen(original)  # type: ignore[method-assign]
        _patched.append((cls, "open", original))


def _unpatch() -> None:
    while _patched:
        cls, name, original = _patched.pop()
        setattr(cls, name, original)


def _guard(method: Callable[..., Any], call: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _scopes:
            return method(self, *args, **kwargs)
        _check(self, call, args, kwargs)
        result = method(self, *args, **kwargs)
        if call in OPENS and isinstance(result, File) and not is_in_memory(self):
            name = args[0] if args else kwargs.get("name")
            setattr(result, _FROM, (self, name))  # File.open() may reopen it by path
        return result

    guarded._inmemorystorage_strict = True  # type: ignore[attr-defined]
    return guarded


# The attribute of a File a real storage returned: (the storage, the name it was opened by).
_FROM = "_inmemorystorage_from"


def _reopen_file(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def open(self: File[Any], mode: str | None = None, *args: Any, **kwargs: Any) -> Any:
        source = getattr(self, _FROM, None)
        if _scopes and source is not None and self.closed:
            # A closed File reopens with the builtin open(): check it as the storage's open.
            storage, name = source
            _check(storage, "open", (name, mode or self.mode), {})
        return original(self, mode, *args, **kwargs)

    return open


def _reopen_field_file(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def open(self: FieldFile, mode: str = "rb") -> Any:
        file = self.__dict__.get("_file")
        if _scopes and file is not None and file.closed:
            _check(self.storage, "open", (self.name, mode), {})
        return original(self, mode)

    return open


def _is_write(call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    if call in WRITES:
        return True
    if call in OPENS:
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "rb")
        return isinstance(mode, str) and any(flag in mode for flag in "wax+")
    return False


def _where(scope: StrictScope, storage: object) -> str:
    """Return where *storage* comes from: what the scope noted, or its alias now."""
    known = scope.origins.get(id(storage))
    if known is not None:
        return known[1]
    # An alias first looked up inside the scope was not there to be noted.
    built_now: dict[str, object] = getattr(storages, "_storages", {})  # Django's cache
    aliases = [alias for alias, built in built_now.items() if built is storage]
    return ", ".join(f"STORAGES[{alias!r}]" for alias in aliases) or "a storage built elsewhere"


def _check(storage: Any, call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    scope = _scopes[-1]
    write = _is_write(call, args, kwargs)
    if not write and scope.level != "all":
        return
    if is_in_memory(storage):
        return
    if isinstance(storage, scope.allow):
        return
    if not write and _from_staticfiles_finders():
        return  # collecting or finding app static files is a read that keeps working
    name = args[0] if args else kwargs.get("name", kwargs.get("path"))
    origin = _where(scope, storage)
    put, allow = _HINTS[scope.origin]
    message = (
        f"{dotted(type(storage))}.{call}({name!r}) used a real storage during the test "
        f"({origin}). Put it in memory with {put}, "
        f"or let it through with {allow.format(cls=dotted(type(storage)))}."
    )
    _seen.append(message)
    raise RealStorageUsed(message)


def _from_staticfiles_finders() -> bool:
    """Return True if the call comes from ``django.contrib.staticfiles``' finders."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") == "django.contrib.staticfiles.finders":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
