from django import forms

from .models import Document, Photo


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["owner", "upload"]


class PhotoForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["image"]
