"""fake_image, fake_file and fake_pdf: valid bytes, the right content type, real uploads.

Pillow reads the images and pypdf the PDFs back; Django's own ``forms.ImageField``
and its test client are the reference for what an upload must be.
"""

import io
import mimetypes
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from django import forms
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.test.client import BOUNDARY, encode_file
from PIL import Image, ImageOps

from inmemorystorage_fs.testing import assert_image, fake_file, fake_image, fake_pdf
from tests.testapp.models import Document, Photo

REPO = Path(__file__).resolve().parent.parent
ON_DISK = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
FORMATS = [
    ("image.png", "PNG", "image/png"),
    ("photo.jpg", "JPEG", "image/jpeg"),
    ("photo.jpeg", "JPEG", "image/jpeg"),
    ("PHOTO.JPG", "JPEG", "image/jpeg"),
    ("anim.gif", "GIF", "image/gif"),
    ("modern.webp", "WEBP", "image/webp"),
]


def opened(upload: SimpleUploadedFile) -> Image.Image:
    """Return the image Pillow reads from an upload's bytes."""
    return Image.open(io.BytesIO(upload.read()))


# -- fake_image ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "pil_format", "content_type"), FORMATS)
def test_fake_image_takes_its_format_from_the_extension(
    name: str, pil_format: str, content_type: str
) -> None:
    upload = fake_image(name, size=(30, 20), color="red")
    assert (upload.name, upload.content_type) == (name, content_type)
    image = opened(upload)
    assert (image.format, image.size) == (pil_format, (30, 20))
    red, green, blue = image.convert("RGB").getpixel((15, 10))  # type: ignore[misc]
    assert red > 240 and green < 15 and blue < 15  # JPEG and WEBP are lossy


@pytest.mark.parametrize(("name", "pil_format", "content_type"), FORMATS)
def test_fake_image_passes_django_s_image_field_with_the_content_type_it_finds(
    name: str, pil_format: str, content_type: str
) -> None:
    upload = fake_image(name)
    cleaned = forms.ImageField().clean(upload)
    # Django sets the content type it finds in the bytes: the same as ours.
    assert cleaned.image.format == pil_format
    assert cleaned.content_type == upload.content_type == content_type


@pytest.mark.parametrize(
    ("format_", "pil_format"), [("jpeg", "JPEG"), ("JPG", "JPEG"), ("webp", "WEBP")]
)
def test_format_wins_over_the_extension_and_sets_the_content_type(
    format_: str, pil_format: str
) -> None:
    upload = fake_image("upload.png", format=format_)
    assert opened(upload).format == pil_format
    assert upload.content_type == Image.MIME[pil_format]
    assert upload.name == "upload.png"


def test_an_unknown_extension_or_format_is_a_value_error_saying_what_works() -> None:
    with pytest.raises(ValueError, match=r"cannot tell the format of 'scan\.bmp'.*\.webp"):
        fake_image("scan.bmp")
    with pytest.raises(ValueError, match=r"cannot tell the format of 'avatar'"):
        fake_image("avatar")
    with pytest.raises(ValueError, match=r"writes PNG, JPEG, GIF, WEBP, not format='TIFF'"):
        fake_image("a.png", format="TIFF")


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (10,), (1, 2, 3), (1.5, 2), (True, 2), 10])
def test_a_bad_size_is_a_value_error(size: object) -> None:
    with pytest.raises(ValueError, match=re.escape("size=(width, height)") + ".*not"):
        fake_image(size=size)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.webp"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_a_real_exif_tag_that_pillow_applies(
    name: str, orientation: int
) -> None:
    image = opened(fake_image(name, size=(40, 30), exif_orientation=orientation))
    assert image.getexif()[0x0112] == orientation
    assert image.size == (40, 30)  # the stored pixels
    upright = ImageOps.exif_transpose(image)
    assert upright.size == ((30, 40) if orientation >= 5 else (40, 30))
    # exif_transpose drops a tag it applied; 1 (as stored) needs no turn, so it stays.
    assert upright.getexif().get(0x0112) == (1 if orientation == 1 else None)


def test_without_exif_orientation_there_is_no_exif() -> None:
    assert not opened(fake_image("a.jpg")).getexif()


@pytest.mark.parametrize("orientation", [0, 9, True, "6"])
def test_a_bad_exif_orientation_is_a_value_error(orientation: object) -> None:
    with pytest.raises(ValueError, match=r"exif_orientation= from 1 to 8"):
        fake_image(exif_orientation=orientation)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [fake_image, fake_pdf])
