from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse

from .forms import DocumentForm, PhotoForm


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


def serve_file(request: HttpRequest, name: str) -> FileResponse:
    return FileResponse(default_storage.open(name), as_attachment="download" in request.GET)
