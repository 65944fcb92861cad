"""assert_no_orphans(), its mixin twin, and the end-of-test check of fresh_storage() and the mixin.

Files are uploaded through tests.testapp's views with the test client; the
rows are tests.testapp's and tests.billing's models. The same steps on
Django's FileSystemStorage (a temporary MEDIA_ROOT) give the same orphans.
"""

import unittest
import warnings
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, SimpleTestCase, TestCase, TransactionTestCase, override_settings

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import (
    InMemoryStorageMixin,
    OrphanFilesError,
    OrphanFilesWarning,
    assert_no_orphans,
    fresh_storage,
)
from tests.helpers import needs_aliases
from tests.test_models import png_bytes
from tests.testapp.models import Archive, Document, Photo

FIELDS_READ = (
    "Rows read: testapp.Document.upload, testapp.Document.attachment, testapp.Photo.image."
)
SEED = str(Path(__file__).parent / "seed")
ON_DISK = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def upload(client: Client, url: str, name: str, owner: str = "ann") -> int:
    """Post *name* to the view at *url* as *owner*'s document; return the status code."""
    with SimpleUploadedFile(name, b"%PDF-1.4 " + name.encode()) as file:
        return client.post(url, {"owner": owner, "upload": file}).status_code


def leave_an_orphan(client: Client, owner: str = "ann") -> None:
    """Upload twice over a quota of one: the second row is rolled back, its file stays."""
    assert upload(client, "/quota/", "first.pdf", owner) == 200
    assert upload(client, "/quota/", "second.pdf", owner) == 409


@pytest.fixture
def on_disk(tmp_path: Path):
    """Make Django's FileSystemStorage on a temporary folder the default storage."""
    with override_settings(STORAGES={**storages.backends, **ON_DISK}, MEDIA_ROOT=str(tmp_path)):
        assert isinstance(storages["default"], FileSystemStorage)
        yield tmp_path


