import posixpath
from collections.abc import Iterator
from io import BytesIO

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.request import UnreadablePostError

from .forms import DocumentForm, PhotoForm
from .models import Document


def upload_document(request: HttpRequest) -> HttpResponse:
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    document = form.save()
    return JsonResponse(
        {"id": document.pk, "name": document.upload.name, "url": document.upload.url}
    )


def upload_photo(request: HttpRequest) -> HttpResponse:
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    photo = form.save()
    return JsonResponse({"id": photo.pk, "name": photo.image.name, "width": photo.width})


#: The box a thumbnail fits in, as a thumbnailing app's setting would say.
THUMBNAIL_BOX = (32, 32)


def upload_photo_with_thumbnail(request: HttpRequest) -> HttpResponse:
    """Save a photo, then a JPEG thumbnail of it turned upright, as thumbnail apps do."""
    from PIL import Image, ImageOps

    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    photo = form.save()
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        thumbnail = ImageOps.exif_transpose(image).convert("RGB")
    thumbnail.thumbnail(THUMBNAIL_BOX)
    buffer = BytesIO()
    thumbnail.save(buffer, "JPEG")
    stem = posixpath.splitext(posixpath.basename(photo.image.name))[0]
    name = default_storage.save(f"thumbs/{stem}.jpg", ContentFile(buffer.getvalue()))
    return JsonResponse({"name": photo.image.name, "thumbnail": name})


class QuotaExceeded(Exception):
    """The owner has more documents than the quota allows."""


def upload_within_quota(request: HttpRequest, cleanup: bool) -> HttpResponse:
    """Save an upload, then count the owner's documents in the same transaction.

    Over ``?quota=`` (default 1) the transaction rolls back: the row is gone,
    and the file, which no transaction covers, stays unless *cleanup* deletes it.
    """
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    quota = int(request.GET.get("quota", "1"))
    document = None
    try:
        with transaction.atomic():
            document = form.save()
            if Document.objects.filter(owner=document.owner).count() > quota:
                raise QuotaExceeded(f"{document.owner} has more than {quota} document(s)")
    except QuotaExceeded as exc:
        if cleanup and document is not None:
            document.upload.delete(save=False)
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"id": document.pk, "name": document.upload.name})


def serve_file(request: HttpRequest, name: str) -> FileResponse:
    return FileResponse(default_storage.open(name), as_attachment="download" in request.GET)


class RequestBody(File):
    """A request body as content to save, streamed; it raises if the client leaves early."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(None, "body")
        self.request = request
        self.size = int(request.META.get("CONTENT_LENGTH") or 0)

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        remaining = self.size
        while remaining > 0:
            chunk = self.request.read(min(remaining, chunk_size or self.DEFAULT_CHUNK_SIZE))
            if not chunk:  # the server saw the connection close
                raise UnreadablePostError("The client left before sending the whole body.")
            remaining -= len(chunk)
            yield chunk


def upload_raw(request: HttpRequest, name: str) -> HttpResponse:
    """Stream the request body straight into the storage as raw/<name>."""
    try:
        saved = default_storage.save(f"raw/{name}", RequestBody(request))
    except UnreadablePostError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"name": saved})


def import_documents(request: HttpRequest) -> HttpResponse:
    """Import every uploaded file as a Document, all or none; a storage error answers 503."""
    storage = Document._meta.get_field("upload").storage
    saved: list[str] = []
    try:
        with transaction.atomic():
            for upload in request.FILES.getlist("files"):
                document = Document(owner=request.POST.get("owner", ""))
                document.upload.save(upload.name, upload)
                saved.append(document.upload.name)
    except OSError as exc:
        for name in saved:  # the rows are rolled back: their files go too
            storage.delete(name)
        return JsonResponse({"error": str(exc), "errno": exc.errno, "imported": 0}, status=503)
    return JsonResponse({"imported": len(saved), "names": saved})
