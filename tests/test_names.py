"""Hostile names: every storage call works inside the root or fails cleanly, naming the name."""

import errno
import os
import string
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from hypothesis import example, given
from hypothesis import strategies as st

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs import _names as names
from inmemorystorage_fs._fs import errors
from inmemorystorage_fs._persist import shared_fs
from inmemorystorage_fs.storage import normalize_name

# Failures a user can handle; anything else (fs.errors, IndexError,
# AttributeError, TypeError, ...) is a bug in the storage.
CLEAN_ERRORS = (SuspiciousFileOperation, ValueError, FileNotFoundError)
# A name may normalize to a directory (e.g. "a/.." is the root) or run into one.
PLACE_ERRORS = (IsADirectoryError, NotADirectoryError, FileExistsError)

SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "..",
            ".",
            "",
            "...",
            " ",
            "a",
            "a b",
            "x.txt",
            "%2e%2e",
            "?q=1",
            "#frag",
            "C:",
            "\0",
            "\n",
            "\x1b[31m",
            "\x7f",
            unicodedata.normalize("NFC", "café"),
            unicodedata.normalize("NFD", "café"),
            "\u202eexe.txt",  # RTL override
            "שלום",
            "😀👍🏽",
            "\ufeff",
            "x" * 1000,
            "é" * 300,
        ]
    ),
    st.text(alphabet=string.printable, max_size=12),
    st.text(max_size=12),
)
NAMES = st.one_of(
    st.builds(
        lambda leading, parts, separator, trailing: leading + separator.join(parts) + trailing,
        # Absolute names inside (or beside) the storages' locations are accepted
        # as the disk accepts them, relative to the location.
        st.sampled_from(
            ["", "", "/", "\\", "./", "../", "/srv/media/", "/srv/media/inner/", "/srv/mediax/"]
        ),
        st.lists(SEGMENTS, min_size=1, max_size=6),
        st.sampled_from(["/", "/", "\\", "//", "/./"]),
        st.sampled_from(["", "", "/", "\\", "/.", "/.."]),
    ),
    st.text(max_size=40),
)
EXAMPLES = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "\\windows\\system32",
    "a\\..\\..\\b",
    "nul\0byte.txt",
    "",
    ".",
    "./",
    "a/./b//c/",
    "dir/",
    "x" * 1000,
    "/".join(["deep"] * 200) + "/f.txt",
    "\u202egnp.exe",
    unicodedata.normalize("NFD", "résumé.pdf"),
    "emoji/😀.txt",
    "what?#.txt",
]


def names_the(exc: BaseException, name: str, location: str | None = None) -> bool:
    """Return True if *exc* says which name (or which part of it) was bad."""
    if isinstance(exc, OSError) and exc.filename == normalize_name(name, location):
        return True  # errors name the name as resolved ("a/.." is the root, "")
    message = str(exc)
    posix = name.replace("\\", "/")
    candidates = {name, repr(name)[1:-1], posix, repr(posix)[1:-1]}
    candidates |= {part for part in os.path.split(posix) if part}
    return any(candidate and candidate in message for candidate in candidates) or (
        # An empty or all-dot name has nothing to quote but says what it is.
        not posix.strip("/.") and ("name" in message or "root" in message)
    )


def call(storage: Storage, method: str, name: str, *args: object, disk: bool = False) -> Any:
    """Return what *method* gives for *name*, or None for a clean, named failure.

    With *disk*, also accept what a real disk adds: no creation times on
    Linux. Memory and disk alike refuse a name component over 255 bytes.
    """
    try:
        return getattr(storage, method)(name, *args)
    except NotImplementedError:
        if disk and method == "get_created_time":
            return None
        raise
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            longest = max(str(exc.filename).split("/"), key=len)
            assert longest in name.replace("\\", "/"), f"{method}({name!r}) raised {exc!r}"
            return None
        if not isinstance(exc, CLEAN_ERRORS + PLACE_ERRORS):
            raise
        location = getattr(storage, "location", None)
        assert names_the(exc, name, location), f"{method}({name!r}) raised {exc!r} unnamed"
        return None
    except CLEAN_ERRORS as exc:
        assert names_the(exc, name), f"{method}({name!r}) raised {exc!r} without the name"
        return None
    except errors.FSError as exc:  # pragma: no cover - the failure the test hunts
        pytest.fail(f"{method}({name!r}) leaked {exc!r}")


METHODS = ("exists", "size", "url", "listdir")
TIMES = ("get_accessed_time", "get_created_time", "get_modified_time")


def exercise(storage: Storage, name: str) -> None:
    """Run *name* through every name-taking call of *storage*."""
    saved = call(storage, "save", name, ContentFile(b"payload"))
    for method in METHODS + TIMES:
        call(storage, method, name)
    handle = call(storage, "open", name, "rb")
    if handle is not None:
        with handle:
            assert handle.read() == b"payload"
    if saved is not None:
        assert isinstance(saved, str)
        check_saved(storage, saved)
    call(storage, "delete", name)
    if saved is not None:
        storage.delete(saved)
        assert not storage.exists(saved)


