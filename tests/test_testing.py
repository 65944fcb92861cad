"""inmemorystorage_fs.testing: fresh_storage, InMemoryStorageMixin and file rollback."""

import itertools
import os
import subprocess
import sys
import textwrap
import unittest
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.test import SimpleTestCase, TestCase, override_settings
from django.utils.functional import empty

from inmemorystorage_fs import InMemoryStorage, _entries
from inmemorystorage_fs._fs import MemoryFS, open_fs
from inmemorystorage_fs._snapshot import restore_snapshot, take_snapshot
from inmemorystorage_fs.testing import InMemoryStorageMixin, fresh_storage
from tests.helpers import files_of
from tests.testapp.models import Document

REPO = Path(__file__).resolve().parent.parent


def current_default() -> tuple[Any, Any]:
    """Return what storages["default"] and default_storage hold, without creating either."""
    return storages._storages.get("default"), default_storage._wrapped


# -- fresh_storage --------------------------------------------------------------


def test_fresh_storage_installs_one_new_storage_everywhere_and_restores_the_old() -> None:
    before = current_default()
    with fresh_storage() as storage:
        assert isinstance(storage, InMemoryStorage)
        assert storages["default"] is storage
        assert default_storage._wrapped is storage
        default_storage.save("a.txt", ContentFile(b"a"))
        assert files_of(storage) == {"a.txt": b"a"}
    assert current_default() == before


def test_fresh_storage_restores_an_unset_default_exactly() -> None:
    storages._storages.pop("default", None)
    default_storage._wrapped = empty
    with fresh_storage():
        pass
    assert "default" not in storages._storages
    assert default_storage._wrapped is empty


def test_fresh_storage_restores_after_an_exception() -> None:
    outer = storages["default"]
    with pytest.raises(ZeroDivisionError), fresh_storage() as storage:
        storage.save("x.txt", ContentFile(b"x"))
        1 / 0  # noqa: B018
    assert storages["default"] is outer
    assert default_storage._wrapped is outer
    assert not outer.exists("x.txt")


def test_fresh_storages_nest() -> None:
    with fresh_storage() as outer:
        outer.save("outer.txt", ContentFile(b"o"))
        with fresh_storage() as inner:
            assert inner is not outer
            assert files_of(default_storage) == {}
            default_storage.save("inner.txt", ContentFile(b"i"))
        assert storages["default"] is outer
        assert files_of(default_storage) == {"outer.txt": b"o"}


def test_fresh_storage_passes_options_and_rejects_misspelt_ones() -> None:
    with fresh_storage(base_url="/uploads/", allow_overwrite=True) as storage:
        assert default_storage.url("a b.txt") == "/uploads/a%20b.txt"
        storage.save("same.txt", ContentFile(b"1"))
        assert storage.save("same.txt", ContentFile(b"2")) == "same.txt"
    with pytest.raises(ImproperlyConfigured, match="'base_ulr'"):
        fresh_storage(base_ulr="/x/")


def test_the_same_fresh_storage_object_can_be_entered_twice_nested() -> None:
    helper = fresh_storage()
    with helper as first:
        with helper as second:
            assert second is not first
            assert storages["default"] is second
        assert storages["default"] is first


@pytest.mark.django_db
def test_model_file_fields_save_into_the_fresh_storage() -> None:
    with fresh_storage() as storage:
        document = Document.objects.create(upload=ContentFile(b"pdf", name="cv.pdf"))
        assert files_of(storage) == {"documents/cv.pdf": b"pdf"}
        assert document.upload.read() == b"pdf"
    assert not default_storage.exists("documents/cv.pdf")


# -- fresh_storage and override_settings ------------------------------------------


def test_override_settings_outside_is_seen_inside_and_restored_after() -> None:
    with override_settings(MEDIA_URL="/outer/"):
        before = current_default()
        with fresh_storage():
            assert default_storage.url("x") == "/outer/x"
        assert current_default() == before


def test_override_settings_inside_reaches_the_fresh_storage() -> None:
    with fresh_storage() as storage:
        with override_settings(MEDIA_URL="/inner/"):
            assert storage.url("x") == "/inner/x"
        assert storage.url("x") == "/media/x"


