"""Fidelity to Django's storages: what code written for Django's own storages expects.

Each test states one behaviour a user relies on: the hooks Django documents for
subclasses (with Django's signatures), a lazy ``base_url``, ``url()`` exactly as
``FileSystemStorage`` builds it (but never outside ``base_url``), ``max_length``
with ``allow_overwrite``, Django's messages for dangerous names, a path through
a file, permission options of any value, pickling and deep copies, the
dj-inmemorystorage API, absolute names inside the location, ``export()`` to
folders with URL characters in their names, ``open()`` with a mode that is not
a str, and the name an ``OSError`` carries.

Where it helps, the same input goes through Django's ``FileSystemStorage`` and
Django's ``InMemoryStorage`` in the same test, and the results are compared on
whatever Django runs the tests; where Django versions differ, the expected
value is written out.
"""

import copy
import errno
import gc
import inspect
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.storage import InMemoryStorage as DjangoInMemoryStorage
from django.db import models
from django.test import override_settings
from django.urls import reverse_lazy
from django.utils.functional import lazy
from hypothesis import given
from hypothesis import strategies as st

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs._dumps import folder_name as dump_name
from inmemorystorage_fs._fs import MemoryFS
from inmemorystorage_fs.checks import check_settings
from tests.helpers import files_of
from tests.testapp.models import Document

MEDIA_URL = "/media/"
CDN_URL = "https://cdn.example/media/"
BASE_URLS = [MEDIA_URL, CDN_URL]

# FileSystemStorage takes allow_overwrite from Django 5.1 on; Django's checks of
# dangerous names run before anything allow_overwrite changes, so where it is
# missing the plain FileSystemStorage raises the messages to compare with.
DISK_TAKES_ALLOW_OVERWRITE = (
    "allow_overwrite" in inspect.signature(FileSystemStorage.__init__).parameters
)


@pytest.fixture(autouse=True)
def _no_exception_ignored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test whose objects raise in ``__del__`` ("Exception ignored in ...").

    Such objects (say, a half-copied filesystem) are collected whenever the
    garbage collector runs: in a later test, in pytest's own reporting, or at
    exit. Collecting them here, with a hook that only takes notes, puts the
    failure on the test that made them.
    """
    ignored: list[str] = []

    def take_note(unraisable: Any) -> None:
        ignored.append(f"{unraisable.exc_type.__name__}: {unraisable.exc_value}")

    monkeypatch.setattr(sys, "unraisablehook", take_note)
    yield
    gc.collect()
    assert ignored == [], "Exception ignored (an object's __del__ raised)"


def read(storage: Storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    return data


def disk(location: Path, allow_overwrite: bool = False, **options: Any) -> FileSystemStorage:
    """Return Django's FileSystemStorage at *location*, with allow_overwrite if it has it."""
    if allow_overwrite and DISK_TAKES_ALLOW_OVERWRITE:
        options["allow_overwrite"] = True
    return FileSystemStorage(location=location, **options)


def raised(call: Callable[[], Any]) -> BaseException:
    """Return the exception *call* raises (failing the test if it raises none)."""
    try:
        call()
    except Exception as exc:
        return exc
    pytest.fail("no exception was raised")


# -- 1. the hooks Django documents, with Django's signatures -----------------------


class SaveHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def _save(self, name: str, content: File) -> str:
        self.calls.append((name, content))
        return super()._save(name, content)


class SaveElsewhereHook(InMemoryStorage):
    def _save(self, name: str, content: File) -> str:
        return super()._save(f"moved/{name}", content)


class OpenHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def _open(self, name: str, mode: str = "rb") -> File:
        self.calls.append((name, mode))
        if name == "virtual.txt":
            return ContentFile(b"from the hook", name=name)
        return super()._open(name, mode)


class AvailableNameHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        self.calls.append((name, max_length))
        return super().get_available_name(f"picked_{name}", max_length=max_length)


class AlternativeNameHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        self.calls.append((file_root, file_ext))
        return f"{file_root}_alt{file_ext}"


class NameAvailableHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        self.calls.append((name, max_length))
        # Only the name as asked for is taken: its alternatives must be free.
        if os.path.basename(name) == "taken.txt":
            return False
        return super().is_name_available(name, max_length=max_length)


class ExistsHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def exists(self, name: str) -> bool:
        self.calls.append((name,))
        return name == "ghost.txt" or super().exists(name)


class ValidNameHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def get_valid_name(self, name: str) -> str:
        self.calls.append((name,))
        return "valid_" + super().get_valid_name(name)


class GenerateFilenameHook(InMemoryStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[Any, ...]] = []

    def generate_filename(self, filename: str) -> str:
        self.calls.append((filename,))
        return "generated/" + super().generate_filename(filename)


def test_save_calls_an_overridden__save_with_the_name_and_the_content_only() -> None:
    storage = SaveHook()
    content = ContentFile(b"x")
    assert storage.save("a.txt", content) == "a.txt"
    assert storage.calls == [("a.txt", content)]
    assert read(storage, "a.txt") == b"x"


def test_save_with_max_length_calls_an_overridden__save_with_two_arguments() -> None:
    storage = SaveHook()
    content = ContentFile(b"x")
    assert storage.save("dir/a.txt", content, max_length=50) == "dir/a.txt"
    assert storage.calls == [("dir/a.txt", content)]


def test_save_of_a_taken_name_calls_an_overridden__save_with_the_free_name() -> None:
    storage = SaveHook()
    storage.save("a.txt", ContentFile(b"first"))
    second = ContentFile(b"second")
    name = storage.save("a.txt", second)
    assert name != "a.txt"
    assert storage.calls[-1] == (name, second)
    assert read(storage, "a.txt") == b"first"
    assert read(storage, name) == b"second"


