"""A test that touches no file hands its layer to the next test: each still starts fresh.

Real pytest runs (pytester) with autouse on: the plugin keeps an untouched
test's layer entered for the next test of the same module and class instead
of leaving it and entering an equal one.
"""

import pytest

from tests.helpers import needs_aliases
from tests.test_pytest_plugin import INI, REPO


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(INI.format(extra="inmemorystorage_autouse = true"))
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)


FIELD_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from inmemorystorage_fs import InMemoryStorage
from tests.billing.models import Invoice

PDF = Invoice._meta.get_field("pdf")


def test_touches_nothing():
    assert 1 + 1 == 2


def test_saves_through_a_field_s_own_storage():
    storage = PDF.storage
    assert isinstance(storage, InMemoryStorage)
    assert storage is storages["private"]
    assert not storage.exists("invoices/a.pdf")
    storage.save("invoices/a.pdf", ContentFile(b"%PDF"))


def test_touches_nothing_again():
    pass


def test_starts_without_the_file():
    assert not PDF.storage.exists("invoices/a.pdf")
    assert not storages["private"].exists("invoices/a.pdf")
"""


@needs_aliases  # tests.settings' private alias and the billing app
def test_untouched_tests_then_one_using_a_field_behave_as_before(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_fields=FIELD_TESTS)
    disk = project.path / "disk"
    monkeypatch.setenv("INMEMORYSTORAGE_TESTS_DISK", str(disk))
    result = run(project, "--inmemorystorage-all")
    result.assert_outcomes(passed=4)
    assert not disk.exists() or not any(disk.rglob("*.pdf"))


PERSISTENT_TESTS = """
from django.core.files.base import ContentFile

from inmemorystorage_fs import InMemoryStorage

MADE_EARLIER = InMemoryStorage(persist=True)


def test_makes_its_tree():
    assert not MADE_EARLIER.exists("a.txt")


def test_saves_through_a_storage_of_its_own():
    InMemoryStorage(persist=True).save("b.txt", ContentFile(b"b"))


def test_the_file_is_gone():
    assert not MADE_EARLIER.exists("b.txt")


def test_saves_through_a_storage_made_earlier():
    MADE_EARLIER.save("a.txt", ContentFile(b"a"))


def test_that_file_is_gone_too():
    assert not MADE_EARLIER.exists("a.txt")


def test_writes_through_the_filesystem_itself():
    MADE_EARLIER.filesystem.writetext("c.txt", "c")


def test_and_that_one():
    assert not MADE_EARLIER.exists("c.txt")
"""


def test_the_persistent_filesystem_touched_outside_the_scope_is_still_rolled_back(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_persistent=PERSISTENT_TESTS)
    run(project).assert_outcomes(passed=7)


IDENTITY_TESTS = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

SEEN = []


def test_one_touches_nothing():
    pass


def test_two_uses_its_storage():
    SEEN.append(storages["default"])
    default_storage.save("two.txt", ContentFile(b"2"))


def test_three_touches_nothing():
    pass


def test_four_gets_another_storage_without_the_file():
    assert storages["default"] is not SEEN[0]
    assert not default_storage.exists("two.txt")
"""


def test_each_test_that_uses_the_default_storage_gets_its_own(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_identity=IDENTITY_TESTS)
    run(project).assert_outcomes(passed=4)


WIDER_FIXTURE_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@pytest.fixture(scope="module")
def module_file():
    return default_storage.save("module.txt", ContentFile(b"m"))


@pytest.fixture(scope="class")
def per_test_file():
    # A class fixture of a test in no class is set up for each test.
    return default_storage.save("per-test.txt", ContentFile(b"p"))


def test_touches_nothing():
    pass


def test_asks_for_the_module_fixture_first(module_file):
    assert default_storage.listdir("")[1] == ["module.txt"]
    default_storage.delete(module_file)


def test_sees_the_module_file_again(module_file):
    assert default_storage.listdir("")[1] == ["module.txt"]


def test_a_class_fixture_s_file(per_test_file):
    assert per_test_file == "per-test.txt"


def test_the_same_class_fixture_again_gets_the_same_name(per_test_file):
    assert per_test_file == "per-test.txt"
    assert sorted(default_storage.listdir("")[1]) == ["module.txt", "per-test.txt"]


class TestInAClass:
    def test_touches_nothing(self):
        pass

    def test_starts_with_the_module_file_only(self):
        assert default_storage.listdir("")[1] == ["module.txt"]
"""


def test_a_wider_fixture_set_up_after_an_untouched_test_saves_into_its_own_scope(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_wider=WIDER_FIXTURE_TESTS)
    run(project).assert_outcomes(passed=7)


SKIPPED_TESTS = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_touches_nothing():
    pass


@pytest.mark.skip(reason="its set-up stops before the plugin's")
def test_skipped():
    pass


def test_then_saves():
    default_storage.save("a.txt", ContentFile(b"a"))


def test_last_touches_nothing():
    pass
"""


def test_a_layer_kept_for_a_skipped_test_is_left(project: pytest.Pytester) -> None:
    project.makepyfile(test_skips=SKIPPED_TESTS)
    run(project).assert_outcomes(passed=3, skipped=1)
    run(project, "-x", "-k", "not then_saves").assert_outcomes(passed=2, skipped=1)