def test_images_and_pdfs_need_a_file_name_too(make: Callable[..., object]) -> None:
    with pytest.raises(ValueError, match=r"needs a file name, not ''"):
        make("")


def test_a_gif_cannot_carry_exif_orientation() -> None:
    with pytest.raises(ValueError, match=r"exif_orientation= in a GIF \(no EXIF\)"):
        fake_image("a.gif", exif_orientation=6)


def test_mode_and_color_are_pillow_s() -> None:
    image = opened(fake_image("a.png", mode="RGBA", color=(255, 0, 0, 128)))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0)) == (255, 0, 0, 128)
    assert opened(fake_image("a.png", mode="L", color=200)).getpixel((3, 3)) == 200
    assert opened(fake_image("a.gif")).mode == "P"  # a GIF holds a palette


def test_what_pillow_refuses_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"Pillow cannot write this JPEG: .*RGBA"):
        fake_image("a.jpg", mode="RGBA")
    with pytest.raises(ValueError, match=r"refused mode='RGB', color='nocolor'"):
        fake_image(color="nocolor")


def test_every_call_returns_a_new_upload_with_the_same_bytes() -> None:
    first, second = fake_image(), fake_image()
    assert first is not second
    assert first.read() == second.read()
    assert first.read() == b""  # read to the end: the second file is its own
    assert second.tell() > 0


# -- fake_file -----------------------------------------------------------------------


def test_fake_file_holds_its_content_bytes_or_text() -> None:
    assert fake_file("a.bin", content=b"\x00\xff").read() == b"\x00\xff"
    assert fake_file("notes.txt", content="héllo").read() == "héllo".encode()


def test_a_size_gives_that_many_bytes_always_the_same() -> None:
    for size in (0, 1, 29, 30, 100_000):
        data = fake_file("a.bin", size=size).read()
        assert len(data) == size
        assert data == fake_file("other.csv", size=size).read()
    assert fake_file(size=40).read() == b"inmemorystorage_fs fake file\ninmemorysto"