def check_saved(storage: Storage, saved: str) -> None:
    """Assert that *saved* is a normal name that listdir gives back and that opens."""
    assert saved == normalize_name(saved), f"save() returned the unnormal name {saved!r}"
    directory, _, basename = saved.rpartition("/")
    assert basename in storage.listdir(directory)[1]
    walked = walk(storage)
    assert saved in walked, f"{saved!r} is not among the listed names {sorted(walked)[:5]}"
    for listed in walked:
        with storage.open(listed) as handle:
            assert handle.read() == b"payload"
    assert storage.size(saved) == len(b"payload")


def walk(storage: Storage, directory: str = "") -> set[str]:
    """Return every file name that listdir shows, joined from the root."""
    directories, files = storage.listdir(directory)
    prefix = f"{directory}/" if directory else ""
    found = {prefix + name for name in files}
    for child in directories:
        found |= walk(storage, prefix + child)
    return found


def with_examples(test):  # type: ignore[no-untyped-def]
    """Add the named hostile examples to a @given test."""
    for name in EXAMPLES:
        test = example(name)(test)
    return test


@with_examples
@given(NAMES)
def test_own_memory_storage_handles_any_name(name: str) -> None:
    exercise(InMemoryStorage(), name)


@with_examples
@given(NAMES)
def test_nested_persistent_storage_never_writes_outside_its_location(name: str) -> None:
    storage = InMemoryStorage(location="/srv/media/inner", persist=True)
    storage.clear()
    sentinel = "/srv/media/sentinel.txt"
    shared_fs().writebytes(sentinel, b"outside")
    saved = call(storage, "save", name, ContentFile(b"payload"))
    outside = {
        path for path in shared_fs().walk.files("/") if not path.startswith("/srv/media/inner/")
    }
    assert outside == {sentinel}, f"{name!r} reached {outside - {sentinel}}"
    assert shared_fs().readbytes(sentinel) == b"outside"
    exercise(storage, name)
    if saved is not None:
        storage.delete(saved)


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a real folder whose subfolder ``root`` an FSStorage serves."""
    parent = tmp_path_factory.mktemp("disk")
    (parent / "root").mkdir()
    (parent / "sentinel.txt").write_bytes(b"outside")
    return parent


@with_examples
@given(name=NAMES)
def test_storage_over_a_real_folder_never_writes_outside_it(disk: Path, name: str) -> None:
    storage = FSStorage(fs=f"osfs://{disk / 'root'}")
    saved = call(storage, "save", name, ContentFile(b"payload"), disk=True)
    outside = {
        path.relative_to(disk).as_posix()
        for path in disk.rglob("*")
        if path.is_file() and disk / "root" not in path.parents
    }
    assert outside == {"sentinel.txt"}, f"{name!r} reached {outside}"
    try:
        if saved is not None:
            check_saved(storage, saved)
        for method in METHODS + TIMES:
            call(storage, method, name, disk=True)
    finally:
        for child in list((disk / "root").iterdir()):
            storage.delete(child.name)


URL_SAFE = set(string.ascii_letters + string.digits + "-._~/!$&'()*+,;=:@%")
BASE = "https://cdn.example/media/"


@with_examples
@given(NAMES)
def test_url_is_quoted_stays_under_base_url_and_matches_the_disk(name: str) -> None:
    url = InMemoryStorage(base_url=BASE).url(name)  # url() never touches a file: no error
    assert set(url) <= URL_SAFE, f"unquoted characters in {url!r}"
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "cdn.example")
    assert not parts.query and not parts.fragment
    assert url.startswith(BASE), f"url({name!r}) = {url!r} left base_url"
    disk = FileSystemStorage(location="/srv/media", base_url=BASE).url(name)
    if disk.startswith(BASE):  # the disk's URL climbs out only through ".." segments
        assert url == disk


def outcome(name: Any, location: str | None) -> tuple[str, str]:
    """Return what normalize_name() gives for *name*: the name, or the error and its message."""
    try:
        return "name", normalize_name(name, location)
    except Exception as exc:  # the error is what is compared
        return type(exc).__name__, str(exc)


@with_examples
@example("a/b.txt")
@example("x" * 70 + "/b.txt")  # long, every part short: cached after one measuring
@example("é" * 300)  # a part too long for a disk: refused every time
@given(NAMES)
def test_a_name_seen_before_normalizes_as_it_did_the_first_time(name: str) -> None:
    # Normal names are remembered: the second call must answer what the first
    # did, with or without a location, and what a fresh normalizer answers.
    for location in (None, "/srv/media"):
        first = outcome(name, location)
        assert outcome(name, location) == first
        names._NORMAL.clear()
        assert outcome(name, location) == first


def test_names_remembered_as_normal_stay_bounded() -> None:
    # A suite makes names by the thousand (random alternative names): the
    # memory they take must not grow with it.
    for index in range(names.NORMAL_CACHE_SIZE * 2 + 10):
        assert normalize_name(f"uploads/{index}.txt") == f"uploads/{index}.txt"
    assert 0 < len(names._NORMAL) <= names.NORMAL_CACHE_SIZE
    assert normalize_name("uploads/../x.txt") == "x.txt"  # a non-normal name is never kept
    assert "uploads/../x.txt" not in names._NORMAL


def test_a_str_subclass_name_is_normalized_and_never_remembered() -> None:
    class Name(str):
        pass

    assert normalize_name(Name("a/b.txt")) == "a/b.txt"
    assert normalize_name(Name("a//b.txt")) == "a/b.txt"
    assert not any(type(key) is not str for key in names._NORMAL)