def test_save_returns_what_an_overridden__save_returns() -> None:
    storage = SaveElsewhereHook()
    assert storage.save("a.txt", ContentFile(b"x")) == "moved/a.txt"
    assert read(storage, "moved/a.txt") == b"x"
    assert not storage.exists("a.txt")


def test_open_goes_through_an_overridden__open() -> None:
    storage = OpenHook()
    storage.save("a.txt", ContentFile(b"stored"))
    assert read(storage, "a.txt") == b"stored"
    with storage.open("a.txt") as handle:
        assert handle.read() == b"stored"
    with storage.open("a.txt", "r") as handle:
        assert handle.read() == "stored"
    assert storage.calls == [("a.txt", "rb"), ("a.txt", "rb"), ("a.txt", "r")]


def test_open_returns_what_an_overridden__open_returns() -> None:
    storage = OpenHook()
    with storage.open("virtual.txt") as handle:
        assert handle.read() == b"from the hook"
    assert storage.calls == [("virtual.txt", "rb")]


def test_save_asks_an_overridden_get_available_name_with_max_length() -> None:
    storage = AvailableNameHook()
    assert storage.save("a.txt", ContentFile(b"x"), max_length=50) == "picked_a.txt"
    assert storage.calls == [("a.txt", 50)]
    assert storage.save("b.txt", ContentFile(b"y")) == "picked_b.txt"
    assert storage.calls[-1] == ("b.txt", None)
    assert storage.listdir("") == ([], ["picked_a.txt", "picked_b.txt"])


def test_an_overridden_get_alternative_name_names_the_second_save() -> None:
    storage = AlternativeNameHook()
    assert storage.save("a.txt", ContentFile(b"1")) == "a.txt"
    assert storage.save("a.txt", ContentFile(b"2")) == "a_alt.txt"
    assert storage.calls == [("a", ".txt")]
    assert read(storage, "a.txt") == b"1"
    assert read(storage, "a_alt.txt") == b"2"


def test_an_overridden_get_alternative_name_names_the_second_save_in_a_directory() -> None:
    storage = AlternativeNameHook()
    storage.save("docs/report.tar.gz", ContentFile(b"1"))
    assert storage.save("docs/report.tar.gz", ContentFile(b"2")) == "docs/report_alt.tar.gz"
    assert storage.calls == [("report", ".tar.gz")]


def test_an_overridden_is_name_available_forces_an_alternative_name() -> None:
    storage = NameAvailableHook()
    name = storage.save("taken.txt", ContentFile(b"x"))
    assert name != "taken.txt"
    assert name.startswith("taken_") and name.endswith(".txt")
    assert storage.calls[0] == ("taken.txt", None)
    assert not storage.exists("taken.txt")
    assert storage.listdir("") == ([], [name])


def test_an_overridden_is_name_available_is_asked_with_max_length() -> None:
    storage = NameAvailableHook()
    name = storage.save("dir/taken.txt", ContentFile(b"x"), max_length=100)
    assert name.startswith("dir/taken_")
    assert storage.calls[0] == ("dir/taken.txt", 100)


def test_an_overridden_is_name_available_lets_a_free_name_through() -> None:
    storage = NameAvailableHook()
    assert storage.save("free.txt", ContentFile(b"x")) == "free.txt"
    assert storage.calls == [("free.txt", None)]


def test_an_overridden_exists_forces_an_alternative_name_on_save() -> None:
    storage = ExistsHook()
    name = storage.save("ghost.txt", ContentFile(b"x"))
    assert name != "ghost.txt"
    assert name.startswith("ghost_") and name.endswith(".txt")
    assert ("ghost.txt",) in storage.calls
    assert storage.listdir("") == ([], [name])


def test_an_overridden_get_valid_name_is_used_by_generate_filename() -> None:
    storage = ValidNameHook()
    assert storage.generate_filename("dir/x y.txt") == "dir/valid_x_y.txt"
    assert storage.calls == [("x y.txt",)]


def test_an_overridden_get_valid_name_is_used_by_a_file_field() -> None:
    storage = ValidNameHook()
    field = models.FileField(storage=storage, upload_to="docs/")
    assert field.generate_filename(None, "x y.txt") == "docs/valid_x_y.txt"
    assert storage.calls == [("x y.txt",)]


def test_an_overridden_generate_filename_is_used_by_a_file_field() -> None:
    storage = GenerateFilenameHook()
    field = models.FileField(storage=storage, upload_to="docs/")
    assert field.generate_filename(None, "x y.txt") == "generated/docs/x_y.txt"
    assert storage.calls == [("docs/x y.txt",)]


# -- 2. a lazy base_url --------------------------------------------------------------


def counting_lazy(value: str) -> tuple[Any, list[str]]:
    """Return a lazy str of *value* and the list that grows each time it is evaluated."""
    evaluations: list[str] = []

    def produce() -> str:
        evaluations.append(value)
        return value

    return lazy(produce, str)(), evaluations


@pytest.mark.parametrize("value", ["/lazy-media/", "/lazy-media"])
def test_a_lazy_base_url_is_evaluated_by_url_not_by_construction(value: str) -> None:
    base_url, evaluations = counting_lazy(value)
    storage = InMemoryStorage(base_url=base_url)
    assert evaluations == []
    assert storage.url("a.txt") == "/lazy-media/a.txt"
    assert evaluations


def test_a_reverse_lazy_base_url_is_accepted() -> None:
    storage = InMemoryStorage(base_url=reverse_lazy("upload-document"))
    assert storage.url("a b.txt") == "/documents/a%20b.txt"


