"""Every storage in memory: STORAGES aliases, model fields' storages, one disk, strict mode."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, SimpleTestCase, TestCase, override_settings
from PIL import Image

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.checks import check_settings
from inmemorystorage_fs.testing import InMemoryStorageMixin, RealStorageUsed, fresh_storage

pytestmark = pytest.mark.skipif(
    not apps.is_installed("tests.billing"),
    reason="needs STORAGES aliases (not DEFAULT_FILE_STORAGE)",
)

DISK = Path(settings.DISK)


def disk_state() -> dict[str, bytes]:
    """Return every file the project's real storages hold, with its bytes."""
    if not DISK.exists():
        return {}
    return {str(p.relative_to(DISK)): p.read_bytes() for p in DISK.rglob("*") if p.is_file()}


@pytest.fixture(autouse=True)
def _disk_untouched() -> Iterator[None]:
    """Fail a test that leaves anything on the real disk locations."""
    before = disk_state()
    media_before = os.path.exists("/srv/media")
    yield
    assert disk_state() == before, "a test wrote to a real storage"
    assert os.path.exists("/srv/media") == media_before


def png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (3, 2), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def upload_invoice(client: Client) -> list[str]:
    response = client.post(
        "/billing/invoices/",
        {
            "pdf": SimpleUploadedFile("bill.pdf", b"%PDF-1.4"),
            "scan": SimpleUploadedFile("scan.txt", b"scanned"),
            "thumb": SimpleUploadedFile("t.png", png()),
        },
    )
    assert response.status_code == 200, response.content
    return response.content.decode().split()


def field(model: str, name: str) -> object:
    return apps.get_model("billing", model)._meta.get_field(name)


@pytest.mark.django_db
def test_every_write_of_a_real_project_lands_in_memory(client: Client) -> None:
    Invoice = apps.get_model("billing", "Invoice")
    with fresh_storage(aliases="__all__", fields=True) as default:
        _pk, pdf, scan, thumb = upload_invoice(client)
        invoice = Invoice.objects.get()
        for file, content in ((invoice.pdf, b"%PDF-1.4"), (invoice.scan, b"scanned")):
            assert isinstance(file.storage, InMemoryStorage)
            with file.open("rb") as handle:
                assert handle.read() == content
        assert invoice.thumb.width == 3 and isinstance(invoice.thumb.storage, InMemoryStorage)
        assert storages["private"].exists(pdf) and storages["exports"].exists(scan)
        assert invoice.thumb.storage.exists(thumb)
        default.save("notes.txt", ContentFile(b"n"))
        assert default_storage.exists("notes.txt")


def test_swapped_aliases_keep_their_location_and_base_url() -> None:
    with fresh_storage(aliases=["private"]):
        private = storages["private"]
        assert isinstance(private, InMemoryStorage)
        assert private.location == str(DISK / "private")
        name = private.save("a b.txt", ContentFile(b"x"))
        assert private.url(name) == "/private/a%20b.txt"


def test_the_default_is_swapped_with_its_options_and_others_only_when_named() -> None:
    real_private = storages["private"]
    with fresh_storage(max_size=10) as default:
        assert storages["default"] is default is default_storage._wrapped
        assert default.save("a.txt", ContentFile(b"x" * 10)) == "a.txt"
        assert storages["private"] is real_private  # not named: left alone


def test_staticfiles_is_swapped_only_when_named() -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    from inmemorystorage_fs.staticfiles import InMemoryStaticFilesStorage

    before = staticfiles_storage._wrapped
    with fresh_storage(aliases="__all__"):
        assert "staticfiles" not in fresh_storage_aliases()
    with fresh_storage(aliases=["default", "staticfiles"]):
        assert isinstance(storages["staticfiles"], InMemoryStaticFilesStorage)
        assert staticfiles_storage._wrapped is storages["staticfiles"]
        assert storages["staticfiles"] is not before
    assert staticfiles_storage._wrapped is before


def fresh_storage_aliases() -> list[str]:
    """Return the aliases whose storage the innermost layer installed."""
    from inmemorystorage_fs._layers import entered_layers

    swap = entered_layers()[-1].swap
    assert swap is not None
    return list(swap.storages)


def test_one_replacement_per_original_storage_object() -> None:
    pdf, scan, thumb = field("Invoice", "pdf"), field("Invoice", "scan"), field("Invoice", "thumb")
    with fresh_storage(aliases="__all__", fields=True):
        assert pdf.storage is storages["private"]  # type: ignore[attr-defined]
        assert scan.storage is storages["exports"]  # type: ignore[attr-defined]
        assert isinstance(thumb.storage, InMemoryStorage)  # type: ignore[attr-defined]
        assert thumb.storage.base_url == "/thumbs/"  # type: ignore[attr-defined]


