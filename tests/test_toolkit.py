"""The test toolkit: files(), the assert_* methods, load(), seeds and counter names."""

import os
import re
import threading
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage, storages
from django.test import SimpleTestCase, override_settings

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs._fs import MemoryFS
from inmemorystorage_fs.checks import check_settings
from inmemorystorage_fs.staticfiles import (
    InMemoryManifestStaticFilesStorage,
    InMemoryStaticFilesStorage,
)
from inmemorystorage_fs.testing import InMemoryStorageMixin, fresh_storage
from tests.helpers import files_of, needs_aliases

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "seed"
SEED_FILES = {"docs/guide.txt": b"Read me first.\n", "hello.txt": b"hello\n"}
OURS = "inmemorystorage_fs.InMemoryStorage"
# 2001-09-09 01:46:40 UTC
OLD = 1_000_000_000
OLD_TIME = datetime(2001, 9, 9, 1, 46, 40, tzinfo=timezone.utc)

LAYOUT = {
    "a.txt": b"a",
    "b.md": b"b",
    "notes.txt": b"n",
    "docs/a.txt": b"da",
    "docs/b.txt": b"db",
    "docs/deep/c.txt": b"dc",
    "docs/deep/d.bin": b"dd",
    "img/x1.png": b"1",
    "img/x2.png": b"2",
    "img/x10.png": b"10",
}


def fill(storage: Storage, files: dict[str, bytes]) -> Storage:
    for name, data in files.items():
        assert storage.save(name, ContentFile(data)) == name
    return storage


def failure(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Return the message of the AssertionError that *check* raises."""
    with pytest.raises(AssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


def head(message: str, storage: Any) -> str:
    """Return *message* without the storage's tree, which it must hold."""
    tree = storage.tree()
    assert tree in message
    return message.replace(tree, "")


def state(storage: Any) -> tuple[str, dict[str, bytes]]:
    """Return what a storage holds: its tree (directories too) and its files' bytes."""
    return storage.tree(), files_of(storage)


@pytest.fixture
def populated() -> InMemoryStorage:
    """Return a storage holding LAYOUT and an empty directory, emptydir."""
    storage = InMemoryStorage()
    fill(storage, LAYOUT)
    storage.fs.makedirs("emptydir")
    return storage


def make_storage(kind: str, tmp_path: Path) -> Any:
    if kind == "InMemoryStorage":
        return InMemoryStorage()
    if kind == "FSStorage(MemoryFS)":
        return FSStorage(MemoryFS())
    if kind == "FSStorage(osfs)":
        folder = tmp_path / "media"
        folder.mkdir()
        return FSStorage(f"osfs://{folder}")
    if kind == "InMemoryStaticFilesStorage":
        return InMemoryStaticFilesStorage()
    assert kind == "InMemoryManifestStaticFilesStorage"
    return InMemoryManifestStaticFilesStorage()


KINDS = [
    "InMemoryStorage",
    "FSStorage(MemoryFS)",
    "FSStorage(osfs)",
    "InMemoryStaticFilesStorage",
    "InMemoryManifestStaticFilesStorage",
]


@pytest.fixture(params=KINDS)
def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return make_storage(request.param, tmp_path)


# -- files() ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("**", sorted(LAYOUT)),
        ("*", ["a.txt", "b.md", "notes.txt"]),
        ("*.txt", ["a.txt", "notes.txt"]),
        ("**/*.txt", ["a.txt", "docs/a.txt", "docs/b.txt", "docs/deep/c.txt", "notes.txt"]),
        ("docs/**", ["docs/a.txt", "docs/b.txt", "docs/deep/c.txt", "docs/deep/d.bin"]),
        ("docs/*", ["docs/a.txt", "docs/b.txt"]),
        ("*/*.txt", ["docs/a.txt", "docs/b.txt"]),
        ("docs/**/a.txt", ["docs/a.txt"]),
        ("**/c.txt", ["docs/deep/c.txt"]),
        ("**/deep/*", ["docs/deep/c.txt", "docs/deep/d.bin"]),
        ("a.txt", ["a.txt"]),
        ("?.txt", ["a.txt"]),
        ("img/x?.png", ["img/x1.png", "img/x2.png"]),
        ("img/x[12].png", ["img/x1.png", "img/x2.png"]),
        ("img/x[0-9][0-9].png", ["img/x10.png"]),
        ("img/x[12]*.png", ["img/x1.png", "img/x10.png", "img/x2.png"]),
        ("docs?a.txt", []),
        ("d*", []),
        ("emptydir", []),
        ("emptydir/**", []),
        ("nowhere/**", []),
    ],
)
def test_files_matches_whole_names_against_the_pattern(
    populated: InMemoryStorage, pattern: str, expected: list[str]
) -> None:
    assert populated.files(pattern) == expected