def test_overriding_storages_inside_wins_for_its_block_only(tmp_path: Path) -> None:
    replaced = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with fresh_storage() as storage:
        with override_settings(STORAGES=replaced, MEDIA_ROOT=str(tmp_path)):
            assert isinstance(storages["default"], FileSystemStorage)
            assert default_storage.location == str(tmp_path)
        assert storages["default"] is storage
        assert default_storage._wrapped is storage
        with override_settings(STATIC_URL="/assets/"):  # Django resets storages for this too
            assert storages["default"] is storage


# -- fresh_storage as a decorator -------------------------------------------------


@fresh_storage()
def test_decorated_function_runs_in_a_fresh_storage() -> None:
    assert files_of(default_storage) == {}
    default_storage.save("mine.txt", ContentFile(b"1"))


def test_decorated_function_restores_the_previous_storage() -> None:
    outer = storages["default"]
    seen = []

    @fresh_storage(base_url="/d/")
    def use() -> str:
        seen.append(storages["default"])
        return default_storage.url("f")

    assert use() == "/d/f"
    assert seen[0] is not outer
    assert storages["default"] is outer


def test_decorated_coroutine_runs_in_a_fresh_storage() -> None:
    import asyncio

    outer = storages["default"]

    @fresh_storage()
    async def use() -> bool:
        return storages["default"] is not outer

    assert asyncio.run(use())
    assert storages["default"] is outer


class TestDecoratedMethods:
    @fresh_storage(base_url="/m/")
    def test_method(self) -> None:
        assert default_storage.url("f") == "/m/f"


def test_decorated_plain_class_wraps_its_test_methods() -> None:
    outer = storages["default"]

    @fresh_storage()
    class Plain:
        def test_a(self) -> Any:
            return storages["default"]

        def helper(self) -> Any:
            return storages["default"]

    assert Plain().test_a() is not outer
    assert Plain().helper() is outer


def run_tests(case: type[unittest.TestCase], *names: str) -> unittest.TestResult:
    """Run the tests *names* of *case* in that order, in one suite; return the result."""
    result = unittest.TestResult()
    unittest.TestSuite(case(name) for name in names).run(result)
    return result


def test_decorated_testcase_class_gives_each_test_the_class_files() -> None:
    @fresh_storage(base_url="/c/")
    class Cases(SimpleTestCase):
        @classmethod
        def setUpClass(cls) -> None:
            super().setUpClass()
            default_storage.save("class.txt", ContentFile(b"c"))

        def test_a(self) -> None:
            assert files_of(self.storage) == {"class.txt": b"c"}
            assert default_storage.url("x") == "/c/x"
            self.storage.save("a.txt", ContentFile(b"a"))

        test_b = test_a

    assert Cases.__name__ == "Cases" and issubclass(Cases, InMemoryStorageMixin)
    result = run_tests(Cases, "test_a", "test_b")
    assert result.wasSuccessful(), result.failures + result.errors
    assert result.testsRun == 2


# -- persistence ------------------------------------------------------------------


@override_settings(INMEMORYSTORAGE_PERSIST=True)
def test_persistent_fresh_storage_empties_and_then_restores_the_shared_filesystem() -> None:
    InMemoryStorage().save("before.txt", ContentFile(b"b"))
    with fresh_storage() as storage:
        assert storage.persist
        assert files_of(storage) == {}
        storage.save("during.txt", ContentFile(b"d"))
        # An app's own storage at the same location sees the same files.
        assert files_of(InMemoryStorage()) == {"during.txt": b"d"}
    assert files_of(InMemoryStorage()) == {"before.txt": b"b"}


def test_non_persistent_fresh_storage_also_gives_an_empty_shared_filesystem() -> None:
    InMemoryStorage(persist=True).save("leftover.txt", ContentFile(b"l"))
    with fresh_storage():
        assert files_of(InMemoryStorage(persist=True)) == {}
    assert files_of(InMemoryStorage(persist=True)) == {"leftover.txt": b"l"}