def test_neither_size_nor_content_is_one_kib_that_django_s_file_field_accepts() -> None:
    upload = fake_file()
    assert (upload.name, upload.size, upload.content_type) == ("file.txt", 1024, "text/plain")
    assert forms.FileField().clean(upload) is upload


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 3, "content": b"abc"}, ValueError, r"size= or content=, not both"),
        ({"size": -1}, ValueError, r"size in bytes, 0 or more, not -1"),
        ({"size": 1.5}, ValueError, r"not 1\.5"),
        ({"content": 7}, TypeError, r"bytes or str content, not int"),
        ({"name": ""}, ValueError, r"needs a file name, not ''"),
        ({"name": "folder/"}, ValueError, r"needs a file name, not 'folder/'"),
    ],
)
def test_fake_file_refuses_bad_arguments_clearly(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        fake_file(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["rows.csv", "page.html", "data.json", "a.unknownext"])
def test_the_client_sends_the_content_type_it_sends_for_a_real_file(
    name: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(b"x")
    with open(tmp_path / name, "rb") as real:
        reference = encode_file(BOUNDARY, "f", real)
    ours = encode_file(BOUNDARY, "f", fake_file(name, content=b"x"))
    assert ours == reference
    expected = mimetypes.guess_type(name)[0] or "application/octet-stream"
    assert fake_file(name).content_type == expected


# -- fake_pdf ------------------------------------------------------------------------


@pytest.mark.parametrize("pages", [1, 2, 7])
def test_fake_pdf_is_a_pdf_a_strict_parser_reads_page_by_page(pages: int) -> None:
    upload = fake_pdf(pages=pages)
    assert (upload.name, upload.content_type) == ("document.pdf", "application/pdf")
    reader = pypdf.PdfReader(io.BytesIO(upload.read()), strict=True)
    assert len(reader.pages) == pages
    texts = [page.extract_text() for page in reader.pages]
    assert texts == [f"Page {n} of {pages}" for n in range(1, pages + 1)]
    assert [page.mediabox[2:] for page in reader.pages] == [[612, 792]] * pages


def test_its_cross_reference_table_points_at_each_object() -> None:
    data = fake_pdf(pages=3).read()
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    table = data[start:].split(b"trailer")[0]
    header, *entries = table.split(b"\n")[1:-1]
    assert header == b"0 10" and len(entries) == 10
    assert all(len(entry) == 19 for entry in entries)  # 20 bytes with the newline
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)


@pytest.mark.parametrize("pages", [0, -1, 1.0, True, "2"])
def test_a_bad_page_count_is_a_value_error(pages: object) -> None:
    with pytest.raises(ValueError, match=r"pages= as a whole number, 1 or more"):
        fake_pdf(pages=pages)  # type: ignore[arg-type]


# -- through the views and models of tests/testapp ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pil_format", "content_type"), FORMATS)
def test_the_client_uploads_a_fake_image_that_the_image_form_accepts(
    client: Client, name: str, pil_format: str, content_type: str
) -> None:
    response = client.post("/photos/", {"image": fake_image(name, size=(21, 13))})
    assert response.status_code == 200, response.content
    assert response.json()["width"] == 21
    default_storage.assert_image(response.json()["name"], (21, 13), pil_format)


@pytest.mark.django_db
def test_the_image_form_refuses_a_file_that_is_not_an_image(client: Client) -> None:
    response = client.post("/photos/", {"image": fake_file("a.png", content=b"no png")})
    assert response.status_code == 400
    assert "Upload a valid image" in response.json()["errors"]["image"][0]
    default_storage.assert_empty()


@pytest.mark.django_db
def test_a_thumbnail_view_turns_an_exif_rotated_upload_upright(client: Client) -> None:
    upload = fake_image("portrait.jpg", size=(64, 48), exif_orientation=6)
    response = client.post("/thumbnails/", {"image": upload})
    assert response.status_code == 200, response.content
    default_storage.assert_image(response.json()["name"], (64, 48), "JPEG")
    # Upright, the photo is 48x64; fitted in 32x32, 24x32.
    default_storage.assert_image("thumbs/portrait.jpg", (24, 32), "JPEG", "RGB")


@pytest.mark.django_db
def test_the_client_uploads_a_fake_pdf_and_a_fake_file(client: Client) -> None:
    response = client.post("/documents/", {"owner": "ann", "upload": fake_pdf(pages=2)})
    assert response.status_code == 200, response.content
    with default_storage.open(response.json()["name"]) as handle:
        assert len(pypdf.PdfReader(handle, strict=True).pages) == 2
    response = client.post("/documents/", {"upload": fake_file("rows.csv", size=5000)})
    default_storage.assert_content(response.json()["name"], fake_file(size=5000).read())


@pytest.mark.django_db
def test_models_created_from_fakes_store_valid_files_each_time() -> None:
    def photo_factory() -> Photo:  # what a model factory's LazyFunction does
        return Photo.objects.create(image=fake_image("p.webp", size=(10, 7)))

    photos = [photo_factory() for _ in range(3)]
    assert len({photo.image.name for photo in photos}) == 3
    for photo in photos:
        assert (photo.width, photo.height) == (10, 7)
        assert_image(photo.image.name, size=(10, 7), format="WEBP", mode="RGB")
    document = Document.objects.create(upload=fake_pdf("invoice.pdf"))
    assert document.upload.name == "documents/invoice.pdf"
    assert pypdf.PdfReader(document.upload.open("rb")).pages[0].extract_text() == "Page 1 of 1"


@pytest.mark.django_db
def test_the_disk_stores_the_same_bytes(tmp_path: Path) -> None:
    """The reference: the same model create with FileSystemStorage on a folder."""
    stored = {}
    for where in ("memory", "disk"):
        settings = {"STORAGES": ON_DISK, "MEDIA_ROOT": str(tmp_path)} if where == "disk" else {}
        with override_settings(**settings):
            photo = Photo.objects.create(image=fake_image("p.gif", size=(5, 4)))
            with photo.image.open("rb") as handle:
                stored[where] = (photo.image.name, photo.width, photo.height, handle.read())
            assert_image(photo.image.name, (5, 4), "GIF", "P")
    assert FileSystemStorage(location=tmp_path).exists(stored["disk"][0])
    assert stored["memory"] == stored["disk"]


# -- without Pillow ---------------------------------------------------------------------

WITHOUT_PILLOW = """
import sys
sys.modules["PIL"] = None  # what a missing Pillow looks like to an import
import django
from django.conf import settings
settings.configure()
django.setup()
from inmemorystorage_fs.testing import assert_image, fake_file, fake_image, fake_pdf

print(fake_file(size=3).read(), fake_pdf().read()[:8])
for call in (fake_image, lambda: assert_image("a.png")):
    try:
        call()
    except ImportError as exc:
        print(exc)
"""


def test_without_pillow_images_raise_import_error_saying_how_to_install_it() -> None:
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", WITHOUT_PILLOW],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "b'inm' b'%PDF-1.4'",
        "fake_image() needs Pillow, which is not installed: pip install Pillow",
        "assert_image() needs Pillow, which is not installed: pip install Pillow",
    ]