def test_files_without_a_pattern_lists_every_file_sorted_and_no_directory(
    populated: InMemoryStorage,
) -> None:
    found = populated.files()
    assert found == sorted(LAYOUT)
    assert isinstance(found, list)
    assert "emptydir" not in found and "docs" not in found


def test_files_of_an_empty_storage_is_an_empty_list() -> None:
    assert InMemoryStorage().files() == []
    assert InMemoryStorage().files("*.txt") == []


# -- assert_exists / assert_missing ------------------------------------------------


def test_assert_exists_passes_for_files_directories_and_patterns(
    populated: InMemoryStorage,
) -> None:
    populated.assert_exists("a.txt")
    populated.assert_exists("docs", "docs/deep", "emptydir", "**/*.bin", "img/x?.png")
    populated.assert_exists("*")  # directories match too


def test_assert_exists_fails_naming_the_pattern_and_showing_the_tree(
    populated: InMemoryStorage,
) -> None:
    message = failure(populated.assert_exists, "missing*.txt")
    assert "missing*.txt" in head(message, populated)


def test_assert_exists_fails_if_any_one_pattern_matches_nothing(
    populated: InMemoryStorage,
) -> None:
    message = failure(populated.assert_exists, "a.txt", "docs", "nope.txt")
    assert "nope.txt" in head(message, populated)


def test_assert_exists_fails_on_an_empty_storage_showing_it_empty() -> None:
    storage = InMemoryStorage()
    message = failure(storage.assert_exists, "**")
    assert storage.tree() in message


def test_assert_missing_passes_when_nothing_matches(populated: InMemoryStorage) -> None:
    populated.assert_missing("nope.txt", "*.csv", "docs/deep/*.txt.bak", "docs/a.txt/x")


def test_assert_missing_fails_for_a_file_naming_the_pattern(populated: InMemoryStorage) -> None:
    message = failure(populated.assert_missing, "nope.txt", "**/*.bin")
    assert "**/*.bin" in head(message, populated)


@pytest.mark.parametrize("pattern", ["emptydir", "docs/deep", "docs/d*"])
def test_assert_missing_fails_for_a_directory(populated: InMemoryStorage, pattern: str) -> None:
    message = failure(populated.assert_missing, pattern)
    assert pattern in head(message, populated)


# -- assert_count --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "pattern"), [(10, "**"), (2, "*.txt"), (4, "docs/**"), (0, "nowhere/**")]
)
def test_assert_count_passes_for_the_number_of_files(
    populated: InMemoryStorage, expected: int, pattern: str
) -> None:
    populated.assert_count(expected, pattern)


def test_assert_count_counts_every_file_by_default(populated: InMemoryStorage) -> None:
    populated.assert_count(10)
    message = head(failure(populated.assert_count, 11), populated)
    assert "10" in message and "11" in message


def test_assert_count_fails_naming_pattern_expected_and_actual(
    populated: InMemoryStorage,
) -> None:
    message = head(failure(populated.assert_count, 3, "*.txt"), populated)
    assert "*.txt" in message
    assert re.search(r"\b3\b", message), message
    assert re.search(r"\b2\b", message), message


def test_assert_count_does_not_count_directories(populated: InMemoryStorage) -> None:
    populated.assert_count(0, "emptydir")
    populated.assert_count(0, "docs/deep")
    message = head(failure(populated.assert_count, 1, "emptydir"), populated)
    assert re.search(r"\b0\b", message), message


# -- assert_content --------------------------------------------------------------------


def test_assert_content_compares_bytes_as_bytes(populated: InMemoryStorage) -> None:
    populated.assert_content("docs/a.txt", b"da")
    message = failure(populated.assert_content, "docs/a.txt", b"dA")
    assert "docs/a.txt" in message
    failure(populated.assert_content, "docs/a.txt", b"da\n")


def test_assert_content_compares_str_as_utf8_text() -> None:
    storage = fill(InMemoryStorage(), {"café.txt": "héllo wörld\n".encode()})
    storage.assert_content("café.txt", "héllo wörld\n")
    storage.assert_content("café.txt", "héllo wörld\n".encode())
    failure(storage.assert_content, "café.txt", "héllo wörld")


