"""The model fields a scope may put in memory, and what their storages deconstruct to."""

from __future__ import annotations

import weakref
from typing import Any

from django.apps import apps
from django.db.models import FileField

__all__ = ["Signature", "file_fields", "label", "signature"]

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
