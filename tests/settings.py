"""Settings of the Django project the tests run in."""

SECRET_KEY = "tests-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STORAGES = {"default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"}}
MEDIA_ROOT = "/srv/media"
MEDIA_URL = "/media/"
ROOT_URLCONF = "tests.testapp.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