def test_replacements_at_one_location_share_files_like_one_disk() -> None:
    attachment = field("Attachment", "file")
    with fresh_storage(fields=True):
        # A file manager saves through its own storage at MEDIA_ROOT ...
        name = attachment.storage.save("attachments/a.txt", ContentFile(b"shared"))  # type: ignore[attr-defined]
        # ... and the site reads it through the default storage.
        with default_storage.open(name) as handle:
            assert handle.read() == b"shared"


def test_storages_at_different_locations_never_collide() -> None:
    with fresh_storage(aliases="__all__"):
        storages["private"].save("same.txt", ContentFile(b"private"))
        storages["exports"].save("same.txt", ContentFile(b"exports"))
        default_storage.save("same.txt", ContentFile(b"default"))
        for alias, content in (("private", b"private"), ("exports", b"exports")):
            with storages[alias].open("same.txt") as handle:
                assert handle.read() == content


def test_each_block_starts_from_its_own_state() -> None:
    with fresh_storage(aliases="__all__"):
        storages["private"].save("first.txt", ContentFile(b"1"))
    with fresh_storage(aliases="__all__"):
        assert not storages["private"].exists("first.txt")


def test_everything_is_restored_after_the_block_even_after_an_exception() -> None:
    pdf, scan = field("Invoice", "pdf"), field("Invoice", "scan")

    def looked_up() -> tuple[object, ...]:
        return (
            storages["private"],
            default_storage._wrapped,
            pdf.storage,  # type: ignore[attr-defined]
            scan.storage,  # type: ignore[attr-defined]
            scan._storage_callable,  # type: ignore[attr-defined]
            hasattr(pdf, "_storage_callable"),
        )

    before = looked_up()
    with pytest.raises(ZeroDivisionError), fresh_storage(aliases="__all__", fields=True):
        1 / 0  # noqa: B018
    assert looked_up() == before


@pytest.mark.django_db
def test_migrations_see_no_change_while_swapped_and_after() -> None:
    with fresh_storage(aliases="__all__", fields=True):
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_instances_made_inside_the_block_use_the_replacement() -> None:
    Invoice = apps.get_model("billing", "Invoice")
    with fresh_storage(aliases="__all__", fields=True):
        invoice = Invoice.objects.create(pdf=ContentFile(b"%PDF", name="in.pdf"))
        assert isinstance(invoice.pdf.storage, InMemoryStorage)
    assert isinstance(Invoice().pdf.storage, FileSystemStorage)


# -- strict ---------------------------------------------------------------------------


def test_strict_catches_a_module_level_storage_and_names_it(client: Client) -> None:
    with fresh_storage(strict=True), pytest.raises(RealStorageUsed) as exc_info:
        client.post("/billing/cache/", b"r", content_type="text/plain")
    message = str(exc_info.value)
    assert isinstance(exc_info.value, AssertionError)
    assert "django.core.files.storage.filesystem.FileSystemStorage.save" in message
    assert "'reports/report.txt'" in message and "a storage built elsewhere" in message


def test_strict_names_the_alias_or_the_field_a_storage_came_from() -> None:
    with fresh_storage(strict=True), pytest.raises(RealStorageUsed) as exc_info:
        storages["private"].save("x.txt", ContentFile(b"x"))
    assert "STORAGES['private']" in str(exc_info.value)
    thumbs = field("Invoice", "thumb").storage  # type: ignore[attr-defined]
    with fresh_storage(strict=True), pytest.raises(RealStorageUsed) as exc_info:
        thumbs.save("x.png", ContentFile(b"x"))
    assert "tests.billing.storages.ThumbStorage.save('x.png')" in str(exc_info.value)
    assert "billing.Invoice.thumb" in str(exc_info.value)


def test_strict_refuses_deletes_and_writing_opens_but_not_reads_by_default() -> None:
    private = storages["private"]
    with fresh_storage(strict=True):
        with pytest.raises(RealStorageUsed, match=r"\.delete\('x.txt'\)"):
            private.delete("x.txt")
        with pytest.raises(RealStorageUsed, match=r"\.open\('x.txt'\)"):
            private.open("x.txt", "wb")
        assert not private.exists("x.txt")
    private.exists("x.txt")  # strict mode is off again


def test_strict_all_refuses_reads_too_but_not_the_finders() -> None:
    with fresh_storage(strict="all"):
        with pytest.raises(RealStorageUsed, match=r"exists\('x.txt'\)"):
            storages["private"].exists("x.txt")
        assert finders.find("billing/site.css")


