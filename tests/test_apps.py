"""A real Django app on the in-memory storage: models, admin, responses and File."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inmemorystorage_fs import InMemoryStorage
from tests.testapp.models import Document, Photo, upload_to_owner

pytestmark = pytest.mark.django_db


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_imagefield_fills_width_and_height_from_memory():
    photo = Photo.objects.create(image=ContentFile(png(7, 3), name="tiny.png"))
    photo.refresh_from_db()
    assert (photo.width, photo.height) == (7, 3)
    assert (photo.image.width, photo.image.height) == (7, 3)
    with default_storage.open(photo.image.name) as handle:
        assert Image.open(handle).size == (7, 3)


def test_model_delete_deletes_its_file():
    photo = Photo.objects.create(image=ContentFile(png(2, 2), name="gone.png"))
    name = photo.image.name
    assert default_storage.exists(name)
    photo.delete()
    assert not default_storage.exists(name)


def test_field_delete_removes_the_file_and_clears_the_field():
    document = Document.objects.create(upload=ContentFile(b"x", name="a.txt"))
    name = document.upload.name
    document.upload.delete()
    document.refresh_from_db()
    assert not default_storage.exists(name)
    assert document.upload.name == ""


def test_admin_add_view_uploads_a_file(admin_client):
    upload = SimpleUploadedFile("report.txt", b"quarterly numbers", "text/plain")
    response = admin_client.post(
        "/admin/testapp/document/add/", {"owner": "ann", "upload": upload, "attachment": ""}
    )
    assert response.status_code == 302, response.content
    document = Document.objects.get()
    assert document.upload.name == "documents/report.txt"
    assert document.upload.read() == b"quarterly numbers"


def test_admin_change_view_shows_and_replaces_the_file(admin_client):
    document = Document.objects.create(owner="bob", upload=ContentFile(b"v1", name="plan.txt"))
    url = f"/admin/testapp/document/{document.pk}/change/"

    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'href="/media/documents/plan.txt"' in page.content

    upload = SimpleUploadedFile("plan.txt", b"v2", "text/plain")
    response = admin_client.post(url, {"owner": "bob", "upload": upload, "attachment": ""})
    assert response.status_code == 302, response.content
    document.refresh_from_db()
    assert document.upload.name != "documents/plan.txt"  # a free name, as on disk
    assert document.upload.read() == b"v2"
    assert default_storage.open("documents/plan.txt").read() == b"v1"


def test_admin_pages_render_static_urls_from_the_in_memory_static_storage(admin_client):
    page = admin_client.get("/admin/testapp/photo/add/")
    assert page.status_code == 200
    assert b'href="/static/admin/css/base.css"' in page.content


def test_file_response_serves_a_stored_file(client):
    name = default_storage.save("reports/q1.csv", ContentFile(b"a,b\n1,2\n" * 1000))
    response = client.get(f"/files/{name}?download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n" * 1000
    assert response["Content-Length"] == "8000"
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="q1.csv"'


def test_file_response_for_a_missing_file_is_an_error(client):
    with pytest.raises(FileNotFoundError):
        client.get("/files/missing.txt")


def test_file_iterates_by_lines_across_chunk_boundaries(storage):
    storage.save("lines.txt", ContentFile(b"one\ntwo\r\nthree\rfour"))
    with storage.open("lines.txt") as handle:
        handle.DEFAULT_CHUNK_SIZE = 3  # lines span several chunks
        assert list(handle) == [b"one\n", b"two\r\n", b"three\r", b"four"]


def test_file_iterates_text_lines(storage):
    storage.save("poem.txt", ContentFile("café\nnaïve\n"))
    with storage.open("poem.txt", "r") as handle:
        assert list(handle) == ["café\n", "naïve\n"]


def test_file_chunks_cover_the_file_in_order(storage):
    data = bytes(range(256)) * 40
    storage.save("blob.bin", ContentFile(data))
    with storage.open("blob.bin") as handle:
        chunks = list(handle.chunks(chunk_size=1000))
        assert [len(chunk) for chunk in chunks] == [1000] * 10 + [240]
        assert b"".join(chunks) == data
        assert handle.multiple_chunks(chunk_size=1000)
        assert b"".join(handle.chunks()) == data  # chunks() rewinds first


def test_storage_file_is_saved_again_as_a_copy(storage):
    storage.save("src.txt", ContentFile(b"copy me"))
    with storage.open("src.txt") as handle:
        name = storage.save("dst.txt", File(handle))
    assert storage.open(name).read() == b"copy me"


def test_generate_filename_with_callable_upload_to():
    document = Document(owner="carol")
    field = Document._meta.get_field("attachment")
    name = field.generate_filename(document, "notes v1.txt")
    assert name == "owners/carol/notes_v1.txt"
    assert default_storage.generate_filename("owners/carol/notes v1.txt") == name
    assert upload_to_owner(Document(), "x.txt") == "owners/nobody/x.txt"


def test_generate_filename_keeps_the_callables_folders_and_save_uses_them():
    document = Document.objects.create(
        owner="dave",
        upload=ContentFile(b"u", name="u.txt"),
        attachment=ContentFile(b"a", name="a b.txt"),
    )
    assert document.attachment.name == "owners/dave/a_b.txt"
    assert default_storage.listdir("owners/dave") == ([], ["a_b.txt"])


def test_generate_filename_rejects_names_that_escape():
    field = Document._meta.get_field("attachment")
    with pytest.raises(SuspiciousFileOperation):
        field.generate_filename(Document(owner="eve"), "../../etc/passwd")
    with pytest.raises(SuspiciousFileOperation):
        InMemoryStorage().generate_filename("../etc/passwd")
