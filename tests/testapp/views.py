from django.http import HttpRequest, HttpResponse, JsonResponse

from .forms import DocumentForm, PhotoForm


def upload_document(request: HttpRequest) -> HttpResponse:
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    document = form.save()
    return JsonResponse({"id": document.pk, "name": document.upload.name, "url": document.upload.url})


def upload_photo(request: HttpRequest) -> HttpResponse:
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    photo = form.save()
    return JsonResponse({"id": photo.pk, "name": photo.image.name, "width": photo.width})
