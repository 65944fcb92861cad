"""Every storage in memory under the pytest plugin: pytest runs of tests of tests.billing.

Each run is a pytester subprocess inside this project's settings, whose
``tests.billing`` app keeps files on real storages under
``settings.DISK``; the tests below check that nothing lands there.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from inmemorystorage_fs._dumps import folder_name as dump_name
from tests.helpers import needs_aliases

# The pytester projects use tests.settings' aliases and the billing app.
pytestmark = needs_aliases

REPO = Path(__file__).resolve().parent.parent
DISK = Path(settings.DISK)

INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
{extra}
"""

UPLOAD = """
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.storage import default_storage

from inmemorystorage_fs import InMemoryStorage
from tests.billing.models import Invoice


def post_invoice(client):
    response = client.post(
        "/billing/invoices/",
        {
            "pdf": SimpleUploadedFile("inv.pdf", b"%PDF-1 invoice"),
            "scan": SimpleUploadedFile("scan.png", b"scan bytes"),
            "thumb": SimpleUploadedFile("thumb.png", b"thumb bytes"),
        },
    )
    assert response.status_code == 200, response.content
    invoice = Invoice.objects.get()
    for field, data in [("pdf", b"%PDF-1 invoice"), ("scan", b"scan bytes"),
                        ("thumb", b"thumb bytes")]:
        file = getattr(invoice, field)
        assert isinstance(file.storage, InMemoryStorage), field
        with file.open("rb") as handle:
            assert handle.read() == data, field
    assert invoice.pdf.storage.location == f"{settings.DISK}/private"
    assert invoice.pdf.url.startswith("/private/invoices/")
    assert invoice.thumb.storage.location == f"{settings.DISK}/thumbs"
    assert invoice.thumb.url.startswith("/thumbs/thumbs/")
    assert not default_storage.exists(invoice.pdf.name)
    return invoice
"""

MARKED = """
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from inmemorystorage_fs import InMemoryStorage
from tests.billing.models import Invoice
from upload import post_invoice

EVERYTHING = pytest.mark.inmemory_storage(aliases="__all__", fields=True)


@EVERYTHING
@pytest.mark.django_db
def test_upload_goes_to_memory(client):
    invoice = post_invoice(client)
    # one replacement per storage: a field holding an alias's storage holds its replacement
    assert invoice.pdf.storage is storages["private"]
    assert invoice.scan.storage is storages["exports"]


def thumbs():
    return Invoice._meta.get_field("thumb").storage


@pytest.fixture(scope="class")
def originals():
    assert isinstance(storages["private"], InMemoryStorage)
    assert isinstance(thumbs(), InMemoryStorage)
    storages["private"].save("kept/p.txt", ContentFile(b"private"))
    thumbs().save("t.png", ContentFile(b"thumb"))


@EVERYTHING
@pytest.mark.usefixtures("originals")
class TestRolledBack:
    def test_changes(self):
        storages["private"].delete("kept/p.txt")
        with thumbs().open("t.png", "wb") as handle:
            handle.write(b"changed")
        storages["private"].save("new.txt", ContentFile(b"new"))
        assert not storages["private"].exists("kept/p.txt")

    def test_sees_the_originals(self):
        with storages["private"].open("kept/p.txt") as handle:
            assert handle.read() == b"private"
        with thumbs().open("t.png") as handle:
            assert handle.read() == b"thumb"
        assert not storages["private"].exists("new.txt")
"""


def disk_state() -> dict[str, bytes | None]:
    """Return every directory (None) and file (its bytes) under DISK."""
    state: dict[str, bytes | None] = {}
    for root, dirs, files in os.walk(DISK):
        for name in dirs:
            state[os.path.relpath(os.path.join(root, name), DISK)] = None
        for name in files:
            path = os.path.join(root, name)
            state[os.path.relpath(path, DISK)] = Path(path).read_bytes()
    return state


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Return a pytester folder that can import this repository's Django test project."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(upload=UPLOAD)
    return pytester


