"""A layer makes its storages on first use (a lookup, a field's storage read), not before."""

import threading
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.test import override_settings

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import INHERIT, Layer, fresh_storage
from tests.helpers import needs_aliases
from tests.testapp.models import Document


def entered(options: dict[str, object] | None = None, base: object = None) -> Layer:
    layer = Layer(options or {}, base)
    layer.enter()
    return layer


def test_a_layer_makes_no_storage_until_the_default_storage_is_used() -> None:
    layer = entered()
    try:
        assert layer.named_storages() == {}
        default_storage.save("a.txt", ContentFile(b"a"))
        made = layer.named_storages()["default"]
        assert isinstance(made, InMemoryStorage)
        assert storages["default"] is made
        assert default_storage._wrapped is made
        assert made.exists("a.txt")
        assert layer.storage is made
    finally:
        layer.exit()
    assert not default_storage.exists("a.txt")


def test_storages_and_layer_storage_hand_out_the_same_storage_in_either_order() -> None:
    layer = entered()
    try:
        made = layer.storage
        assert made is not None
        assert storages["default"] is made
        assert default_storage._wrapped is made
    finally:
        layer.exit()


def test_a_layer_left_untouched_puts_back_exactly_what_was_there() -> None:
    before = storages["default"]
    layer = entered()
    layer.exit()
    assert storages["default"] is before
    assert default_storage._wrapped is before


def test_an_untouched_outer_layer_makes_its_own_storage_after_an_inner_one() -> None:
    outer = entered()
    try:
        with fresh_storage() as inner:
            default_storage.save("inner.txt", ContentFile(b"i"))
            assert storages["default"] is inner
        assert outer.named_storages() == {}
        assert storages["default"] is not inner
        assert storages["default"] is outer.storage
        assert not default_storage.exists("inner.txt")
    finally:
        outer.exit()


def test_an_outer_layer_s_files_are_back_after_an_inner_lazy_layer() -> None:
    outer = entered()
    try:
        default_storage.save("outer.txt", ContentFile(b"o"))
        inner = entered()
        assert not default_storage.exists("outer.txt")
        inner.exit()
        assert storages["default"] is outer.storage
        assert default_storage.open("outer.txt").read() == b"o"
    finally:
        outer.exit()


def test_a_lazy_layer_inherits_files_of_a_parent_it_never_made_a_storage_for() -> None:
    module = entered()
    try:
        default_storage.save("module.txt", ContentFile(b"m"))
        klass = entered(base=INHERIT)  # never touched: the test inherits through it
        test = entered(base=INHERIT)
        assert default_storage.open("module.txt").read() == b"m"
        default_storage.delete("module.txt")
        test.exit()
        klass.exit()
        assert default_storage.exists("module.txt")
    finally:
        module.exit()


def test_override_settings_inside_a_lazy_layer_wins_and_then_memory_is_back(
    tmp_path: Path,
) -> None:
    disk = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    layer = entered()
    try:
        with override_settings(STORAGES=disk, MEDIA_ROOT=str(tmp_path)):
            assert isinstance(storages["default"], FileSystemStorage)
            default_storage.save("disk.txt", ContentFile(b"d"))
        assert layer.named_storages() == {}
        default_storage.save("memory.txt", ContentFile(b"m"))
        assert storages["default"] is layer.storage
        assert [path.name for path in tmp_path.iterdir()] == ["disk.txt"]
    finally:
        layer.exit()


def test_threads_asking_first_get_one_storage() -> None:
    layer = entered()
    try:
        seen: list[object] = []
        start = threading.Barrier(8)

        def ask() -> None:
            start.wait()
            seen.append(storages["default"])

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({id(storage) for storage in seen}) == 1
        assert seen[0] is layer.storage
    finally:
        layer.exit()


@needs_aliases
def test_a_layer_with_more_than_the_default_storage_makes_them_all_on_first_use() -> None:
    layer = entered({"aliases": "__all__"})
    try:
        assert layer.named_storages() == {}
        private = storages["private"]  # any alias of the scope makes every one of them
        assert isinstance(private, InMemoryStorage)
        assert set(layer.named_storages()) == {"default", "private", "exports", "vault"}
        assert layer.named_storages()["private"] is private
        assert default_storage._wrapped is layer.storage
    finally:
        layer.exit()
    assert isinstance(storages["private"], FileSystemStorage)


