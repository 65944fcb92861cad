"""Failed tests' dumps: one folder per test, where the run started, every file named.

Driven through real runs: pytest (pytester), ``python -m unittest`` with the
mixin, and Django's ``manage.py test`` with this package's runner.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import needs_aliases

REPO = Path(__file__).resolve().parent.parent

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
"""

# A name component MemoryFS holds and no common disk does (255 bytes at most).
LONG = "x" * 300 + ".txt"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that can import this repository's Django test project."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(INI)
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args)


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


PUNCTUATION = """
import pytest
from django.core.files.base import ContentFile


@pytest.mark.parametrize("value", ["a/b", "a b", "a:b", "a_b"])
def test_fails(inmemory_storage, value):
    inmemory_storage.save("value.txt", ContentFile(value.encode()))
    assert False, "boom"
"""


def test_ids_that_differ_only_in_punctuation_get_a_folder_each(project: pytest.Pytester) -> None:
    project.makepyfile(test_values=PUNCTUATION)
    result = run(project, "--inmemorystorage-dump=dumps")
    result.assert_outcomes(failed=4)
    dumps = project.path / "dumps"
    folders = sorted(os.listdir(dumps))
    assert len(folders) == 4
    # Readable: the sanitized id, then a short hash of the whole id.
    assert all(name.startswith("test_values.py_test_fails_a_b-") for name in folders)
    values = {(dumps / name / "value.txt").read_text() for name in folders}
    assert values == {"a/b", "a b", "a:b", "a_b"}
    for name in folders:
        result.stdout.fnmatch_lines([f"*this test's files are in {dumps / name}{os.sep}*"])


CHDIR = """
import os

from django.core.files.base import ContentFile


def test_moves_then_fails(inmemory_storage, tmp_path):
    inmemory_storage.save("a.txt", ContentFile(b"a"))
    os.chdir(tmp_path)
    assert False, "boom"
"""


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_relative_dump_folder_is_where_pytest_started_whatever_the_test_s_chdir(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    project.makepyfile(test_chdir=CHDIR)
    if how == "option":
        result = run(project, "--inmemorystorage-dump=dumps")
    else:
        monkeypatch.setenv("INMEMORYSTORAGE_DUMP_DIR", "dumps")
        result = run(project)
    result.assert_outcomes(failed=1)
    (folder,) = (project.path / "dumps").iterdir()
    assert files_under(folder) == {"a.txt": b"a"}
    assert [path.parent.parent for path in project.path.rglob("a.txt")] == [folder.parent]


EVERY_STORAGE = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

LONG = "x" * 300 + ".txt"


def test_fails(inmemory_storage):
    default_storage.save("a.txt", ContentFile(b"a"))
    # Through the filesystem: the name is one MemoryFS holds, whatever save() allows.
    storages["private"].filesystem.makedirs("deep")
    storages["private"].filesystem.writebytes(f"deep/{LONG}", b"long")
    storages["private"].save("p.txt", ContentFile(b"p"))
    assert False, "boom"


def test_fails_with_nothing_stored(inmemory_storage):
    assert False, "boom"
"""


@needs_aliases  # --inmemorystorage-all over tests.billing's aliases
def test_the_report_names_every_folder_and_every_file_left_out_and_no_folder_is_empty(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_every=EVERY_STORAGE)
    result = run(project, "--inmemorystorage-all", "--inmemorystorage-dump=dumps")
    result.assert_outcomes(failed=2)
    dumps = project.path / "dumps"
    (default,) = dumps.glob("test_every.py_test_fails-????????")
    others = dumps / f"{default.name}~storages"
    # Only the storages that hold something: not "exports", "staticfiles" or the
    # fields' own storages, but the field storage at MEDIA_ROOT, which shares
    # the default storage's files as on one disk.
    assert sorted(os.listdir(dumps)) == [default.name, others.name]
    assert sorted(os.listdir(others)) == ["billing.Attachment.file", "private"]
    assert files_under(default) == {"a.txt": b"a"}
    assert files_under(others / "billing.Attachment.file") == {"a.txt": b"a"}
    # The file the disk cannot hold is left out, the others are there.
    assert files_under(others / "private") == {"p.txt": b"p"}
    assert (others / "private" / "deep").is_dir()
    (line,) = [line for line in result.outlines if "this test's files are in" in line]
    assert line == (
        f"this test's files are in {default}{os.sep}, {others / 'private'}{os.sep}, "
        f"{others / 'billing.Attachment.file'}{os.sep};"
        f" not dumped: private: 'deep/{LONG}' (File name too long)"
    )
    result.stdout.fnmatch_lines(["*this test's storages held no files*"])


# -- the unittest mixin and the Django runner --------------------------------------

MIXIN_SUITE = """
import os
import tempfile

from django.core.files.base import ContentFile
from django.test import SimpleTestCase

from inmemorystorage_fs.testing import InMemoryStorageMixin

LONG = "x" * 300 + ".txt"


class Moves(InMemoryStorageMixin, SimpleTestCase):
    def test_fails(self):
        self.storage.save("a.txt", ContentFile(b"a"))
        self.storage.filesystem.writebytes(LONG, b"long")
        os.chdir(tempfile.mkdtemp())
        self.fail("boom")
"""


@pytest.mark.parametrize(
    "command",
    [["-m", "unittest", "-v"], ["-m", "django", "test", "-v", "2"]],
    ids=["unittest", "runner"],
)
def test_mixin_and_runner_dump_where_the_run_started_and_name_what_they_left_out(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "mixin_suite.py").write_text(textwrap.dedent(MIXIN_SUITE))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "INMEMORYSTORAGE_DUMP_DIR": "dumps",
    }
    if "unittest" in command:
        prelude = "import django; django.setup(); import unittest; unittest.main(module=None)"
        command = ["-c", prelude, "-v", "mixin_suite"]
    else:
        command = [*command, "--settings", "tests.settings", "mixin_suite"]
        env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    done = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    folder = tmp_path / "dumps" / "mixin_suite.Moves.test_fails"
    assert files_under(folder) == {"a.txt": b"a"}
    if sys.version_info >= (3, 11):
        assert f"this test's files are in {folder}{os.sep}; not dumped: " in done.stderr
        assert f"default: '{LONG}' (File name too long)" in done.stderr