def test_assert_content_shows_a_unified_diff_of_text() -> None:
    storage = fill(InMemoryStorage(), {"docs/a.txt": b"line one\nline two\nline three\n"})
    message = failure(storage.assert_content, "docs/a.txt", "line one\nline 2\nline three\n")
    lines = message.splitlines()
    assert any(line.startswith(("---", "+++")) and "docs/a.txt" in line for line in lines)
    removed_added = {"-line two", "+line 2"} <= set(lines)
    added_removed = {"+line two", "-line 2"} <= set(lines)
    assert removed_added or added_removed, message
    assert "-line one" not in lines and "+line one" not in lines


@pytest.mark.parametrize("expected", [b"other", "other"])
def test_assert_content_failures_show_the_tree(
    populated: InMemoryStorage, expected: bytes | str
) -> None:
    message = failure(populated.assert_content, "docs/a.txt", expected)
    assert "docs/a.txt" in head(message, populated)


def test_a_diff_of_texts_without_a_final_newline_keeps_each_line_apart() -> None:
    storage = fill(InMemoryStorage(), {"a.txt": b"a"})
    lines = failure(storage.assert_content, "a.txt", "b").splitlines()
    assert {"-b", "+a"} <= set(lines)


def test_assert_content_of_a_file_that_is_not_utf8_against_text_fails() -> None:
    storage = fill(InMemoryStorage(), {"latin.txt": "café".encode("latin-1")})
    message = failure(storage.assert_content, "latin.txt", "café")
    assert "latin.txt" in message


def test_assert_content_of_a_missing_file_fails_naming_it(populated: InMemoryStorage) -> None:
    message = failure(populated.assert_content, "docs/missing.txt", b"x")
    assert "docs/missing.txt" in head(message, populated)


# -- assert_empty ----------------------------------------------------------------------


def test_assert_empty_passes_for_an_empty_storage() -> None:
    InMemoryStorage().assert_empty()


@pytest.mark.parametrize("path", ["emptydir", "nowhere", "nowhere/deeper"])
def test_assert_empty_passes_for_a_directory_without_files(
    populated: InMemoryStorage, path: str
) -> None:
    populated.assert_empty(path)


def test_assert_empty_passes_for_directories_holding_only_directories() -> None:
    storage = InMemoryStorage()
    storage.fs.makedirs("a/b/c")
    storage.assert_empty()
    storage.assert_empty("a")


def test_assert_empty_fails_for_the_root_with_files(populated: InMemoryStorage) -> None:
    message = failure(populated.assert_empty)
    head(message, populated)


def test_assert_empty_fails_for_a_directory_with_files_naming_it(
    populated: InMemoryStorage,
) -> None:
    message = failure(populated.assert_empty, "docs/deep")
    assert "docs/deep" in head(message, populated)


# -- the tree in messages, limited -----------------------------------------------------


def test_a_long_tree_shows_its_first_50_lines_then_how_many_more() -> None:
    storage = fill(InMemoryStorage(), {f"f{index:03}.txt": b"x" for index in range(200)})
    tree_lines = storage.tree().splitlines()
    assert len(tree_lines) == 200
    message = failure(storage.assert_count, 0)
    assert "\n".join(tree_lines[:50]) in message
    assert "f049.txt" in message and "f050.txt" not in message
    assert sum(line in tree_lines for line in message.splitlines()) == 50
    assert "… and 150 more lines" in message
    assert re.search(r"\b200\b", message.replace("… and 150 more lines", ""))


def test_a_tree_of_50_lines_is_shown_whole() -> None:
    storage = fill(InMemoryStorage(), {f"f{index:02}.txt": b"x" for index in range(50)})
    message = failure(storage.assert_exists, "nope")
    assert storage.tree() in message
    assert "more lines" not in message


def test_the_limit_counts_directory_lines_too() -> None:
    files = {f"d{d}/f{d}{f:02}.txt": b"x" for d in range(4) for f in range(30)}
    storage = fill(InMemoryStorage(), files)
    tree_lines = storage.tree().splitlines()
    assert len(tree_lines) == 124
    message = failure(storage.assert_missing, "d0")
    assert "\n".join(tree_lines[:50]) in message
    assert tree_lines[50] not in message
    assert "… and 74 more lines" in message


# -- every storage class -------------------------------------------------------------


