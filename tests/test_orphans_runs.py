"""The end-of-test orphans check in real runs: pytest (pytester) and ``manage.py test``.

The tests of each run post uploads to tests.testapp's views: one whose row
the test keeps, one whose row a failed transaction rolls back (its file stays:
an orphan), one whose view deletes that file. Only the second is reported,
whether the test's rows are rolled back (``TestCase``, ``db``) or the tables
emptied (``TransactionTestCase``, ``transactional_db``) after the check.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_pytest_plugin import INI, REPO

UPLOADS = """
from django.core.files.uploadedfile import SimpleUploadedFile


def upload(client, url, name, owner="ann"):
    with SimpleUploadedFile(name, b"%PDF-1.4 " + name.encode()) as file:
        return client.post(url, {"owner": owner, "upload": file}).status_code


def leave_an_orphan(client):
    assert upload(client, "/quota/", "first.pdf") == 200
    assert upload(client, "/quota/", "second.pdf") == 409  # the row is rolled back


def clean_up_after_the_failure(client):
    assert upload(client, "/quota/clean/", "first.pdf") == 200
    assert upload(client, "/quota/clean/", "second.pdf") == 409  # the view deletes its file
"""

PYTEST_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import TestCase, TransactionTestCase

from inmemorystorage_fs.testing import InMemoryStorageMixin
from uploads import clean_up_after_the_failure, leave_an_orphan, upload

pytestmark = pytest.mark.inmemory_storage(orphans="error")


def test_kept_row(db, client):
    assert upload(client, "/documents/", "kept.pdf") == 200


def test_orphan(db, client):
    leave_an_orphan(client)


def test_cleaned_up(db, client):
    clean_up_after_the_failure(client)


@pytest.mark.django_db(transaction=True)
def test_kept_row_transactional(client):
    assert upload(client, "/documents/", "kept.pdf") == 200


@pytest.mark.django_db(transaction=True)
def test_orphan_transactional(client):
    leave_an_orphan(client)


def test_fails_with_an_orphan(db, client):
    leave_an_orphan(client)
    assert False, "on purpose"


def test_without_the_database():
    default_storage.save("documents/x.pdf", ContentFile(b"no row can name it"))


@pytest.mark.inmemory_storage(orphans="error", orphans_ignore=["documents/second*"])
def test_ignored(db, client):
    leave_an_orphan(client)


@pytest.mark.inmemory_storage(orphans=None)
def test_off(db, client):
    leave_an_orphan(client)


class TestUnderTheMarker(TestCase):
    def test_kept_row(self):
        assert upload(self.client, "/documents/", "kept.pdf") == 200

    def test_orphan(self):
        leave_an_orphan(self.client)


class TestTransactionUnderTheMarker(TransactionTestCase):
    def test_kept_row(self):
        assert upload(self.client, "/documents/", "kept.pdf") == 200

    def test_orphan(self):
        leave_an_orphan(self.client)


class TestWithTheMixin(InMemoryStorageMixin, TestCase):
    inmemory_storage_orphans = "error"

    def test_kept_row(self):
        assert upload(self.client, "/documents/", "kept.pdf") == 200

    def test_orphan(self):
        leave_an_orphan(self.client)
"""

MESSAGE = (
    "inmemorystorage_fs.testing.OrphanFilesError: The test wrote 1 file that no row "
    "references at its end (orphans='error'):\n",
    "  storages['default']: documents/second.pdf\n",
    "Rows read: testapp.Document.upload, testapp.Document.attachment, testapp.Photo.image.",
)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that can import this repository's Django test project."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(uploads=UPLOADS)
    return pytester


def test_pytest_reports_the_orphans_of_each_kind_of_test_and_only_them(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_orphans=PYTEST_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rA")
    # A unittest test's error is its failure; a function's is an error at teardown (after
    # the test passed: pytest counts both).
    result.assert_outcomes(passed=11, failed=4, errors=2)
    failed = {line.split(" - ")[0] for line in result.outlines if line.startswith("FAILED ")}
    assert failed == {
        "FAILED test_orphans.py::test_fails_with_an_orphan",
        "FAILED test_orphans.py::TestUnderTheMarker::test_orphan",
        "FAILED test_orphans.py::TestTransactionUnderTheMarker::test_orphan",
        "FAILED test_orphans.py::TestWithTheMixin::test_orphan",
    }
    errors = {line.split(" - ")[0] for line in result.outlines if line.startswith("ERROR ")}
    assert errors == {
        "ERROR test_orphans.py::test_orphan",
        "ERROR test_orphans.py::test_orphan_transactional",
    }
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_orphan _*"])
    # 2 errors at teardown and the 3 unittest tests that left an orphan, counted in the
    # reports above the short summary (whose messages pytest only cuts outside CI).
    reports = result.stdout.str().split("short test summary info")[0]
    assert all(reports.count(line) == 5 for line in MESSAGE), result.stdout.str()
    assert "AssertionError: on purpose" in result.stdout.str()


WARN_TESTS = """
import pytest

from uploads import leave_an_orphan


@pytest.mark.filterwarnings("default::inmemorystorage_fs.testing.OrphanFilesWarning")
def test_orphan(db, client):
    leave_an_orphan(client)


def test_orphan_made_an_error_by_the_warnings_filter(db, client):
    leave_an_orphan(client)
"""


def test_pytest_warns_with_orphans_warn_from_the_command_line(project: pytest.Pytester) -> None:
    project.makepyfile(test_warn=WARN_TESTS)
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", "--inmemorystorage-autouse", "--inmemorystorage-orphans=warn"
    )
    # filterwarnings = error turns the other's warning into its teardown error, as any warning.
    result.assert_outcomes(passed=2, errors=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "test_warn.py::test_orphan",
            "*OrphanFilesWarning: The test wrote 1 file that no row references at its end "
            "(orphans='warn'):",
        ]
    )
    result.stdout.fnmatch_lines(["ERROR test_warn.py::test_orphan_made_an_error_by_the_warn*"])


