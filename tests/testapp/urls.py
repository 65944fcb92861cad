from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from inmemorystorage_fs.urls import media_patterns

from . import views

urlpatterns = [
    path("documents/", views.upload_document, name="upload-document"),
    path("photos/", views.upload_photo, name="upload-photo"),
    path("thumbnails/", views.upload_photo_with_thumbnail, name="upload-thumbnail"),
    # An upload whose row a failed transaction rolls back; the second deletes its file then.
    path("quota/", views.upload_within_quota, {"cleanup": False}, name="upload-quota"),
    path("quota/clean/", views.upload_within_quota, {"cleanup": True}, name="upload-quota-clean"),
    path("files/<path:name>", views.serve_file, name="serve-file"),
    path("raw/<path:name>", views.upload_raw, name="upload-raw"),
    path("imports/", views.import_documents, name="import-documents"),
    path("admin/", admin.site.urls),
]

if apps.is_installed("tests.billing"):  # not under Django 4.2's DEFAULT_FILE_STORAGE
    urlpatterns.append(path("billing/", include("tests.billing.urls")))

# The default storage's files at MEDIA_URL, from memory (the serving tests use them).
urlpatterns += media_patterns()