def test_every_storage_class_lists_and_asserts_its_files(any_storage: Any) -> None:
    fill(any_storage, {"a.txt": b"a", "docs/b.txt": b"b"})
    assert any_storage.files() == ["a.txt", "docs/b.txt"]
    assert any_storage.files("**/*.txt") == ["a.txt", "docs/b.txt"]
    assert any_storage.files("docs/*") == ["docs/b.txt"]
    any_storage.assert_exists("a.txt", "docs", "docs/*.txt")
    any_storage.assert_missing("c.txt", "docs/*.md")
    any_storage.assert_count(2)
    any_storage.assert_count(1, "docs/**")
    any_storage.assert_content("docs/b.txt", b"b")
    any_storage.assert_content("docs/b.txt", "b")
    any_storage.assert_empty("nowhere")


def test_every_storage_class_fails_its_assertions_with_its_tree(any_storage: Any) -> None:
    fill(any_storage, {"a.txt": b"a", "docs/b.txt": b"b"})
    assert "c.txt" in head(failure(any_storage.assert_exists, "c.txt"), any_storage)
    assert "docs" in head(failure(any_storage.assert_missing, "docs"), any_storage)
    assert "5" in head(failure(any_storage.assert_count, 5), any_storage)
    assert "a.txt" in failure(any_storage.assert_content, "a.txt", "b")
    assert "a.txt" in failure(any_storage.assert_content, "a.txt", b"b")
    assert "nope.txt" in head(failure(any_storage.assert_content, "nope.txt", b""), any_storage)
    assert "docs" in head(failure(any_storage.assert_empty, "docs"), any_storage)


def test_every_storage_class_loads_a_folder_keeping_times(
    any_storage: Any, tmp_path: Path
) -> None:
    source = make_folder(tmp_path / "source")
    assert any_storage.load(source, into="in") == 2
    assert files_of(any_storage) == {"in/a.txt": b"A", "in/sub/b.txt": b"B"}
    assert any_storage.exists("in/empty")
    assert any_storage.get_modified_time("in/a.txt") == OLD_TIME


# -- the mixin's assertions ------------------------------------------------------------


class MixinAssertionTests(InMemoryStorageMixin, SimpleTestCase):
    inmemory_storage_aliases = ("default", "private")

    def setUp(self) -> None:
        self.storage.save("docs/a.txt", ContentFile(b"alpha\n"))

    def test_they_pass_on_the_default_storage(self) -> None:
        self.assertStorageExists("docs/a.txt", "docs", "**/*.txt")
        self.assertStorageMissing("b.txt", "docs/*.md")
        self.assertStorageCount(1)
        self.assertStorageCount(1, "docs/*")
        self.assertStorageCount(0, pattern="*.txt")
        self.assertStorageContent("docs/a.txt", "alpha\n")
        self.assertStorageContent("docs/a.txt", b"alpha\n")
        self.assertStorageEmpty("other")

    def test_they_fail_naming_what_was_expected_with_the_tree(self) -> None:
        tree = self.storage.tree()
        checks: list[tuple[Callable[..., None], tuple[Any, ...], str]] = [
            (self.assertStorageExists, ("b.txt",), "b.txt"),
            (self.assertStorageMissing, ("docs",), "docs"),
            (self.assertStorageCount, (7,), "7"),
            (self.assertStorageContent, ("docs/missing.txt", b""), "docs/missing.txt"),
            (self.assertStorageEmpty, ("docs",), "docs"),
        ]
        for check, args, named in checks:
            with self.subTest(check=check.__name__), self.assertRaises(AssertionError) as caught:
                check(*args)
            message = str(caught.exception)
            self.assertIn(tree, message)
            self.assertIn(named, message.replace(tree, ""))
        with self.assertRaises(AssertionError) as caught:
            self.assertStorageContent("docs/a.txt", "beta\n")
        self.assertIn("-beta", str(caught.exception).splitlines())
        self.assertIn("+alpha", str(caught.exception).splitlines())

    @needs_aliases
    def test_the_alias_chooses_the_storage(self) -> None:
        private = storages["private"]
        private.save("p.txt", ContentFile(b"p"))
        self.assertStorageExists("p.txt", alias="private")
        self.assertStorageMissing("docs", alias="private")
        self.assertStorageCount(1, alias="private")
        self.assertStorageCount(1, "p.*", alias="private")
        self.assertStorageContent("p.txt", b"p", alias="private")
        self.assertStorageEmpty("docs", alias="private")
        self.assertStorageMissing("p.txt")
        with self.assertRaises(AssertionError) as caught:
            self.assertStorageExists("docs/a.txt", alias="private")
        self.assertIn(private.tree(), str(caught.exception))
        with self.assertRaises(AssertionError):
            self.assertStorageEmpty(alias="private")


# -- load() --------------------------------------------------------------------------


