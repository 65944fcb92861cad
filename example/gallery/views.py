from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Upload


class UploadForm(forms.ModelForm):
    class Meta:
        model = Upload
        fields = ("title", "file", "picture")


def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    saved = form.save()
    return JsonResponse({"file": saved.file.name, "picture": saved.picture.name})
