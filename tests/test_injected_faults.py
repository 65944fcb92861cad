"""Injected faults: ``fail_on()`` and ``faults=``, through a real import view and its models."""

import errno

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import fresh_storage
from tests.helpers import STORAGE_KINDS as STORAGES
from tests.helpers import files_of, needs_aliases
from tests.testapp.models import Document

pytestmark = pytest.mark.django_db

FILES = [(f"row{i}.csv", bytes([65 + i]) * 1000) for i in range(4)]


def post_import(client):  # type: ignore[no-untyped-def]
    uploads = [SimpleUploadedFile(name, data) for name, data in FILES]
    return client.post("/imports/", {"files": uploads})


def test_an_injected_save_failure_runs_the_app_s_error_handling(client, inmemory_storage):  # type: ignore[no-untyped-def]
    inmemory_storage.fail_on("save", "documents/row2.csv")
    response = post_import(client)
    assert response.status_code == 503
    assert response.json()["errno"] == errno.EIO
    assert "documents/row2.csv" in response.json()["error"]
    assert Document.objects.count() == 0  # the app rolled back its rows...
    assert files_of(inmemory_storage) == {}  # ...and files; no partial row2.csv was left
    # times=1: spent, so the next import goes through.
    assert post_import(client).json()["imported"] == 4


@pytest.mark.inmemory_storage(record=True)
def test_the_record_shows_the_injected_failure(client) -> None:  # type: ignore[no-untyped-def]
    with default_storage.fail_on("save", "documents/row1*"):
        post_import(client)
    failed = [o for o in default_storage.operations if o.error]
    assert [(o.op, o.name) for o in failed] == [("save", "documents/row1.csv")]
    assert failed[0].error == (
        "OSError: [Errno 5] Input/output error: 'documents/row1.csv' (injected)"
    )
    default_storage.assert_saved("documents/row0.csv")
    default_storage.assert_deleted("documents/row0.csv")  # the view's own clean-up


@pytest.mark.parametrize("kind", STORAGES)
@pytest.mark.parametrize("overwrite", [False, True])
def test_an_injected_save_failure_leaves_no_partial_file(tmp_path, kind, overwrite) -> None:  # type: ignore[no-untyped-def]
    storage = STORAGES[kind](tmp_path, allow_overwrite=overwrite)
    storage.save("keep/old.bin", ContentFile(b"old"))
    before = files_of(storage)
    chunks = ContentFile(b"x" * 200_000)  # several chunks: the fault comes after the first
    for name in ("new/file.bin", "keep/old.bin"):
        with storage.fail_on("save"), pytest.raises(OSError) as raised:
            storage.save(name, chunks)
        assert raised.value.errno == errno.EIO
        assert files_of(storage) == before
    assert storage.listdir("") == (["keep"], [])


OPS = {
    "exists": lambda s: s.exists("a/x.txt"),
    "size": lambda s: s.size("a/x.txt"),
    "listdir": lambda s: s.listdir("a"),
    "url": lambda s: s.url("a/x.txt"),
    "delete": lambda s: s.delete("a/x.txt"),
    "get_modified_time": lambda s: s.get_modified_time("a/x.txt"),
    "get_created_time": lambda s: s.get_created_time("a/x.txt"),
    "get_accessed_time": lambda s: s.get_accessed_time("a/x.txt"),
    "open": lambda s: s.open("a/x.txt"),
    "read": lambda s: s.open("a/x.txt").read(),
    "write": lambda s: s.open("a/x.txt", "ab").write(b"more"),
}


@pytest.mark.parametrize("op", OPS)
def test_every_op_fails_as_asked_then_works_again(op) -> None:  # type: ignore[no-untyped-def]
    storage = InMemoryStorage(base_url="/m/")
    storage.save("a/x.txt", ContentFile(b"data"))
    storage.save("b/x.txt", ContentFile(b"data"))
    name = "a" if op == "listdir" else "a/x.txt"
    with storage.fail_on(op, "a" if op == "listdir" else "a/**", times=2, after=1):
        OPS[op](storage)  # after=1: the first passes
        if op == "delete":
            storage.save("a/x.txt", ContentFile(b"data"))
        for _ in range(2):
            with pytest.raises(OSError) as raised:
                OPS[op](storage)
            assert (raised.value.errno, raised.value.filename) == (errno.EIO, name)
        OPS[op](storage)  # times=2: spent
    assert "_watch" not in vars(storage)  # nothing left to fail: the wrappers are gone


def test_a_fault_lasts_until_its_block_or_its_times_end() -> None:
    storage = InMemoryStorage()
    storage.save("a.txt", ContentFile(b"a"))
    with storage.fail_on("exists", times=None):
        for _ in range(3):
            with pytest.raises(OSError):
                storage.exists("a.txt")
    assert storage.exists("a.txt")
    fault = storage.fail_on("size", "b.txt")
    assert storage.size("a.txt") == 1  # another name: not this fault's
    fault.cancel()
    with pytest.raises(FileNotFoundError):
        storage.size("b.txt")