def make_folder(folder: Path) -> Path:
    """Make a.txt (modified in 2001), sub/b.txt and an empty directory in *folder*."""
    (folder / "sub").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "a.txt").write_bytes(b"A")
    (folder / "sub" / "b.txt").write_bytes(b"B")
    os.utime(folder / "a.txt", (OLD, OLD))
    return folder


@pytest.mark.parametrize("as_type", [str, Path])
def test_load_copies_a_folder_s_files_and_directories(
    tmp_path: Path, as_type: Callable[[Path], Any]
) -> None:
    storage = InMemoryStorage()
    assert storage.load(as_type(make_folder(tmp_path / "source"))) == 2
    assert files_of(storage) == {"a.txt": b"A", "sub/b.txt": b"B"}
    assert storage.listdir("") == (["empty", "sub"], ["a.txt"])


def test_load_reads_a_path_with_an_at_sign_as_a_folder(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "out@sub")
    assert InMemoryStorage().load(str(source)) == 2


def test_load_into_a_subfolder(tmp_path: Path) -> None:
    storage = fill(InMemoryStorage(), {"top.txt": b"t"})
    assert storage.load(make_folder(tmp_path / "source"), into="in/here") == 2
    assert files_of(storage) == {"in/here/a.txt": b"A", "in/here/sub/b.txt": b"B", "top.txt": b"t"}
    assert storage.exists("in/here/empty")


def test_load_keeps_modification_times(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    storage.load(make_folder(tmp_path / "source"))
    assert storage.get_modified_time("a.txt") == OLD_TIME
    assert storage.get_modified_time("sub/b.txt") > OLD_TIME


def test_load_from_a_zip_url(tmp_path: Path) -> None:
    archive = tmp_path / "files.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.txt", b"zipped a")
        zipped.writestr("docs/", b"")
        zipped.writestr("docs/b.txt", b"zipped b")
        zipped.writestr("docs/deep/", b"")
        zipped.writestr("docs/deep/c.txt", b"zipped c")
    storage = InMemoryStorage()
    assert storage.load(f"zip://{archive}", into="z") == 3
    assert files_of(storage) == {
        "z/a.txt": b"zipped a",
        "z/docs/b.txt": b"zipped b",
        "z/docs/deep/c.txt": b"zipped c",
    }


def test_load_from_a_zip_without_directory_entries(tmp_path: Path) -> None:
    archive = tmp_path / "files.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("docs/b.txt", b"zipped b")
    storage = InMemoryStorage()
    assert storage.load(f"zip://{archive}") == 1
    assert files_of(storage) == {"docs/b.txt": b"zipped b"}


def test_load_from_an_fs_object_keeping_times_and_leaving_it_usable() -> None:
    source = MemoryFS()
    source.makedirs("docs/empty")
    source.writebytes("docs/a.txt", b"mem a")
    source.writebytes("b.txt", b"mem b")
    source.setinfo("b.txt", {"details": {"modified": OLD}})
    storage = InMemoryStorage()
    assert storage.load(source) == 2
    assert files_of(storage) == {"b.txt": b"mem b", "docs/a.txt": b"mem a"}
    assert storage.exists("docs/empty")
    assert storage.get_modified_time("b.txt") == OLD_TIME
    assert source.readbytes("docs/a.txt") == b"mem a"  # not closed, not emptied


def test_load_replaces_files_of_the_same_name(tmp_path: Path) -> None:
    storage = fill(InMemoryStorage(), {"a.txt": b"old", "keep.txt": b"k"})
    assert storage.load(make_folder(tmp_path / "source")) == 2
    assert files_of(storage) == {"a.txt": b"A", "keep.txt": b"k", "sub/b.txt": b"B"}
    assert storage.get_modified_time("a.txt") == OLD_TIME