def test_deconstruct_returns_the_lazy_base_url_itself() -> None:
    base_url, evaluations = counting_lazy("/lazy-media/")
    storage = InMemoryStorage(base_url=base_url)
    assert storage.deconstruct()[2]["base_url"] is base_url
    assert evaluations == []
    assert storage.url("a.txt") == "/lazy-media/a.txt"
    assert storage.deconstruct()[2]["base_url"] is base_url


def test_a_lazy_base_url_is_accepted_like_file_system_storage(tmp_path: Path) -> None:
    # FileSystemStorage.url() needs the lazy value without its trailing "/" (it
    # then appends one, giving a str); ours must work either way (see above).
    django_url, django_evaluations = counting_lazy("/lazy")
    our_url, our_evaluations = counting_lazy("/lazy")
    django_storage = FileSystemStorage(location=tmp_path, base_url=django_url)
    try:
        ours = InMemoryStorage(base_url=our_url)
    except ImproperlyConfigured as exc:
        pytest.fail(f"a lazy base_url is refused: {exc}")
    assert django_evaluations == our_evaluations == []
    assert ours.url("a.txt") == django_storage.url("a.txt") == "/lazy/a.txt"


# -- 3. url() as FileSystemStorage builds it, never outside base_url -------------------

URL_NAMES = [
    "a.txt",
    "dir/sub/a.txt",
    "/evil.com",
    "\\evil.com",
    "//evil.com",
    "///evil.com",
    "\\\\evil.com",
    "/\\evil.com",
    "a\\b.txt",
    "ab\0c",
    "\0",
    "a b?#&.txt",
    "?x=1",
    "#fragment",
    "http://evil.com",
    "https://evil.com/x",
    "//user:pass@evil.com/x",
    "javascript:alert(1)",
    "mailto:a@b.c",
    "café/ü.txt",
    "😀 smile.txt",
    "日本語/ファイル.txt",
    "a/../b",
    "a/b/../../c",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "",
    ".",
    "./",
    "a/..",
    "...",
    "..a",
    "a..",
    "a/..b/c",
    "%2e%2e/x",
    "%00",
    "100%.txt",
    "~user/file",
    "a;b=c,d+e$f!g*h'i(j)k",
    "C:\\windows\\x.txt",
    "C:/x.txt",
    "/srv/media/x",
    " leading and trailing ",
    "tab\there",
    "new\nline",
    "del\x7f",
    "[brackets]{braces}|pipe^caret`tick",
    '"quoted"<angle>',
]


@pytest.mark.parametrize("base_url", BASE_URLS)
@pytest.mark.parametrize("name", URL_NAMES)
def test_url_is_what_file_system_storage_gives(tmp_path: Path, base_url: str, name: str) -> None:
    django_url = FileSystemStorage(location=tmp_path, base_url=base_url).url(name)
    assert django_url.startswith(base_url)  # a name of this list stays inside
    assert InMemoryStorage(base_url=base_url).url(name) == django_url


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/evil.com", "/media/evil.com"),
        ("\\evil.com", "/media/evil.com"),
        ("//evil.com", "/media/evil.com"),
        ("a\\b.txt", "/media/a/b.txt"),
        ("ab\0c", "/media/ab%00c"),
        (None, "/media/"),
        ("a/../b", "/media/b"),
        ("café/ü.txt", "/media/caf%C3%A9/%C3%BC.txt"),
    ],
)
def test_url_of_a_hostile_name_is_under_media(name: str | None, expected: str) -> None:
    assert InMemoryStorage(base_url=MEDIA_URL).url(name) == expected


def test_url_of_a_url_stays_under_media_like_file_system_storage(tmp_path: Path) -> None:
    ours = InMemoryStorage(base_url=MEDIA_URL).url("http://evil.com")
    assert ours.startswith("/media/http%3A/")
    assert ours == FileSystemStorage(location=tmp_path, base_url=MEDIA_URL).url("http://evil.com")


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_url_of_none_is_base_url_like_django(tmp_path: Path, base_url: str) -> None:
    assert InMemoryStorage(base_url=base_url).url(None) == base_url
    assert FileSystemStorage(location=tmp_path, base_url=base_url).url(None) == base_url
    assert DjangoInMemoryStorage(base_url=base_url).url(None) == base_url


CLIMBING_NAMES = [
    "..",
    "../x",
    "../../etc/passwd",
    "a/../../x",
    "a/b/../../../x",
    "/../x",
    "..\\x",
    "a\\..\\..\\x",
    "../http://evil.com",
    "..//evil.com",
    "../../../../../../x",
]


@pytest.mark.parametrize("base_url", BASE_URLS)
@pytest.mark.parametrize("name", CLIMBING_NAMES)
def test_url_of_a_name_climbing_above_base_url_stays_under_it(base_url: str, name: str) -> None:
    # FileSystemStorage's urljoin resolves the ".." and leaves base_url ("/x"):
    # ours never does.
    url = InMemoryStorage(base_url=base_url).url(name)
    assert url.startswith(base_url)
    base = urlsplit(base_url)
    assert (urlsplit(url).scheme, urlsplit(url).netloc) == (base.scheme, base.netloc)


# url() does not touch the disk, so these need no folder of their own.
DISK_URLS = {
    base_url: FileSystemStorage(location="/srv/media", base_url=base_url) for base_url in BASE_URLS
}


