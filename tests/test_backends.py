"""A stand-in keeps what its django-storages backend promises: metadata, name limits, attributes.

Each rule is checked side by side with the real backend, built offline: S3's
``_get_write_parameters()`` and Azure's ``_get_content_settings_parameters()``
and ``_get_valid_path()`` are the real code computing what the service would
be sent. Google Cloud Storage computes its upload inline, with the network,
so its rule is checked against its own ``get_object_parameters()`` and
``Blob._get_content_type()``.
"""

import mimetypes
import pickle
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from google.cloud.storage import Blob
from storages.backends.azure_storage import AzureStorage
from storages.backends.gcloud import GoogleCloudStorage
from storages.backends.s3 import S3Storage

from inmemorystorage_fs import InMemoryStorage, _entries
from inmemorystorage_fs._errors import BackendAttributeError, NameTooLong
from inmemorystorage_fs._profiles import REMOTE
from inmemorystorage_fs._snapshot import restore_snapshot, take_snapshot
from inmemorystorage_fs.testing import fresh_storage

needs_billing = pytest.mark.skipif(
    not apps.is_installed("tests.billing"), reason="needs STORAGES aliases (tests.billing)"
)


def contents() -> list[object]:
    """Return the kinds of content a save gets: uploads claiming a type, and plain files."""
    return [
        SimpleUploadedFile("up.bin", b"x", content_type="text/csv"),
        SimpleUploadedFile("up.bin", b"x", content_type=""),
        ContentFile(b"x"),
    ]


NAMES = ["a/report.pdf", "b/data.csv.gz", "c/no-extension", "d/page.html", "e/x.tar.bz2"]


class OwnParameters(S3Storage):
    def get_object_parameters(self, name):
        params = super().get_object_parameters(name)
        params["ContentDisposition"] = f"attachment; filename={name.rsplit('/', 1)[-1]}"
        return params


S3_BACKENDS = [
    S3Storage(bucket_name="b"),
    S3Storage(bucket_name="b", location="media", default_acl="public-read"),
    S3Storage(
        object_parameters={"CacheControl": "max-age=60", "ACL": "private", "ContentType": "x/y"}
    ),
    OwnParameters(location="own/", object_parameters={"Metadata": {"k": "v"}}),
]


# -- metadata, side by side with the real backends --------------------------------