def test_load_of_an_empty_folder_returns_zero(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    assert storage.load(tmp_path) == 0
    assert storage.files() == []


def test_load_of_a_missing_folder_raises_file_not_found_naming_it(tmp_path: Path) -> None:
    storage = fill(InMemoryStorage(), {"keep.txt": b"k"})
    before = state(storage)
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        storage.load(missing)
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        storage.load(str(missing), into="x")
    assert state(storage) == before
    assert not missing.exists()  # loading never creates its source


def test_load_of_a_missing_zip_raises_file_not_found_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        InMemoryStorage().load(f"zip://{missing}")
    assert not missing.exists()


@pytest.mark.parametrize("into", ["../x", "a/../../x", "/etc"])
def test_load_into_a_name_leaving_the_storage_leaves_nothing_behind(
    tmp_path: Path, into: str
) -> None:
    storage = fill(InMemoryStorage(), {"keep.txt": b"k", "a/old.txt": b"o"})
    before = state(storage)
    with pytest.raises(SuspiciousFileOperation):
        storage.load(make_folder(tmp_path / "source"), into=into)
    assert state(storage) == before


def test_load_of_a_zip_with_a_name_leaving_the_storage_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("good.txt", b"g")
        zipped.writestr("../evil.txt", b"e")
    storage = fill(InMemoryStorage(), {"keep.txt": b"k"})
    before = state(storage)
    with pytest.raises(SuspiciousFileOperation):
        storage.load(f"zip://{archive}", into="in")
    assert state(storage) == before


# -- seeds: fresh_storage and the mixin -------------------------------------------------


def test_fresh_storage_starts_with_the_seed() -> None:
    with fresh_storage(seed=str(SEED)) as storage:
        assert files_of(storage) == SEED_FILES
        assert files_of(default_storage) == SEED_FILES
    assert default_storage.files() == []


@fresh_storage(seed=SEED)
def test_seeded_first_deletes_and_changes_seeded_files() -> None:
    assert files_of(default_storage) == SEED_FILES
    default_storage.delete("hello.txt")
    with default_storage.open("docs/guide.txt", "wb") as handle:
        handle.write(b"changed")


@fresh_storage(seed=SEED)
def test_seeded_second_still_sees_the_seed() -> None:
    assert files_of(default_storage) == SEED_FILES
    default_storage.delete("hello.txt")


def test_fresh_storage_reads_a_relative_seed_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two"):
        (tmp_path / name / "seed").mkdir(parents=True)
        (tmp_path / name / "seed" / f"{name}.txt").write_bytes(name.encode())
    monkeypatch.chdir(tmp_path / "one")
    with fresh_storage(seed="seed") as storage:
        assert files_of(storage) == {"one.txt": b"one"}
    monkeypatch.chdir(tmp_path / "two")
    with fresh_storage(seed="seed") as storage:
        assert files_of(storage) == {"two.txt": b"two"}


def test_a_seed_is_read_from_its_folder_once_per_process(tmp_path: Path) -> None:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "kept.txt").write_bytes(b"first")
    (folder / "gone.txt").write_bytes(b"gone")
    with fresh_storage(seed=folder) as storage:
        assert files_of(storage) == {"gone.txt": b"gone", "kept.txt": b"first"}
    (folder / "kept.txt").write_bytes(b"second")
    (folder / "gone.txt").unlink()
    (folder / "new.txt").write_bytes(b"new")
    with fresh_storage(seed=folder) as storage:
        assert files_of(storage) == {"gone.txt": b"gone", "kept.txt": b"first"}


def test_a_seed_may_be_a_zip_url(tmp_path: Path) -> None:
    archive = tmp_path / "seed.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("docs/", b"")
        zipped.writestr("docs/z.txt", b"z")
    with fresh_storage(seed=f"zip://{archive}") as storage:
        assert files_of(storage) == {"docs/z.txt": b"z"}


def test_a_missing_seed_raises_file_not_found(tmp_path: Path) -> None:
    with (
        pytest.raises(FileNotFoundError, match="nowhere"),
        fresh_storage(seed=tmp_path / "nowhere"),
    ):
        pass


class SeededMixinTests(InMemoryStorageMixin, SimpleTestCase):
    inmemory_storage_seed = str(SEED)

    def test_1_starts_with_the_seed_then_deletes_a_seeded_file(self) -> None:
        self.assertEqual(files_of(self.storage), SEED_FILES)
        self.assertIs(storages["default"], self.storage)
        self.storage.delete("hello.txt")
        self.assertStorageMissing("hello.txt")

    def test_2_still_sees_the_deleted_file(self) -> None:
        self.assertEqual(files_of(self.storage), SEED_FILES)
        self.storage.delete("hello.txt")


class SeededMixinWithClassFilesTests(InMemoryStorageMixin, SimpleTestCase):
    inmemory_storage_seed = str(SEED)

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        default_storage.save("class.txt", ContentFile(b"class"))

    def test_1_has_the_seed_and_the_class_files(self) -> None:
        self.assertEqual(files_of(self.storage), {**SEED_FILES, "class.txt": b"class"})
        self.storage.delete("docs/guide.txt")
        self.storage.delete("class.txt")

    def test_2_has_them_again(self) -> None:
        self.assertEqual(files_of(self.storage), {**SEED_FILES, "class.txt": b"class"})