# -- rollback: InMemoryStorageMixin with setUpTestData ------------------------------

CLASS_FILES = {
    "documents/one.txt": b"one",
    "documents/two.txt": b"two",
    "owners/ann/att.txt": b"attachment",
}


class DocumentFilesRollBack(InMemoryStorageMixin, TestCase):
    """Each test changes the class's files a different way; each starts with all of them."""

    setup_runs = 0

    @classmethod
    def setUpClass(cls) -> None:
        cls.setup_runs = 0
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        cls.setup_runs += 1
        cls.one = Document.objects.create(upload=ContentFile(b"one", name="one.txt"))
        cls.two = Document.objects.create(
            owner="ann",
            upload=ContentFile(b"two", name="two.txt"),
            attachment=ContentFile(b"attachment", name="att.txt"),
        )
        default_storage.fs.setinfo("documents/one.txt", {"details": {"modified": 1e9}})

    def setUp(self) -> None:
        assert self.setup_runs == 1
        assert storages["default"] is self.storage
        assert default_storage._wrapped is self.storage
        assert files_of(self.storage) == CLASS_FILES
        assert self.storage.get_modified_time("documents/one.txt").timestamp() == 1e9

    def test_add(self) -> None:
        Document.objects.create(upload=ContentFile(b"new", name="new.txt"))
        self.storage.save("documents/one.txt", ContentFile(b"renamed"))
        assert len(files_of(self.storage)) == 5

    def test_overwrite(self) -> None:
        with self.one.upload.open("wb") as handle:
            handle.write(b"changed")
        with self.storage.open("owners/ann/att.txt", "ab") as handle:
            handle.write(b"+more")
        assert files_of(self.storage)["documents/one.txt"] == b"changed"

    def test_delete(self) -> None:
        self.one.upload.delete()
        self.storage.delete("owners")
        assert files_of(self.storage) == {"documents/two.txt": b"two"}

    def test_clear(self) -> None:
        self.storage.clear()
        assert files_of(self.storage) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "order", list(itertools.permutations(["test_add", "test_overwrite", "test_delete"]))
)
def test_every_test_starts_with_exactly_the_class_files_in_every_order(
    order: tuple[str, ...],
) -> None:
    outer = storages["default"]
    result = run_tests(DocumentFilesRollBack, *order, "test_clear")
    assert result.wasSuccessful(), result.failures + result.errors
    assert result.testsRun == 4
    assert storages["default"] is outer
    assert not outer.exists("documents/one.txt")


@override_settings(INMEMORYSTORAGE_PERSIST=True)
@pytest.mark.django_db
def test_persistent_rollback_restores_the_shared_filesystem_per_test() -> None:
    result = run_tests(DocumentFilesRollBack, "test_delete", "test_add", "test_overwrite")
    assert result.wasSuccessful(), result.failures + result.errors
    assert files_of(InMemoryStorage()) == {}


def test_rollback_does_not_reach_storages_other_tests_use() -> None:
    class Cases(InMemoryStorageMixin, SimpleTestCase):
        inmemory_storage_options: ClassVar[dict[str, Any]] = {"base_url": "/opt/"}

        def test_a(self) -> None:
            assert self.storage.base_url == "/opt/"
            assert files_of(self.storage) == {}
            self.storage.save("a.txt", ContentFile(b"a"))

        test_b = test_a

    assert run_tests(Cases, "test_a", "test_b").wasSuccessful()


# -- dumping a failed test's files ----------------------------------------------------


class Dumped(InMemoryStorageMixin, SimpleTestCase):
    __test__ = False  # run by the tests below, which expect failures

    def _save_old(self, name: str, data: bytes) -> None:
        self.storage.save(name, ContentFile(data))
        self.storage.fs.setinfo(name, {"details": {"modified": 1_500_000_000.25}})

    def test_fails(self) -> None:
        self._save_old("reports/out.csv", b"a,b\n")
        self._save_old("top.txt", b"top")
        self.fail("boom")

    def test_errors(self) -> None:
        self._save_old("error.txt", b"e")
        raise RuntimeError("crash")

    def test_passes(self) -> None:
        self._save_old("ok.txt", b"ok")


