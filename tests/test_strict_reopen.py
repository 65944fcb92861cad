"""Strict mode catches a file reopened by path, as Django's File.open() does, like any write."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from inmemorystorage_fs.testing import RealStorageUsed, fresh_storage

from .test_every_storage import DISK

pytestmark = pytest.mark.skipif(
    not apps.is_installed("tests.billing"),
    reason="needs STORAGES aliases (not DEFAULT_FILE_STORAGE)",
)


@pytest.fixture
def invoice() -> Iterator[object]:
    """Return an invoice whose PDF is on the real disk, opened once and closed (outside strict)."""
    Invoice = apps.get_model("billing", "Invoice")
    invoice = Invoice()
    invoice.pdf.save("r.pdf", ContentFile(b"old"), save=False)
    with invoice.pdf.open("rb") as pdf:  # FieldFile keeps the closed file: reopens by path
        assert pdf.read() == b"old"
    yield invoice
    shutil.rmtree(DISK / "private", ignore_errors=True)


def on_disk() -> bytes:
    return (DISK / "private" / "invoices" / "r.pdf").read_bytes()


@pytest.mark.parametrize("mode", ["wb", "ab", "r+b", "w"])
def test_reopening_a_field_file_for_writing_is_refused_and_names_it(invoice, mode) -> None:
    with fresh_storage(strict=True), pytest.raises(RealStorageUsed) as exc_info:
        invoice.pdf.open(mode)
    message = str(exc_info.value)
    assert "FileSystemStorage.open('invoices/r.pdf')" in message
    assert "billing.Invoice.pdf" in message  # where the storage came from
    assert on_disk() == b"old"  # Django's builtin open("wb") would have emptied it


def test_reopening_a_field_file_for_reading_is_refused_only_by_strict_all(invoice) -> None:
    with fresh_storage(strict=True):
        with invoice.pdf.open("rb") as pdf:
            assert pdf.read() == b"old"  # reads stay allowed, as storage.open("x") is
    with fresh_storage(strict="all"), pytest.raises(RealStorageUsed, match=r"open\('invoices"):
        invoice.pdf.open("rb")


def test_reopening_a_storage_file_for_writing_is_refused(invoice) -> None:
    private = storages["private"]
    with fresh_storage(strict=True):
        handle = private.open("invoices/r.pdf")  # a read: allowed
        handle.close()
        with pytest.raises(RealStorageUsed, match=r"FileSystemStorage\.open\('invoices/r.pdf'\)"):
            handle.open("wb")
    assert on_disk() == b"old"
