"""Settings of the Django project the tests run in."""

import os
import warnings

SECRET_KEY = "tests-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"]
INSTALLED_APPS += ["tests.billing"]
INSTALLED_APPS += ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages"]
INSTALLED_APPS += ["django.contrib.staticfiles"]
MIDDLEWARE = [
    f"django.contrib.{app}.middleware.{name}Middleware"
    for app, name in [("sessions", "Session"), ("auth", "Authentication"), ("messages", "Message")]
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
              "django.contrib.auth.context_processors.auth",
              "django.contrib.messages.context_processors.messages"]}}]  # fmt: skip
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# tests.billing's real storages; kept empty. make matrix gives each session its own.
DISK = os.environ.get("INMEMORYSTORAGE_TESTS_DISK") or "/tmp/inmemorystorage_fs-tests"
STORAGES = {
    "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"},
    "staticfiles": {"BACKEND": "inmemorystorage_fs.InMemoryStaticFilesStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": f"{DISK}/private", "base_url": "/private/"},
    },
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": f"{DISK}/exports", "base_url": "/exports/"},
    },
    # Already in memory in the settings, with options its per-test storages keep.
    "vault": {
        "BACKEND": "inmemorystorage_fs.InMemoryStorage",
        "OPTIONS": {
            "location": "/srv/vault",
            "base_url": "/vault/",
            "alternative_names": "counter",
        },
    },
}
# The SDKs behind tests/billing's django-storages backends warn on their own:
# google.api_core that Python 3.10 gets no more of its updates (the package
# supports 3.10), AzureStorage that it calls datetime.utcnow() (Python 3.12+). The
# same filters are in pyproject.toml; these cover runs with their own ini.
warnings.filterwarnings("ignore", "You are using a non-supported Python version", FutureWarning)
warnings.filterwarnings(
    "ignore",
    r"datetime\.datetime\.utcnow",
    DeprecationWarning,
    r"storages\.backends\.azure_storage",
)
if os.environ.get("TESTS_STORAGE_SETTING") == "DEFAULT_FILE_STORAGE":  # Django 4.2 only (nox)
    # Django warns once, as it loads these settings: expected here, not an error.
    warnings.filterwarnings("ignore", "The (DEFAULT_FILE|STATICFILES)_STORAGE setting is deprec")
    del STORAGES
    INSTALLED_APPS.remove("tests.billing")  # its models need STORAGES aliases
    DEFAULT_FILE_STORAGE = "inmemorystorage_fs.InMemoryStorage"
    STATICFILES_STORAGE = "inmemorystorage_fs.InMemoryStaticFilesStorage"
MEDIA_ROOT = "/srv/media"
MEDIA_URL = "/media/"
STATIC_ROOT = "/srv/static"
STATIC_URL = "/static/"
ROOT_URLCONF = "tests.testapp.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