# -- seeds under pytest: the ini option and the marker (pytester) ------------------------

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
{extra}
"""

COMMON = """
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

SEED = {"docs/guide.txt": b"Read me first.\\n", "hello.txt": b"hello\\n"}


def contents(storage):
    found = {}
    for name in storage.files():
        with storage.open(name) as handle:
            found[name] = handle.read()
    return found
"""

INI_SEED_TESTS = (
    COMMON
    + """
ROOT = Path(__file__).resolve().parent.parent


def test_runs_in_a_folder_below_the_rootdir(request):
    assert Path.cwd().resolve() == ROOT / "sub"
    assert request.config.rootpath == ROOT


def test_first_starts_with_the_seed_and_changes_it(inmemory_storage):
    assert contents(inmemory_storage) == SEED
    inmemory_storage.delete("hello.txt")
    with inmemory_storage.open("docs/guide.txt", "wb") as handle:
        handle.write(b"changed")


def test_second_starts_with_the_seed_then_changes_the_folder(inmemory_storage):
    assert contents(default_storage) == SEED
    (ROOT / "seed" / "hello.txt").write_bytes(b"changed on disk")
    (ROOT / "seed" / "docs" / "guide.txt").unlink()
    (ROOT / "seed" / "new.txt").write_bytes(b"new")


def test_third_gets_what_was_read_first(inmemory_storage):
    assert contents(inmemory_storage) == SEED


@pytest.mark.inmemory_storage(seed=str(ROOT / "other"))
def test_the_marker_s_seed_wins_over_the_ini_s(inmemory_storage):
    assert contents(inmemory_storage) == {"only.txt": b"only"}
"""
)

MARKER_SEED_TESTS = (
    COMMON
    + """

@pytest.mark.inmemory_storage(seed="seed")
def test_marked_starts_with_the_seed(inmemory_storage):
    assert contents(inmemory_storage) == SEED
    inmemory_storage.delete("hello.txt")


@pytest.mark.inmemory_storage(seed="seed")
def test_marked_without_the_fixture_starts_with_the_seed_too():
    assert contents(default_storage) == SEED
    default_storage.delete("docs/guide.txt")


def test_unmarked_starts_empty(inmemory_storage):
    assert inmemory_storage.files() == []


@pytest.mark.inmemory_storage(seed="seed")
class TestMarkedClass:
    def test_a_deletes_every_seeded_file(self, inmemory_storage):
        assert contents(inmemory_storage) == SEED
        inmemory_storage.delete("hello.txt")
        inmemory_storage.delete("docs")

    def test_b_has_them_back(self, inmemory_storage):
        assert contents(inmemory_storage) == SEED
"""
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that imports this repository's Django project, with a seed."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    for name, data in SEED_FILES.items():
        (pytester.path / "seed" / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / "seed" / name).write_bytes(data)
    (pytester.path / "other").mkdir()
    (pytester.path / "other" / "only.txt").write_bytes(b"only")
    return pytester


def test_the_ini_seed_is_read_against_the_rootdir_once_per_process(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makeini(INI.format(extra="inmemorystorage_seed = seed"))
    (project.path / "sub").mkdir()
    (project.path / "sub" / "test_seeded.py").write_text(INI_SEED_TESTS)
    monkeypatch.chdir(project.path / "sub")  # a seed read against the cwd would be missing
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_marker_seeds_each_test_it_marks(project: pytest.Pytester) -> None:
    project.makeini(INI.format(extra=""))
    project.makepyfile(test_marked=MARKER_SEED_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


# -- deterministic names -----------------------------------------------------------------


def save(storage: Storage, name: str, data: bytes = b"x", **kwargs: Any) -> str:
    return str(storage.save(name, ContentFile(data), **kwargs))


def test_counter_numbers_a_taken_name_from_one() -> None:
    storage = InMemoryStorage(alternative_names="counter")
    assert [save(storage, "notes.txt", bytes([n])) for n in range(3)] == [
        "notes.txt",
        "notes_1.txt",
        "notes_2.txt",
    ]
    assert files_of(storage) == {"notes.txt": b"\0", "notes_1.txt": b"\1", "notes_2.txt": b"\2"}


def test_counter_takes_the_smallest_free_number() -> None:
    storage = InMemoryStorage(alternative_names="counter")
    for _ in range(3):
        save(storage, "notes.txt")
    storage.delete("notes_1.txt")
    assert save(storage, "notes.txt") == "notes_1.txt"
    assert save(storage, "notes.txt") == "notes_3.txt"


def test_counter_keeps_every_suffix_and_the_directory() -> None:
    storage = InMemoryStorage(alternative_names="counter")
    assert [save(storage, "a.tar.gz") for _ in range(2)] == ["a.tar.gz", "a_1.tar.gz"]
    assert [save(storage, "docs/a.txt") for _ in range(3)] == [
        "docs/a.txt",
        "docs/a_1.txt",
        "docs/a_2.txt",
    ]
    assert save(storage, "noext") == "noext"
    assert save(storage, "noext") == "noext_1"


def test_counter_truncates_the_root_to_max_length_as_django_does() -> None:
    storage = InMemoryStorage(alternative_names="counter")
    # abcdefgh_1.txt is 14 characters: the root loses the 2 too many.
    names = [save(storage, "abcdefgh.txt", max_length=12) for _ in range(3)]
    assert names == ["abcdefgh.txt", "abcdef_1.txt", "abcdef_2.txt"]
    names = [save(storage, "docs/abcdefgh.txt", max_length=17) for _ in range(2)]
    assert names == ["docs/abcdefgh.txt", "docs/abcdef_1.txt"]


def test_counter_too_short_a_max_length_raises_as_django_does() -> None:
    storage = InMemoryStorage(alternative_names="counter")
    save(storage, "ab.txt", max_length=6)
    with pytest.raises(SuspiciousFileOperation, match="max_length"):
        save(storage, "ab.txt", max_length=6)


def save_at_once(storage: Storage, name: str, count: int) -> dict[int, str]:
    """Save *name* from *count* threads released together; return each thread's name."""
    barrier = threading.Barrier(count)
    names: dict[int, str] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            names[index] = save(storage, name, f"thread {index}".encode())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return names