def test_exc_is_an_exception_or_a_class() -> None:
    storage = InMemoryStorage()
    with storage.fail_on("url", exc=PermissionError), pytest.raises(PermissionError) as raised:
        storage.url("a.txt")
    assert (raised.value.errno, raised.value.filename) == (errno.EACCES, "a.txt")
    with storage.fail_on("url", exc=TimeoutError("S3 timed out")):
        with pytest.raises(TimeoutError, match="S3 timed out"):
            storage.url("a.txt")
    with storage.fail_on("url", exc=ValueError), pytest.raises(ValueError, match="on url"):
        storage.url("a.txt")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"op": "safe"}, "'safe' is not an operation. Did you mean 'save'?"),
        ({"op": "save", "times": 0}, "times must be a count of 1 or more, or None, not 0"),
        ({"op": "save", "after": -1}, "after must be a count of 0 or more, not -1"),
        ({"op": "save", "exc": "EIO"}, "exc must be an exception or an exception class"),
        ({"op": "save", "pattern": ""}, "pattern must be a glob such as 'docs/\\*'"),
    ],
)
def test_fail_on_refuses_bad_arguments_clearly(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError), match=f"^fail_on\\(\\): {message}"):
        InMemoryStorage().fail_on(**kwargs)


def test_disk_filled_up_halfway_through_an_import(client) -> None:  # type: ignore[no-untyped-def]
    # The recipe of docs/howto/operations-and-faults.rst: room for two rows and a half.
    with fresh_storage(max_size=2500) as storage:
        response = post_import(client)
        assert response.status_code == 503
        assert response.json()["errno"] == errno.ENOSPC
        assert files_of(storage) == {} and Document.objects.count() == 0
    # The same with an injected fault, which also works where max_size cannot
    # (an error other than ENOSPC, or the third file whatever its size).
    with fresh_storage(max_size=2500) as storage:
        storage.fail_on("save", "documents/*", after=2, exc=OSError(errno.ENOSPC, "Disk full"))
        assert post_import(client).status_code == 503
        assert files_of(storage) == {}
        # The failed save took no room: two rows fit as before.
        storage.save("a.csv", ContentFile(b"a" * 1000))
        storage.save("b.csv", ContentFile(b"b" * 1000))
        with pytest.raises(OSError) as raised:
            storage.save("c.csv", ContentFile(b"c" * 1000))
        assert raised.value.errno == errno.ENOSPC


@pytest.mark.inmemory_storage(faults=[{"op": "save", "pattern": "documents/row3.csv"}])
def test_the_marker_s_faults_keyword(client) -> None:  # type: ignore[no-untyped-def]
    assert post_import(client).status_code == 503
    assert post_import(client).json()["imported"] == 4


@needs_aliases
def test_faults_reach_swapped_aliases_and_field_storages() -> None:
    from tests.billing.models import Invoice

    faults = [
        {"op": "save", "storage": "private"},
        {"op": "url", "storage": "billing.Invoice.thumb", "times": None},
    ]
    with fresh_storage(aliases="__all__", fields=True, faults=faults):
        invoice = Invoice()
        with pytest.raises(OSError):
            invoice.pdf.save("a.pdf", ContentFile(b"%PDF"), save=False)
        assert files_of(storages["private"]) == {}
        invoice.thumb.save("t.png", ContentFile(b"png"), save=False)
        with pytest.raises(OSError):
            invoice.thumb.url  # noqa: B018
        invoice.pdf.save("a.pdf", ContentFile(b"%PDF"), save=False)  # times=1: spent
        assert invoice.pdf.url == "/private/invoices/a.pdf"
    storage_fault = "storage must be an alias or 'app_label.Model.field'"
    with pytest.raises(ImproperlyConfigured, match=storage_fault):
        fresh_storage(faults=[{"op": "save", "storage": 1}])
    with pytest.raises(ImproperlyConfigured, match="'privat' is no storage this scope put in"):
        with fresh_storage(faults=[{"op": "save", "storage": "privat"}]):
            pass


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ("save", "faults must be a list of operation names or dicts"),
        ([3], r"faults\[0\] must be an operation name or a dict, not 3"),
        ([{"op": "save", "time": 2}], r"faults\[0\] has the key 'time'. Did you mean 'times'?"),
        ([{"pattern": "*"}], r"faults\[0\] needs an 'op'"),
        (["sav"], r"faults\[0\]: 'sav' is not an operation"),
    ],
)
def test_the_faults_option_refuses_bad_shapes_clearly(faults, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImproperlyConfigured, match=message):
        fresh_storage(faults=faults)
