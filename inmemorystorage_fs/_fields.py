"""The model fields a scope may put in memory, and what their storages deconstruct to."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.files.storage import default_storage
from django.db.models import FileField

__all__ = [
    "Signature",
    "file_fields",
    "label",
    "lazy_fields",
    "signature",
    "stop_waiting",
    "wait_for_fields",
]

# What a storage deconstructs to: dotted path, args, kwargs.
Signature = tuple[str, tuple[Any, ...], dict[str, Any]]


def label(field: FileField) -> str:
    """Return *field*'s name as strict mode and ``named_storages()`` give it."""
    meta = field.model._meta
    return f"{meta.app_label}.{meta.object_name}.{field.name}"


_signatures: weakref.WeakKeyDictionary[Any, Signature | None] = weakref.WeakKeyDictionary()


def signature(storage: object) -> Signature | None:
    """Return what *storage* deconstructs to (None if it cannot), once per storage."""
    try:
        return _signatures[storage]
    except (KeyError, TypeError):
        pass
    try:
        path, args, kwargs = storage.deconstruct()  # type: ignore[attr-defined]
        found: Signature | None = (path, tuple(args), dict(kwargs))
    except (AttributeError, TypeError, ValueError):
        found = None
    try:
        _signatures[storage] = found
    except TypeError:
        pass  # not weakly referenceable: asked again next time
    return found


_fields_of: tuple[object, list[FileField]] | None = None


def file_fields() -> list[FileField]:
    """Return every FileField (and subclass) of every installed model, once each."""
    global _fields_of
    models = apps.get_models()  # the same list until the app registry changes
    if _fields_of is not None and _fields_of[0] is models:
        return _fields_of[1]
    found: dict[int, FileField] = {}
    for model in models:
        for field in model._meta.fields:
            if isinstance(field, FileField):
                found.setdefault(id(field), field)
    _fields_of = (models, list(found.values()))
    return _fields_of[1]


class _StorageSlot:
    """``FileField.storage``: a field's own storage, read after a pending scope is made.

    A scope that puts the fields in memory only when first used (``_swaps``)
    is made when any field's storage is read: Django reads ``field.storage``
    for every file of every model instance, so no field hands out a storage
    the scope was about to replace. Installed on ``FileField`` once per
    process; fields holding ``default_storage`` follow the handler, so their
    reads make nothing.
    """

    def __get__(self, field: Any, owner: type | None = None) -> Any:
        if field is None:
            return self
        try:
            storage = field.__dict__["storage"]
        except KeyError:
            raise AttributeError("storage") from None
        if _waiting is not None and storage is not default_storage:
            _waiting()  # replaces field.__dict__["storage"]
            storage = field.__dict__["storage"]
        return storage

    def __set__(self, field: Any, storage: Any) -> None:
        field.__dict__["storage"] = storage


_SLOT = _StorageSlot()
# What makes the pending scope whose fields are in memory (None: no scope waits).
_waiting: Callable[[], None] | None = None
_slot_fits: tuple[object, bool] | None = None  # (models list, every field reads through it)


def lazy_fields() -> bool:
    """Return True if every field's storage is read through ``_StorageSlot`` (installed now).

    A FileField subclass with a ``storage`` of its own would hand out its
    storage unseen: then scopes put the fields in memory as they start.
    """
    global _slot_fits
    if FileField.__dict__.get("storage") is not _SLOT:
        FileField.storage = _SLOT  # type: ignore[assignment]
    fields = file_fields()
    if _slot_fits is None or _slot_fits[0] is not _fields_of:
        fits = all(inspect.getattr_static(type(f), "storage", None) is _SLOT for f in fields)
        _slot_fits = (_fields_of, fits)
    return _slot_fits[1]


def wait_for_fields(make: Callable[[], None]) -> None:
    """Call *make* at the next read of a field's own storage."""
    global _waiting
    _waiting = make


def stop_waiting(make: Callable[[], None]) -> None:
    """Stop calling *make* at reads, if it is what they call."""
    global _waiting
    if _waiting == make:
        _waiting = None
