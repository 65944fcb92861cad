"""The pytest plugin, driven through real pytest runs of small test files (pytester)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inmemorystorage_fs._dumps import folder_name as dump_name
from tests.helpers import needs_aliases

REPO = Path(__file__).resolve().parent.parent

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
{extra}
"""

FIXTURE_TESTS = """
import os

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from inmemorystorage_fs import InMemoryStorage

OLD = 1_500_000_000.5


def save_old(storage, name, data):
    storage.save(name, ContentFile(data))
    storage.fs.setinfo(name, {"details": {"modified": OLD}})


def test_fails(inmemory_storage):
    assert storages["default"] is inmemory_storage
    assert default_storage._wrapped is inmemory_storage
    save_old(inmemory_storage, "reports/out.csv", b"a,b")
    save_old(default_storage, "top.txt", b"top")
    assert False, "boom"


def test_passes_and_starts_empty(inmemory_storage):
    assert default_storage.listdir("") == ([], [])
    inmemory_storage.save("passed.txt", ContentFile(b"p"))


@pytest.mark.inmemory_storage(base_url="/marked/", persist=True)
def test_marker_options_without_requesting_the_fixture():
    assert default_storage.url("x") == "/marked/x"
    default_storage.save("shared.txt", ContentFile(b"s"))
    # persist=True: an app's own storage at MEDIA_ROOT sees the same files
    assert InMemoryStorage(persist=True).exists("shared.txt")


@pytest.mark.inmemory_storage(persist=True)
def test_persistent_storage_starts_empty_too(inmemory_storage):
    assert not InMemoryStorage(persist=True).exists("shared.txt")
"""

LAYER_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

pytestmark = pytest.mark.inmemory_storage(base_url="/module/")


@pytest.fixture(scope="module")
def module_file():
    default_storage.save("module.txt", ContentFile(b"m"))


@pytest.fixture(scope="class")
def class_file(module_file):
    default_storage.save("class.txt", ContentFile(b"c"))


def files():
    return sorted(default_storage.listdir("")[1])


@pytest.mark.usefixtures("class_file")
class TestRolledBack:
    def test_add(self, inmemory_storage):
        assert files() == ["class.txt", "module.txt"]
        default_storage.save("added.txt", ContentFile(b"a"))

    def test_overwrite(self, inmemory_storage):
        assert files() == ["class.txt", "module.txt"]
        with default_storage.open("class.txt", "wb") as handle:
            handle.write(b"changed")

    def test_delete(self, inmemory_storage):
        assert files() == ["class.txt", "module.txt"]
        assert default_storage.open("class.txt").read() == b"c"
        default_storage.delete("module.txt")
        assert default_storage.url("x") == "/module/x"


def test_module_files_without_the_class_files(module_file, inmemory_storage):
    assert files() == ["module.txt"]
"""

INERT_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_first():
    default_storage.save("kept.txt", ContentFile(b"k"))


def test_second_sees_it_because_the_plugin_stays_out_of_the_way():
    assert default_storage.exists("kept.txt")
"""

BAD_MARKER_TESTS = """
import pytest


@pytest.mark.inmemory_storage("persist")
def test_positional_option():
    pass
"""

AUTOUSE_TESTS = """
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_one():
    assert default_storage.listdir("") == ([], [])
    default_storage.save("pid.txt", ContentFile(str(os.getpid())))
    assert False


def test_two():
    assert default_storage.listdir("") == ([], [])
    default_storage.save("pid.txt", ContentFile(str(os.getpid())))
    assert False


def test_three():
    assert default_storage.listdir("") == ([], [])
"""

SCOPE_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from inmemorystorage_fs.testing import fresh_storage


@pytest.fixture(scope="session")
def session_storage():
    # A session-wide fresh storage: the plugin's layers nest inside it.
    with fresh_storage() as storage:
        storage.save("session.txt", ContentFile(b"s"))
        yield storage
        assert storages["default"] is storage, "a layer outlived its scope"
        assert storage.exists("session.txt")
        with open("session-teardown.txt", "w") as handle:
            handle.write("ok")


@pytest.fixture(scope="module")
def module_file(session_storage):
    name = default_storage.save("module.txt", ContentFile(b"m"))
    yield name
    # Torn down before the module's layer goes: the module's files are there,
    # whatever its tests did to their copies.
    assert default_storage.open(name).read() == b"m"
    with open("module-teardown.txt", "w") as handle:
        handle.write("ok")


