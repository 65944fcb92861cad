"""Valid upload files for tests: images through Pillow, a hand-written PDF, any bytes.

Each function returns a new ``SimpleUploadedFile`` with the content type a
browser would send, ready for the test client (``client.post(url, {"f":
fake_image()})``), a form's ``files=`` or ``Model.objects.create(image=...)``.
Pillow is imported only when an image is made, so importing this module (and
``inmemorystorage_fs.testing``) never needs it.
"""

from __future__ import annotations

import mimetypes
import os
from io import BytesIO
from types import ModuleType
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

__all__ = ["IMAGE_FORMATS", "fake_file", "fake_image", "fake_pdf", "import_pillow"]

#: The formats ``fake_image`` writes, each with its content type.
IMAGE_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# What a name's extension (or format=) may say for each of IMAGE_FORMATS.
_FORMAT_NAMES = {
    "png": "PNG",
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "jpe": "JPEG",
    "gif": "GIF",
    "webp": "WEBP",
}
#: The EXIF tag that says how a viewer turns the stored pixels (1: as stored, 2-8: flipped/turned).
EXIF_ORIENTATION = 0x0112
#: What ``fake_file`` repeats to fill *size* bytes: printable, so a diff of it reads.
FILLER = b"inmemorystorage_fs fake file\n"
#: The size of ``fake_file()`` given neither size nor content: one KiB, not empty,
#: because Django's forms.FileField refuses an empty upload.
DEFAULT_FILE_SIZE = 1024
# US Letter in PDF points (1/72 inch), the default page of most PDF writers.
_PDF_PAGE = (612, 792)


def import_pillow(needed_by: str) -> ModuleType:
    """Return ``PIL.Image``, or raise ImportError saying what needs it and how to install it."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            f"{needed_by} needs Pillow, which is not installed: pip install Pillow"
        ) from exc
    return Image


def fake_image(
    name: str = "image.png",
    size: tuple[int, int] = (64, 48),
    format: str | None = None,
    color: Any = "#3366cc",
    *,
    mode: str = "RGB",
    exif_orientation: int | None = None,
) -> SimpleUploadedFile:
    """Return a valid image upload of *size* pixels filled with *color*.

    The format is *format* (PNG, JPEG, GIF or WEBP, any case; JPG means JPEG),
    or else the one the extension of *name* says; the content type follows the
    format. *color* is anything Pillow accepts (``"red"``, ``"#ff0000"``,
    ``(255, 0, 0)``), *mode* any Pillow mode the format can store (a GIF is
    always stored as a palette, ``"P"``). *exif_orientation* (1-8) writes an
    EXIF Orientation tag (not in a GIF, which has no EXIF): *size* is then the
    stored pixels, and ``ImageOps.exif_transpose`` turns 5-8 into (height, width).
    """
    pil_format = _image_format(_named(name), format)
    width, height = _image_size(size)
    if exif_orientation is not None:
        if isinstance(exif_orientation, bool) or exif_orientation not in range(1, 9):
            raise ValueError(
                f"fake_image() takes exif_orientation= from 1 to 8, not {exif_orientation!r}."
            )
        if pil_format == "GIF":
            raise ValueError("fake_image() cannot write exif_orientation= in a GIF (no EXIF).")
    image_module = import_pillow("fake_image()")
    try:
        image = image_module.new(mode, (width, height), color)
    except ValueError as exc:
        refused = f"fake_image(): Pillow refused mode={mode!r}, color={color!r}: {exc}"
        raise ValueError(refused) from None
    options: dict[str, Any] = {}
    if exif_orientation is not None:
        exif = image_module.Exif()
        exif[EXIF_ORIENTATION] = exif_orientation
        options["exif"] = exif.tobytes()
    buffer = BytesIO()
    try:
        image.save(buffer, pil_format, **options)
    except (OSError, ValueError) as exc:
        raise ValueError(f"fake_image(): Pillow cannot write this {pil_format}: {exc}") from None
    return SimpleUploadedFile(name, buffer.getvalue(), IMAGE_FORMATS[pil_format])


def fake_file(
    name: str = "file.txt", size: int | None = None, content: bytes | str | None = None
) -> SimpleUploadedFile:
    """Return an upload holding *content*, or *size* bytes of repeated text.

    Give one of *size* and *content*, or neither for 1,024 bytes. The bytes
    for a *size* are always the same (``FILLER`` repeated and cut), a ``str``
    content is encoded as UTF-8, and the content type is the one ``mimetypes``
    guesses from *name* (``application/octet-stream`` when it cannot).
    """
    _named(name)
    if size is not None and content is not None:
        raise ValueError("fake_file() takes size= or content=, not both.")
    if content is None:
        if size is None:
            size = DEFAULT_FILE_SIZE
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"fake_file() takes a size in bytes, 0 or more, not {size!r}.")
        content = (FILLER * (size // len(FILLER) + 1))[:size]
    elif isinstance(content, str):
        content = content.encode("utf-8")
    elif not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(f"fake_file() takes bytes or str content, not {type(content).__name__}.")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return SimpleUploadedFile(name, bytes(content), content_type)


def fake_pdf(name: str = "document.pdf", pages: int = 1) -> SimpleUploadedFile:
    """Return a valid PDF upload of *pages* Letter pages, each saying "Page N of M".

    Written by hand, with a correct cross-reference table: no dependency.
    """
    _named(name)
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
        raise ValueError(f"fake_pdf() takes pages= as a whole number, 1 or more, not {pages!r}.")
    return SimpleUploadedFile(name, pdf_bytes(pages), "application/pdf")


def pdf_bytes(pages: int) -> bytes:
    """Return a PDF 1.4 document of *pages* pages of text in Helvetica."""
    # Objects: 1 catalog, 2 page tree, 3 font, then a page and its content per page.
    page_ids = [4 + 2 * index for index in range(pages)]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % page for page in page_ids), pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for number, page_id in enumerate(page_ids, start=1):
        text = b"BT /F1 24 Tf 72 700 Td (Page %d of %d) Tj ET" % (number, pages)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (*_PDF_PAGE, page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text))
    # The second line's bytes above 127 tell file transfer tools that this is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    # Each entry is exactly 20 bytes, its end of line included, as the format requires.
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _image_format(name: str, format: str | None) -> str:
    """Return the Pillow format *format* names, or else the one *name*'s extension does."""
    if format is not None:
        found = _FORMAT_NAMES.get(str(format).lower())
        if found is None:
            raise ValueError(
                f"fake_image() writes {', '.join(IMAGE_FORMATS)}, not format={format!r}."
            )
        return found
    extension = os.path.splitext(name)[1].lstrip(".").lower()
    found = _FORMAT_NAMES.get(extension)
    if found is None:
        raise ValueError(
            f"fake_image() cannot tell the format of {name!r} from its extension: name it "
            f".png, .jpg, .jpeg, .gif or .webp, or pass format= ({', '.join(IMAGE_FORMATS)})."
        )
    return found


def _image_size(size: Any) -> tuple[int, int]:
    """Return *size* as (width, height), each a whole number of pixels, 1 or more."""
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in size)
    ):
        return size[0], size[1]
    raise ValueError(
        f"fake_image() takes size=(width, height) in whole pixels, each 1 or more, not {size!r}."
    )


def _named(name: str) -> str:
    """Return *name*, or raise ValueError unless it is a file name an upload can have."""
    if not isinstance(name, str) or not name or name.endswith(("/", "\\")):
        raise ValueError(f"An upload needs a file name, not {name!r}.")
    return name