def test_a_failing_test_dumps_exactly_its_files_with_their_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INMEMORYSTORAGE_DUMP_DIR", str(tmp_path / "dumps"))
    result = run_tests(Dumped, "test_fails", "test_passes", "test_errors")
    assert len(result.failures) == 1 and len(result.errors) == 1
    folders = sorted(path.name for path in (tmp_path / "dumps").iterdir())
    assert folders == [
        "tests.test_testing.Dumped.test_errors",
        "tests.test_testing.Dumped.test_fails",
    ]
    failed = tmp_path / "dumps" / "tests.test_testing.Dumped.test_fails"
    assert sorted(str(p.relative_to(failed)) for p in failed.rglob("*")) == [
        "reports",
        os.path.join("reports", "out.csv"),
        "top.txt",
    ]
    assert (failed / "reports" / "out.csv").read_bytes() == b"a,b\n"
    assert os.path.getmtime(failed / "top.txt") == 1_500_000_000.25
    shown = result.failures[0][1] + result.errors[0][1] + capsys.readouterr().err
    assert f"this test's files are in {failed}" in shown


def test_without_a_dump_folder_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert len(run_tests(Dumped, "test_fails").failures) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_replaces_the_previous_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INMEMORYSTORAGE_DUMP_DIR", str(tmp_path))
    stale = tmp_path / "tests.test_testing.Dumped.test_errors" / "stale.txt"
    stale.parent.mkdir()
    stale.write_bytes(b"old run")
    run_tests(Dumped, "test_errors")
    assert sorted(os.listdir(stale.parent)) == ["error.txt"]


# -- snapshots: the fast path and the public-API fallback agree --------------------


def _fill(target: Any) -> None:
    target.makedirs("d/e")
    target.writebytes("d/e/f.bin", b"\x00" * 100)
    target.writebytes("g.txt", b"g")
    target.setinfo("g.txt", {"details": {"modified": 1_234_567_890.0}})


def _listing(source: Any) -> dict[str, Any]:
    return {
        path: (
            source.readbytes(path) if source.isfile(path) else None,
            source.getinfo(path, ["details"]).modified.timestamp()
            if source.isfile(path)
            else None,
        )
        for path in source.walk.files()
    } | {path: "dir" for path in source.walk.dirs()}


@pytest.fixture(params=["entries", "public-api"])
def snapshot_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a snapshot test once on MemoryFS's entries and once forced onto the public API."""
    if request.param == "public-api":
        monkeypatch.setattr(_entries, "MEMORY_INTERNALS", False)
    return str(request.param)


def test_snapshot_restores_files_directories_and_file_times(snapshot_path: str) -> None:
    source = MemoryFS()
    _fill(source)
    snapshot = take_snapshot(source)
    expected = _listing(source)
    source.writebytes("g.txt", b"changed")
    source.removetree("d")
    source.writebytes("new.txt", b"n")
    restore_snapshot(source, snapshot)
    assert _listing(source) == expected
    other = MemoryFS()
    restore_snapshot(other, snapshot)
    assert _listing(other) == expected


def test_snapshot_falls_back_to_the_public_api_for_other_filesystems(tmp_path: Path) -> None:
    with open_fs(str(tmp_path)) as disk:
        _fill(disk)
        snapshot = take_snapshot(disk)
        expected = _listing(disk)
        disk.remove("g.txt")
        restore_snapshot(disk, snapshot)
        assert _listing(disk) == expected
    memory = MemoryFS()
    restore_snapshot(memory, snapshot)
    assert _listing(memory) == expected


def test_a_snapshot_does_not_change_when_the_files_do(snapshot_path: str) -> None:
    source = MemoryFS()
    source.writebytes("f", b"original")
    snapshot = take_snapshot(source)
    with source.openbin("f", "r+") as handle:
        handle.write(b"OVER")
    restored = MemoryFS()
    restore_snapshot(restored, snapshot)
    assert restored.readbytes("f") == b"original"
    with restored.openbin("f", "a") as handle:
        handle.write(b"!")
    assert source.readbytes("f") == b"OVERinal"