def failure(**kwargs: object) -> str:
    with pytest.raises(AssertionError) as raised:
        assert_no_orphans(**kwargs)  # type: ignore[arg-type]
    return str(raised.value)


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["memory", "disk"])
def test_a_rolled_back_row_leaves_an_orphan_on_our_storage_as_on_the_disk(
    client: Client, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "disk":
        request.getfixturevalue("on_disk")
    leave_an_orphan(client)
    assert Document.objects.count() == 1
    message = failure()
    assert message.startswith(
        "Expected every file of storages['default'] to be referenced by a row; "
        f"1 is not: documents/second.pdf\n{FIELDS_READ[:-1]}"
    )
    if backend == "memory":
        assert message.endswith(FIELDS_READ)
    elif apps.is_installed("tests.billing"):
        # billing.Attachment's own FileSystemStorage() is at MEDIA_ROOT too: one folder.
        assert message.endswith(", billing.Attachment.file.")
    # The view that deletes the file of a rolled-back row leaves none.
    default_storage.delete("documents/second.pdf")
    assert upload(client, "/quota/clean/", "third.pdf") == 409
    assert_no_orphans()


@pytest.mark.django_db
def test_every_field_storing_there_is_read(client: Client) -> None:
    document = Document.objects.create(owner="bob", upload=ContentFile(b"u", name="u.txt"))
    document.attachment.save("notes.txt", ContentFile(b"n"))  # the model's second field
    Photo.objects.create(image=ContentFile(png_bytes(), name="dot.png"))  # an ImageField
    Archive.objects.create(blob=ContentFile(b"zip", name="a.zip"))  # its own storage
    assert sorted(default_storage.listdir("")[0]) == ["documents", "owners", "photos"]
    assert_no_orphans()
    assert_no_orphans(default_storage)  # the lazy object the fields hold
    assert_no_orphans("default")
    Document.objects.filter(pk=document.pk).update(attachment="")  # the row forgets a file
    assert "; 1 is not: owners/bob/notes.txt\n" in failure()
    Document.objects.all().delete()  # a row naming a missing file is no orphan, either
    default_storage.delete("owners/bob/notes.txt")
    default_storage.delete("documents/u.txt")
    Document.objects.create(upload="documents/missing.txt")
    assert_no_orphans()


@pytest.mark.django_db
def test_ignore_takes_glob_patterns_and_the_message_names_them(client: Client) -> None:
    leave_an_orphan(client)
    default_storage.save("cache/thumbs/a.jpg", ContentFile(b"rendition"))
    assert "1 is not: documents/second.pdf\n" in failure(ignore=["cache/**"])
    assert_no_orphans(ignore=["cache/**", "documents/second.*"])
    assert failure(ignore=("cache/**",)).endswith(f"{FIELDS_READ} Ignored: 'cache/**'.")
    with pytest.raises(TypeError, match=r"^ignore must be a list of glob patterns, not 'cache'"):
        assert_no_orphans(ignore="cache")  # type: ignore[arg-type]


@needs_aliases
@pytest.mark.django_db
def test_an_alias_is_checked_against_the_fields_of_its_storage() -> None:
    from tests.billing.models import Contract

    with fresh_storage(aliases="__all__", fields=True):
        Contract.objects.create(file=ContentFile(b"signed", name="signed.pdf"))
        storages["vault"].save("contracts/draft.pdf", ContentFile(b"draft"))
        assert_no_orphans("default")
        with pytest.raises(AssertionError) as raised:
            assert_no_orphans("vault")
    assert str(raised.value) == (
        "Expected every file of storages['vault'] to be referenced by a row; "
        "1 is not: contracts/draft.pdf\nRows read: billing.Contract.file."
    )


@needs_aliases
@pytest.mark.django_db
def test_the_end_check_reads_each_alias_and_field_stand_in_against_its_own_fields() -> None:
    from tests.billing.models import Invoice

    with pytest.raises(OrphanFilesError) as raised:
        with fresh_storage(aliases="__all__", fields=True, orphans="error"):
            Invoice.objects.create(pdf=ContentFile(b"kept", name="kept.pdf"))
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                invoice = Invoice(pdf=ContentFile(b"lost", name="lost.pdf"))
                invoice.thumb.save("lost.png", ContentFile(png_bytes()), save=False)
                invoice.save()
                1 / 0  # noqa: B018
            storages["exports"].save("report.csv", ContentFile(b"Invoice.scan stores here"))
    lines = str(raised.value).splitlines()
    assert lines[:4] == [
        "The test wrote 3 files that no row references at its end (orphans='error'):",
        "  storages['private'], billing.Invoice.pdf: invoices/lost.pdf",
        "  storages['exports'], billing.Invoice.scan: report.csv",
        "  billing.Invoice.thumb: thumbs/lost.png",
    ]
    assert lines[4] == (
        "Rows read: billing.Invoice.pdf, billing.Invoice.scan, billing.Invoice.thumb."
    )


def test_a_storage_no_field_uses_is_a_value_error() -> None:
    with pytest.raises(ValueError) as raised:
        assert_no_orphans(InMemoryStorage())
    assert str(raised.value) == (
        "No model field stores its files in the InMemoryStorage, so no row can reference "
        "them. Pass the storage a FileField uses (with fields=True, its in-memory stand-in)."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"orphans": "loud"}, "orphans must be None, 'warn' or 'error', not 'loud'."),
        ({"orphans": True}, "orphans must be None, 'warn' or 'error', not True."),
        (
            {"orphans_ignore": "cache/**"},
            "orphans_ignore must be a list of glob patterns, not 'cache/**'.",
        ),
    ],
)
def test_a_bad_orphans_option_fails_where_it_is_given(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        fresh_storage(**options)
    assert str(raised.value) == message


# -- the end-of-test check of fresh_storage() -----------------------------------------


@pytest.mark.django_db
def test_a_fresh_storage_block_checks_the_rows_as_they_are_when_it_ends(client: Client) -> None:
    with pytest.raises(OrphanFilesError) as raised:
        with fresh_storage(orphans="error"):
            leave_an_orphan(client)
    assert str(raised.value) == (
        "The test wrote 1 file that no row references at its end (orphans='error'):\n"
        "  storages['default']: documents/second.pdf\n"
        f"{FIELDS_READ}\n"
        "Delete a file whose row is not saved (the transaction failed), or list it in "
        "orphans_ignore if no row is meant to reference it."
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fresh_storage(orphans="warn"):
            leave_an_orphan(client, "bob")
    [warning] = caught
    assert warning.category is OrphanFilesWarning
    assert "orphans='warn'" in str(warning.message)
    with fresh_storage(orphans="error", orphans_ignore=["documents/second*"]):
        leave_an_orphan(client, "cid")


@pytest.mark.django_db
def test_only_files_written_inside_the_scope_are_checked(client: Client) -> None:
    with fresh_storage(orphans="error", seed=SEED) as storage:
        assert storage.files() == ["docs/guide.txt", "hello.txt"]  # no row holds them
        assert upload(client, "/documents/", "kept.pdf") == 200
    with pytest.raises(OrphanFilesError, match=r"storages\['default'\]: docs/guide.txt\n"):
        with fresh_storage(orphans="error", seed=SEED) as storage:
            storage.delete("docs/guide.txt")  # a seed file written again is written here
            storage.save("docs/guide.txt", ContentFile(b"rewritten"))
    with pytest.raises(ZeroDivisionError):  # a block that raises is not checked
        with fresh_storage(orphans="error"):
            default_storage.save("documents/x.pdf", ContentFile(b"no row"))
            1 / 0  # noqa: B018


# -- the mixin: a cleanup run last, before Django's teardown touches the rows ---------


def run_tests(case: type[unittest.TestCase], *names: str) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.TestSuite(case(name) for name in names).run(result)
    return result


class Uploads:
    """The same tests in a TestCase and a TransactionTestCase, with orphans="error"."""

    def test_kept_row(self: TestCase) -> None:
        self.assertEqual(upload(self.client, "/documents/", "kept.pdf"), 200)

    def test_rolled_back_row(self: TestCase) -> None:
        leave_an_orphan(self.client)

    def test_rolled_back_row_cleaned_up(self: TestCase) -> None:
        self.assertEqual(upload(self.client, "/quota/clean/", "a.pdf"), 200)
        self.assertEqual(upload(self.client, "/quota/clean/", "b.pdf"), 409)

    def test_fails_first(self: TestCase) -> None:
        leave_an_orphan(self.client)
        self.fail("on purpose")

    @unittest.skip("on purpose")
    def test_skipped(self: TestCase) -> None:
        leave_an_orphan(self.client)

    def test_asserts_itself(self: TestCase) -> None:
        leave_an_orphan(self.client)
        with self.assertRaisesMessage(AssertionError, "1 is not: documents/second.pdf"):
            self.assertStorageNoOrphans()
        self.assertStorageNoOrphans(ignore=["documents/second.pdf"])
        self.storage.delete("documents/second.pdf")


class UploadsInATestCase(InMemoryStorageMixin, Uploads, TestCase):
    __test__ = False  # run by the test below, which expects its failures
    inmemory_storage_orphans = "error"


class UploadsInATransactionTestCase(InMemoryStorageMixin, Uploads, TransactionTestCase):
    __test__ = False
    inmemory_storage_orphans = "error"


class UploadsInASimpleTestCase(InMemoryStorageMixin, SimpleTestCase):
    __test__ = False  # may not read the rows: nothing is checked
    inmemory_storage_orphans = "error"

    def test_writes(self) -> None:
        default_storage.save("documents/x.pdf", ContentFile(b"no row"))


NAMES = [name for name in vars(Uploads) if name.startswith("test_")]


@pytest.mark.parametrize(
    "case", [UploadsInATestCase, UploadsInATransactionTestCase], ids=["TestCase", "Transaction"]
)
@pytest.mark.django_db(transaction=True)
def test_the_mixin_checks_the_rows_the_test_left_before_its_teardown(
    case: type[unittest.TestCase],
) -> None:
    result = run_tests(case, *NAMES)
    # Python versions disagree on whether testsRun counts a skipped test
    # (3.12.1 stopped; 3.10, 3.11 and 3.13.0 count it): either way every test ran.
    assert result.testsRun in (len(NAMES), len(NAMES) - len(result.skipped))
    assert [test.id().rpartition(".")[2] for test, _ in result.failures] == ["test_fails_first"]
    assert [test.id().rpartition(".")[2] for test, _ in result.errors] == ["test_rolled_back_row"]
    [(_, text)] = result.errors
    assert "OrphanFilesError: The test wrote 1 file that no row references at its end" in text
    assert "  storages['default']: documents/second.pdf\n" in text
    assert len(result.skipped) == 1
    assert run_tests(UploadsInASimpleTestCase, "test_writes").wasSuccessful()
