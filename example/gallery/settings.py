"""A tiny project whose default storage is InMemoryStorage."""

SECRET_KEY = "demo-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "gallery"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STORAGES = {"default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"}}
MEDIA_ROOT = "/srv/gallery-media"
MEDIA_URL = "/media/"
ROOT_URLCONF = "gallery.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
