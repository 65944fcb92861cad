"""Django system checks for this package's settings and ``STORAGES`` options."""

from __future__ import annotations

import inspect
import os
from typing import Any, Literal

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ._export import LOAD_LIMIT_NAME
from ._limits import byte_count_problem
from ._options import did_you_mean, permission_problem
from .storage import FSStorage, InMemoryStorage

__all__ = [
    "check_deploy",
    "check_served_aliases",
    "check_settings",
    "setting_errors",
    "testing_aliases",
]

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
    problem = byte_count_problem(
        getattr(settings, "INMEMORYSTORAGE_LOAD_LIMIT", None), LOAD_LIMIT_NAME
    )
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
    from ._scope_options import RESERVED, Seed, split_options
    from .storage import InMemoryStorage

    value = getattr(settings, "INMEMORYSTORAGE_TESTING", None)
    if value is None:
        return []
    name = "INMEMORYSTORAGE_TESTING"
    if not isinstance(value, dict):
        return [Error(f"{name} must be a dict, not {value!r}.", id="inmemorystorage_fs.E005")]
    found = _unknown(
        value, RESERVED, f"{name} has the key {{key!r}}, which it does not take.", "E006"
    )
    reserved = {k: v for k, v in value.items() if k in RESERVED}
    if isinstance(reserved.get("seed"), (str, os.PathLike)):
        reserved["seed"] = Seed(os.fspath(reserved["seed"]), f"the {name}['seed'] setting")
    try:
        testing, _ = split_options(reserved)
        InMemoryStorage(**testing.options)  # a bad value, as a test would meet it
    except (ImproperlyConfigured, FileNotFoundError) as exc:
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
    problem = byte_count_problem(options.get("max_size"), "max_size")
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


# -- media_patterns: an alias served from a disk that no test swap covers ----------


@register(Tags.urls)
def check_served_aliases(
    app_configs: Any = None, *, aliases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Return an error for each alias the URLconf serves from a disk that no test swap covers.

    The URLconf's ``serve`` views (those ``media_patterns(alias=...)`` makes)
    are found by walking its resolver. An alias is covered when it is in
    memory now, or when the test configuration swaps it: *aliases* if given
    (a caller that knows pytest's ini and flags passes them), else
    ``INMEMORYSTORAGE_TESTING['aliases']`` (``default`` alone under the
    runner without the setting).
    """
    from django.core.files.storage import storages
    from django.urls import get_resolver

    from .storage import is_in_memory
    from .views import swap_advice

    if not getattr(settings, "ROOT_URLCONF", None):
        return []
    covered = testing_aliases() if aliases is None else _normalised(aliases)
    found: list[CheckMessage] = []
    for alias in _served_aliases(get_resolver().url_patterns):
        if alias not in (getattr(settings, "STORAGES", None) or {"default": {}}):
            continue  # Django's own lookup names a missing alias at the first request
        backend = type(storages[alias])
        if _covers(covered, alias) or is_in_memory(storages[alias]):
            continue
        found.append(
            Error(
                f"The URLconf serves STORAGES[{alias!r}] with inmemorystorage_fs.views.serve "
                f"(media_patterns), but it is {backend.__module__}.{backend.__qualname__} and "
                "INMEMORYSTORAGE_TESTING does not put it in memory: each request for its "
                "files would raise ImproperlyConfigured.",
                hint=f"{swap_advice(alias)} If only pytest's options or a test's own "
                "options swap it, add 'inmemorystorage_fs.E010' to SILENCED_SYSTEM_CHECKS.",
                id="inmemorystorage_fs.E010",
            )
        )
    return found


def testing_aliases() -> frozenset[str] | Literal["__all__"]:
    """Return the aliases the runner's settings swap for every test, or ``"__all__"``.

    ``INMEMORYSTORAGE_TESTING['aliases']`` with ``default`` (always swapped);
    ``{"default"}`` when ``TEST_RUNNER`` is this package's runner and the setting
    is unset; none otherwise. An invalid setting (E005-E007) swaps nothing here.
    """
    from ._runner import TESTING_SETTING, DiscoverRunner

    value = getattr(settings, TESTING_SETTING, None)
    if value is None:
        try:
            runner = import_string(settings.TEST_RUNNER)
        except ImportError:
            return frozenset()  # Django's test command names the bad runner itself
        ours = isinstance(runner, type) and issubclass(runner, DiscoverRunner)
        return frozenset({"default"}) if ours else frozenset()
    if not isinstance(value, dict):
        return frozenset()
    return _normalised(value.get("aliases", ("default",)))


def _normalised(aliases: Any) -> frozenset[str] | Literal["__all__"]:
    """Return *aliases*, as the testing options take them, with ``default`` added."""
    from ._swaps import ALL, split_options

    try:
        testing, _ = split_options({"aliases": aliases})
    except ImproperlyConfigured:
        return frozenset()
    if testing.aliases == ALL:
        return "__all__"
    return frozenset(testing.aliases)


def _covers(covered: frozenset[str] | Literal["__all__"], alias: str) -> bool:
    """Return True if the swapped aliases *covered* include *alias*."""
    if isinstance(covered, str):  # "__all__": every alias but staticfiles
        return alias != "staticfiles"
    return alias in covered


def _served_aliases(patterns: Any) -> list[str]:
    """Return the aliases that the ``serve`` views among *patterns* read, included ones too."""
    from django.urls import URLResolver

    from .views import serve

    found: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found.extend(a for a in _served_aliases(pattern.url_patterns) if a not in found)
        elif pattern.callback is serve and "storage" not in pattern.default_args:
            alias = pattern.default_args.get("alias", "default")
            if alias not in found:
                found.append(alias)
    return found
