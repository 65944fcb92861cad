"""Configuration errors: system checks with ids, and ImproperlyConfigured, never a TypeError."""

import io
import subprocess
import sys

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs.checks import check_settings

OURS = "inmemorystorage_fs.InMemoryStorage"


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [message.id for message in messages]  # type: ignore[misc]


CHECK_SCRIPT = """
import sys
import django
from django.conf import settings
from django.core.management import call_command
apps = ["inmemorystorage_fs"] if sys.argv[1] == "installed" else []
settings.configure(INSTALLED_APPS=apps, INMEMORYSTORAGE_PERSIST="yes")
django.setup()
call_command("check")
"""


@pytest.mark.parametrize("installed", [True, False])
def test_the_app_config_registers_the_checks(installed):
    argument = "installed" if installed else "absent"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", CHECK_SCRIPT, argument],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # "manage.py check" fails on the error only if the app put the check there.
    assert (result.returncode != 0) is installed, result.stderr
    assert ("inmemorystorage_fs.E001" in result.stderr) is installed, result.stderr


def test_good_settings_pass():
    storages = {
        "default": {"BACKEND": OURS, "OPTIONS": {"max_size": 10, "persist": True}},
        "other": {"BACKEND": "inmemorystorage_fs.FSStorage", "OPTIONS": {"fs": "mem://"}},
        "django": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with override_settings(STORAGES=storages, INMEMORYSTORAGE_PERSIST=False):
        assert check_settings() == []


@pytest.mark.parametrize("value", ["False", 1, None])
def test_a_non_bool_persist_setting_is_e001(value):
    with override_settings(INMEMORYSTORAGE_PERSIST=value):
        found = check_settings()
        assert ids(found) == ["inmemorystorage_fs.E001"]
        assert repr(value) in found[0].msg
        with pytest.raises(ImproperlyConfigured, match="INMEMORYSTORAGE_PERSIST"):
            InMemoryStorage().save("x.txt", ContentFile(b"x"))


def test_an_unknown_option_is_e002_naming_it():
    storages = {"default": {"BACKEND": OURS, "OPTIONS": {"max_szie": 10}}}
    with override_settings(STORAGES=storages):
        found = check_settings()
    assert ids(found) == ["inmemorystorage_fs.E002"]
    assert "'max_szie'" in found[0].msg and "STORAGES['default']" in found[0].msg
    assert "max_size" in found[0].hint  # type: ignore[operator]
    with pytest.raises(ImproperlyConfigured, match="'max_szie'"):
        InMemoryStorage(max_szie=10)


@pytest.mark.parametrize("value", [-1, "1MB", 2.5])
def test_a_bad_max_size_is_e003(value):
    storages = {"default": {"BACKEND": OURS, "OPTIONS": {"max_size": value}}}
    with override_settings(STORAGES=storages):
        assert ids(check_settings()) == ["inmemorystorage_fs.E003"]


def test_any_other_bad_option_is_e004_with_the_constructors_message():
    storages = {
        "a": {"BACKEND": OURS, "OPTIONS": {"persist": "yes"}},
        "b": {"BACKEND": "inmemorystorage_fs.FSStorage", "OPTIONS": {}},
    }
    with override_settings(STORAGES=storages):
        found = check_settings()
    assert ids(found) == ["inmemorystorage_fs.E004"] * 2
    assert "persist" in found[0].msg and "fs" in found[1].msg


def test_a_subclass_keeps_its_own_options_and_ours():
    storages = {
        "default": {
            "BACKEND": "inmemorystorage_fs.staticfiles.InMemoryManifestStaticFilesStorage",
            "OPTIONS": {"manifest_storage": None, "max_size": 10, "colour": "red"},
        }
    }
    with override_settings(STORAGES=storages):
        found = check_settings()
    assert ids(found) == ["inmemorystorage_fs.E002"]
    assert "'colour'" in found[0].msg


@pytest.mark.parametrize("cls", [InMemoryStorage, FSStorage])
def test_construction_errors_are_improperly_configured_not_type_errors(cls):
    for options in ({"nonsense": 1}, {"max_size": -5}, {"base_url": 3}):
        with pytest.raises(ImproperlyConfigured):
            cls(**({"fs": "mem://"} if cls is FSStorage else {}), **options)


@pytest.mark.parametrize("what", ["max_size", "a load limit"])
def test_byte_counts_are_checked_by_one_rule(what):
    from inmemorystorage_fs._limits import byte_count_problem

    assert byte_count_problem(None, what) is None
    assert byte_count_problem(0, what) is None
    assert byte_count_problem(True, what) == (
        f"{what} must be a number of bytes (an int >= 0) or None, not True."
    )


def test_an_unknown_key_of_a_storages_entry_is_e011_with_a_guess():
    # Django's own handler reads BACKEND and OPTIONS and drops "OPTION" silently.
    storages = {"default": {"BACKEND": OURS, "OPTION": {"max_size": 10}}}
    with override_settings(STORAGES=storages):
        found = check_settings()
    assert ids(found) == ["inmemorystorage_fs.E011"]
    assert found[0].msg == "STORAGES['default'] has the key 'OPTION', which Django ignores."
    assert found[0].hint == "Did you mean 'OPTIONS'? Use one of: BACKEND, OPTIONS."


def test_an_unknown_option_s_hint_guesses_the_option_meant():
    storages = {"media": {"BACKEND": OURS, "OPTIONS": {"base_ulr": "/m/"}}}
    with override_settings(STORAGES=storages):
        (found,) = check_settings()
    assert found.hint == (
        "Did you mean 'base_url'? Use one of: allow_overwrite, alternative_names, backend, "
        "base_url, default_acl, directory_permissions_mode, file_permissions_mode, location, "
        "max_size, object_parameters, persist, querystring_auth, querystring_expire."
    )


DEPLOY_W002 = (
    "?: (inmemorystorage_fs.W002) STORAGES['default'] is InMemoryStorage while DEBUG is "
    "False: its files live in this process's memory and vanish when it ends (each worker "
    "process has files of its own).\n"
    "\tHINT: Deploy with a storage that keeps files (FileSystemStorage, django-storages); "
    "keep InMemoryStorage for tests and development."
)


@pytest.mark.parametrize("debug", [False, True])
def test_check_deploy_warns_that_in_memory_files_vanish_unless_debug(debug):
    storages = {
        "default": {"BACKEND": OURS},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    out, err = io.StringIO(), io.StringIO()
    with override_settings(STORAGES=storages, DEBUG=debug):
        call_command("check", deploy=True, stdout=out, stderr=err)
    assert (DEPLOY_W002 in err.getvalue()) is not debug, err.getvalue()
    assert "STORAGES['staticfiles']" not in err.getvalue()  # a disk keeps its files
    # Not a deploy run: "manage.py check" (and the test runner's checks) say nothing.
    with override_settings(STORAGES=storages, DEBUG=False):
        call_command("check", stdout=out, stderr=err)
    assert err.getvalue().count("inmemorystorage_fs.W002") == (0 if debug else 1)