def test_allow_lets_named_classes_through(client: Client) -> None:
    try:
        with fresh_storage(strict=True, allow=["django.core.files.storage.FileSystemStorage"]):
            response = client.post("/billing/cache/", b"r", content_type="text/plain")
        assert response.status_code == 200
        assert (DISK / "cache" / "reports" / "report.txt").read_bytes() == b"r"
    finally:
        shutil.rmtree(DISK / "cache", ignore_errors=True)


def test_swapped_storages_pass_strict_mode() -> None:
    with fresh_storage(aliases="__all__", fields=True, strict="all"):
        storages["private"].save("ok.txt", ContentFile(b"x"))
        assert storages["private"].exists("ok.txt")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"aliases": 3}, "aliases must be"),
        ({"fields": "yes"}, "fields must be"),
        ({"strict": "writes"}, "strict must be"),
        ({"allow": "x.Y"}, "allow must be"),
        ({"allow": ["no.such.Storage"]}, "cannot be imported"),
    ],
)
def test_bad_reserved_options_fail_at_once(options: dict[str, object], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        fresh_storage(**options)  # type: ignore[arg-type]


# -- rollback of class files through other aliases and fields --------------------------


class ClassFilesRollBack(InMemoryStorageMixin, TestCase):
    inmemory_storage_aliases = "__all__"
    inmemory_storage_fields = True

    @classmethod
    def setUpTestData(cls) -> None:
        storages["private"].save("class.txt", ContentFile(b"private"))
        thumb = apps.get_model("billing", "Invoice")._meta.get_field("thumb")
        thumb.storage.save("class.png", ContentFile(b"thumb"))  # type: ignore[attr-defined]

    def thumbs(self) -> InMemoryStorage:
        thumb = apps.get_model("billing", "Invoice")._meta.get_field("thumb")
        return thumb.storage  # type: ignore[attr-defined, no-any-return]

    def test_1_changes_the_class_files(self) -> None:
        storages["private"].delete("class.txt")
        self.thumbs().delete("class.png")
        self.thumbs().save("extra.png", ContentFile(b"x"))

    def test_2_still_sees_them(self) -> None:
        assert storages["private"].exists("class.txt")
        assert self.thumbs().exists("class.png") and not self.thumbs().exists("extra.png")


# -- the INMEMORYSTORAGE_TESTING checks -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([], "inmemorystorage_fs.E005"),
        ({"alias": ["default"]}, "inmemorystorage_fs.E006"),
        ({"fields": 1}, "inmemorystorage_fs.E007"),
        ({"aliases": ["default", "nowhere"]}, "inmemorystorage_fs.E008"),
    ],
)
def test_the_testing_setting_is_checked(value: object, code: str) -> None:
    with override_settings(INMEMORYSTORAGE_TESTING=value):
        found = check_settings()
    assert [m.id for m in found] == [code]
    assert all(isinstance(m, Error) for m in found)


def test_a_good_testing_setting_passes_the_checks() -> None:
    good = {"aliases": "__all__", "fields": True, "strict": "all", "allow": []}
    with override_settings(INMEMORYSTORAGE_TESTING=good):
        assert check_settings() == []


# -- a field holding an alias the settings already keep in memory (issue 19) ------------


def save_through(model: str, name: str, filename: str) -> str:
    """Save a model whose field *name* gets *filename*; return the stored name."""
    instance = apps.get_model("billing", model)(**{name: ContentFile(b"%PDF-1.4", filename)})
    instance.save()
    return str(getattr(instance, name).name)


@pytest.mark.django_db
@pytest.mark.parametrize("scope", [{"aliases": "__all__", "fields": True}, {"fields": True}])
@pytest.mark.parametrize(
    ("model", "name", "alias"),
    [("Invoice", "pdf", "private"), ("Contract", "file", "vault")],
    ids=["on-disk-alias", "in-memory-alias"],
)
def test_a_field_gets_each_scope_s_storage_whatever_its_class(
    model: str, name: str, alias: str, scope: dict[str, object]
) -> None:
    # The disk alias (FileSystemStorage) is the reference: no file of an
    # earlier scope is ever seen, so the same name is free each time.
    upload_to = field(model, name).upload_to  # type: ignore[attr-defined]
    settings_storage = storages[alias]
    names = []
    for _ in range(2):
        with fresh_storage(**scope):  # type: ignore[arg-type]
            stored = field(model, name).storage  # type: ignore[attr-defined]
            names.append(save_through(model, name, "contract.pdf"))
            assert stored.exists(f"{upload_to}contract.pdf")
            if scope.get("aliases") == "__all__":
                assert stored is storages[alias]  # assertions on the alias see the file
    assert names == [f"{upload_to}contract.pdf"] * 2
    assert field(model, name).storage is settings_storage  # type: ignore[attr-defined]
    assert not settings_storage.exists(f"{upload_to}contract.pdf")


