"""media_patterns(alias="private") on a disk alias that the tests swap, in real projects.

A tiny project of its own (settings, URLconf, app) is written to ``tmp_path``
and run with ``manage.py test`` under this package's runner, and with pytest
under the plugin. The URLconf is imported outside any swap: by the runner's
system checks, and by a pytest test that uses no storage.
"""

import os
import textwrap
from pathlib import Path

import pytest

from tests.test_runner import MANAGE, REPO, files_under, manage_test

SETTINGS = """
from pathlib import Path

BASE = Path(__file__).resolve().parent
SECRET_KEY = "tests-only"
INSTALLED_APPS = ["inmemorystorage_fs", "shop"]
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
ROOT_URLCONF = "urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TEST_RUNNER = "inmemorystorage_fs.testing.DiscoverRunner"
INMEMORYSTORAGE_TESTING = {TESTING}
"""

URLS = """
from django.http import HttpResponse
from django.urls import path

from inmemorystorage_fs.urls import media_patterns

urlpatterns = [path("", lambda request: HttpResponse(b"home"))]
urlpatterns += media_patterns() + media_patterns(alias="private")
"""

RUNNER_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import SimpleTestCase


class Served(SimpleTestCase):
    def test_a_private_file_is_served(self):
        private = storages["private"]
        name = private.save("contract.pdf", ContentFile(b"%PDF-1.4 private"))
        response = self.client.get(private.url(name))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"%PDF-1.4 private")
"""

#: A module of its own, run first: no test in it uses a storage, so it gets no swap.
PYTEST_HOME_TESTS = """
def test_the_home_page_uses_no_storage(client):
    assert client.get("/").content == b"home"  # the URLconf loads here, outside a swap
"""

PYTEST_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import storages


def test_a_private_file_is_served(client, inmemory_storage):
    private = storages["private"]
    name = private.save("contract.pdf", ContentFile(b"%PDF-1.4 private"))
    response = client.get(private.url(name))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 private"
"""

#: What the runner's system checks print for "private" when no test swap covers it.
E010 = (
    "?: (inmemorystorage_fs.E010) The URLconf serves STORAGES['private'] with "
    "inmemorystorage_fs.views.serve (media_patterns), but it is "
    "django.core.files.storage.filesystem.FileSystemStorage and INMEMORYSTORAGE_TESTING "
    "does not put it in memory: each request for its files would raise ImproperlyConfigured.\n"
    "\tHINT: Put it in memory for the tests: INMEMORYSTORAGE_TESTING = {'aliases': "
    "['private']} (or '__all__') with TEST_RUNNER = 'inmemorystorage_fs.testing.DiscoverRunner', "
    "inmemorystorage_aliases = private (or --inmemorystorage-all) under pytest, or "
    "fresh_storage(aliases=['private']); or serve a disk with django.views.static.serve. "
    "If only pytest's options or a test's own options swap it, add 'inmemorystorage_fs.E010' "
    "to SILENCED_SYSTEM_CHECKS."
)


def write_project(folder: Path, testing: str, tests_name: str, tests: str) -> Path:
    """Write manage.py, settings.py, urls.py and the app shop to *folder*; return it."""
    shop = folder / "shop"
    shop.mkdir()
    (folder / "manage.py").write_text(textwrap.dedent(MANAGE))
    (folder / "settings.py").write_text(SETTINGS.replace("{TESTING}", testing))
    (folder / "urls.py").write_text(URLS)
    (shop / "__init__.py").write_text("")
    (shop / tests_name).write_text(tests)
    return folder


def test_the_runner_serves_a_disk_alias_that_all_aliases_swap(tmp_path: Path) -> None:
    project = write_project(tmp_path, '{"aliases": "__all__"}', "tests.py", RUNNER_TESTS)
    run = manage_test(project)
    assert run.returncode == 0, run.stderr
    assert "Ran 1 test" in run.stderr
    assert "System check identified no issues" in run.stdout + run.stderr
    assert files_under(project / "private") == []


@pytest.mark.parametrize("testing", ["{}", "None"], ids=["default-only", "unset"])
def test_the_runner_s_checks_stop_a_run_that_serves_an_unswapped_disk(
    tmp_path: Path, testing: str
) -> None:
    project = write_project(tmp_path, testing, "tests.py", RUNNER_TESTS)
    run = manage_test(project)
    assert run.returncode == 1, run.stderr
    assert "SystemCheckError: System check identified some issues:" in run.stderr
    assert E010 in run.stderr
    assert "STORAGES['default']" not in run.stderr  # the runner always swaps default
    assert "Ran " not in run.stderr


@pytest.mark.parametrize(
    ("flags", "ini"),
    [(["--inmemorystorage-all"], ""), ([], "inmemorystorage_aliases = __all__")],
    ids=["flag", "ini"],
)
def test_pytest_serves_a_disk_alias_that_all_aliases_swap(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, flags: list[str], ini: str
) -> None:
    project = write_project(pytester.path, "None", "test_private.py", PYTEST_TESTS)
    (project / "shop" / "test_home.py").write_text(PYTEST_HOME_TESTS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(project)]))
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makeini(
        f"[pytest]\nDJANGO_SETTINGS_MODULE = settings\nfilterwarnings = error\n{ini}\n"
    )
    result = pytester.runpytest_subprocess(*flags, "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert files_under(project / "private") == []
