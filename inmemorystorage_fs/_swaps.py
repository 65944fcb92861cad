"""Every storage of a project in memory for a scope: ``STORAGES`` aliases and model fields.

A ``Swap`` puts a fresh in-memory storage in place of each storage it is asked
to, remembers what it replaced, and puts it all back. When it replaces more
than the default storage, every replacement is a view of the process-wide
filesystem at its original's location (``persist=True``), so replacements at
one location share files as storages on one disk do; ``testing.Layer``
snapshots and restores that filesystem, so the "disk" belongs to the scope.

A swap can be *lazy*: it makes its storages on the first lookup
(``storages[alias]``, ``default_storage``, a field's ``storage``), so a test
that never touches a file never pays for one. Django's handler caches storages
in a dict and asks it with ``[]``; a ``_Storages`` dict in its place answers a
missing alias by making the pending swap's storages, and fields read their
storage through ``_fields``' slot, which makes them too. A lazy swap of the
default storage alone makes just that storage; one of more makes them all at
once (they share one disk), and is made before any swap is installed over it,
so that it is only ever made while it is the innermost.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.storage import (
    FileSystemStorage,
    default_storage,
    storages,
)
from django.core.files.storage import InMemoryStorage as DjangoInMemoryStorage
from django.db.models import FileField
from django.utils.functional import empty
from django.utils.module_loading import import_string

from ._fields import Signature, file_fields, lazy_fields, signature, stop_waiting, wait_for_fields
from ._fields import label as field_label
from ._profiles import built, family_of, replacement_options
from ._scope_options import ALL, RESERVED, TestingOptions, split_options, storage_option_names
from .storage import InMemoryStorage, is_in_memory

# ALL, RESERVED, TestingOptions and split_options: where they were first imported from.
__all__ = ["ALL", "RESERVED", "Swap", "TestingOptions", "split_options"]

# Where replacements of storages that have no location on a disk (S3 and the
# like) live, one folder each, so that they never collide.
_REMOTE_ROOT = "/inmemorystorage_fs"
# Django's handler caches storages in _storages and default_storage is a
# LazyObject around _wrapped: the places a storage is looked up.
_handler: Any = storages
_default: Any = default_storage


def _configured_aliases() -> list[str]:
    return list(getattr(settings, "STORAGES", None) or {"default": {}})


def _text(value: object) -> str | None:
    return os.fspath(value) if isinstance(value, (str, os.PathLike)) else None


class _Storages(dict[str, Any]):
    """Django's cache of storages by alias, making a pending lazy default on lookup."""

    __slots__ = ("pending",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pending: Swap | None = None

    def __missing__(self, alias: str) -> Any:
        pending = self.pending
        if pending is None or alias not in pending.covered:
            raise KeyError(alias)  # the handler builds it from STORAGES, as without us
        if alias == "default":
            return pending.default_storage()
        pending.build()
        return pending.storages[alias]


# Threads of a live server may look up a lazy default while the test does;
# re-entrant: install() holds it while a replacement's on_build runs.
_build_lock = threading.RLock()


class Swap:
    """The in-memory storages one scope installed, and what they replaced.

    With *lazy*, the storages are made on first use; *on_build* is called with
    the default one once, before anyone sees it (when all are made).
    """

    def __init__(
        self,
        testing: TestingOptions,
        storage_options: dict[str, Any],
        lazy: bool = False,
        on_build: Callable[[InMemoryStorage], None] | None = None,
    ) -> None:
        self.testing = testing
        self.storage_options = storage_options
        # Fields whose class reads its storage elsewhere than the slot are swapped at once.
        self.lazy = lazy and (not testing.fields or lazy_fields())
        self.covered: list[str] = []  # the aliases this swap replaces, once installed
        self._on_build = on_build
        self._pending_before: Swap | None = None
        #: alias -> the in-memory storage installed for it
        self.storages: dict[str, InMemoryStorage] = {}
        #: "app_label.Model.field" -> the in-memory storage the field holds meanwhile
        self.field_storages: dict[str, InMemoryStorage] = {}
        #: id(storage) -> (storage, where it came from), for strict mode's messages
        self.origins: dict[int, tuple[object, str]] = {}
        self._before: dict[str, object] = {}
        # what default_storage and staticfiles_storage wrapped (None: not recorded)
        self._wrapped: list[object | None] | None = None
        self._fields: list[tuple[FileField, object, bool]] = []
        self._remote = 0
        self._first_for: list[FileField] = []  # fields whose original this swap recorded
        self._by_signature: list[tuple[Signature, InMemoryStorage]] = []

    @property
    def aliases(self) -> list[str]:
        if self.testing.aliases == ALL:
            return [
                "default",
                *(a for a in _configured_aliases() if a not in ("default", "staticfiles")),
            ]
        return list(self.testing.aliases)

    # -- making replacements ----------------------------------------------------

    def _replacement_for_alias(self, alias: str) -> InMemoryStorage:
        config = (getattr(settings, "STORAGES", None) or {}).get(alias, {})
        options = dict(config.get("OPTIONS") or {})
        try:
            backend = import_string(config["BACKEND"]) if "BACKEND" in config else None
        except ImportError:
            backend = None
        if isinstance(backend, type) and issubclass(backend, InMemoryStorage):
            # What the settings give our backend is what the test's storage gets.
            names = storage_option_names()
            kwargs = {key: value for key, value in options.items() if key in names}
        else:
            kwargs = {
                k: options[k] for k in ("location", "base_url") if options.get(k) is not None
            }
        if alias == "staticfiles":
            return self._static_replacement(backend, kwargs)
        on_disk = isinstance(backend, type) and issubclass(
            backend, (FileSystemStorage, DjangoInMemoryStorage, InMemoryStorage)
        )
        if "location" not in kwargs and not on_disk and backend is not None:
            kwargs["location"] = self._remote_location(alias)
        original = self._original(backend, options)
        if original is not None:
            kwargs.update(replacement_options(original, _REMOTE_ROOT))
        own = self.storage_options if alias == "default" else {}
        return self._new(InMemoryStorage, kwargs, own)

    def _static_replacement(self, backend: Any, kwargs: dict[str, Any]) -> InMemoryStorage:
        from django.contrib.staticfiles.storage import ManifestFilesMixin

        from . import staticfiles

        manifest = isinstance(backend, type) and issubclass(backend, ManifestFilesMixin)
        cls = (
            staticfiles.InMemoryManifestStaticFilesStorage
            if manifest
            else staticfiles.InMemoryStaticFilesStorage
        )
        return self._new(cls, kwargs)

    def _replacement_for(self, original: object, label: str) -> InMemoryStorage:
        kwargs: dict[str, Any] = {}
        made = signature(original) if isinstance(original, InMemoryStorage) else None
        if made is not None:
            names = storage_option_names()  # a subclass may take more than ours
            kwargs.update((key, value) for key, value in made[2].items() if key in names)
        if is_in_memory(original) and not getattr(original, "persist", False):
            kwargs["persist"] = False  # its files were its own: so are its replacement's
        location = _text(getattr(original, "location", None))
        kwargs["location"] = (
            location if location and os.path.isabs(location) else self._remote_location(label)
        )
        base_url = _text(getattr(original, "base_url", None))
        if base_url is not None:
            kwargs["base_url"] = base_url
        if not isinstance(original, InMemoryStorage):
            kwargs.update(replacement_options(original, _REMOTE_ROOT))
        return self._new(InMemoryStorage, kwargs)

    @staticmethod
    def _original(backend: object, options: dict[str, Any]) -> object | None:
        """Return the storage an alias's settings make, if its replacement can follow it."""
        if not isinstance(backend, type) or issubclass(backend, InMemoryStorage):
            return None
        if family_of(backend) is None:
            return None  # unknown: never built here, its constructor may reach out
        try:
            # Known backends build offline (their clients are made on first use).
            return built(backend, options)
        except Exception:
            return None  # settings it cannot build with: the plain behaviour

    def _remote_location(self, label: str) -> str:
        self._remote += 1
        return f"{_REMOTE_ROOT}/{self._remote}-{label}"

    def _new(
        self,
        cls: type[InMemoryStorage],
        kwargs: dict[str, Any],
        own: dict[str, Any] | None = None,
    ) -> InMemoryStorage:
        """Return ``cls(**kwargs)`` with the scope's options for every storage, then *own*."""
        kwargs = {**kwargs, **self.testing.options, **(own or {})}
        if not self.testing.only_default:
            kwargs.setdefault("persist", True)  # one disk: replacements share by location
        return cls(**kwargs)

    # -- installing and restoring -------------------------------------------------

    @property
    def built(self) -> bool:
        """Return True once the replacements are made."""
        return "default" in self.storages

    def build(self) -> None:
        """Make every replacement of a lazy swap of more than the default storage, if not yet.

        Installed and innermost, it also puts them in place, fields included.
        While ``override_settings(STORAGES=...)`` holds, the handler is the
        settings' (the replacements go in when it ends, as ``reinstall()``
        does) and the replacements take the aliases' options the settings
        give then; a swap made after it was restored only makes them.
        """
        with _build_lock:
            if self.built:
                return
            replaced = self._make_replacements()
            if _active and _active[-1] is self:
                stop_waiting(self.build)
                handler_storages = _handler._storages
                if isinstance(handler_storages, _Storages) and handler_storages.pending is self:
                    self.reinstall()
                if self.testing.fields:
                    self._swap_fields(replaced)
            if self._on_build is not None:
                self._on_build(self.storages["default"])

    def default_storage(self) -> InMemoryStorage:
        """Return the default storage's replacement, making it now if it is lazy."""
        storage = self.storages.get("default")
        if storage is None and not self.testing.only_default:
            self.build()
            storage = self.storages["default"]
        if storage is None:
            with _build_lock:
                storage = self.storages.get("default")
                if storage is None:
                    storage = self._replacement_for_alias("default")
                    if self._on_build is not None:
                        self._on_build(storage)
                    self.storages["default"] = storage
                # Under the lock: restore() must not run between the check and
                # the writes, or a finished scope's storage would be handed out.
                handler_storages = _handler._storages
                if isinstance(handler_storages, _Storages) and handler_storages.pending is self:
                    handler_storages["default"] = storage
                    _default._wrapped = storage
        return storage

    def forget_builder(self) -> None:
        """Drop *on_build* (the scope is over: nothing is made for it any more)."""
        self._on_build = None

    def install(self) -> None:
        """Put the replacements in place (a lazy swap: the way to make them on first use)."""
        with _build_lock:  # what it records as replaced must be what restore() sees
            pending = getattr(_handler._storages, "pending", None)
            if pending is not None and not pending.testing.only_default:
                pending.build()  # made while innermost: it puts its fields in place
            self.covered = self.aliases
            self._install()
            _active.append(self)

    def _install(self) -> None:
        if self.testing.strict:
            self._note_origins()  # only strict mode's messages need them
        handler_storages = _handler._storages
        if isinstance(handler_storages, _Storages):
            # An outer lazy scope, still waiting for its first lookup: it must
            # be waiting again when this scope ends.
            self._pending_before = handler_storages.pending
        if self.lazy:
            for alias in self.covered:
                self._before[alias] = handler_storages.get(alias, _MISSING)
            static = "staticfiles" in self.covered
            self._wrapped = [_default._wrapped, self._static_wrapped() if static else None]
            self.reinstall()
            return
        replaced = self._make_replacements()
        if self._on_build is not None:
            self._on_build(self.storages["default"])
        self._wrapped = [_default._wrapped, self._static_wrapped()]
        self.reinstall()
        if self.testing.fields:
            self._swap_fields(replaced)

    def _make_replacements(self) -> dict[int, InMemoryStorage]:
        """Make the aliases' replacements; return them by the id of what each replaced."""
        replaced: dict[int, InMemoryStorage] = {}
        configs = getattr(settings, "STORAGES", None) or {}
        for alias in self.covered:
            replacement = self._replacement_for_alias(alias)
            # A lazy swap recorded what it replaced as it was installed.
            original = self._before.setdefault(alias, _handler._storages.get(alias, _MISSING))
            if original is not _MISSING:
                # An outer scope's replacement is replaced too: fields holding it
                # move to this scope's storage.
                replaced[id(original)] = replacement
            config = configs.get(alias) or {}
            if "BACKEND" in config:
                # What the alias's storage deconstructs to: a field may hold an
                # instance the handler built before it was reset.
                made_as = (config["BACKEND"], (), dict(config.get("OPTIONS") or {}))
                self._by_signature.append((made_as, replacement))
            self.storages[alias] = replacement
        return replaced

    def reinstall(self) -> None:
        """Make the handler and the lazy storages return the replacements (again)."""
        with _build_lock:
            self._reinstall()

    def _reinstall(self) -> None:
        handler_storages = _handler._storages
        if (self.lazy or self._pending_before is not None) and not isinstance(
            handler_storages, _Storages
        ):
            # Django's receiver replaced the handler's dict with a plain one.
            handler_storages = _handler._storages = _Storages(handler_storages)
        if self.lazy:
            handler_storages.pending = self
            built = self.storages.get("default")
            if built is None:
                for alias in self.covered:
                    handler_storages.pop(alias, None)
                _default._wrapped = empty
                static = self._static_lazy()
                if static is not None and "staticfiles" in self.covered:
                    static._wrapped = empty
                if self.testing.fields:
                    wait_for_fields(self.build)
                return
            if self.testing.only_default:
                handler_storages["default"] = built
                _default._wrapped = built
                return
        elif self._pending_before is not None:
            handler_storages.pending = self._pending_before
        for alias, storage in self.storages.items():
            _handler._storages[alias] = storage
        _default._wrapped = self.storages["default"]
        static = self._static_lazy()
        if static is not None and "staticfiles" in self.storages:
            static._wrapped = self.storages["staticfiles"]

    def restore(self) -> None:
        """Put back everything ``install()`` replaced (or hand it to a later swap)."""
        with _build_lock:
            self._restore()

    def _restore(self) -> None:
        # A swap left before a later one (threads, tasks) hands what it replaced
        # to the later swap that replaced it next: putting it back now would undo
        # that swap, which would then put this one's storages back, dead.
        later = _active[_active.index(self) + 1 :] if self in _active else []
        _active[:] = [swap for swap in _active if swap is not self]
        handler_storages = _handler._storages
        if isinstance(handler_storages, _Storages) and handler_storages.pending is self:
            handler_storages.pending = self._pending_before
        stop_waiting(self.build)
        for swap in later:
            if swap._pending_before is self:
                swap._pending_before = self._pending_before
        for alias, before in self._before.items():
            heir = next((swap for swap in later if alias in swap._before), None)
            if heir is not None:
                heir._before[alias] = before
            elif before is _MISSING:
                _handler._storages.pop(alias, None)
            else:
                _handler._storages[alias] = before
        if self._wrapped is not None:
            self._restore_wrapped(self._wrapped, later)
        for field, before, set_callable in reversed(self._fields):
            if not any(swap._inherit_field(field, before, set_callable) for swap in later):
                field.storage = before  # type: ignore[assignment]
                if set_callable:
                    del field._storage_callable  # type: ignore[attr-defined]
        self._fields.clear()
        heir = next((swap for swap in later if swap._fields), None)
        if heir is not None:
            heir._first_for.extend(self._first_for)  # the originals it still needs
        else:
            for field in self._first_for:
                _originals.pop(id(field), None)
        self._first_for.clear()

    def _restore_wrapped(self, wrapped: list[object | None], later: list[Swap]) -> None:
        """Put back what default_storage and staticfiles_storage wrapped (or hand it on)."""
        static = self._static_lazy()
        for slot, before in enumerate(wrapped):
            heir = next((s for s in later if s._wrapped and s._wrapped[slot] is not None), None)
            if heir is not None and heir._wrapped is not None:
                heir._wrapped[slot] = before
            elif slot == 0:
                _default._wrapped = before
            elif before is not None and static is not None:
                static._wrapped = before

    def _inherit_field(self, field: FileField, before: object, set_callable: bool) -> bool:
        """Take over *field*'s original from an earlier swap left first; False if not swapped."""
        for index, (swapped, _, own_callable) in enumerate(self._fields):
            if swapped is field:
                self._fields[index] = (field, before, set_callable or own_callable)
                return True
        return False

    def _swap_fields(self, replaced: dict[int, InMemoryStorage]) -> None:
        for field in file_fields():
            current = field.storage
            # What the field held before any scope swapped it.
            original = _originals.get(id(field), current)
            if original is default_storage:
                continue  # swapped itself: it follows the handler
            label = field_label(field)
            replacement = (
                replaced.get(id(current))
                or replaced.get(id(original))
                or self._same_as_alias(original)
            )
            if replacement is None:
                replacement = replaced[id(original)] = self._replacement_for(original, label)
            if id(field) not in _originals:
                _originals[id(field)] = original
                self._first_for.append(field)
            # FileField.deconstruct() reads _storage_callable first: while the
            # field holds the replacement, migrations still see the original.
            set_callable = not hasattr(field, "_storage_callable")
            if set_callable:
                field._storage_callable = original  # type: ignore[attr-defined]
            field.storage = replacement
            self._fields.append((field, current, set_callable))
            self.field_storages[label] = replacement

    def _same_as_alias(self, storage: object) -> InMemoryStorage | None:
        """Return the replacement of the alias whose storage *storage* is a copy of, if any."""
        found = signature(storage)
        if found is None:
            return None
        for known, replacement in self._by_signature:
            if known == found:
                return replacement
        return None

    def _note_origins(self) -> None:
        for alias, storage in _handler._storages.items():
            self._origin(storage, f"STORAGES[{alias!r}]")
        for field in file_fields():
            if field.storage is not default_storage:
                self._origin(field.storage, field_label(field))

    def _origin(self, storage: object, where: str) -> None:
        known = self.origins.get(id(storage))
        where = f"{known[1]}, {where}" if known else where
        self.origins[id(storage)] = (storage, where)

    @staticmethod
    def _static_lazy() -> Any:
        module = sys.modules.get("django.contrib.staticfiles.storage")
        return None if module is None else module.staticfiles_storage

    def _static_wrapped(self) -> object | None:
        static = self._static_lazy()
        return None if static is None else static._wrapped


_MISSING = object()
# The installed swaps, first installed first.
_active: list[Swap] = []
# id(field) -> the storage it held before the outermost active swap replaced it.
_originals: dict[int, object] = {}