def test_starts_with_the_module_file_only(module_file, session_storage):
    assert sorted(default_storage.listdir("")[1]) == ["module.txt"]
    assert storages["default"] is not session_storage
    default_storage.delete("module.txt")


def test_the_last_test_changes_its_copy(module_file):
    with default_storage.open("module.txt", "wb") as handle:
        handle.write(b"changed")


def test_asks_for_the_fixture_late(request):
    storage = request.getfixturevalue("inmemory_storage")
    assert storages["default"] is storage
    assert storage.exists("module.txt")  # the module layer still holds it
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that can import this repository's Django test project."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(INI.format(extra=""))
    return pytester


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_fixture_marker_layers_and_dump_of_the_failed_test_only(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fixture=FIXTURE_TESTS,
        test_layers=LAYER_TESTS,
        test_inert=INERT_TESTS,
        test_bad_marker=BAD_MARKER_TESTS,
    )
    result = project.runpytest_subprocess("--inmemorystorage-dump=dumps", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*TypeError: @pytest.mark.inmemory_storage takes keyword options only*"]
    )
    dumps = project.path / "dumps"
    failed = dumps / dump_name("test_fixture.py::test_fails")
    assert os.listdir(dumps) == [failed.name]
    assert listing(failed) == ["reports", os.path.join("reports", "out.csv"), "top.txt"]
    assert (failed / "reports" / "out.csv").read_bytes() == b"a,b"
    assert os.path.getmtime(failed / "top.txt") == 1_500_000_000.5
    result.stdout.fnmatch_lines([f"*this test's files are in {failed}{os.sep}*"])


