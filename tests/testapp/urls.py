from django.urls import path

from . import views

urlpatterns = [
    path("documents/", views.upload_document, name="upload-document"),
    path("photos/", views.upload_photo, name="upload-photo"),
]