@pytest.fixture
def untouched_disk() -> Iterator[None]:
    """Assert that the test leaves the real storages' folder exactly as it found it."""
    before = disk_state()
    yield
    after = disk_state()
    assert after == before
    assert [name for name, data in after.items() if data is not None] == []


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.mark.usefixtures("untouched_disk")
def test_marker_puts_aliases_and_fields_in_memory_and_rolls_back(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_marked=MARKED)
    result = run(project)
    result.assert_outcomes(passed=3)


AUTOUSED = """
import pytest

from upload import post_invoice


@pytest.mark.django_db
def test_upload_goes_to_memory_without_a_marker(client):
    post_invoice(client)
"""


@pytest.mark.usefixtures("untouched_disk")
def test_ini_options_with_autouse_put_everything_in_memory(project: pytest.Pytester) -> None:
    extra = "inmemorystorage_aliases = __all__\ninmemorystorage_fields = true\n"
    project.makeini(INI.format(extra=extra + "inmemorystorage_autouse = true"))
    project.makepyfile(test_autoused=AUTOUSED)
    result = run(project)
    result.assert_outcomes(passed=1)


CACHED = """
import pytest


def test_refused(client, inmemory_storage):
    client.post("/billing/cache/", b"report", content_type="text/plain")


@pytest.mark.inmemory_storage(strict=True, allow=["django.core.files.storage.FileSystemStorage"])
def test_allowed(client):
    response = client.post("/billing/cache/", b"report", content_type="text/plain")
    assert response.content == b"reports/report.txt"
"""


def test_strict_flag_fails_a_write_through_a_module_level_storage(
    project: pytest.Pytester,
) -> None:
    cache = DISK / "cache"
    assert not cache.exists()
    disk_existed = DISK.exists()
    project.makepyfile(test_cached=CACHED)
    try:
        result = run(project, "--inmemorystorage-strict")
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(["*FAILED test_cached.py::test_refused - *RealStorage*"])
        output = result.stdout.str()
        assert "django.core.files.storage.filesystem.FileSystemStorage.save(" in output
        assert "'reports/report.txt'" in output
        assert "a storage built elsewhere" in output
        assert (cache / "reports" / "report.txt").read_bytes() == b"report"  # the allowed one
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if not disk_existed and DISK.exists() and not os.listdir(DISK):
            DISK.rmdir()


DUMPED = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages


def test_fails(inmemory_storage):
    default_storage.save("a.txt", ContentFile(b"a"))
    storages["private"].save("p.txt", ContentFile(b"p"))
    assert False, "boom"
"""


@pytest.mark.usefixtures("untouched_disk")
def test_all_flag_dumps_the_default_and_every_other_storage_of_a_failed_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_dumped=DUMPED)
    result = run(project, "--inmemorystorage-all", "--inmemorystorage-dump=dumps")
    result.assert_outcomes(failed=1)
    dumps = project.path / "dumps"
    folder = dumps / dump_name("test_dumped.py::test_fails")
    assert files_under(folder) == ["a.txt"]
    assert (folder / "a.txt").read_bytes() == b"a"
    others = dumps / f"{folder.name}~storages"
    assert (others / "private" / "p.txt").read_bytes() == b"p"
    # the fields holding the aliases' replacements are exported under the aliases only
    assert not (others / "billing.Invoice.pdf").exists()
    assert not (others / "billing.Invoice.scan").exists()


NESTED = """
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from tests.billing.models import Invoice


def test_field_holds_the_alias_replacement(inmemory_storage):
    assert Invoice._meta.get_field("pdf").storage is storages["private"]


def test_fails(inmemory_storage):
    Invoice._meta.get_field("thumb").storage.save("t.png", ContentFile(b"t"))
    assert False, "boom"
"""


@pytest.mark.usefixtures("untouched_disk")
def test_all_flag_dumps_a_field_only_storage_and_shares_the_alias_replacement(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_nested=NESTED)
    result = run(project, "--inmemorystorage-all", "--inmemorystorage-dump=dumps")
    others = project.path / "dumps" / f"{dump_name('test_nested.py::test_fails')}~storages"
    assert files_under(others / "billing.Invoice.thumb") == ["t.png"]
    result.assert_outcomes(passed=1, failed=1)
