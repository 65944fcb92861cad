"""Models, forms and uploads through the test client, with InMemoryStorage as default storage."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from inmemorystorage_fs import InMemoryStorage
from tests.testapp.models import Archive, Document, Photo

pytestmark = pytest.mark.django_db


def png_bytes(width: int = 7, height: int = 5) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def test_default_storage_is_in_memory():
    assert isinstance(default_storage._wrapped, InMemoryStorage)


def test_filefield_saves_through_model_save():
    document = Document(owner="ann")
    document.upload.save("report.txt", ContentFile(b"quarterly"), save=False)
    document.save()
    fresh = Document.objects.get(pk=document.pk)
    assert fresh.upload.name == "documents/report.txt"
    assert default_storage.exists("documents/report.txt")
    with fresh.upload.open("rb") as handle:
        assert handle.read() == b"quarterly"
    assert fresh.upload.size == 9
    assert fresh.upload.url == "/media/documents/report.txt"


def test_callable_upload_to():
    document = Document.objects.create(owner="bob", upload=ContentFile(b"x", name="a.txt"))
    document.attachment.save("notes.txt", ContentFile(b"notes"))
    assert document.attachment.name == "owners/bob/notes.txt"
    assert default_storage.listdir("owners/bob") == ([], ["notes.txt"])


def test_imagefield_records_dimensions():
    photo = Photo()
    photo.image.save("dot.png", ContentFile(png_bytes(7, 5)), save=True)
    photo.refresh_from_db()
    assert (photo.width, photo.height) == (7, 5)
    assert photo.image.name.startswith("photos/") and photo.image.name.endswith("/dot.png")
    assert default_storage.size(photo.image.name) == len(png_bytes(7, 5))


def test_field_with_its_own_storage_keeps_files_apart():
    archive = Archive.objects.create(blob=ContentFile(b"zip", name="a.zip"))
    assert archive.blob.url == "/archive/blobs/a.zip"
    assert archive.blob.storage.exists("blobs/a.zip")
    assert not default_storage.exists("blobs/a.zip")


def test_same_upload_twice_gets_two_names():
    first = Document.objects.create(upload=ContentFile(b"1", name="same.txt"))
    second = Document.objects.create(upload=ContentFile(b"2", name="same.txt"))
    assert first.upload.name != second.upload.name
    assert first.upload.read() == b"1"
    assert second.upload.read() == b"2"


def test_modelform_upload_through_the_test_client(client):
    upload = SimpleUploadedFile("hello.txt", b"hello from the client", content_type="text/plain")
    response = client.post("/documents/", {"owner": "cat", "upload": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "documents/hello.txt"
    assert body["url"] == "/media/documents/hello.txt"
    with default_storage.open(body["name"]) as handle:
        assert handle.read() == b"hello from the client"


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=0)
def test_temporary_file_upload_through_the_test_client(client, tmp_path):
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        upload = SimpleUploadedFile("big.bin", b"\0" * 5000)
        response = client.post("/documents/", {"upload": upload})
    assert response.status_code == 200, response.content
    name = response.json()["name"]
    assert default_storage.size(name) == 5000
    # The upload went through a TemporaryUploadedFile whose file was removed after save.
    assert list(tmp_path.iterdir()) == []


def test_image_upload_through_the_test_client(client):
    upload = SimpleUploadedFile("pic.png", png_bytes(11, 3), content_type="image/png")
    response = client.post("/photos/", {"image": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["width"] == 11
    assert default_storage.exists(body["name"])


@override_settings(MEDIA_URL="/cdn/")
def test_media_url_override_reaches_field_urls():
    document = Document.objects.create(upload=ContentFile(b"x", name="u.txt"))
    assert document.upload.url == "/cdn/documents/u.txt"