@pytest.mark.parametrize("backend", S3_BACKENDS, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("name", NAMES)
def test_s3_metadata_is_what_s3storage_would_send(backend, name) -> None:
    storage = InMemoryStorage(backend=backend)
    for content in contents():
        saved = storage.save(name, content)
        key = backend._normalize_name(saved)
        assert storage.metadata(saved) == backend._get_write_parameters(key, content)


@pytest.mark.parametrize(
    "backend",
    [
        AzureStorage(),
        AzureStorage(location="arch", cache_control="no-cache"),
        AzureStorage(object_parameters={"content_type": "x/y", "content_disposition": "inline"}),
    ],
)
@pytest.mark.parametrize("name", NAMES)
def test_azure_metadata_is_what_azurestorage_would_send(backend, name) -> None:
    storage = InMemoryStorage(backend=backend)
    for content in contents():
        saved = storage.save(name, content)
        key = backend._get_valid_path(saved)
        expected = backend._get_content_settings_parameters(key, content)
        assert storage.metadata(saved) == expected


@pytest.mark.parametrize("name", NAMES)
def test_gcs_metadata_follows_googlecloudstorage(name) -> None:
    backend = GoogleCloudStorage(
        location="g", object_parameters={"cache_control": "no-store"}, default_acl="publicRead"
    )
    storage = InMemoryStorage(backend=backend)
    saved = storage.save(name, SimpleUploadedFile("u", b"x", content_type="text/csv"))
    key = backend._normalize_name(saved)
    mime_type, mime_encoding = mimetypes.guess_type(key)  # GoogleCloudFile's
    expected = backend.get_object_parameters(key)
    if mime_encoding:
        expected["content_encoding"] = mime_encoding
    # GCS ignores the upload's claimed type: the blob gets the guessed one.
    expected["content_type"] = Blob(key, bucket=None)._get_content_type(mime_type)
    expected["acl"] = backend.default_acl
    assert storage.metadata(saved) == expected


def test_a_plain_storage_stores_no_metadata_as_a_disk_stores_none(tmp_path) -> None:
    storage = InMemoryStorage()
    name = storage.save("a.pdf", SimpleUploadedFile("u", b"x", content_type="text/csv"))
    assert FileSystemStorage(location=tmp_path).save("a.pdf", ContentFile(b"x")) == name
    assert storage.metadata(name) == {}


def test_without_a_backend_object_parameters_follow_s3s_rules() -> None:
    storage = InMemoryStorage(object_parameters={"CacheControl": "no-cache"}, default_acl="x")
    real = S3Storage(object_parameters={"CacheControl": "no-cache"}, default_acl="x")
    content = ContentFile(b"{}")
    name = storage.save("a.json", content)
    assert storage.metadata(name) == real._get_write_parameters(name, content)


def test_a_subclass_hook_sets_parameters_per_object() -> None:
    class PerObject(InMemoryStorage):
        def get_object_parameters(self, name):
            return {"ContentDisposition": f"inline; filename={name}"}

    storage = PerObject()
    storage.save("r.txt", ContentFile(b"x"))
    storage.assert_metadata("r.txt", ContentDisposition="inline; filename=r.txt")
    storage.assert_metadata("r.txt", ContentType="text/plain")


def test_a_file_written_through_open_gets_a_new_objects_metadata() -> None:
    backend = S3Storage(object_parameters={"CacheControl": "no-cache"})
    storage = InMemoryStorage(backend=backend)
    with storage.open("w/notes.txt", "w") as handle:
        handle.write("hi")
    assert storage.metadata("w/notes.txt") == backend._get_write_parameters("w/notes.txt")


# -- where metadata lives ---------------------------------------------------------


@pytest.fixture(params=["entries", "public API"])
def internals(request, monkeypatch):
    """Run a test on the MemoryFS fast path and on the public path it falls back to."""
    if request.param == "public API":
        monkeypatch.setattr(_entries, "MEMORY_INTERNALS", False)
    return request.param


def typed(content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("u", b"bytes", content_type=content_type)


def test_an_overwritten_file_gets_the_new_metadata(internals) -> None:
    storage = InMemoryStorage(allow_overwrite=True, backend=S3Storage())
    storage.save("f", typed("text/csv"))
    storage.save("f", typed("image/png"))
    assert storage.metadata("f")["ContentType"] == "image/png"


def test_a_deleted_file_takes_its_metadata_along(internals) -> None:
    storage = InMemoryStorage(backend=S3Storage())
    storage.save("d/f", typed("text/csv"))
    storage.delete("d")
    with pytest.raises(FileNotFoundError):
        storage.metadata("d/f")
    plain = InMemoryStorage(persist=True, location="/m")  # one disk: the same file
    shared = InMemoryStorage(persist=True, location="/m", backend=S3Storage())
    shared.save("g", typed("text/csv"))
    plain.delete("g")
    plain.save("g", ContentFile(b"new"))
    assert shared.metadata("g") == {}


def test_a_rollback_restores_metadata_with_the_bytes(internals) -> None:
    storage = InMemoryStorage(allow_overwrite=True, backend=S3Storage())
    storage.save("kept", typed("text/csv"))
    before = take_snapshot(storage.filesystem)
    storage.save("kept", typed("image/png"))
    storage.save("new", typed("image/png"))
    restore_snapshot(storage.filesystem, before)
    assert storage.metadata("kept")["ContentType"] == "text/csv"
    assert not storage.exists("new")
    storage.save("new", ContentFile(b"x"))
    assert storage.metadata("new")["ContentType"] == "application/octet-stream"


def test_pickling_keeps_metadata_with_the_files(internals) -> None:
    storage = InMemoryStorage(backend=S3Storage(default_acl="private"))
    storage.save("p.csv", ContentFile(b"x"))
    copy = pickle.loads(pickle.dumps(storage))
    assert copy.metadata("p.csv") == storage.metadata("p.csv") != {}
    copy.save("q.csv", ContentFile(b"y"))
    copy.assert_metadata("q.csv", ACL="private")


def test_metadata_of_a_missing_name_or_a_directory_raises() -> None:
    storage = InMemoryStorage(backend=S3Storage())
    storage.save("d/f", ContentFile(b"x"))
    with pytest.raises(FileNotFoundError):
        storage.metadata("nope")
    with pytest.raises(IsADirectoryError):
        storage.metadata("d")


def test_the_stored_metadata_cannot_be_changed_through_what_metadata_returns() -> None:
    storage = InMemoryStorage(object_parameters={"Metadata": {"k": "v"}})
    storage.save("f", ContentFile(b"x"))
    storage.metadata("f")["Metadata"]["k"] = "changed"
    assert storage.metadata("f")["Metadata"] == {"k": "v"}


# -- assert_metadata ------------------------------------------------------------------


def test_assert_metadata_names_each_difference_and_what_is_stored() -> None:
    storage = InMemoryStorage(object_parameters={"CacheControl": "max-age=60"})
    storage.save("r.pdf", ContentFile(b"x"))
    storage.assert_metadata("r.pdf", ContentType="application/pdf", CacheControl="max-age=60")
    with pytest.raises(AssertionError) as caught:
        storage.assert_metadata("r.pdf", ContentType="text/plain", ACL="public-read")
    assert str(caught.value) == (
        "The metadata of 'r.pdf' differs: ContentType is 'application/pdf', expected "
        "'text/plain'; ACL is missing, expected 'public-read'.\n"
        "Stored: {'CacheControl': 'max-age=60', 'ContentType': 'application/pdf'}"
    )
    with pytest.raises(AssertionError, match=r"Expected the file 'gone\.pdf'"):
        storage.assert_metadata("gone.pdf", ContentType="application/pdf")


# -- name limits --------------------------------------------------------------------


def deep(total: int, char: str = "a") -> str:
    """Return a name of *total* UTF-8 bytes in segments a disk accepts (200 bytes at most)."""
    width = len(char.encode())
    segment = char * (200 // width)
    parts, size = [], 0
    while size + len(segment.encode()) + 1 < total:
        parts.append(segment)
        size += len(segment.encode()) + 1
    parts.append("b" * (total - size))
    name = "/".join(parts)
    assert len(name.encode()) == total
    return name


@pytest.mark.parametrize("char", ["a", "é", "😀"])
def test_s3_refuses_a_key_over_1024_bytes_counting_its_location(char) -> None:
    storage = InMemoryStorage(backend=S3Storage(location="media"))
    prefix = len(b"media/")
    storage.save(deep(1024 - prefix, char), ContentFile(b"x"))
    with pytest.raises(NameTooLong, match="1025 bytes in UTF-8; S3 takes at most 1024"):
        storage.save(deep(1025 - prefix, char), ContentFile(b"x"))
    assert issubclass(NameTooLong, SuspiciousFileOperation)
    with pytest.raises(NameTooLong):
        storage.open(deep(1025 - prefix, char), "wb")


def test_google_cloud_storage_refuses_a_name_over_1024_bytes() -> None:
    storage = InMemoryStorage(backend=GoogleCloudStorage())
    storage.save(deep(1024), ContentFile(b"x"))
    with pytest.raises(NameTooLong, match="Google Cloud Storage takes at most 1024"):
        storage.save(deep(1025, "é"), ContentFile(b"x"))


@pytest.mark.parametrize("location", ["", "arch"])
def test_azure_refuses_the_names_azurestorage_refuses(location) -> None:
    backend = AzureStorage(location=location)
    storage = InMemoryStorage(backend=backend)
    for name in [
        deep(1000),
        deep(1030),
        deep(1030, "é"),
        "/".join(["s"] * 257),
        "/".join(["s"] * 258),
    ]:
        try:
            backend._get_valid_path(name)
        except ValueError as real:
            with pytest.raises(ValueError, match=str(real)):
                storage.save(name, ContentFile(b"x"))
        else:
            storage.save(name, ContentFile(b"x"))


def test_a_disks_stand_in_keeps_the_disks_limits_not_s3s(tmp_path) -> None:
    name = deep(1500)  # fits a disk's PATH_MAX (4096)
    assert FileSystemStorage(location=tmp_path).save(name, ContentFile(b"x")) == name
    assert InMemoryStorage().save(name, ContentFile(b"x")) == name
    with pytest.raises(NameTooLong):
        InMemoryStorage(backend=S3Storage()).save(name, ContentFile(b"x"))


# -- attributes of the backend's SDK ---------------------------------------------------


@pytest.mark.parametrize("backend", [S3Storage(), GoogleCloudStorage(), AzureStorage()])
def test_an_sdk_attribute_raises_a_clear_error(backend) -> None:
    storage = InMemoryStorage(backend=backend)
    for attribute in REMOTE[
        {"S3Storage": "s3", "GoogleCloudStorage": "gcs"}.get(type(backend).__name__, "azure")
    ]:
        assert isinstance(getattr(type(backend), attribute), property)  # the real one has it
        with pytest.raises(BackendAttributeError) as caught:
            getattr(storage, attribute)
        message = str(caught.value)
        assert f"has no {attribute!r}" in message
        assert type(backend).__name__ in message and "InMemoryStorage" in message
        assert not hasattr(storage, attribute)
    with pytest.raises(AttributeError) as other:
        storage.nothing_like_this  # noqa: B018
    assert type(other.value) is AttributeError


@needs_billing
def test_a_swapped_fields_sdk_attribute_names_the_original() -> None:
    field = apps.get_model("billing", "Statement")._meta.get_field("report")
    with fresh_storage(fields=True):
        with pytest.raises(BackendAttributeError, match=r"for ReportStorage, and has no 'bucket'"):
            field.storage.bucket  # noqa: B018
    assert type(field.storage).__name__ == "ReportStorage"


# -- options ----------------------------------------------------------------------------


def test_bad_options_are_refused_at_construction() -> None:
    with pytest.raises(ImproperlyConfigured, match="object_parameters must be a dict"):
        InMemoryStorage(object_parameters=[("ACL", "x")])
    with pytest.raises(ImproperlyConfigured, match="default_acl must be a str"):
        InMemoryStorage(default_acl=True)
    with pytest.raises(ImproperlyConfigured, match="backend must be a storage of a family"):
        InMemoryStorage(backend=Storage())
    with pytest.raises(ImproperlyConfigured, match="has no meaning for FileSystemStorage"):
        InMemoryStorage(backend=FileSystemStorage(), object_parameters={"ACL": "private"})
    with pytest.raises(ImproperlyConfigured, match="cannot be imported"):
        InMemoryStorage(backend="storages.backends.s3.Nope")
    with pytest.raises(ImproperlyConfigured, match="no meaning for AzureStorage"):
        InMemoryStorage(backend=AzureStorage(), default_acl="private")


def test_a_backend_named_by_its_path_is_built_from_the_settings(settings) -> None:
    settings.AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "max-age=5"}
    storage = InMemoryStorage(backend="storages.backends.s3.S3Storage")
    storage.save("x.txt", ContentFile(b"x"))
    storage.assert_metadata("x.txt", CacheControl="max-age=5", ContentType="text/plain")


# -- served as the service sends it --------------------------------------------------------


def statement_url(field: str, name: str) -> str:
    """Return the billing view's URL of *name*, signed as the field's storage signs its URLs."""
    storage = apps.get_model("billing", "Statement")._meta.get_field(field).storage
    query = urlsplit(storage.url(name)).query
    return f"/billing/statements/{field}/{name}" + (f"?{query}" if query else "")


@needs_billing
@pytest.mark.django_db
def test_the_view_sends_the_stored_headers_of_each_backend(client: Client) -> None:
    with fresh_storage(fields=True):
        response = client.post(
            "/billing/statements/",
            {
                "report": SimpleUploadedFile("may.pdf", b"%PDF", content_type="application/x-pdf"),
                "export": SimpleUploadedFile("may.csv", b"a,b", content_type="text/plain"),
                "archive": SimpleUploadedFile("may.zip", b"PK", content_type="application/zip"),
            },
        )
        assert response.status_code == 200
        # S3 and GCS sign their URLs (querystring_auth): unsigned, the file is refused.
        assert client.get("/billing/statements/report/monthly/may.pdf").status_code == 403
        report = client.get(statement_url("report", "monthly/may.pdf"))
        assert report["Content-Type"] == "application/x-pdf"  # what the browser claimed
        assert report["Cache-Control"] == "max-age=86400"
        assert report["Content-Disposition"] == 'attachment; filename="may.pdf"'
        assert report["x-amz-meta-team"] == "billing"
        export = client.get(statement_url("export", "csv/may.csv"))
        assert export["Content-Type"] == "text/csv"  # GCS guesses from the name
        assert export["Cache-Control"] == "no-store"
        archive = client.get(statement_url("archive", "zips/may.zip"))
        assert archive["Content-Type"] == "application/zip"
        assert archive["Cache-Control"] == "public, max-age=600"
        assert archive["Content-Language"] == "en"
        assert "Content-Encoding" not in archive


@needs_billing
@pytest.mark.django_db(transaction=True)
def test_a_live_server_sends_them_over_real_http(live_server) -> None:
    field = apps.get_model("billing", "Statement")._meta.get_field("report")
    with fresh_storage(fields=True):
        name = field.storage.save("monthly/june.pdf", ContentFile(b"%PDF-1.4"))
        url = live_server.url + statement_url("report", name)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"%PDF-1.4"
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.headers["Cache-Control"] == "max-age=86400"
            assert response.headers["Content-Disposition"] == 'attachment; filename="june.pdf"'


def test_an_attribute_error_raised_inside_a_property_keeps_its_own_message() -> None:
    # A lookup hook for the SDK attributes would answer for every failed
    # attribute, turning "Settings has no MEDIA_URL" (a settings change racing
    # a thread) into "the storage has no base_url".
    class Regional(InMemoryStorage):
        @property
        def region(self) -> str:
            return str(self.region_setting)  # type: ignore[attr-defined]

    with pytest.raises(AttributeError, match="'region_setting'"):
        Regional().region  # noqa: B018
    s3 = InMemoryStorage(backend="storages.backends.s3.S3Storage")
    with pytest.raises(BackendAttributeError, match="'bucket'"):
        s3.bucket  # noqa: B018
    assert not hasattr(InMemoryStorage(), "bucket")
