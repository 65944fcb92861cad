"""inmemorystorage_fs.testing.DiscoverRunner in a tiny Django project of its own.

Each test writes the project to ``tmp_path`` and runs ``manage.py test`` in a
subprocess: real ``FileSystemStorage`` aliases on disk, a model field holding
``storages["private"]``, and a module-level storage no swap reaches.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from inmemorystorage_fs.testing import RESERVED

REPO = Path(__file__).resolve().parent.parent

MANAGE = """
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

SETTINGS = """
from pathlib import Path

BASE = Path(__file__).resolve().parent
SECRET_KEY = "tests-only"
INSTALLED_APPS = ["shop"]
MIGRATION_MODULES = {"shop": None}
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE / "db.sqlite3")}}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE / "media"), "base_url": "/media/"},
    },
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE / "private"), "base_url": "/private/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = str(BASE / "media")
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TEST_RUNNER = "inmemorystorage_fs.testing.DiscoverRunner"
INMEMORYSTORAGE_TESTING = {"aliases": "__all__", "fields": True}
"""

MODELS = """
from django.core.files.storage import storages
from django.db import models


class Doc(models.Model):
    f = models.FileField(storage=storages["private"])
"""

TESTS = """
import os
import unittest
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.test import TestCase

from inmemorystorage_fs import InMemoryStorage
from shop.models import Doc

CACHE = FileSystemStorage(location=str(settings.BASE / "cache"))


class Rollback(TestCase):
    @classmethod
    def setUpTestData(cls):
        storages["private"].save("kept.txt", ContentFile(b"kept"))
        Doc.objects.create(f=ContentFile(b"doc", name="doc.txt"))

    def test_one_deletes_the_files(self):
        storages["private"].delete("kept.txt")
        Doc.objects.get().f.delete()
        self.assertEqual(storages["private"].listdir(""), ([], []))

    def test_two_still_sees_them(self):
        self.assertIsInstance(storages["private"], InMemoryStorage)
        self.assertEqual(storages["private"].location, str(settings.BASE / "private"))
        self.assertEqual(storages["private"].open("kept.txt").read(), b"kept")
        doc = Doc.objects.get()
        self.assertIsInstance(doc.f.storage, InMemoryStorage)
        self.assertEqual(doc.f.name, "doc.txt")
        self.assertEqual(doc.f.read(), b"doc")

    @unittest.skipUnless(os.environ.get("SHOP_FAIL"), "fails on purpose only with SHOP_FAIL")
    def test_x_fails_on_purpose(self):
        default_storage.save("a.txt", ContentFile(b"a"))
        storages["private"].save("p.txt", ContentFile(b"p"))
        self.fail("on purpose")


class Others(TestCase):
    def test_default_storage_is_in_memory(self):
        self.assertIsInstance(default_storage._wrapped, InMemoryStorage)
        name = default_storage.save("d.txt", ContentFile(b"d"))
        self.assertEqual(default_storage.url(name), "/media/d.txt")
        self.assertEqual(default_storage.open(name).read(), b"d")

    def test_module_level_cache(self):
        self.assertEqual(CACHE.save("c.txt", ContentFile(b"c")), "c.txt")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Write the project (manage.py, settings.py, app shop) to *tmp_path*; return it."""
    shop = tmp_path / "shop"
    shop.mkdir()
    (tmp_path / "manage.py").write_text(textwrap.dedent(MANAGE))
    (tmp_path / "settings.py").write_text(textwrap.dedent(SETTINGS))
    (shop / "__init__.py").write_text("")
    (shop / "models.py").write_text(textwrap.dedent(MODELS))
    (shop / "tests.py").write_text(textwrap.dedent(TESTS))
    return tmp_path