# -- Django's test runner, serial and --parallel, in a subprocess --------------------

RUNNER_SUITE = """
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import TestCase

from inmemorystorage_fs.testing import InMemoryStorageMixin
from tests.testapp.models import Document


class First(InMemoryStorageMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        Document.objects.create(upload=ContentFile(b"class", name="class.txt"))

    def test_fails(self):
        default_storage.save("pid.txt", ContentFile(str(os.getpid())))
        self.assertEqual(sorted(default_storage.listdir("documents")[1]), ["nothing"])

    def test_passes(self):
        self.assertEqual(default_storage.listdir("documents")[1], ["class.txt"])
        default_storage.save("documents/more.txt", ContentFile(b"m"))


class Second(InMemoryStorageMixin, TestCase):
    def test_fails(self):
        default_storage.save("pid.txt", ContentFile(str(os.getpid())))
        raise RuntimeError("second")

    def test_passes(self):
        self.assertEqual(default_storage.listdir(""), ([], []))
"""


@pytest.mark.parametrize("parallel", [[], ["--parallel", "2"]], ids=["serial", "parallel"])
def test_django_test_runner_isolates_and_dumps(tmp_path: Path, parallel: list[str]) -> None:
    (tmp_path / "runner_suite.py").write_text(textwrap.dedent(RUNNER_SUITE))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "INMEMORYSTORAGE_DUMP_DIR": "dumps",
    }
    run = subprocess.run(
        [sys.executable, "-m", "django", "test", "runner_suite", *parallel, "-v", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert "FAILED (failures=1, errors=1)" in run.stderr, run.stderr
    dumps = tmp_path / "dumps"
    assert sorted(os.listdir(dumps)) == [
        "runner_suite.First.test_fails",
        "runner_suite.Second.test_fails",
    ]
    first = dumps / "runner_suite.First.test_fails"
    assert sorted(str(p.relative_to(first)) for p in first.rglob("*")) == [
        "documents",
        os.path.join("documents", "class.txt"),
        "pid.txt",
    ]
    assert os.listdir(dumps / "runner_suite.Second.test_fails") == ["pid.txt"]
    if sys.version_info >= (3, 11):
        assert f"this test's files are in {first}" in run.stderr
    if parallel:
        pids = {(dumps / name / "pid.txt").read_text() for name in os.listdir(dumps)}
        assert str(os.getpid()) not in pids  # the tests ran in worker processes


def test_no_helper_above_left_its_storage_installed() -> None:
    from inmemorystorage_fs._layers import entered_layers

    assert entered_layers() == []


# -- mistakes with the mixin (issue 19) ---------------------------------------------------


def test_a_class_whose_options_are_invalid_leaves_nothing_behind_for_the_next() -> None:
    class Misspelt(InMemoryStorageMixin, SimpleTestCase):
        inmemory_storage_options: ClassVar[dict[str, Any]] = {"colour": "red"}

        def test_never_runs(self) -> None:
            raise AssertionError("setUpClass failed: no test of the class runs")

    class Unrelated(SimpleTestCase):
        def test_saves_into_the_settings_default_storage(self) -> None:
            name = default_storage.save("after.txt", ContentFile(b"x"))
            self.assertTrue(storages["default"].exists(name))

    result = unittest.TestResult()
    unittest.TestSuite(
        [Misspelt("test_never_runs"), Unrelated("test_saves_into_the_settings_default_storage")]
    ).run(result)
    assert result.testsRun == 1 and result.failures == []
    assert len(result.errors) == 1, result.errors
    holder, text = result.errors[0]
    assert "setUpClass" in str(holder) and "Misspelt" in str(holder)
    assert "Invalid option 'colour' for InMemoryStorage" in text


def test_the_mixin_after_testcase_fails_when_the_class_is_made() -> None:
    with pytest.raises(TypeError) as error:

        class Late(TestCase, InMemoryStorageMixin):
            pass

    assert str(error.value) == (
        "Late lists InMemoryStorageMixin after TestCase in its bases, so unittest would "
        "never run it: put it first, class Late(InMemoryStorageMixin, TestCase)."
    )