@pytest.mark.parametrize("base_url", BASE_URLS)
@given(name=st.text())
def test_url_of_any_name_is_under_base_url_and_django_s_wherever_django_s_is(
    base_url: str, name: str
) -> None:
    url = InMemoryStorage(base_url=base_url).url(name)  # never raises
    assert url.startswith(base_url)
    base = urlsplit(base_url)
    assert (urlsplit(url).scheme, urlsplit(url).netloc) == (base.scheme, base.netloc)
    django_url = DISK_URLS[base_url].url(name)
    if django_url.startswith(base_url):
        assert url == django_url


# -- 4. max_length with allow_overwrite ---------------------------------------------


def test_allow_overwrite_truncates_a_name_longer_than_max_length(tmp_path: Path) -> None:
    ours = InMemoryStorage(allow_overwrite=True).save(
        "test_long_file_name.txt", ContentFile(b"x"), max_length=10
    )
    assert ours == "test_l.txt"
    if DISK_TAKES_ALLOW_OVERWRITE:
        django_storage = FileSystemStorage(location=tmp_path, allow_overwrite=True)
        assert ours == django_storage.save(
            "test_long_file_name.txt", ContentFile(b"x"), max_length=10
        )


def test_allow_overwrite_truncation_overwrites_the_truncated_name() -> None:
    storage = InMemoryStorage(allow_overwrite=True)
    storage.save("test_l.txt", ContentFile(b"old"))
    name = storage.save("test_long_file_name.txt", ContentFile(b"new"), max_length=10)
    assert name == "test_l.txt"
    assert read(storage, "test_l.txt") == b"new"
    assert storage.listdir("") == ([], ["test_l.txt"])


def test_allow_overwrite_with_a_fitting_name_overwrites_it() -> None:
    storage = InMemoryStorage(allow_overwrite=True)
    assert storage.save("a.txt", ContentFile(b"old"), max_length=10) == "a.txt"
    assert storage.save("a.txt", ContentFile(b"new"), max_length=10) == "a.txt"
    assert read(storage, "a.txt") == b"new"
    assert storage.listdir("") == ([], ["a.txt"])


def test_without_allow_overwrite_a_name_that_cannot_fit_fails_as_on_disk(tmp_path: Path) -> None:
    # Alternative names are the root plus "_" and 7 characters: nothing fits
    # in 10 once the name is taken, on the disk as here.
    on_disk = FileSystemStorage(location=tmp_path)
    ours = InMemoryStorage()
    for storage in (on_disk, ours):
        storage.save("test_long_file_name.txt", ContentFile(b"x"))
        with pytest.raises(SuspiciousFileOperation, match="can not find an available filename"):
            storage.save("test_long_file_name.txt", ContentFile(b"x"), max_length=10)
    assert ours.listdir("") == ([], ["test_long_file_name.txt"])


# -- 5. dangerous names, with Django's messages ----------------------------------------

DANGEROUS_NAMES = ["", ".", "..", "/tmp/..", "\\tmp\\..", "/tmp/.", "../path", "/tmp/../path"]


@pytest.mark.parametrize("allow_overwrite", [False, True])
@pytest.mark.parametrize("method", ["get_available_name", "generate_filename"])
@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_a_dangerous_name_raises_django_s_message(
    tmp_path: Path, allow_overwrite: bool, method: str, name: str
) -> None:
    ours = InMemoryStorage(allow_overwrite=allow_overwrite)
    django_storage = disk(tmp_path, allow_overwrite)
    with pytest.raises(SuspiciousFileOperation) as django_exc:
        getattr(django_storage, method)(name)
    with pytest.raises(SuspiciousFileOperation) as our_exc:
        getattr(ours, method)(name)
    assert str(our_exc.value) == str(django_exc.value)


@pytest.mark.parametrize("allow_overwrite", [False, True])
@pytest.mark.parametrize("method", ["get_available_name", "generate_filename"])
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..", "Could not derive file name from '..'"),
        ("../path", "Detected path traversal attempt in '..'"),
    ],
)
def test_a_dangerous_name_raises_the_literal_message(
    allow_overwrite: bool, method: str, name: str, message: str
) -> None:
    storage = InMemoryStorage(allow_overwrite=allow_overwrite)
    with pytest.raises(SuspiciousFileOperation) as exc:
        getattr(storage, method)(name)
    assert str(exc.value) == message


# -- 6. a path through a file --------------------------------------------------------

THROUGH_A_FILE: dict[str, Callable[[Storage], Any]] = {
    "listdir(file.txt/child)": lambda storage: storage.listdir("file.txt/child"),
    "listdir(file.txt)": lambda storage: storage.listdir("file.txt"),
    "open(file.txt/child)": lambda storage: storage.open("file.txt/child"),
    "open(file.txt/child, wb)": lambda storage: storage.open("file.txt/child", "wb"),
    "size(file.txt/child)": lambda storage: storage.size("file.txt/child"),
    "get_modified_time(file.txt/child)": lambda storage: storage.get_modified_time(
        "file.txt/child"
    ),
    "get_accessed_time(file.txt/child)": lambda storage: storage.get_accessed_time(
        "file.txt/child"
    ),
    "get_created_time(file.txt/child)": lambda storage: storage.get_created_time("file.txt/child"),
    "save(file.txt/child)": lambda storage: storage.save("file.txt/child", ContentFile(b"c")),
    "save(file.txt/deeper/child)": lambda storage: storage.save(
        "file.txt/deeper/child", ContentFile(b"c")
    ),
    "delete(file.txt/child)": lambda storage: storage.delete("file.txt/child"),
}


@pytest.fixture
def with_a_file() -> InMemoryStorage:
    storage = InMemoryStorage()
    storage.save("file.txt", ContentFile(b"content"))
    return storage


