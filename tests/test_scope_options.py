"""A scope's options: storage options for every storage a test gets, and seed folders.

Relative seed folders are read against one folder per way of running tests
(pytest: the rootdir; unittest and the runner: BASE_DIR, else the working
directory), and a missing one is reported with the setting that named it.
"""

from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import SimpleTestCase, override_settings

from inmemorystorage_fs.checks import check_settings
from inmemorystorage_fs.testing import InMemoryStorageMixin, fresh_storage
from tests.helpers import needs_aliases

REPO = Path(__file__).resolve().parent.parent

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
{extra}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that can import this repository's Django test project."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    return pytester


# -- storage options of every storage a test gets ------------------------------------------

INI_OPTIONS_TESTS = """
import errno

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages


def names(alias):
    return [storages[alias].save("n.txt", ContentFile(b"n")) for _ in range(2)]


def test_every_storage_has_the_ini_options(inmemory_storage):
    assert names("default") == names("private") == ["n.txt", "n_1.txt"]
    with pytest.raises(OSError) as full:
        storages["private"].save("big.bin", ContentFile(b"x" * 11))
    assert full.value.errno == errno.ENOSPC


@pytest.mark.inmemory_storage(options={"max_size": None})
def test_the_marker_s_options_change_some_of_them():
    storages["private"].save("big.bin", ContentFile(b"x" * 11))
    assert names("private") == ["n.txt", "n_1.txt"]
"""


@needs_aliases
def test_the_ini_options_reach_every_storage_and_the_marker_changes_some(
    project: pytest.Pytester,
) -> None:
    extra = (
        "inmemorystorage_aliases = __all__\n"
        "inmemorystorage_options = max_size=10 alternative_names=counter"
    )
    project.makeini(INI.format(extra=extra))
    project.makepyfile(test_options=INI_OPTIONS_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "max_size",
            "inmemorystorage_options: 'max_size' is not key=value; write for example "
            "inmemorystorage_options = max_size=1000000 alternative_names=counter",
        ),
        (
            "colour=red",
            "The inmemorystorage_options ini option has the option 'colour', which "
            "InMemoryStorage does not take. Use one of: allow_overwrite, alternative_names, "
            "backend, base_url, default_acl, directory_permissions_mode, file_permissions_mode, "
            "max_size, object_parameters, persist, querystring_auth, querystring_expire.",
        ),
        ("max_size=1 max_size=2", "inmemorystorage_options: 'max_size' is given twice."),
    ],
)
def test_a_bad_ini_option_names_the_key(
    project: pytest.Pytester, value: str, message: str
) -> None:
    project.makeini(INI.format(extra=f"inmemorystorage_options = {value}"))
    project.makepyfile(test_one="def test_one(inmemory_storage):\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    assert message in result.stdout.str() + result.stderr.str()


@needs_aliases
def test_the_options_keyword_applies_to_every_storage_and_keywords_to_the_default() -> None:
    with fresh_storage(
        aliases="__all__", options={"alternative_names": "counter"}, base_url="/d/"
    ) as default:
        for alias in ("default", "private"):
            names = [storages[alias].save("n.txt", ContentFile(b"n")) for _ in range(2)]
            assert names == ["n.txt", "n_1.txt"]
        assert default.url("n.txt") == "/d/n.txt"
        assert storages["private"].url("n.txt") == "/private/n.txt"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"options": ["max_size"]}, "options must be a dict of InMemoryStorage options"),
        ({"options": {"colour": 1}}, "options has the option 'colour', which InMemoryStorage"),
        ({"options": {"location": "/x"}}, "options applies to every storage a test gets"),
        ({"options": {"max_size": -1}}, "max_size"),
    ],
)
def test_bad_options_fail_at_once(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        fresh_storage(**options)


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (
            {"options": {"colour": 1}},
            "inmemorystorage_fs.E007",
            "INMEMORYSTORAGE_TESTING: options has the option 'colour', which InMemoryStorage "
            "does not take. Use one of: allow_overwrite, alternative_names, backend, base_url, "
            "default_acl, directory_permissions_mode, file_permissions_mode, max_size, "
            "object_parameters, persist, querystring_auth, querystring_expire.",
        ),
        (
            {"options": {"max_size": "big"}},
            "inmemorystorage_fs.E007",
            "INMEMORYSTORAGE_TESTING: ",
        ),
        (
            {"seed": "nowhere"},
            "inmemorystorage_fs.E007",
            "INMEMORYSTORAGE_TESTING: The seed folder 'nowhere' named by the "
            "INMEMORYSTORAGE_TESTING['seed'] setting does not exist (looked in {base}/nowhere, "
            "relative to the settings' BASE_DIR).",
        ),
    ],
)
def test_the_testing_setting_s_options_and_seed_are_checked(
    value: dict[str, Any], code: str, message: str, tmp_path: Path
) -> None:
    with override_settings(INMEMORYSTORAGE_TESTING=value, BASE_DIR=tmp_path):
        found = check_settings()
    assert [(m.id, type(m)) for m in found] == [(code, Error)]
    assert found[0].msg.startswith(message.format(base=tmp_path))