def manage_test(
    project: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "INMEMORYSTORAGE_DUMP_DIR", "SHOP_FAIL")
    }
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(project)])
    return subprocess.run(
        [sys.executable, "-W", "error", str(project / "manage.py"), "test", "-v", "2", *args],
        cwd=cwd or project,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("parallel", [[], ["--parallel", "2"]], ids=["serial", "parallel"])
def test_runner_keeps_every_storage_in_memory_and_rolls_back(
    project: Path, parallel: list[str]
) -> None:
    run = manage_test(project, *parallel)
    assert run.returncode == 0, run.stderr
    # Python 3.12 leaves skipped tests out of the count that 3.10, 3.11 and 3.13 give.
    assert re.search(r"Ran [45] tests", run.stderr), run.stderr
    assert "OK (skipped=1)" in run.stderr
    assert files_under(project / "media") == []
    assert files_under(project / "private") == []
    assert files_under(project / "cache") == ["c.txt"]  # not strict: a real write
    assert "inmemorystorage_fs:" not in run.stderr
    if parallel:  # one clone of the test database per worker
        assert run.stderr.count("Cloning test database") == 2, run.stderr


def test_strict_flag_fails_only_the_write_through_a_module_level_storage(
    project: Path,
) -> None:
    run = manage_test(project, "--inmemorystorage-strict")
    assert run.returncode == 1, run.stderr
    assert "FAILED (failures=1, skipped=1)" in run.stderr
    failed = [line for line in run.stderr.splitlines() if line.startswith(("FAIL:", "ERROR:"))]
    # Python 3.10's unittest names the class only, 3.11+ the method too.
    assert len(failed) == 1
    assert failed[0].startswith("FAIL: test_module_level_cache (shop.tests.Others")
    assert "RealStorageUsed" in run.stderr
    assert "a storage built elsewhere" in run.stderr
    assert run.stderr.count("inmemorystorage_fs: 1 use(s) of a real storage:") == 1
    assert "  - django.core.files.storage.filesystem.FileSystemStorage.save('c.txt')" in (
        run.stderr
    )
    # The hint speaks of the setting the runner reads, not of fresh_storage().
    assert (
        "Put it in memory with INMEMORYSTORAGE_TESTING['aliases'] or "
        "INMEMORYSTORAGE_TESTING['fields'] = True, or let it through with "
        "INMEMORYSTORAGE_TESTING['allow'] = "
        "['django.core.files.storage.filesystem.FileSystemStorage']." in run.stderr
    )
    assert files_under(project / "cache") == []


def test_dump_flag_exports_the_failed_test_s_storages(project: Path) -> None:
    run = manage_test(project, "--inmemorystorage-dump", "dumps", env={"SHOP_FAIL": "1"})
    assert run.returncode == 1, run.stderr
    assert "FAILED (failures=1)" in run.stderr
    dumps = project / "dumps"
    name = "shop.tests.Rollback.test_x_fails_on_purpose"
    assert sorted(os.listdir(dumps)) == [name, f"{name}~storages"]
    assert files_under(dumps / name) == ["a.txt"]
    assert files_under(dumps / f"{name}~storages") == [
        os.path.join("private", "doc.txt"),
        os.path.join("private", "kept.txt"),
        os.path.join("private", "p.txt"),
    ]
    assert (dumps / f"{name}~storages" / "private" / "p.txt").read_bytes() == b"p"
    assert files_under(project / "media") == []
    assert files_under(project / "private") == []


IDENTITY_TESTS = """
from django.core.files.storage import storages
from django.test import SimpleTestCase

from shop.models import Doc


class Identity(SimpleTestCase):
    def test_field_holds_the_alias_replacement(self):
        self.assertIs(Doc._meta.get_field("f").storage, storages["private"])
"""


def test_runner_points_a_field_at_the_test_s_alias_replacement(project: Path) -> None:
    (project / "shop" / "test_identity.py").write_text(textwrap.dedent(IDENTITY_TESTS))
    run = manage_test(project, "shop.test_identity")
    assert run.returncode == 0, run.stderr


OPTIONS_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import SimpleTestCase


class Options(SimpleTestCase):
    def test_every_storage_has_the_setting_s_options_and_the_seed(self):
        self.assertEqual(default_storage.open("hello.txt").read(), b"seeded")
        for alias in ("default", "private"):
            names = [storages[alias].save("n.txt", ContentFile(b"n")) for _ in range(2)]
            self.assertEqual(names, ["n.txt", "n_1.txt"])
"""


def test_runner_reads_options_and_a_seed_relative_to_base_dir(project: Path) -> None:
    (project / "seed").mkdir()
    (project / "seed" / "hello.txt").write_bytes(b"seeded")
    (project / "shop" / "test_options.py").write_text(textwrap.dedent(OPTIONS_TESTS))
    with (project / "settings.py").open("a") as settings:
        settings.write(
            "BASE_DIR = BASE\n"
            "INMEMORYSTORAGE_TESTING = {'aliases': '__all__', 'fields': True, 'seed': 'seed',\n"
            "                           'options': {'alternative_names': 'counter'}}\n"
        )
    elsewhere = project / "shop"  # a seed read against the working directory is missing
    run = manage_test(project, "shop.test_options", cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    assert "Ran 1 test" in run.stderr


def test_runner_names_the_setting_of_a_missing_seed(project: Path) -> None:
    with (project / "settings.py").open("a") as settings:
        settings.write("BASE_DIR = BASE\nINMEMORYSTORAGE_TESTING = {'seed': 'fixtures/media'}\n")
    run = manage_test(project, "shop")
    assert run.returncode != 0
    assert (
        "The seed folder 'fixtures/media' named by the INMEMORYSTORAGE_TESTING['seed'] setting "
        f"does not exist (looked in {project}/fixtures/media, relative to the settings' "
        "BASE_DIR)."
    ) in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("key", "guess"), [("alias", "; did you mean 'aliases'? "), ("colour", ". ")]
)
def test_a_key_the_testing_setting_lacks_is_named_with_its_keys(key: str, guess: str) -> None:
    # Not "Invalid option 'alias' for InMemoryStorage" from each class's setUpClass.
    from inmemorystorage_fs.testing import DiscoverRunner

    with override_settings(INMEMORYSTORAGE_TESTING={key: ["private"]}):
        with pytest.raises(ImproperlyConfigured) as raised:
            DiscoverRunner().storage_options()
    assert str(raised.value) == (
        f"INMEMORYSTORAGE_TESTING has no key {key!r}{guess}"
        f"Its keys are: {', '.join(sorted(RESERVED))}."
    )