def test_counter_gives_threads_saving_one_name_distinct_names() -> None:
    for _ in range(10):
        storage = InMemoryStorage(alternative_names="counter")
        names = save_at_once(storage, "x.txt", 8)
        assert sorted(names.values()) == ["x.txt"] + [f"x_{n}.txt" for n in range(1, 8)]
        assert files_of(storage) == {name: f"thread {i}".encode() for i, name in names.items()}


def test_counter_with_allow_overwrite_overwrites_and_never_numbers() -> None:
    storage = InMemoryStorage(alternative_names="counter", allow_overwrite=True)
    assert save(storage, "x.txt", b"1") == "x.txt"
    assert save(storage, "x.txt", b"2") == "x.txt"
    assert files_of(storage) == {"x.txt": b"2"}


def test_counter_works_for_fs_storage_too() -> None:
    storage = FSStorage(MemoryFS(), alternative_names="counter")
    assert [save(storage, "notes.txt") for _ in range(2)] == ["notes.txt", "notes_1.txt"]


@pytest.mark.parametrize("options", [{}, {"alternative_names": "random"}])
def test_random_is_django_s_seven_character_suffix(options: dict[str, str]) -> None:
    storage = InMemoryStorage(**options)
    assert save(storage, "notes.txt") == "notes.txt"
    assert re.fullmatch(r"notes_[A-Za-z0-9]{7}\.txt", save(storage, "notes.txt"))
    assert save(storage, "docs/a.tar.gz") == "docs/a.tar.gz"
    assert re.fullmatch(r"docs/a_[A-Za-z0-9]{7}\.tar\.gz", save(storage, "docs/a.tar.gz"))


@pytest.mark.parametrize("cls", [InMemoryStorage, FSStorage])
@pytest.mark.parametrize("value", ["sequential", "", 1])
def test_an_unknown_alternative_names_value_is_improperly_configured(
    cls: type, value: Any
) -> None:
    fs = {"fs": "mem://"} if cls is FSStorage else {}
    with pytest.raises(ImproperlyConfigured, match="alternative_names"):
        cls(**fs, alternative_names=value)


def test_the_system_check_reports_an_unknown_alternative_names_value_as_e004() -> None:
    config = {"BACKEND": OURS, "OPTIONS": {"alternative_names": "sequential"}}
    with override_settings(STORAGES={"default": config}):
        found = check_settings()
    assert [message.id for message in found] == ["inmemorystorage_fs.E004"]
    assert "alternative_names" in found[0].msg and "STORAGES['default']" in found[0].msg


@pytest.mark.parametrize("value", ["counter", "random"])
def test_the_system_check_accepts_the_known_alternative_names(value: str) -> None:
    config = {"BACKEND": OURS, "OPTIONS": {"alternative_names": value}}
    with override_settings(STORAGES={"default": config}):
        assert check_settings() == []
