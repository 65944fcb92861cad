"""The pytest plugin's configuration: its ini keys and marker, read and checked.

Imports neither Django nor ``fs`` until an option needs them (the plugin is
loaded by every pytest run).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

__all__ = [
    "ALIASES_INI",
    "AUTOUSE_INI",
    "BOOL_INIS",
    "DUMP_DIR_ENV",
    "FIELDS_INI",
    "MARKER",
    "OPERATIONS_FIXTURE",
    "OPTIONS_INI",
    "ORPHANS_IGNORE_INI",
    "ORPHANS_INI",
    "RECORD_INI",
    "SEED_INI",
    "STRICT_INI",
    "add_options",
    "check_bool_ini",
    "check_orphans_ini",
    "configured",
    "marker_options",
    "raw_ini",
    "rooted",
]

MARKER = "inmemory_storage"
AUTOUSE_INI = "inmemorystorage_autouse"
ALIASES_INI = "inmemorystorage_aliases"
FIELDS_INI = "inmemorystorage_fields"
STRICT_INI = "inmemorystorage_strict"
SEED_INI = "inmemorystorage_seed"
OPTIONS_INI = "inmemorystorage_options"
ORPHANS_INI = "inmemorystorage_orphans"
ORPHANS_IGNORE_INI = "inmemorystorage_orphans_ignore"
RECORD_INI = "inmemorystorage_record"
OPERATIONS_FIXTURE = "inmemory_operations"  # a test asking for it records its operations
DUMP_DIR_ENV = "INMEMORYSTORAGE_DUMP_DIR"  # the same name as _dumps.DUMP_DIR_ENV
BOOL_INIS = (AUTOUSE_INI, FIELDS_INI, STRICT_INI, RECORD_INI)
# What pytest reads as a bool ini value, besides true and false.
BOOL_WORDS = ("yes", "no", "on", "off", "1", "0", "y", "n", "t", "f")


def check_bool_ini(config: pytest.Config, name: str) -> None:
    """Raise ``UsageError`` naming *name*, its value and the values it takes, if it is no bool."""
    try:
        config.getini(name)
    except (ValueError, pytest.UsageError):  # pytest < 9 raises the ValueError itself
        raise pytest.UsageError(
            f"{name} = {raw_ini(config, name)}: not a bool. Use true or false "
            f"(pytest also reads {', '.join(BOOL_WORDS)})."
        ) from None


def check_orphans_ini(config: pytest.Config) -> None:
    """Raise ``UsageError`` if the orphans ini key is neither empty, warn nor error."""
    value = config.getini(ORPHANS_INI)
    if value not in ("", "warn", "error"):
        raise pytest.UsageError(
            f"{ORPHANS_INI} = {value}: use warn or error (or leave it out: no check)."
        )


def raw_ini(config: pytest.Config, name: str) -> str:
    """Return the ini value *name* as written."""
    # pytest 9 keeps ConfigValues in _inicfg (its public inicfg warns that it
    # is deprecated); older pytests keep the strings in inicfg.
    values: Any = getattr(config, "_inicfg", None)
    if values is None:
        return str(config.inicfg[name])
    return str(values[name].value)


def configured(config: pytest.Config) -> dict[str, Any]:
    """Return the reserved options the ini file and the command line set for every test."""
    options: dict[str, Any] = {}
    aliases = config.getini(ALIASES_INI)
    if aliases:
        options["aliases"] = "__all__" if aliases == ["__all__"] else list(aliases)
    if config.getini(FIELDS_INI):
        options["fields"] = True
    if config.getini(STRICT_INI) or config.getoption("inmemorystorage_strict"):
        options["strict"] = True
    if config.getini(RECORD_INI):
        options["record"] = True
    if config.getoption("inmemorystorage_all"):
        options.update(aliases="__all__", fields=True)
    orphans = config.getoption("inmemorystorage_orphans") or config.getini(ORPHANS_INI)
    if orphans:
        options["orphans"] = orphans
    if config.getini(ORPHANS_IGNORE_INI):
        options["orphans_ignore"] = list(config.getini(ORPHANS_IGNORE_INI))
    if config.getini(SEED_INI):
        options["seed"] = _from_rootdir(
            config, config.getini(SEED_INI), f"the {SEED_INI} ini option"
        )
    if config.getini(OPTIONS_INI):
        options["options"] = _ini_storage_options(config)
    return options


def _ini_storage_options(config: pytest.Config) -> dict[str, Any]:
    """Return the storage options of the ini file's ``key=value`` pairs, checked."""
    from django.core.exceptions import ImproperlyConfigured

    from ._scope_options import check_storage_options

    options: dict[str, Any] = {}
    for pair in config.getini(OPTIONS_INI):
        key, equals, text = pair.partition("=")
        if not equals or not key:
            raise pytest.UsageError(
                f"{OPTIONS_INI}: {pair!r} is not key=value; write for example "
                f"{OPTIONS_INI} = max_size=1000000 alternative_names=counter"
            )
        if key in options:
            raise pytest.UsageError(f"{OPTIONS_INI}: {key!r} is given twice.")
        options[key] = _ini_value(text)
    try:
        return check_storage_options(options, f"The {OPTIONS_INI} ini option")
    except ImproperlyConfigured as exc:
        raise pytest.UsageError(str(exc)) from None