def test_the_testing_setting_takes_options_and_seed(tmp_path: Path) -> None:
    (tmp_path / "seed").mkdir()
    good = {"options": {"alternative_names": "counter", "max_size": 1000}, "seed": "seed"}
    with override_settings(INMEMORYSTORAGE_TESTING=good, BASE_DIR=tmp_path):
        assert check_settings() == []


# -- seed folders -------------------------------------------------------------------------


def test_a_relative_seed_is_read_against_base_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "hello.txt").write_bytes(b"hello")
    monkeypatch.chdir(tmp_path / "fixtures")  # read against the cwd, it would be missing
    with override_settings(BASE_DIR=tmp_path), fresh_storage(seed="fixtures") as storage:
        assert storage.open("hello.txt").read() == b"hello"


def test_without_base_dir_a_relative_seed_is_read_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "hello.txt").write_bytes(b"hello")
    monkeypatch.chdir(tmp_path)
    with fresh_storage(seed="fixtures") as storage:
        assert storage.open("hello.txt").read() == b"hello"
    with pytest.raises(FileNotFoundError) as missing:
        fresh_storage(seed="nowhere")
    assert str(missing.value) == (
        "The seed folder 'nowhere' named by the seed keyword of fresh_storage() does not "
        f"exist (looked in {tmp_path}/nowhere, relative to the working directory)."
    )


def test_a_missing_seed_of_a_mixin_class_names_its_attribute(tmp_path: Path) -> None:
    class Seeded(InMemoryStorageMixin, SimpleTestCase):
        inmemory_storage_seed: ClassVar[Any] = "nowhere"

    with override_settings(BASE_DIR=tmp_path), pytest.raises(FileNotFoundError) as missing:
        Seeded.setUpClass()
    assert str(missing.value) == (
        "The seed folder 'nowhere' named by the Seeded.inmemory_storage_seed attribute "
        "does not exist "
        f"(looked in {tmp_path}/nowhere, relative to the settings' BASE_DIR)."
    )


@pytest.mark.parametrize(
    ("extra", "marker", "named_by"),
    [
        ("inmemorystorage_seed = tests/media", "", "the inmemorystorage_seed ini option"),
        (
            "",
            "@pytest.mark.inmemory_storage(seed='tests/media')",
            "the seed keyword of @pytest.mark.inmemory_storage",
        ),
    ],
    ids=["ini", "marker"],
)
def test_a_missing_seed_under_pytest_names_its_source_and_the_rootdir(
    project: pytest.Pytester, extra: str, marker: str, named_by: str
) -> None:
    project.makeini(INI.format(extra=extra))
    project.makepyfile(
        test_seeded=f"import pytest\n\n{marker}\ndef test_one(inmemory_storage):\n    pass\n"
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert (
        f"The seed folder 'tests/media' named by {named_by} does not exist "
        f"(looked in {project.path}/tests/media, relative to the pytest rootdir)."
    ) in result.stdout.str()
