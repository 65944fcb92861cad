"""The storages' options: checks shared by constructors and system checks; following settings."""

from __future__ import annotations

import difflib
import os
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.functional import Promise, cached_property

from ._limits import byte_count_problem

__all__ = [
    "cached_from_settings",
    "check_memory_options",
    "check_shared_options",
    "closest",
    "did_you_mean",
    "follow_settings",
    "no_key",
    "permission_problem",
    "reject_unknown",
]


def reject_unknown(storage: object, unknown: dict[str, Any]) -> None:
    """Raise ``ImproperlyConfigured`` naming the first option *storage*'s class lacks."""
    for key in unknown:
        raise ImproperlyConfigured(f"Invalid option {key!r} for {type(storage).__name__}")


def closest(given: object, accepted: Iterable[str]) -> str | None:
    """Return the name in *accepted* that *given* most likely misspells, if one is close."""
    close = difflib.get_close_matches(str(given), sorted(accepted), n=1)
    return close[0] if close else None


def did_you_mean(given: object, accepted: Iterable[str]) -> str:
    """Return "Did you mean 'x'? " for the name in *accepted* closest to *given*, or ""."""
    close = closest(given, accepted)
    return f"Did you mean {close!r}? " if close else ""


def no_key(setting: str, key: object, keys: Iterable[str]) -> str:
    """Return the message for a *key* that the dict setting *setting* does not have."""
    close = closest(key, keys)
    guess = f"; did you mean {close!r}? " if close else ". "
    return f"{setting} has no key {key!r}{guess}Its keys are: {', '.join(sorted(keys))}."


#: The ways a storage names a file whose name is taken.
ALTERNATIVE_NAMES = ("random", "counter")


def check_shared_options(
    base_url: object, allow_overwrite: object, max_size: object, alternative_names: object
) -> None:
    """Raise ``ImproperlyConfigured`` for a bad option that every storage here takes."""
    # A lazy string (reverse_lazy) stays lazy until url() needs it, as in Django.
    if base_url is not None and not isinstance(base_url, (str, Promise)):
        raise ImproperlyConfigured(f"base_url must be a str or None, not {base_url!r}.")
    if not isinstance(allow_overwrite, bool):
        raise ImproperlyConfigured(
            f"allow_overwrite must be True or False, not {allow_overwrite!r}."
        )
    problem = byte_count_problem(max_size, "max_size")
    if problem:
        raise ImproperlyConfigured(problem)
    if alternative_names not in ALTERNATIVE_NAMES:
        raise ImproperlyConfigured(
            f"alternative_names must be 'random' (Django's) or 'counter', "
            f"not {alternative_names!r}."
        )


def check_memory_options(location: object, persist: object) -> None:
    """Raise ``ImproperlyConfigured`` for a bad option of ``InMemoryStorage``."""
    if location is not None and not isinstance(location, (str, os.PathLike)):
        raise ImproperlyConfigured(f"location must be a path or None, not {location!r}.")
    if persist is not None and not isinstance(persist, bool):
        raise ImproperlyConfigured(f"persist must be True, False or None, not {persist!r}.")


def permission_problem(value: object) -> str | None:
    """Return why FileSystemStorage would fail on the permission mode *value*, if it would."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    return f"{value!r} is not an int such as 0o644: FileSystemStorage's os.chmod() refuses it"


# Every live storage follows setting changes through one receiver: a receiver
# per storage costs ~20 us each to connect (Django rescans its list of
# receivers every time), and tests build storages by the dozen.
_following: weakref.WeakSet[Any] = weakref.WeakSet()
# Threads build storages while the test thread changes settings: copying the
# set while another thread adds to it raises RuntimeError.
_following_lock = threading.Lock()
# How many settings changes there have been: a value computed across one may
# come from before it, after the receiver dropped the cache it goes into.
_changes = 0


class _CachedFromSettings(cached_property):  # type: ignore[type-arg]
    """A ``cached_property`` that never keeps a value computed while a setting changed."""

    name: str  # set by cached_property.__set_name__

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        changes = _changes
        value = instance.__dict__[self.name] = self.func(instance)
        if _changes != changes:
            # The receiver may have emptied the cache before the store above:
            # drop what may be the old setting's value; the next use recomputes.
            instance.__dict__.pop(self.name, None)
        return value


if TYPE_CHECKING:
    cached_from_settings = cached_property  # what it returns is what the method returns
else:
    cached_from_settings = _CachedFromSettings  # lower case: used like cached_property


def follow_settings(storage: Any) -> None:
    """Call *storage*'s ``_clear_cached_properties()`` on every setting change, while it lives."""
    with _following_lock:
        _following.add(storage)


def _setting_changed(sender: object, setting: str, **kwargs: Any) -> None:
    global _changes
    with _following_lock:
        _changes += 1  # before the caches are emptied: see cached_from_settings
        following = list(_following)
    for storage in following:
        storage._clear_cached_properties(setting, **kwargs)


setting_changed.connect(_setting_changed, dispatch_uid="inmemorystorage_fs.storage")