@pytest.mark.django_db
@pytest.mark.inmemory_storage(aliases="__all__", fields=True)
@pytest.mark.parametrize("run", [1, 2])
def test_under_the_plugin_each_test_s_contract_is_its_own(run: int) -> None:
    assert save_through("Contract", "file", "contract.pdf") == "contracts/contract.pdf"
    assert storages["vault"].exists("contracts/contract.pdf")


class InMemoryAliasFieldTests(InMemoryStorageMixin, TestCase):
    inmemory_storage_aliases = "__all__"
    inmemory_storage_fields = True

    def test_1_saves_the_contract(self) -> None:
        self.assertEqual(
            save_through("Contract", "file", "contract.pdf"), "contracts/contract.pdf"
        )
        self.assertStorageExists("contracts/contract.pdf", alias="vault")

    def test_2_saves_it_again_under_the_same_name(self) -> None:
        self.assertEqual(
            save_through("Contract", "file", "contract.pdf"), "contracts/contract.pdf"
        )
        self.assertStorageExists("contracts/contract.pdf", alias="vault")


# -- options of our backend in the settings carry over (issue 19) ------------------------


def names_of_three(storage: object) -> list[str]:
    return [storage.save("notes.txt", ContentFile(b"x")) for _ in range(3)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("scope", [{"aliases": "__all__"}, {"aliases": ["vault"], "fields": True}])
def test_the_settings_options_of_an_in_memory_alias_carry_over(scope: dict[str, object]) -> None:
    # The reference: a storage made from the same STORAGES entry, outside any scope.
    reference = InMemoryStorage(**settings.STORAGES["vault"]["OPTIONS"])
    with fresh_storage(**scope):  # type: ignore[arg-type]
        replacement = storages["vault"]
        assert replacement is not reference
        assert names_of_three(replacement) == names_of_three(reference)
        assert names_of_three(replacement) == ["notes_3.txt", "notes_4.txt", "notes_5.txt"]
        assert replacement.url("a.pdf") == reference.url("a.pdf") == "/vault/a.pdf"


def test_the_settings_options_of_the_default_carry_over_and_keywords_win() -> None:
    options = {"alternative_names": "counter", "max_size": 10}
    configured = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": options},
    }
    with override_settings(STORAGES=configured):
        with fresh_storage() as storage:
            assert names_of_three(storage) == ["notes.txt", "notes_1.txt", "notes_2.txt"]
            with pytest.raises(OSError) as full:
                storage.save("big.bin", ContentFile(b"x" * 11))
            assert full.value.errno == errno.ENOSPC
        # fresh_storage's options (every storage), then its keywords (the default's) win.
        with fresh_storage(max_size=None, options={"alternative_names": "random"}) as storage:
            storage.save("big.bin", ContentFile(b"x" * 11))
            first, second, _ = names_of_three(storage)
            assert first == "notes.txt" and second.startswith("notes_") and second != "notes_1.txt"


# -- RealStorageUsed says how to fix it in the words of what turned strict mode on --

FS_STORAGE = "django.core.files.storage.filesystem.FileSystemStorage"
USED = f"{FS_STORAGE}.save('x.txt') used a real storage during the test (STORAGES['private']"


def refused_private() -> str:
    """Return the hint of the RealStorageUsed a write to STORAGES['private'] raises."""
    with pytest.raises(RealStorageUsed) as raised:
        storages["private"].save("x.txt", ContentFile(b"x"))
    # Whether the model field holding the alias is named too depends on the
    # tests run before (a STORAGES override makes a new instance): not checked.
    assert str(raised.value).startswith(USED)
    return str(raised.value).split("). ", 1)[1]


def test_real_storage_used_under_fresh_storage_names_its_keywords() -> None:
    with fresh_storage(strict=True):
        assert refused_private() == (
            "Put it in memory with fresh_storage(aliases=..., fields=True), "
            f"or let it through with allow=[{FS_STORAGE!r}]."
        )


class StrictMixinHint(InMemoryStorageMixin, SimpleTestCase):
    inmemory_storage_strict = True

    def test_real_storage_used_names_the_class_attributes(self) -> None:
        assert refused_private() == (
            "Put it in memory with inmemory_storage_aliases = [...] or "
            "inmemory_storage_fields = True on the test class, or let it through with "
            f"inmemory_storage_options = {{'allow': [{FS_STORAGE!r}]}}."
        )


@fresh_storage(strict=True)
class StrictDecoratedHint(SimpleTestCase):
    def test_real_storage_used_names_fresh_storage(self) -> None:
        assert "Put it in memory with fresh_storage(aliases=" in refused_private()
