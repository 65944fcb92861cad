"""The operations record: what a view and a model did to the storages, and asserting on it."""

import errno
import io
import json
import pickle

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs._record import RECORD_CAP
from inmemorystorage_fs.testing import RecordingOff, fresh_storage
from tests.helpers import needs_aliases
from tests.testapp.models import Document

pytestmark = pytest.mark.django_db


def upload(client, name="report.txt", data=b"quarterly figures"):  # type: ignore[no-untyped-def]
    response = client.post("/documents/", {"upload": SimpleUploadedFile(name, data)})
    assert response.status_code == 200, response.content
    return response.json()["name"]


def test_a_view_s_upload_and_download_are_recorded_with_owner_bytes_and_caller(
    client, inmemory_operations
):  # type: ignore[no-untyped-def]
    name = upload(client)
    response = client.get(f"/files/{name}")
    assert b"".join(response.streaming_content) == b"quarterly figures"
    response.close()

    saves = inmemory_operations.matching("save")
    assert [(o.name, o.bytes, o.owner) for o in saves] == [(name, 17, "default")]
    # The first frame outside Django and this package: the view's form.save().
    assert saves[0].caller.startswith("tests/testapp/views.py:")
    reads = inmemory_operations.matching("read", name)
    assert [o.bytes for o in reads] == [17]
    # The response streams the file as this test consumes it: the test read it.
    assert reads[0].caller.startswith("tests/test_record.py:")
    inmemory_operations.assert_saved("documents/*", count=1)
    inmemory_operations.assert_read("documents/*")
    inmemory_operations.assert_not_read("avatars/**")
    stats = inmemory_operations.stats()
    assert (stats.counts["save"], stats.bytes_written, stats.bytes_read) == (1, 17, 17)
    # The storage's own calls while saving (exists() for a free name) are not operations.
    assert "exists" not in stats.counts


def test_failures_show_the_record_in_the_style_of_assert_exists(client, inmemory_operations):  # type: ignore[no-untyped-def]
    name = upload(client)
    with pytest.raises(AssertionError) as failed:
        default_storage.assert_saved("avatars/*")
    message = str(failed.value)
    assert message.startswith("Expected a save matching 'avatars/*', found 0\n")
    assert "The record holds:\n" in message
    assert f"save       {name!r} 17 B [default] at tests/testapp/views.py:" in message
    with pytest.raises(AssertionError, match=r"Expected 2 saves matching 'documents/\*', found 1"):
        inmemory_operations.assert_saved("documents/*", count=2)
    with pytest.raises(AssertionError, match="Expected nothing written, found 1: save"):
        inmemory_operations.assert_nothing_written()
    with pytest.raises(AssertionError, match="Expected a delete matching"):
        inmemory_operations.assert_deleted("**")
    Document.objects.get().upload.delete()
    inmemory_operations.assert_deleted(name)


def test_a_handle_never_closed_loses_no_bytes(inmemory_storage):  # type: ignore[no-untyped-def]
    with inmemory_storage.recording() as record:
        inmemory_storage.save("big.bin", ContentFile(b"x" * 5000))
        handle = inmemory_storage.open("big.bin")
        handle.read(1000)
        assert record.stats().bytes_read == 1000
        handle.read(10)
        writer = inmemory_storage.open("log.txt", "w")
        writer.write("é" * 3)  # 6 bytes of UTF-8
    assert record.stats().bytes_read == 1010
    assert record.stats().bytes_written == 5006
    # One read per handle, however many calls, kept where the first one happened.
    assert [(o.op, o.bytes) for o in record] == [
        ("save", 5000),
        ("open", 0),
        ("read", 1010),
        ("open", 0),
        ("write", 6),
    ]
    assert record[3].mode == "w"
    handle.close()
    writer.close()


def handle_script(storage):  # type: ignore[no-untyped-def]
    """Return what a series of handle calls gives (results and exceptions), in order."""
    out = []

    def attempt(call):  # type: ignore[no-untyped-def]
        try:
            out.append(call())
        except Exception as exc:
            out.append(type(exc).__name__)

    storage.save("t.txt", ContentFile("line one\nline two\n"))
    with storage.open("t.txt", "rb") as f:
        attempt(lambda: f.read(4))
        attempt(lambda: f.readline())
        attempt(lambda: f.write(b"no"))
        attempt(lambda: f.writable())
        attempt(lambda: f.seek(-1))
        attempt(lambda: list(f))
    with storage.open("t.txt", "r") as f:
        attempt(lambda: f.readlines())
    with storage.open("t.txt", "a") as f:
        attempt(lambda: f.write("three\n"))
        attempt(lambda: f.read())
    with storage.open("t.txt", "rb") as f:
        attempt(lambda: f.read())
    f.close()
    attempt(lambda: f.read())
    return out


def test_recorded_handles_behave_as_file_system_storage_s(tmp_path):  # type: ignore[no-untyped-def]
    disk = handle_script(FileSystemStorage(location=tmp_path))
    plain = handle_script(InMemoryStorage())
    recorded = InMemoryStorage()
    with recorded.recording() as record:
        watched = handle_script(recorded)
    assert watched == plain == disk
    assert record.stats().bytes_read > 0


def test_the_cap_keeps_the_first_operations_and_counts_the_rest() -> None:
    storage = InMemoryStorage()
    with storage.recording() as record:
        for _ in range(RECORD_CAP + 5):
            storage.exists("x")
    assert len(record) == RECORD_CAP
    assert record.stats().counts == {"exists": RECORD_CAP + 5}
    assert str(record).endswith(
        f"the record stopped at its cap of {RECORD_CAP:,} operations: 5 later ones are in "
        "stats() only"
    )
    with pytest.raises(AssertionError, match="5 later ones are in stats"):
        record.assert_saved("x")