@pytest.mark.parametrize("call", THROUGH_A_FILE.values(), ids=THROUGH_A_FILE.keys())
def test_a_path_through_a_file_raises_file_exists_and_not_a_directory(
    with_a_file: InMemoryStorage, call: Callable[[Storage], Any]
) -> None:
    exc = raised(lambda: call(with_a_file))
    # What Django's InMemoryStorage raises, and what FileSystemStorage (the OS) raises.
    assert isinstance(exc, FileExistsError), repr(exc)
    assert isinstance(exc, NotADirectoryError), repr(exc)
    assert with_a_file.listdir("") == ([], ["file.txt"])
    assert read(with_a_file, "file.txt") == b"content"


@pytest.mark.parametrize("location", ["/srv/media", "/"])
@pytest.mark.parametrize("persist", [False, True], ids=["own", "persistent"])
@pytest.mark.parametrize("call", THROUGH_A_FILE.values(), ids=THROUGH_A_FILE.keys())
def test_a_path_through_a_file_carries_django_s_message_naming_the_file(
    call: Callable[[Storage], Any], persist: bool, location: str
) -> None:
    storage = InMemoryStorage(location=location, persist=persist)
    storage.save("file.txt", ContentFile(b"content"))
    exc = raised(lambda: call(storage))
    # The sentence both of Django's storages raise (FileSystemStorage from _save).
    shown = f"{location.rstrip('/')}/file.txt"
    assert str(exc).startswith(f"{shown} exists and is not a directory. ("), str(exc)
    assert isinstance(exc, FileExistsError) and isinstance(exc, NotADirectoryError)
    assert exc.errno == errno.ENOTDIR and exc.filename.startswith("file.txt")


def test_save_through_a_file_raises_what_file_system_storage_raises(tmp_path: Path) -> None:
    on_disk = FileSystemStorage(location=tmp_path / "disk")
    ours = InMemoryStorage(location=tmp_path / "memory")
    for storage in (on_disk, ours):
        storage.save("test_upload", ContentFile(b"x"))
    disk_error = raised(lambda: on_disk.save("test_upload/foo.txt", ContentFile(b"x")))
    our_error = raised(lambda: ours.save("test_upload/foo.txt", ContentFile(b"x")))
    assert isinstance(disk_error, FileExistsError) and isinstance(our_error, FileExistsError)
    assert str(disk_error) == f"{tmp_path}/disk/test_upload exists and is not a directory."
    assert str(disk_error).replace("/disk/", "/memory/") in str(our_error)
    assert ours.listdir("") == ([], ["test_upload"])


def test_django_s_storages_disagree_on_a_listdir_through_a_file(tmp_path: Path) -> None:
    memory = DjangoInMemoryStorage()
    memory.save("file.txt", ContentFile(b"content"))
    with pytest.raises(FileExistsError):
        memory.listdir("file.txt/child")
    on_disk = FileSystemStorage(location=tmp_path)
    on_disk.save("file.txt", ContentFile(b"content"))
    with pytest.raises(NotADirectoryError):
        on_disk.listdir("file.txt/child")


def test_exists_of_a_path_through_a_file_is_false_as_on_disk(
    with_a_file: InMemoryStorage, tmp_path: Path
) -> None:
    on_disk = FileSystemStorage(location=tmp_path)
    on_disk.save("file.txt", ContentFile(b"content"))
    assert on_disk.exists("file.txt/child") is False
    assert with_a_file.exists("file.txt/child") is False
    assert read(with_a_file, "file.txt") == b"content"


# -- 7. permission options of any value -------------------------------------------------


def test_permission_options_of_any_value_are_kept_as_given() -> None:
    storage = InMemoryStorage(file_permissions_mode="0o755", directory_permissions_mode="0o755")
    assert storage.file_permissions_mode == "0o755"
    assert storage.directory_permissions_mode == "0o755"
    assert storage.deconstruct()[2] == {
        "file_permissions_mode": "0o755",
        "directory_permissions_mode": "0o755",
    }
    assert storage.save("d/a.txt", ContentFile(b"x")) == "d/a.txt"
    assert read(storage, "d/a.txt") == b"x"


def test_django_s_in_memory_storage_takes_permission_options_of_any_value() -> None:
    storage = DjangoInMemoryStorage(
        file_permissions_mode="0o755", directory_permissions_mode="0o755"
    )
    assert storage.file_permissions_mode == "0o755"
    assert storage.deconstruct()[2] == {
        "file_permissions_mode": "0o755",
        "directory_permissions_mode": "0o755",
    }
    storage.save("d/a.txt", ContentFile(b"x"))
    assert read(storage, "d/a.txt") == b"x"


def storages_with(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "inmemorystorage_fs.InMemoryStaticFilesStorage"},
    }


@pytest.mark.parametrize("option", ["file_permissions_mode", "directory_permissions_mode"])
def test_a_permission_option_that_is_not_an_int_is_a_warning(option: str) -> None:
    with override_settings(STORAGES=storages_with({option: "0o755"})):
        messages = check_settings()
    assert [message for message in messages if message.level >= checks.ERROR] == []
    warnings = [message for message in messages if message.level == checks.WARNING]
    assert len(warnings) == 1, messages
    assert str(warnings[0].id).startswith("inmemorystorage_fs.W")


@pytest.mark.parametrize("option", ["file_permissions_mode", "directory_permissions_mode"])
def test_an_int_permission_option_passes_the_checks(option: str) -> None:
    with override_settings(STORAGES=storages_with({option: 0o644})):
        assert check_settings() == []


# -- 8. pickle and deepcopy ----------------------------------------------------------


def by_pickle(storage: Any) -> Any:
    return pickle.loads(pickle.dumps(storage))