@needs_aliases
def test_a_field_s_own_storage_read_first_makes_the_layer_s_storages() -> None:
    from tests.billing.models import Invoice  # installed with STORAGES only

    pdf = Invoice._meta.get_field("pdf")
    real = pdf.storage
    layer = entered({"aliases": "__all__", "fields": True})
    try:
        assert layer.named_storages() == {}
        held = pdf.storage  # read before anything else: the scope is made now
        assert isinstance(held, InMemoryStorage)
        assert held is storages["private"] is layer.named_storages()["billing.Invoice.pdf"]
    finally:
        layer.exit()
    assert pdf.storage is real


def test_fields_holding_the_default_storage_make_nothing_when_read() -> None:
    upload = Document._meta.get_field("upload")
    layer = entered({"aliases": "__all__", "fields": True})
    try:
        assert upload.storage is default_storage
        assert layer.named_storages() == {}
    finally:
        layer.exit()


@needs_aliases
def test_an_untouched_layer_of_fields_leaves_them_as_they_were_for_the_next_one() -> None:
    from tests.billing.models import Invoice  # installed with STORAGES only

    pdf = Invoice._meta.get_field("pdf")
    real = pdf.storage
    untouched = entered({"aliases": "__all__", "fields": True})
    untouched.exit()
    assert pdf.storage is real and untouched.named_storages() == {}
    touched = entered({"aliases": "__all__", "fields": True})
    try:
        name = pdf.storage.save("a.pdf", ContentFile(b"%PDF"))
        assert storages["private"].exists(name)
    finally:
        touched.exit()
    assert pdf.storage is real
    assert not real.exists(name)


@needs_aliases
def test_a_layer_made_over_an_untouched_wider_one_makes_that_one_first() -> None:
    from tests.billing.models import Invoice  # installed with STORAGES only

    pdf = Invoice._meta.get_field("pdf")
    outer = entered({"aliases": "__all__", "fields": True})
    try:
        inner = entered({}, INHERIT)
        try:
            # The outer one's field storages are in place: the inner scope is
            # of the default storage alone, so a field reaches the outer's.
            assert pdf.storage is outer.named_storages()["billing.Invoice.pdf"]
            assert storages["default"] is inner.storage is not outer.storage
        finally:
            inner.exit()
        assert storages["default"] is outer.storage
    finally:
        outer.exit()


@needs_aliases
def test_override_settings_then_a_field_read_makes_the_fields_but_the_settings_win(
    tmp_path: Path,
) -> None:
    from tests.billing.models import Invoice  # installed with STORAGES only

    pdf = Invoice._meta.get_field("pdf")
    real = pdf.storage
    disk = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    layer = entered({"aliases": "__all__", "fields": True})
    try:
        with override_settings(STORAGES=disk, MEDIA_ROOT=str(tmp_path)):
            held = pdf.storage
            assert held is layer.named_storages()["billing.Invoice.pdf"]
            assert isinstance(held, InMemoryStorage) and held.location == real.location
            name = held.save("a.pdf", ContentFile(b"%PDF"))
            assert isinstance(storages["default"], FileSystemStorage)
        assert storages["default"] is layer.storage
        assert pdf.storage is held and held.exists(name)
    finally:
        layer.exit()
    assert pdf.storage is real and not real.exists(name)
    assert list(tmp_path.iterdir()) == []


def test_a_seeded_layer_makes_its_storage_at_once_with_the_seed_files() -> None:
    seed = Path(__file__).parent / "seed"
    layer = entered({"seed": str(seed)})
    try:
        made = layer.named_storages()["default"]
        assert made.exists("hello.txt")
    finally:
        layer.exit()


def test_an_untouched_outer_layer_survives_an_inner_full_layer_and_a_settings_reset() -> None:
    outer = entered()
    try:
        inner = entered({"aliases": "__all__"}, INHERIT)  # made at once, not lazily
        with override_settings(STATIC_URL="/assets/"):  # Django resets the handler's cache
            pass
        inner.exit()
        assert storages["default"] is outer.storage
        assert isinstance(storages["default"], InMemoryStorage)
    finally:
        outer.exit()