# Ini words that stand for Python's constants, as pytest's own bool ini values read.
_INI_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "none": None}


def _ini_value(text: str) -> Any:
    """Return an ini option's value: True, False, None, an int (0o644 too) or the text."""
    if text.lower() in _INI_CONSTANTS:
        return _INI_CONSTANTS[text.lower()]
    try:
        return int(text, 0)
    except ValueError:
        return text  # the storage's own check says what is wrong with it


def _from_rootdir(config: pytest.Config, seed: Any, named_by: str) -> Any:
    """Return a seed folder as a ``Seed`` read against the rootdir; anything else as given."""
    from ._scope_options import Seed

    if isinstance(seed, (str, os.PathLike)) and "://" not in os.fspath(seed):
        return Seed(os.fspath(seed), named_by, str(config.rootpath), "the pytest rootdir")
    return seed


def marker_options(node: pytest.Item | pytest.Collector) -> dict[str, Any] | None:
    """Return the options of *node*'s layer: the configured ones, then its marker's.

    None: the configured ones alone (the common case, split once per run).
    """
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return None
    if marker.args:
        raise TypeError(f"@pytest.mark.{MARKER} takes keyword options only, got {marker.args!r}")
    from_config = configured(node.config)
    options = {**from_config, **marker.kwargs}
    if "seed" in marker.kwargs:
        named_by = f"the seed keyword of @pytest.mark.{MARKER}"
        options["seed"] = _from_rootdir(node.config, marker.kwargs["seed"], named_by)
    if isinstance(from_config.get("options"), dict) and isinstance(
        marker.kwargs.get("options"), dict
    ):
        # The marker's options change some of the ini file's, not all of them.
        options["options"] = {**from_config["options"], **marker.kwargs["options"]}
    return options


def rooted(config: pytest.Config, options: dict[str, Any]) -> dict[str, Any]:
    """Return *options* with a relative seed folder made relative to the rootdir."""
    if options.get("seed") is not None:
        options["seed"] = _from_rootdir(config, options["seed"], "the seed option")
    return options


def add_options(parser: pytest.Parser) -> None:
    """Add the plugin's command-line options and ini keys to *parser*."""
    group = parser.getgroup("inmemorystorage", "inmemorystorage_fs")
    group.addoption(
        "--inmemorystorage-autouse",
        action="store_true",
        default=False,
        help="Give every test a fresh in-memory default storage (as if it used the "
        "inmemory_storage fixture).",
    )
    group.addoption(
        "--inmemorystorage-dump",
        metavar="DIR",
        default=None,
        help=f"Export each failed test's files to DIR/<test id>/ (default: ${DUMP_DIR_ENV}).",
    )
    group.addoption(
        "--inmemorystorage-strict",
        action="store_true",
        default=False,
        help="Fail a test that writes to a storage that is not in memory.",
    )
    group.addoption(
        "--inmemorystorage-orphans",
        choices=("warn", "error"),
        default=None,
        help="Warn of, or fail, a test whose files no row references at its end "
        "(orphans=warn|error for every fresh storage).",
    )
    group.addoption(
        "--inmemorystorage-all",
        action="store_true",
        default=False,
        help="Put every STORAGES alias (but staticfiles) and every model FileField's "
        "storage in memory.",
    )
    parser.addini(
        ALIASES_INI,
        type="args",
        default=[],
        help="STORAGES aliases each test gets in memory (space-separated), or __all__.",
    )
    parser.addini(
        FIELDS_INI, type="bool", default=False, help="Put model FileFields' storages in memory."
    )
    parser.addini(
        STRICT_INI, type="bool", default=False, help="Fail tests that write to a real storage."
    )
    parser.addini(
        SEED_INI,
        default="",
        help="A folder or FS URL (relative to the rootdir) whose files each test starts with.",
    )
    parser.addini(
        OPTIONS_INI,
        type="args",
        default=[],
        help="InMemoryStorage options of every storage a test gets, as key=value pairs "
        "(max_size=1000000 alternative_names=counter).",
    )
    parser.addini(
        ORPHANS_INI,
        default="",
        help="warn or error: check each test's new files for ones no row references.",
    )
    parser.addini(
        ORPHANS_IGNORE_INI,
        type="args",
        default=[],
        help="Glob patterns of files the orphans check never reports (space-separated).",
    )
    parser.addini(
        RECORD_INI,
        type="bool",
        default=False,
        help="Make every storage of each test record its operations.",
    )
    parser.addini(
        AUTOUSE_INI,
        type="bool",
        default=False,
        help="Give every test a fresh in-memory default storage.",
    )