def test_recording_is_off_unless_asked_for_and_says_how() -> None:
    with fresh_storage() as storage:
        storage.save("a.txt", ContentFile(b"a"))
        with pytest.raises(RecordingOff, match=r"fresh_storage\(record=True\)"):
            storage.assert_saved("a.txt")
        assert "_watch" not in vars(storage)  # nothing watches it: no wrapper, no cost
    with fresh_storage(record=True) as storage:
        storage.save("a.txt", ContentFile(b"a"))
        storage.assert_saved("a.txt")
        assert [o.op for o in storage.operations] == ["save"]
    assert "_watch" not in vars(storage)  # the record ended with its scope


def test_a_recording_block_inside_a_recorded_scope_sees_its_own_operations() -> None:
    with fresh_storage(record=True) as storage:
        storage.save("before.txt", ContentFile(b"1"))
        with storage.recording() as block:
            storage.save("during.txt", ContentFile(b"2"))
        storage.save("after.txt", ContentFile(b"3"))
        assert [o.name for o in block] == ["during.txt"]
        assert [o.name for o in storage.operations] == ["before.txt", "during.txt", "after.txt"]


def test_mark_and_diff_say_what_a_view_wrote(client, inmemory_storage):  # type: ignore[no-untyped-def]
    inmemory_storage.save("keep.txt", ContentFile(b"same"))
    inmemory_storage.save("edit.txt", ContentFile(b"old"))
    inmemory_storage.save("gone.txt", ContentFile(b"bye"))
    mark = inmemory_storage.mark()
    name = upload(client)
    with inmemory_storage.open("edit.txt", "wb") as handle:
        handle.write(b"new")
    inmemory_storage.delete("gone.txt")
    diff = inmemory_storage.diff(mark)
    assert (diff.added, diff.changed, diff.removed) == ([name], ["edit.txt"], ["gone.txt"])
    assert str(diff) == f"+ {name}\n~ edit.txt\n- gone.txt"
    assert not inmemory_storage.diff(inmemory_storage.mark())
    with pytest.raises(TypeError, match="diff\\(\\) takes what mark\\(\\) returned"):
        inmemory_storage.diff({})  # type: ignore[arg-type]


@pytest.mark.inmemory_storage(persist=True, location="/srv/media/sub")
def test_diff_of_a_persistent_storage_sees_its_location_only() -> None:
    outside = InMemoryStorage(persist=True, location="/srv/media")
    mark = default_storage.mark()
    default_storage.save("in.txt", ContentFile(b"1"))
    outside.save("out.txt", ContentFile(b"2"))
    assert default_storage.diff(mark).added == ["in.txt"]


@needs_aliases
def test_one_call_shows_which_alias_or_field_did_what() -> None:
    from tests.billing.models import Invoice

    with fresh_storage(aliases="__all__", fields=True, record=True) as storage:
        layer_ops = storage.operations  # the default storage's own record
        invoice = Invoice(pdf=ContentFile(b"%PDF", name="a.pdf"))
        invoice.thumb.save("t.png", ContentFile(b"png"), save=False)
        invoice.save()
        storage.save("x.txt", ContentFile(b"x"))
        storages["private"].assert_saved("invoices/a*.pdf")
        from inmemorystorage_fs._layers import entered_layers

        everything = entered_layers()[-1].operations()
        owners = [(o.op, o.owner) for o in everything if o.op == "save"]
        assert owners == [
            ("save", "billing.Invoice.thumb"),
            ("save", "private"),
            ("save", "default"),
        ]
        assert [o.name for o in layer_ops] == ["x.txt"]
        everything.of("private").assert_saved("invoices/*", count=1)
        with pytest.raises(KeyError, match="No recorded storage is 'privat'"):
            everything.of("privat")


def test_jsonl_lines_hold_every_field() -> None:
    storage = InMemoryStorage()
    with storage.recording() as record:
        storage.save("a.txt", ContentFile(b"abc"))
        storage.url("a.txt")
        storage.get_modified_time("a.txt")
    rows = [json.loads(line) for line in record.jsonl().splitlines()]
    assert [row["op"] for row in rows] == ["save", "url", "get_modified_time"]
    assert set(rows[0]) == {"op", "name", "mode", "bytes", "time", "owner", "caller", "error"}
    assert rows[0]["caller"].startswith("tests/test_record.py:")


def test_a_recording_storage_pickles_without_its_record() -> None:
    storage = InMemoryStorage()
    storage.save("a.txt", ContentFile(b"abc"))
    with storage.recording():
        copy = pickle.loads(pickle.dumps(storage))
    assert copy.open("a.txt").read() == b"abc"
    with pytest.raises(RecordingOff):
        copy.operations  # noqa: B018
    assert isinstance(copy.open("a.txt").file, io.BytesIO)  # no watched handle


def test_a_file_served_by_the_package_s_view_is_recorded_as_read_and_its_faults_answer(
    client, inmemory_operations, inmemory_storage
):  # type: ignore[no-untyped-def]
    # views.serve reads a plain storage in one tree lookup; a watched one goes
    # through open(), so the served read is in the record and a fault reaches it.
    name = upload(client)
    response = client.get(f"/media/{name}")
    assert b"".join(response.streaming_content) == b"quarterly figures"
    reads = inmemory_operations.matching("read", name)
    assert [o.bytes for o in reads] == [17]
    # As static.serve's open() would on a disk: the I/O error is raised (a 500), not a 404.
    with inmemory_storage.fail_on("open", name):
        with pytest.raises(OSError) as raised:
            client.get(f"/media/{name}")
    assert raised.value.errno == errno.EIO
    assert client.get("/media/documents/missing.txt").status_code == 404
