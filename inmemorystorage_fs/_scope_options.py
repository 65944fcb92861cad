"""What a scope is asked for: the reserved options of ``fresh_storage()``, checked once.

``split_options()`` parts a scope's options into ``TestingOptions`` (which
storages go in memory, strictness, the seed, the options of every storage it
makes) and the default storage's own options. A seed folder is resolved here,
once, against the folder its source reads relative paths against.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ._faults import FaultSpec, check_faults
from .storage import InMemoryStorage

__all__ = [
    "ALL",
    "ORPHANS_LEVELS",
    "RESERVED",
    "Seed",
    "TestingOptions",
    "check_storage_options",
    "default_seed_root",
    "resolve_seed",
    "split_options",
    "storage_option_names",
]

#: ``aliases=ALL``: every ``STORAGES`` alias but ``staticfiles``.
ALL = "__all__"
#: Keywords of ``fresh_storage()`` (and the marker) that are not storage options.
RESERVED = frozenset(
    {
        "aliases",
        "fields",
        "strict",
        "allow",
        "seed",
        "options",
        "orphans",
        "orphans_ignore",
        "record",
        "faults",
    }
)
#: What ``orphans=`` takes besides None: warn of a test's orphan files, or fail the test.
ORPHANS_LEVELS = ("warn", "error")


@dataclass(frozen=True)
class TestingOptions:
    """What a scope puts in memory and how strictly it watches the rest."""

    aliases: tuple[str, ...] | Literal["__all__"] = ("default",)
    fields: bool = False
    strict: bool | Literal["all"] = False
    allow: frozenset[str] = frozenset()
    seed: str | None = None  # an absolute folder path or an FS URL
    #: InMemoryStorage options of every storage the scope makes
    options: Mapping[str, Any] = field(default_factory=dict)
    #: what the end-of-test check of orphan files does (None: no check)
    orphans: Literal["warn", "error"] | None = None
    #: glob patterns of files the check never reports (renditions, caches)
    orphans_ignore: tuple[str, ...] = ()
    record: bool = False  # every storage the scope makes records its operations
    faults: tuple[FaultSpec, ...] = ()  # injected into the storages they name

    @property
    def only_default(self) -> bool:
        return self.aliases == ("default",) and not self.fields


@dataclass(frozen=True)
class Seed:
    """A seed as it was named: the text, who named it, what a relative path is read against.

    *root* None: the settings' ``BASE_DIR`` if set, else the working directory.
    """

    given: str
    named_by: str  # "the inmemorystorage_seed ini option"
    root: str | None = None
    root_name: str = ""  # "the pytest rootdir"


def storage_option_names() -> frozenset[str]:
    """Return the options ``InMemoryStorage``'s constructor takes."""
    params = inspect.signature(InMemoryStorage.__init__).parameters.values()
    return frozenset(p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD)


def check_storage_options(options: object, where: str) -> dict[str, Any]:
    """Return *options*, a dict of ``InMemoryStorage`` options for every storage, or raise."""
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ImproperlyConfigured(
            f"{where} must be a dict of InMemoryStorage options, not {options!r}."
        )
    names = storage_option_names()
    for key in sorted(options):
        if key == "location":
            # Every replacement would live in one folder, sharing files.
            raise ImproperlyConfigured(
                f"{where} applies to every storage a test gets, so it takes no 'location': "
                "give each alias its own in STORAGES, or the default storage its own "
                "as a keyword (fresh_storage(location=...))."
            )
        if key not in names:
            raise ImproperlyConfigured(
                f"{where} has the option {key!r}, which InMemoryStorage does not take. "
                f"Use one of: {', '.join(sorted(names - {'location'}))}."
            )
    return dict(options)


def split_options(options: Mapping[str, Any]) -> tuple[TestingOptions, dict[str, Any]]:
    """Return the reserved testing options of *options*, checked, and the storage options."""
    storage_options = {k: v for k, v in options.items() if k not in RESERVED}
    aliases = options.get("aliases", ("default",))
    if isinstance(aliases, str) and aliases != ALL:
        aliases = (aliases,)
    if aliases != ALL:
        if not isinstance(aliases, (list, tuple)) or not all(isinstance(a, str) for a in aliases):
            raise ImproperlyConfigured(
                f"aliases must be '__all__' or a list of STORAGES aliases, not {aliases!r}."
            )
        # The default storage is always swapped: it is the one a test is handed.
        aliases = ("default", *(a for a in dict.fromkeys(aliases) if a != "default"))
    fields = options.get("fields", False)
    if not isinstance(fields, bool):
        raise ImproperlyConfigured(f"fields must be True or False, not {fields!r}.")
    strict = options.get("strict", False)
    if not (isinstance(strict, bool) or strict == "all"):
        raise ImproperlyConfigured(f"strict must be True, False or 'all', not {strict!r}.")
    allow = options.get("allow", ())
    if isinstance(allow, str) or not all(isinstance(a, str) for a in allow):
        raise ImproperlyConfigured(f"allow must be a list of dotted class paths, not {allow!r}.")
    seed = options.get("seed")
    if seed is not None:
        seed = resolve_seed(seed)
    every = check_storage_options(options.get("options") or {}, "options")
    orphans = options.get("orphans")
    if orphans is not None and orphans not in ORPHANS_LEVELS:
        raise ImproperlyConfigured(f"orphans must be None, 'warn' or 'error', not {orphans!r}.")
    ignore = options.get("orphans_ignore", ())
    if not isinstance(ignore, (list, tuple)) or not all(isinstance(p, str) for p in ignore):
        raise ImproperlyConfigured(
            f"orphans_ignore must be a list of glob patterns, not {ignore!r}."
        )
    record = options.get("record", False)
    if not isinstance(record, bool):
        raise ImproperlyConfigured(f"record must be True or False, not {record!r}.")
    faults = check_faults(options.get("faults"))
    testing = TestingOptions(
        aliases,
        fields,
        strict,
        frozenset(allow),
        seed,
        every,
        orphans,
        tuple(ignore),
        record,
        faults,
    )
    return testing, storage_options


def resolve_seed(seed: object) -> str:
    """Return *seed* as an absolute path or an FS URL; raise if a folder named is missing."""
    if not isinstance(seed, Seed):
        if not isinstance(seed, (str, os.PathLike)):
            raise ImproperlyConfigured(f"seed must be a folder, an FS URL or None, not {seed!r}.")
        seed = Seed(os.fspath(seed), "the seed keyword of fresh_storage()")
    if "://" in seed.given:
        return seed.given  # an FS URL: load() reports what is wrong with it
    root, root_name = seed.root, seed.root_name
    if root is None:
        root, root_name = default_seed_root()
    path = os.path.abspath(os.path.join(root, seed.given))  # an absolute seed stays itself
    if not os.path.exists(path):
        relative = "" if os.path.isabs(seed.given) else f", relative to {root_name}"
        raise FileNotFoundError(
            f"The seed folder {seed.given!r} named by {seed.named_by} does not exist "
            f"(looked in {path}{relative})."
        )
    return path


def default_seed_root() -> tuple[str, str]:
    """Return the folder unittest and the runner read a relative seed against, and its name."""
    base_dir = getattr(settings, "BASE_DIR", None)
    if isinstance(base_dir, (str, os.PathLike)):
        return os.fspath(base_dir), "the settings' BASE_DIR"
    return os.getcwd(), "the working directory"