def copied_by(way: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return *way* of copying, failing the test with a short message if it raises.

    The failure's traceback would keep whatever the copy had half built alive
    until pytest drops the report (in a later test); without it, those objects
    are collected (and any ``__del__`` error noted) within this test.
    """

    def clone(storage: Any) -> Any:
        try:
            return way(storage)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        gc.collect()
        pytest.fail(f"{way.__name__} of {type(storage).__name__} failed: {problem}")

    return clone


CLONES = {"pickle": copied_by(by_pickle), "deepcopy": copied_by(copy.deepcopy)}
clone_ways = pytest.mark.parametrize("clone", CLONES.values(), ids=CLONES.keys())


@clone_ways
def test_a_copy_has_the_same_files_and_times(clone: Callable[[Any], Any]) -> None:
    storage = InMemoryStorage()
    storage.save("a/b.txt", ContentFile(b"ab"))
    storage.save("c.txt", ContentFile(b"c"))
    copied = clone(storage)
    assert files_of(copied) == {"a/b.txt": b"ab", "c.txt": b"c"}
    for name in ("a/b.txt", "c.txt"):
        assert copied.get_modified_time(name) == storage.get_modified_time(name)


@clone_ways
def test_a_copy_of_a_storage_is_independent_of_it(clone: Callable[[Any], Any]) -> None:
    storage = InMemoryStorage()
    storage.save("a/b.txt", ContentFile(b"ab"))
    storage.save("c.txt", ContentFile(b"c"))
    copied = clone(storage)
    with storage.open("a/b.txt", "wb") as handle:
        handle.write(b"changed")
    storage.delete("c.txt")
    copied.save("only-in-the-copy.txt", ContentFile(b"new"))
    assert files_of(copied) == {"a/b.txt": b"ab", "c.txt": b"c", "only-in-the-copy.txt": b"new"}
    assert files_of(storage) == {"a/b.txt": b"changed"}


@clone_ways
def test_a_copy_of_a_persistent_storage_sees_the_process_files(
    clone: Callable[[Any], Any],
) -> None:
    storage = InMemoryStorage(location="/srv/media/p", persist=True)
    storage.save("before.txt", ContentFile(b"b"))
    copied = clone(storage)
    assert read(copied, "before.txt") == b"b"
    storage.save("after.txt", ContentFile(b"a"))
    assert read(copied, "after.txt") == b"a"
    copied.save("from-the-copy.txt", ContentFile(b"c"))
    assert read(storage, "from-the-copy.txt") == b"c"
    assert InMemoryStorage(location="/srv/media/p", persist=True).exists("from-the-copy.txt")


@clone_ways
def test_django_s_in_memory_storage_copies_like_this(clone: Callable[[Any], Any]) -> None:
    storage = DjangoInMemoryStorage()
    storage.save("a/b.txt", ContentFile(b"ab"))
    copied = clone(storage)
    copied.save("c.txt", ContentFile(b"c"))
    assert files_of(copied) == {"a/b.txt": b"ab", "c.txt": b"c"}
    assert files_of(storage) == {"a/b.txt": b"ab"}


def test_a_pickled_fs_url_storage_opens_the_url_again() -> None:
    storage = FSStorage(fs="mem://")
    storage.save("a.txt", ContentFile(b"a"))
    copied = CLONES["pickle"](storage)
    assert isinstance(copied, FSStorage)
    assert copied.deconstruct()[2] == {"fs": "mem://"}
    copied.save("b.txt", ContentFile(b"b"))
    assert read(copied, "b.txt") == b"b"


def test_a_pickled_osfs_storage_sees_the_files_on_disk(tmp_path: Path) -> None:
    storage = FSStorage(fs=f"osfs://{tmp_path}")
    storage.save("a.txt", ContentFile(b"a"))
    copied = CLONES["pickle"](storage)
    assert read(copied, "a.txt") == b"a"
    copied.save("b.txt", ContentFile(b"b"))
    assert (tmp_path / "b.txt").read_bytes() == b"b"
    assert read(storage, "b.txt") == b"b"


def test_a_storage_over_an_fs_object_refuses_to_pickle_quietly(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    storage = FSStorage(fs=MemoryFS())
    storage.save("a.txt", ContentFile(b"a"))
    with pytest.raises(TypeError, match=r"FS URL|cannot be pickled"):
        pickle.dumps(storage)
    del storage
    gc.collect()
    assert unraisable == []
    assert "Exception ignored" not in capfd.readouterr().err


def test_an_unpickled_storage_saves_from_several_threads() -> None:
    storage = CLONES["pickle"](InMemoryStorage())
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []
    saved: list[str] = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            for number in range(20):
                storage.save(f"t{index}/{number}.txt", ContentFile(b"x"))
            saved.append(storage.save("same.txt", ContentFile(str(index).encode())))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    for index in range(4):
        assert sorted(storage.listdir(f"t{index}")[1]) == sorted(f"{n}.txt" for n in range(20))
    assert len(set(saved)) == 4
    assert sorted(read(storage, name) for name in saved) == [b"0", b"1", b"2", b"3"]


def test_a_model_instance_with_a_file_pickles_with_its_file_readable() -> None:
    document = Document(owner="ann")
    document.upload.save("report.txt", ContentFile(b"quarterly"), save=False)
    copied = pickle.loads(pickle.dumps(document))
    assert copied.upload.name == "documents/report.txt"
    with copied.upload.open("rb") as handle:
        assert handle.read() == b"quarterly"


# -- 9. the dj-inmemorystorage API ----------------------------------------------------


def test_persistent_storages_at_one_location_share_their_filesystem() -> None:
    first = InMemoryStorage(persist=True)
    second = InMemoryStorage(persist=True)
    assert first.filesystem is second.filesystem
    first.save("x.txt", ContentFile(b"shared"))
    assert first.filesystem.readbytes("/x.txt") == b"shared"
    assert second.filesystem.readbytes("/x.txt") == b"shared"


def test_non_persistent_storages_have_filesystems_of_their_own() -> None:
    first = InMemoryStorage()
    second = InMemoryStorage()
    assert first.filesystem is not second.filesystem
    first.save("x.txt", ContentFile(b"mine"))
    assert first.filesystem.readbytes("/x.txt") == b"mine"
    assert not second.filesystem.exists("/x.txt")


@pytest.mark.parametrize("kind", ["accessed", "created", "modified"])
def test_the_time_methods_of_dj_inmemorystorage_return_the_get_time_ones(
    storage: InMemoryStorage, kind: str
) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    assert getattr(storage, f"{kind}_time")("a.txt") == getattr(storage, f"get_{kind}_time")(
        "a.txt"
    )


def test_opening_a_file_moves_its_accessed_time_forward(storage: InMemoryStorage) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    time.sleep(0.02)
    before = storage.accessed_time("a.txt")
    time.sleep(0.02)
    read(storage, "a.txt")
    after = storage.accessed_time("a.txt")
    assert after > before
    assert after == storage.get_accessed_time("a.txt")


# -- 10. absolute names inside the storage's location ------------------------------------

OUR_MEDIA_STORAGES: dict[str, Callable[[], Storage]] = {
    "own": InMemoryStorage,
    "persistent": lambda: InMemoryStorage(location="/srv/media", persist=True),
}
our_media_storages = pytest.mark.parametrize(
    "make", OUR_MEDIA_STORAGES.values(), ids=OUR_MEDIA_STORAGES.keys()
)


@our_media_storages
def test_save_refuses_an_absolute_name_as_djangos_save_does(
    make: Callable[[], Storage], tmp_path: Path
) -> None:
    storage = make()
    on_disk = FileSystemStorage(location=tmp_path)
    with pytest.raises(SuspiciousFileOperation) as disk_error:
        on_disk.save(str(tmp_path / "test_upload"), ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation) as our_error:
        storage.save("/srv/media/test_upload", ContentFile(b"x"))
    assert str(our_error.value) == str(disk_error.value).replace(str(tmp_path), "/srv/media")
    assert not storage.exists("test_upload")


@our_media_storages
def test_open_for_writing_takes_an_absolute_name_inside_the_location(
    make: Callable[[], Storage], tmp_path: Path
) -> None:
    on_disk = FileSystemStorage(location=tmp_path)
    with on_disk.open(str(tmp_path / "test_upload"), "wb") as handle:
        handle.write(b"x")
    storage = make()
    with storage.open("/srv/media/test_upload", "wb") as handle:
        handle.write(b"x")
    assert read(storage, "test_upload") == b"x" == (tmp_path / "test_upload").read_bytes()


def use_by_absolute_name(storage: Storage, root: str) -> list[Any]:
    """Return what each call on the file ``test_upload``, named absolutely, gives."""
    full = f"{root}/test_upload"
    results: list[Any] = [
        storage.exists(full),
        read(storage, full),
        storage.size(full),
        storage.get_modified_time(full) == storage.get_modified_time("test_upload"),
        [sorted(names) for names in storage.listdir(root)],
    ]
    storage.delete(full)
    results.append(storage.exists("test_upload"))
    return results


@our_media_storages
def test_an_absolute_name_inside_the_location_works_like_django(
    make: Callable[[], Storage], tmp_path: Path
) -> None:
    expected = [True, b"x", 1, True, [[], ["test_upload"]], False]
    # Django's own save() refuses an absolute name (Storage.save() validates it
    # first), so the Django storages get the file under its relative name.
    on_disk = FileSystemStorage(location=tmp_path)
    on_disk.save("test_upload", ContentFile(b"x"))
    assert use_by_absolute_name(on_disk, str(tmp_path)) == expected
    memory = DjangoInMemoryStorage(location="/srv/media")
    memory.save("test_upload", ContentFile(b"x"))
    assert use_by_absolute_name(memory, "/srv/media") == expected
    ours = make()
    ours.save("test_upload", ContentFile(b"x"))
    assert use_by_absolute_name(ours, "/srv/media") == expected


OUTSIDE_NAMES = ["/etc/passwd", "/srv/mediaX/a", "/srv/media/../x", "../x", "a/../../x"]
EVERY_METHOD: dict[str, Callable[[Storage, str], Any]] = {
    "save": lambda storage, name: storage.save(name, ContentFile(b"x")),
    "open": lambda storage, name: storage.open(name),
    "open-wb": lambda storage, name: storage.open(name, "wb"),
    "exists": lambda storage, name: storage.exists(name),
    "size": lambda storage, name: storage.size(name),
    "delete": lambda storage, name: storage.delete(name),
    "listdir": lambda storage, name: storage.listdir(name),
    "get_modified_time": lambda storage, name: storage.get_modified_time(name),
    "get_accessed_time": lambda storage, name: storage.get_accessed_time(name),
    "get_created_time": lambda storage, name: storage.get_created_time(name),
}
MEDIA_STORAGES = {
    **OUR_MEDIA_STORAGES,
    "django": lambda: DjangoInMemoryStorage(location="/srv/media"),
}


@pytest.mark.parametrize("make", MEDIA_STORAGES.values(), ids=MEDIA_STORAGES.keys())
@pytest.mark.parametrize("method", EVERY_METHOD.values(), ids=EVERY_METHOD.keys())
@pytest.mark.parametrize("name", OUTSIDE_NAMES)
def test_a_name_outside_the_location_is_suspicious_for_every_method(
    make: Callable[[], Storage], method: Callable[[Storage, str], Any], name: str
) -> None:
    storage = make()
    with pytest.raises(SuspiciousFileOperation):
        method(storage, name)


# -- 11. export() and the dump folder with URL characters in their names ----------------

FOLDER_CHARACTERS = ["@", "#", "?", "%", "%41", ":", "!", "~", " ", "ünï"]


@pytest.mark.parametrize("character", FOLDER_CHARACTERS)
def test_export_writes_into_a_folder_with_any_character(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, character: str
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    storage = InMemoryStorage()
    storage.save("a.txt", ContentFile(b"a"))
    storage.save("d/b.txt", ContentFile(b"b"))
    dest = tmp_path / f"out{character}sub"
    assert storage.export(str(dest)) == str(dest)
    assert (dest / "a.txt").read_bytes() == b"a"
    assert (dest / "d" / "b.txt").read_bytes() == b"b"
    assert os.listdir(cwd) == []
    assert sorted(os.listdir(tmp_path)) == sorted(["cwd", dest.name])


DUMP_INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
"""

DUMP_TESTS = """
from django.core.files.base import ContentFile


def test_fails(inmemory_storage):
    inmemory_storage.save("d/out.txt", ContentFile(b"dumped"))
    assert False, "boom"
"""


def test_the_dump_folder_may_hold_an_at_sign(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(DUMP_INI)
    pytester.makepyfile(test_dump=DUMP_TESTS)
    result = pytester.runpytest_subprocess(
        "--inmemorystorage-dump=dumps@x", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    folder = pytester.path / "dumps@x" / dump_name("test_dump.py::test_fails")
    assert (folder / "d" / "out.txt").read_bytes() == b"dumped"
    # Nowhere else: not in "x/" (what is left of "dumps@x" read as an FS URL's user@host).
    assert list(pytester.path.rglob(folder.name)) == [folder]
    result.stdout.fnmatch_lines([f"*this test's files are in {folder}{os.sep}*"])


# -- 12. open() with a mode that is not a str ------------------------------------------


@pytest.mark.parametrize(("mode", "shown"), [(5, "5"), (b"rb", "rb")])
def test_open_with_a_mode_that_is_not_a_str_says_so(
    storage: InMemoryStorage, mode: Any, shown: str
) -> None:
    storage.save("a.txt", ContentFile(b"x"))
    with pytest.raises((TypeError, ValueError)) as exc:
        storage.open("a.txt", mode)
    assert shown in str(exc.value)
    assert "mode" in str(exc.value)


# -- 13. the name an OSError carries --------------------------------------------------

ERROR_NAMES: list[tuple[str, Callable[[Storage], Any], type[OSError], str]] = [
    ("open", lambda s: s.open("a//b/../missing.txt"), FileNotFoundError, "a/missing.txt"),
    ("open-abs", lambda s: s.open("/srv/media/missing.txt"), FileNotFoundError, "missing.txt"),
    ("open-r+", lambda s: s.open("./x/missing.txt", "r+"), FileNotFoundError, "x/missing.txt"),
    ("size", lambda s: s.size("/srv/media/missing.txt"), FileNotFoundError, "missing.txt"),
    ("size-backslash", lambda s: s.size("a\\missing.txt"), FileNotFoundError, "a/missing.txt"),
    ("listdir", lambda s: s.listdir("./no//such/dir/"), FileNotFoundError, "no/such/dir"),
    ("modified", lambda s: s.get_modified_time("x/./m.txt"), FileNotFoundError, "x/m.txt"),
    ("accessed", lambda s: s.get_accessed_time("x//m.txt"), FileNotFoundError, "x/m.txt"),
    ("created", lambda s: s.get_created_time("x/y/../m.txt"), FileNotFoundError, "x/m.txt"),
    ("open-dir", lambda s: s.open("dir/./"), IsADirectoryError, "dir"),
    ("size-dir", lambda s: s.size("/srv/media/dir"), IsADirectoryError, "dir"),
    ("listdir-file", lambda s: s.listdir("./file.txt"), NotADirectoryError, "file.txt"),
    ("open-through", lambda s: s.open("file.txt//child"), OSError, "file.txt/child"),
    ("size-through", lambda s: s.size("file.txt/./child"), OSError, "file.txt/child"),
    ("listdir-through", lambda s: s.listdir("file.txt/child/"), OSError, "file.txt/child"),
    ("delete-through", lambda s: s.delete("file.txt//child"), OSError, "file.txt/child"),
    (
        "modified-through",
        lambda s: s.get_modified_time("/srv/media/file.txt/child"),
        OSError,
        "file.txt/child",
    ),
    (
        "save-through",
        lambda s: s.save("file.txt/child", ContentFile(b"x")),
        OSError,
        "file.txt/child",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "filename"),
    [case[1:] for case in ERROR_NAMES],
    ids=[case[0] for case in ERROR_NAMES],
)
def test_an_os_error_names_the_normalized_storage_name(
    call: Callable[[Storage], Any], error: type[OSError], filename: str
) -> None:
    storage = InMemoryStorage()
    storage.save("file.txt", ContentFile(b"content"))
    storage.save("dir/inside.txt", ContentFile(b"inside"))
    exc = raised(lambda: call(storage))
    assert isinstance(exc, error), repr(exc)
    assert isinstance(exc, OSError)
    assert exc.filename == filename