def test_layers_nest_inside_wider_fixtures_and_outlive_their_scope_s_fixtures(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_scopes=SCOPE_TESTS)
    result = project.runpytest_subprocess("--inmemorystorage-autouse", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert (project.path / "module-teardown.txt").read_text() == "ok"
    assert (project.path / "session-teardown.txt").read_text() == "ok"


BAD_VALUE_TESTS = """
import pytest


@pytest.fixture
def writes_a_file():
    with open("fixture-ran.txt", "w") as handle:
        handle.write("ran")


@pytest.mark.inmemory_storage(persist="yes")
def test_bad_value(writes_a_file):
    pass


def test_next_one_runs(inmemory_storage):
    assert inmemory_storage.listdir("") == ([], [])
"""


FIRST_TEST_PLAIN = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from inmemorystorage_fs import InMemoryStorage

SAVED = []


@pytest.fixture(scope="module")
def uploaded():
    name = default_storage.save("a.txt", ContentFile(b"x"))
    SAVED.append(default_storage._wrapped)
    yield name
    assert default_storage.exists(name)  # torn down inside the module's storage


def test_plain_sets_the_module_fixture_up(uploaded):
    assert isinstance(SAVED[0], InMemoryStorage)
    assert SAVED[0].exists(uploaded)


def test_uses_a_fresh_storage(inmemory_storage, uploaded):
    assert inmemory_storage.exists(uploaded)


@pytest.mark.skipif(True, reason="skipped before its options are read")
@pytest.mark.inmemory_storage(seed="no-such-folder")
def test_skipped_with_a_missing_seed():
    pass
"""


def test_a_module_s_storage_is_there_from_its_first_test_and_a_skip_reads_no_seed(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_first_plain=FIRST_TEST_PLAIN)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=1)
    assert not (project.path / "a.txt").exists()


def test_a_bad_marker_value_fails_the_set_up_before_any_fixture_runs(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_bad_value=BAD_VALUE_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*persist must be True, False or None, not 'yes'*"])
    assert not (project.path / "fixture-ran.txt").exists()


def test_a_run_where_no_test_uses_a_fresh_storage_registers_no_hooks(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_inert=INERT_TESTS,
        conftest=(
            "def pytest_sessionfinish(session):\n"
            "    hooks = session.config.pluginmanager.get_plugin('inmemorystorage_fs-layers')\n"
            "    with open('layers.txt', 'w') as handle:\n"
            "        handle.write(repr(hooks is not None))\n"
        ),
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert (project.path / "layers.txt").read_text() == "False"
    result = project.runpytest_subprocess("--inmemorystorage-autouse", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)  # the second test's file is gone
    assert (project.path / "layers.txt").read_text() == "True"


def test_autouse_ini_and_dump_env_var(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makeini(INI.format(extra="inmemorystorage_autouse = true"))
    project.makepyfile(test_auto=AUTOUSE_TESTS)
    dumps = project.path / "from-env"
    monkeypatch.setenv("INMEMORYSTORAGE_DUMP_DIR", str(dumps))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    assert sorted(os.listdir(dumps)) == [
        dump_name(f"test_auto.py::test_{n}") for n in ("one", "two")
    ]


def test_autouse_flag_with_xdist_dumps_each_worker_s_failures(project: pytest.Pytester) -> None:
    project.makepyfile(test_auto=AUTOUSE_TESTS)
    result = project.runpytest_subprocess(
        "-n",
        "2",
        "--inmemorystorage-autouse",
        "--inmemorystorage-dump=dumps",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, failed=2)
    dumps = project.path / "dumps"
    assert sorted(os.listdir(dumps)) == [
        dump_name(f"test_auto.py::test_{n}") for n in ("one", "two")
    ]
    for name in os.listdir(dumps):
        assert os.listdir(dumps / name) == ["pid.txt"]
    pids = {(dumps / name / "pid.txt").read_text() for name in os.listdir(dumps)}
    assert str(os.getpid()) not in pids  # written by xdist workers, not by this process
    result.stdout.fnmatch_lines(["*this test's files are in*test_auto.py_test_one-*"])


def test_importing_the_plugin_configures_nothing() -> None:
    code = (
        "import sys, inmemorystorage_fs.pytest_plugin\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
        "assert 'inmemorystorage_fs.testing' not in sys.modules\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)


def test_a_run_without_django_imports_neither_django_nor_fs(tmp_path: Path) -> None:
    # pytest imports every pytest11 plugin in every run, Django project or not.
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    code = (
        "import sys, pytest\n"
        "args = ['-q', '-p', 'no:django', '-p', 'no:cacheprovider', 'test_plain.py']\n"
        "code = pytest.main(args)\n"
        "assert code == 0, code\n"
        "assert 'inmemorystorage_fs.pytest_plugin' in sys.modules\n"
        "loaded = sorted(m for m in ('django', 'fs') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)


def test_the_plugin_is_registered_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("inmemorystorage_fs")
    assert plugin is not None and plugin.__name__ == "inmemorystorage_fs.pytest_plugin"


# -- a session-scoped fixture runs outside every layer, whichever test asks first --

SESSION_CONFTEST = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages


from inmemorystorage_fs import InMemoryStorage


@pytest.fixture(scope="session")
def session_file():
    storage = storages["default"]
    InMemoryStorage(persist=True).save("world.txt", ContentFile(b"w"))
    return storage, storage.save("session.txt", ContentFile(b"s"))


@pytest.fixture(scope="module")
def module_file():
    name = storages["default"].save("module.txt", ContentFile(b"m"))
    yield name
    # Torn down inside the module's layer, as when no session fixture came between.
    assert storages["default"].exists(name)
    with open("module-teardown.txt", "w") as handle:
        handle.write("ok")
"""

# The session fixture is first asked for by the second test, once the first
# one's module (and class) layers are entered.
SESSION_FIRST_USED_BY = {
    "plain": """
def test_enters_the_module_layer(inmemory_storage, module_file):
    pass


def test_asks_first(session_file, module_file):
    check(session_file)
""",
    "marked": """
def test_enters_the_module_layer(inmemory_storage, module_file):
    pass


@pytest.mark.inmemory_storage(base_url="/marked/")
def test_asks_first(session_file, module_file):
    check(session_file)
""",
    "class": """
class TestInAClass:
    def test_enters_the_layers(self, inmemory_storage, module_file):
        pass

    def test_asks_first(self, session_file, module_file):
        check(session_file)
""",
}

SESSION_CHECK = """
import pytest
from django.core.files.storage import default_storage, storages

from inmemorystorage_fs import InMemoryStorage


def check(session_file):
    storage, name = session_file
    # The session fixture saved into the settings' storage, not a layer's ...
    assert storages["default"] is not storage
    assert not default_storage.exists(name)
    assert not InMemoryStorage(persist=True).exists("world.txt")
    # ... and the layers it stepped out of hold their files again.
    assert default_storage.exists("module.txt")
"""

SESSION_AFTER = """
from django.core.files.storage import storages

from inmemorystorage_fs import InMemoryStorage


def test_the_session_file_outlives_the_layers(session_file):
    storage, name = session_file
    assert storages["default"] is storage
    assert storage.open(name).read() == b"s"
    assert not storage.exists("module.txt")
    assert InMemoryStorage(persist=True).open("world.txt").read() == b"w"
"""


@pytest.mark.parametrize("first_used_by", sorted(SESSION_FIRST_USED_BY))
def test_a_session_fixture_runs_outside_the_layers_whichever_test_asks_for_it_first(
    project: pytest.Pytester, first_used_by: str
) -> None:
    project.makeconftest(SESSION_CONFTEST)
    project.makepyfile(
        test_a_layers=SESSION_CHECK + SESSION_FIRST_USED_BY[first_used_by],
        test_b_after=SESSION_AFTER,
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert (project.path / "module-teardown.txt").read_text() == "ok"


# -- a mistake in the settings or the ini file stops the run with one clear line --


def no_traceback(result: pytest.RunResult) -> None:
    output = "\n".join([*result.outlines, *result.errlines])
    assert "Traceback" not in output and "INTERNALERROR" not in output, output


def test_a_bool_ini_value_pytest_cannot_read_is_a_usage_error_naming_it(
    project: pytest.Pytester,
) -> None:
    project.makeini(INI.format(extra="inmemorystorage_strict = maybe"))
    project.makepyfile(test_any="def test_one():\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines == [
        "ERROR: inmemorystorage_strict = maybe: not a bool. Use true or false "
        "(pytest also reads yes, no, on, off, 1, 0, y, n, t, f).",
        "",
    ]
    no_traceback(result)


BAD_SETTINGS = """
from tests.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage", "OPTIONS": {"base_ulr": "/m/"}},
    "private": {"BACKEND": "inmemorystorage_fs.InMemoryStorage", "OPTION": {}},
}
"""


@needs_aliases  # tests.settings' private alias
def test_bad_storages_settings_and_a_misspelt_alias_stop_the_run_before_any_test(
    project: pytest.Pytester,
) -> None:
    # pytest-django runs no system checks: without this, every test would pass.
    project.makepyfile(bad_settings=BAD_SETTINGS, test_any="def test_one():\n    pass\n")
    extra = "inmemorystorage_aliases = default privte"
    project.makeini(INI.format(extra=extra))
    result = project.runpytest_subprocess("--ds=bad_settings", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines == [
        "ERROR: inmemorystorage_fs: fix these settings before the tests run:",
        "  STORAGES['default']['OPTIONS'] has the option 'base_ulr', which InMemoryStorage "
        "does not take. Did you mean 'base_url'? Use one of: allow_overwrite, "
        "alternative_names, backend, base_url, default_acl, directory_permissions_mode, "
        "file_permissions_mode, location, max_size, object_parameters, persist, "
        "querystring_auth, querystring_expire. (inmemorystorage_fs.E002)",
        "  STORAGES['private'] has the key 'OPTION', which Django ignores. Did you mean "
        "'OPTIONS'? Use one of: BACKEND, OPTIONS. (inmemorystorage_fs.E011)",
        "  inmemorystorage_aliases = default privte: 'privte' is not a STORAGES alias. "
        "Did you mean 'private'? Use __all__ or some of: default, staticfiles, private, "
        "exports, vault.",
        "",
    ]
    no_traceback(result)


STRICT_HINT_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from inmemorystorage_fs.testing import RealStorageUsed


def write_private():
    with pytest.raises(RealStorageUsed) as raised:
        storages["private"].save("x.txt", ContentFile(b"x"))
    with open("hints.txt", "a") as hints:  # the test's own output is in the way of print()
        hints.write(str(raised.value).split("). ", 1)[1] + "\\n")


def test_configured_in_the_ini_file(inmemory_storage):
    write_private()


@pytest.mark.inmemory_storage(base_url="/m/")
def test_marked():
    write_private()
"""


@needs_aliases  # tests.settings' private alias
def test_real_storage_used_says_how_the_run_asked_for_strict_mode(
    project: pytest.Pytester,
) -> None:
    project.makeini(INI.format(extra="inmemorystorage_strict = true"))
    project.makepyfile(test_strict=STRICT_HINT_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    hints = (project.path / "hints.txt").read_text().splitlines()
    assert hints == [
        "Put it in memory with inmemorystorage_aliases = ... or inmemorystorage_fields "
        "= true in the pytest ini file (or --inmemorystorage-all), or let it through with "
        "@pytest.mark.inmemory_storage(allow=['django.core.files.storage.filesystem."
        "FileSystemStorage']).",
        "Put it in memory with @pytest.mark.inmemory_storage(aliases=..., fields=True), "
        "or let it through with @pytest.mark.inmemory_storage(allow=['django.core.files."
        "storage.filesystem.FileSystemStorage']).",
    ]