INI_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from uploads import leave_an_orphan


def test_a_rendition_is_ignored(db):
    default_storage.save("cache/thumbs/a.jpg", ContentFile(b"rendition"))


def test_orphan(db, client):
    leave_an_orphan(client)
"""


def test_the_ini_keys_set_the_check_for_every_test(project: pytest.Pytester) -> None:
    project.makeini(
        INI.format(
            extra="inmemorystorage_autouse = true\n"
            "inmemorystorage_orphans = error\n"
            "inmemorystorage_orphans_ignore = cache/** exports/*.csv\n"
        )
    )
    project.makepyfile(test_ini=INI_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    assert all(line in result.stdout.str() for line in MESSAGE[:2])
    assert f"{MESSAGE[2]} Ignored: 'cache/**', 'exports/*.csv'.\n" in result.stdout.str()


def test_a_bad_orphans_ini_value_stops_the_run(project: pytest.Pytester) -> None:
    project.makeini(INI.format(extra="inmemorystorage_orphans = loud\n"))
    project.makepyfile(test_any="def test_one():\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*inmemorystorage_orphans = loud: use warn or error (or leave it out: no check)."]
    )


# -- manage.py test with the runner ------------------------------------------------

SETTINGS = """
from tests.settings import *  # noqa: F403

TEST_RUNNER = "inmemorystorage_fs.testing.DiscoverRunner"
INMEMORYSTORAGE_TESTING = {"orphans": "error", "orphans_ignore": ["cache/**"]}
"""

RUNNER_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import SimpleTestCase, TestCase, TransactionTestCase

from uploads import clean_up_after_the_failure, leave_an_orphan, upload


class Uploads:
    def test_kept_row(self):
        self.assertEqual(upload(self.client, "/documents/", "kept.pdf"), 200)

    def test_orphan(self):
        leave_an_orphan(self.client)

    def test_cleaned_up(self):
        clean_up_after_the_failure(self.client)

    def test_rendition(self):
        default_storage.save("cache/thumbs/a.jpg", ContentFile(b"ignored"))


class InATestCase(Uploads, TestCase):
    pass


class InATransactionTestCase(Uploads, TransactionTestCase):
    pass


class WithoutTheDatabase(SimpleTestCase):
    def test_writes(self):
        default_storage.save("documents/x.pdf", ContentFile(b"no row can name it"))
"""


def manage_test(
    folder: Path, *args: str, warnings: str = "error"
) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "INMEMORYSTORAGE_DUMP_DIR")
    }
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(folder)])
    environ["DJANGO_SETTINGS_MODULE"] = "orphan_settings"
    command = [sys.executable, "-W", warnings, "-m", "django", "test", "-v", "2", *args]
    return subprocess.run(
        [*command, "orphan_tests"],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def runner_project(tmp_path: Path) -> Path:
    (tmp_path / "orphan_settings.py").write_text(textwrap.dedent(SETTINGS))
    (tmp_path / "uploads.py").write_text(textwrap.dedent(UPLOADS))
    package = tmp_path / "orphan_tests"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tests.py").write_text(textwrap.dedent(RUNNER_TESTS))
    return tmp_path


@pytest.mark.parametrize("parallel", [[], ["--parallel", "2"]], ids=["serial", "parallel"])
def test_the_runner_gives_each_orphan_s_test_an_error(
    runner_project: Path, parallel: list[str]
) -> None:
    run = manage_test(runner_project, *parallel)
    assert run.returncode == 1, run.stderr
    assert "Ran 9 tests" in run.stderr
    assert "FAILED (errors=2)" in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
    # Python 3.10's unittest names the class only, 3.11+ the method too.
    assert sorted(error.split(" (")[1].split(".")[2].rstrip(")") for error in errors) == [
        "InATestCase",
        "InATransactionTestCase",
    ], errors
    assert all(error.startswith("ERROR: test_orphan ") for error in errors), errors
    assert (
        run.stderr.count(
            "OrphanFilesError: The test wrote 1 file that no row references at its end "
            "(orphans='error'):\n  storages['default']: documents/second.pdf\n"
        )
        == 2
    ), run.stderr


def test_the_runner_flag_makes_it_a_warning(runner_project: Path) -> None:
    run = manage_test(runner_project, "--inmemorystorage-orphans", "warn", warnings="default")
    assert run.returncode == 0, run.stderr
    assert "OK" in run.stderr
    assert "OrphanFilesWarning: The test wrote 1 file that no row references at its end " in (
        run.stderr
    )
