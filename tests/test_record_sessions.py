"""The record and faults in whole runs: pytest sessions (pytester) and ``manage.py test``."""

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from inmemorystorage_fs._dumps import folder_name as dump_name
from tests.test_pytest_plugin import INI
from tests.test_runner import MANAGE, MODELS, SETTINGS, files_under, manage_test

REPO = Path(__file__).resolve().parent.parent

PYTEST_TESTS = """
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db


def post_import(client, *names):
    files = [SimpleUploadedFile(name, b"row") for name in names]
    return client.post("/imports/", {"files": files})


def test_fixture_records_the_view(client, inmemory_operations):
    post_import(client, "a.csv", "b.csv")
    inmemory_operations.assert_saved("documents/*.csv", count=2)
    inmemory_operations.assert_not_read()


@pytest.mark.inmemory_storage(faults=["save"])
def test_marker_fault_makes_the_view_answer_503(client):
    assert post_import(client, "a.csv").status_code == 503
    assert default_storage.listdir("") == ([], [])


def test_fails_and_dumps_its_record(client, inmemory_operations):
    post_import(client, "a.csv")
    inmemory_operations.assert_saved("documents/z.csv")


def test_asks_for_the_record_late(request):
    from django.core.files.base import ContentFile

    operations = request.getfixturevalue("inmemory_operations")
    default_storage.save("late.txt", ContentFile(b"l"))
    operations.assert_saved("late.txt", count=1)


def test_unrecorded_storage_says_how_to_record(inmemory_storage):
    with pytest.raises(RuntimeError, match="inmemorystorage_record = true"):
        inmemory_storage.stats()
"""

INI_RECORD_TESTS = """
from django.core.files.base import ContentFile


def test_ini_turns_recording_on(inmemory_storage):
    inmemory_storage.save("a.txt", ContentFile(b"a"))
    assert inmemory_storage.stats().counts == {"save": 1}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    return pytester


def test_pytest_fixture_marker_and_the_failed_test_s_record(project: pytest.Pytester) -> None:
    project.makeini(INI.format(extra=""))
    project.makepyfile(test_imports=PYTEST_TESTS)
    result = project.runpytest_subprocess("--inmemorystorage-dump=dumps", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Expected a save matching 'documents/z.csv', found 0",
            "*The record holds:",
            "*save       'documents/a.csv' 3 B ?default? at *views.py:*",
        ]
    )
    record = (
        project.path
        / "dumps"
        / f"{dump_name('test_imports.py::test_fails_and_dumps_its_record')}~record"
    )
    text = (record / "operations.txt").read_text()
    assert "save       'documents/a.csv' 3 B [default] at " in text
    rows = [json.loads(line) for line in (record / "operations.jsonl").read_text().splitlines()]
    assert [(row["op"], row["name"], row["bytes"]) for row in rows] == [
        ("save", "documents/a.csv", 3)
    ]
    result.stdout.fnmatch_lines(
        [f"*its operations are in {record / 'operations.txt'} (and .jsonl)*"]
    )


def test_the_ini_key_records_every_test(project: pytest.Pytester) -> None:
    project.makeini(INI.format(extra="inmemorystorage_record = true"))
    project.makepyfile(test_ini=INI_RECORD_TESTS)
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    project.makeini(INI.format(extra="inmemorystorage_record = maybe"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(["*inmemorystorage_record = maybe: not a bool*"])


RUNNER_TESTS = """
import os
import unittest

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import TestCase

from inmemorystorage_fs.testing import InMemoryStorageMixin
from shop.models import Doc


