from django.urls import path

from inmemorystorage_fs.urls import media_patterns

from . import views

urlpatterns = [path("upload/", views.upload)]

# The default storage's files at MEDIA_URL, straight from memory (no DEBUG needed).
urlpatterns += media_patterns()
