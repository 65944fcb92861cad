"""Django system checks for this package's settings and ``STORAGES`` options."""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ._export import load_limit_problem
from ._limits import max_size_problem
from ._options import did_you_mean, permission_problem
from .storage import FSStorage, InMemoryStorage

__all__ = ["check_deploy", "check_settings", "setting_errors"]

#: The keys of a ``STORAGES`` entry that Django reads; it ignores any other.
ENTRY_KEYS = frozenset({"BACKEND", "OPTIONS"})


@register(Tags.files)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Return an error for each bad setting or option of this package's storages."""
    found: list[CheckMessage] = []
    persist = getattr(settings, "INMEMORYSTORAGE_PERSIST", False)
    if not isinstance(persist, bool):
        found.append(
            Error(
                f"INMEMORYSTORAGE_PERSIST must be True or False, not {persist!r}.",
                hint="Set INMEMORYSTORAGE_PERSIST = True (or remove it for False).",
                id="inmemorystorage_fs.E001",
            )
        )
    problem = load_limit_problem(getattr(settings, "INMEMORYSTORAGE_LOAD_LIMIT", None))
    if problem is not None:
        found.append(
            Error(
                f"INMEMORYSTORAGE_LOAD_LIMIT: {problem}",
                hint="Remove it (or set None) for the default, LOAD_LIMIT: 100 MiB.",
                id="inmemorystorage_fs.E009",
            )
        )
    for alias, config in (getattr(settings, "STORAGES", None) or {}).items():
        found.extend(_check_storage(alias, config))
    found.extend(_check_testing())
    return found


def _check_testing() -> list[CheckMessage]:
    """Return the errors in the ``INMEMORYSTORAGE_TESTING`` setting, if it is set."""
    from ._swaps import RESERVED, split_options

    value = getattr(settings, "INMEMORYSTORAGE_TESTING", None)
    if value is None:
        return []
    name = "INMEMORYSTORAGE_TESTING"
    if not isinstance(value, dict):
        return [Error(f"{name} must be a dict, not {value!r}.", id="inmemorystorage_fs.E005")]
    found = _unknown(
        value, RESERVED, f"{name} has the key {{key!r}}, which it does not take.", "E006"
    )
    try:
        testing, _ = split_options({k: v for k, v in value.items() if k in RESERVED})
    except ImproperlyConfigured as exc:
        return [*found, Error(f"{name}: {exc}", id="inmemorystorage_fs.E007")]
    configured = set(getattr(settings, "STORAGES", None) or {})
    if testing.aliases != "__all__":
        for alias in testing.aliases:
            if alias not in configured:
                found.append(
                    Error(
                        f"{name}['aliases'] names {alias!r}, which STORAGES does not have.",
                        hint=f"STORAGES has: {', '.join(sorted(configured))}.",
                        id="inmemorystorage_fs.E008",
                    )
                )
    return found


def _check_storage(alias: str, config: Any) -> list[CheckMessage]:
    """Return the errors in the ``STORAGES[alias]`` entry if its backend is ours."""
    try:
        backend = import_string(config["BACKEND"])
    except Exception:
        return []  # not ours to judge: Django reports an unusable backend itself
    if not (isinstance(backend, type) and issubclass(backend, FSStorage)):
        return []
    entry = f"STORAGES[{alias!r}]"
    message = f"{entry} has the key {{key!r}}, which Django ignores."
    found = _unknown(config, ENTRY_KEYS, message, "E011")
    options = dict(config.get("OPTIONS") or {})
    where = f"{entry}['OPTIONS']"
    accepted = _accepted_options(backend)
    message = f"{where} has the option {{key!r}}, which {backend.__name__} does not take."
    found += _unknown(options, accepted, message, "E002")
    for key in set(options) - accepted:
        del options[key]
    problem = max_size_problem(options.get("max_size"))
    if problem:
        found.append(Error(f"{where}: {problem}", id="inmemorystorage_fs.E003"))
        del options["max_size"]
    for key in ("file_permissions_mode", "directory_permissions_mode"):
        problem = permission_problem(options.get(key))
        if problem:
            found.append(
                Warning(
                    f"{where}[{key!r}]: {problem}. Memory accepts any value, as Django's "
                    "storages do, but the same settings on a disk would fail on save.",
                    hint="Give an int such as 0o644, or None.",
                    id="inmemorystorage_fs.W001",
                )
            )
    try:
        backend(**options)
    except Exception as exc:  # the constructor's own message says what is wrong
        found.append(Error(f"{where}: {exc}", id="inmemorystorage_fs.E004"))
    return found


def _unknown(given: Any, accepted: Any, message: str, code: str) -> list[CheckMessage]:
    """Return an error for each key of *given* not in *accepted*; *message* has {key!r}."""
    return [
        Error(
            message.format(key=key),
            hint=f"{did_you_mean(key, accepted)}Use one of: {', '.join(sorted(accepted))}.",
            id=f"inmemorystorage_fs.{code}",
        )
        for key in sorted(set(given) - set(accepted), key=str)
    ]


def setting_errors() -> list[str]:
    """Return each error ``check_settings()`` finds, as one line with its hint and id."""
    return [
        " ".join(filter(None, [message.msg, message.hint, f"({message.id})"]))
        for message in check_settings()
        if message.is_serious()
    ]


@register(Tags.files, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Return a warning for each ``InMemoryStorage`` alias of a site run with ``DEBUG = False``."""
    if settings.DEBUG:
        return []
    found: list[CheckMessage] = []
    for alias, config in (getattr(settings, "STORAGES", None) or {}).items():
        try:
            backend = import_string(config["BACKEND"])
        except Exception:
            continue  # check_settings and Django report an unusable backend
        if isinstance(backend, type) and issubclass(backend, InMemoryStorage):
            found.append(
                Warning(
                    f"STORAGES[{alias!r}] is {backend.__name__} while DEBUG is False: "
                    "its files live in this process's memory and vanish when it ends "
                    "(each worker process has files of its own).",
                    hint="Deploy with a storage that keeps files (FileSystemStorage, "
                    "django-storages); keep InMemoryStorage for tests and development.",
                    id="inmemorystorage_fs.W002",
                )
            )
    return found


def _accepted_options(backend: type[FSStorage]) -> set[str]:
    """Return the keyword arguments that *backend* and the bases it forwards to name."""
    accepted: set[str] = set()
    for cls in backend.__mro__:
        if cls is object or "__init__" not in vars(cls):
            continue
        params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
        accepted.update(
            param.name
            for param in params
            if param.name != "self"
            and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
        )
        # Our own classes reject what they do not name; a subclass taking
        # **kwargs passes the rest on to the next __init__ up the MRO.
        forwards = any(param.kind is param.VAR_KEYWORD for param in params)
        if cls.__module__ == FSStorage.__module__ or not forwards:
            break
    return accepted