class Recorded(TestCase):
    def test_operations_of_every_alias_and_field(self):
        Doc.objects.create(f=ContentFile(b"doc", name="doc.txt"))
        default_storage.save("d.txt", ContentFile(b"dd"))
        self.assertStorageSaved("doc.txt", alias="private")
        self.assertStorageSaved("*.txt", count=2)
        self.assertStorageNotRead()
        owners = [o.owner for o in self.storage_operations]
        self.assertEqual(owners, ["private", "default"])
        with self.assertRaisesRegex(AssertionError, "Expected a delete matching 'd.txt'"):
            self.assertStorageDeleted("d.txt")
        with self.assertRaises(OSError):  # INMEMORYSTORAGE_TESTING's faults
            default_storage.url("never/x.txt")

    def test_mark_and_diff_say_what_a_call_wrote(self):
        default_storage.save("kept.txt", ContentFile(b"k"))
        default_storage.save("gone.txt", ContentFile(b"g"))
        mark = default_storage.mark()
        default_storage.save("new.txt", ContentFile(b"n"))
        default_storage.delete("gone.txt")
        with default_storage.open("kept.txt", "wb") as handle:
            handle.write(b"changed")
        diff = default_storage.diff(mark)
        self.assertEqual(
            (diff.added, diff.changed, diff.removed), (["new.txt"], ["kept.txt"], ["gone.txt"])
        )
        self.assertEqual(str(diff), "+ new.txt\\n~ kept.txt\\n- gone.txt")

    @unittest.skipUnless(os.environ.get("SHOP_FAIL"), "fails on purpose only with SHOP_FAIL")
    def test_x_fails_on_purpose(self):
        storages["private"].save("p.txt", ContentFile(b"p"))
        self.assertStorageRead("p.txt")


class Faults(InMemoryStorageMixin, TestCase):
    inmemory_storage_record = True
    inmemory_storage_options = {"faults": [{"op": "save", "pattern": "broken/*"}]}

    def test_faults_from_the_options(self):
        with self.assertRaises(OSError):
            default_storage.save("broken/x.txt", ContentFile(b"x"))
        self.assertEqual(default_storage.listdir(""), ([], []))
        self.assertStorageNothingWritten()
        default_storage.save("broken/x.txt", ContentFile(b"x"))  # times=1: spent
        with self.assertRaisesRegex(AssertionError, "Expected nothing written, found 1"):
            self.assertStorageNothingWritten()
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "manage.py").write_text(textwrap.dedent(MANAGE))
    settings = textwrap.dedent(SETTINGS).replace(
        'INMEMORYSTORAGE_TESTING = {"aliases": "__all__", "fields": True}',
        'INMEMORYSTORAGE_TESTING = {"aliases": "__all__", "fields": True, "record": True, '
        '"faults": [{"op": "url", "pattern": "never/*", "times": None}]}',
    )
    assert "record" in settings
    (tmp_path / "settings.py").write_text(settings)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(textwrap.dedent(MODELS))
    (tmp_path / "shop" / "tests.py").write_text(textwrap.dedent(RUNNER_TESTS))
    return tmp_path


def test_manage_py_test_records_with_the_setting_and_dumps_a_failure(shop: Path) -> None:
    run = manage_test(shop)
    assert run.returncode == 0, run.stderr
    # Python versions disagree on whether a skipped test counts as run (3.12.1 does not).
    assert re.search(r"^Ran [34] tests", run.stderr, re.M) and "OK (skipped=1)" in run.stderr
    run = manage_test(shop, "--inmemorystorage-dump", "dumps", env={"SHOP_FAIL": "1"})
    assert run.returncode == 1, run.stderr
    assert "Expected a read matching 'p.txt', found 0" in run.stderr
    assert "save       'p.txt' 1 B [private] at " in run.stderr
    dumps = shop / "dumps"
    records = [path for path in files_under(dumps) if "~record" in path]
    assert len(records) == 2 and records[0].endswith(os.path.join("~record", "operations.jsonl"))
    text = (dumps / records[1]).read_text()
    assert text.startswith("   1 save       'p.txt' 1 B [private] at ")
    assert "shop/tests.py:" in text or "shop\\\\tests.py:" in text
