"""Static files in memory: collectstatic, {% static %} and the manifest."""

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.management.commands import collectstatic as collectstatic_command
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings

import inmemorystorage_fs
from inmemorystorage_fs import InMemoryManifestStaticFilesStorage, InMemoryStaticFilesStorage
from inmemorystorage_fs.storage import clear_persistent_fs

CSS = b'body { background: url("../img/dot.png"); }\n'
PNG = b"\x89PNG\r\n\x1a\n fake but unique bytes"
JS = b"console.log('hello');\n"
MANIFEST = "inmemorystorage_fs.InMemoryManifestStaticFilesStorage"
STATIC_FILES_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture
def source(tmp_path: Path):
    """Serve three app-like static files from a real folder through FileSystemFinder."""
    for name, data in {"css/site.css": CSS, "img/dot.png": PNG, "js/app.js": JS}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    finder = "django.contrib.staticfiles.finders.FileSystemFinder"
    with override_settings(STATICFILES_DIRS=[str(tmp_path)], STATICFILES_FINDERS=[finder]):
        yield tmp_path


def storages_with(backend: str) -> dict[str, dict[str, str]]:
    # No OPTIONS: Django 4.2's override_settings(STORAGES=...) drops them.
    return {
        "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"},
        "staticfiles": {"BACKEND": backend},
    }


def collectstatic(storage: Storage | None = None) -> str:
    """Run collectstatic into STORAGES["staticfiles"], or into *storage*."""
    command = collectstatic_command.Command()
    if storage is not None:
        command.storage = storage
    out = io.StringIO()
    call_command(command, interactive=False, verbosity=1, stdout=out)
    return out.getvalue()


def render(template: str) -> str:
    return Template("{% load static %}" + template).render(Context())


def read(storage: InMemoryStaticFilesStorage, name: str) -> bytes:
    with storage.open(name) as handle:
        data: bytes = handle.read()
    return data


# -- InMemoryStaticFilesStorage -------------------------------------------------


def test_collectstatic_copies_every_file_into_memory(source):
    output = collectstatic()

    assert "3 static files copied" in output
    assert isinstance(staticfiles_storage._wrapped, InMemoryStaticFilesStorage)
    assert read(staticfiles_storage, "css/site.css") == CSS
    assert read(staticfiles_storage, "img/dot.png") == PNG
    assert staticfiles_storage.listdir("") == (["css", "img", "js"], [])
    assert not os.path.exists("/srv/static")  # STATIC_ROOT on disk stays untouched


def test_collectstatic_twice_skips_unmodified_files(source):
    collectstatic()
    output = collectstatic()
    assert "0 static files copied" in output
    assert "3 unmodified" in output


def test_collectstatic_clear_removes_files_no_longer_found(source):
    collectstatic()
    staticfiles_storage.save("old/stale.css", ContentFile(b"gone"))
    call_command("collectstatic", interactive=False, clear=True, verbosity=0)
    assert not staticfiles_storage.exists("old/stale.css")
    assert staticfiles_storage.exists("css/site.css")


def test_static_tag_urls_use_static_url(source):
    collectstatic()
    assert render('{% static "css/site.css" %}') == "/static/css/site.css"
    with override_settings(STATIC_URL="/assets/"):
        assert render('{% static "css/site.css" %}') == "/assets/css/site.css"


def test_defaults_follow_static_settings():
    storage = InMemoryStaticFilesStorage()
    assert (storage.base_url, storage.location) == ("/static/", "/srv/static")
    with override_settings(STATIC_URL="/assets/", STATIC_ROOT="/var/assets"):
        assert (storage.base_url, storage.location) == ("/assets/", "/var/assets")
        assert storage.url("a b.css") == "/assets/a%20b.css"
    assert (storage.base_url, storage.location) == ("/static/", "/srv/static")


def test_explicit_options_win_over_settings():
    storage = InMemoryStaticFilesStorage(location="/opt/static", base_url="https://cdn.example")
    with override_settings(STATIC_URL="/assets/", STATIC_ROOT="/var/assets"):
        assert storage.url("app.js") == "https://cdn.example/app.js"
        assert storage.location == "/opt/static"


def test_media_and_static_url_must_differ_as_for_staticfilesstorage():
    with pytest.raises(ImproperlyConfigured, match="MEDIA_URL and STATIC_URL"):
        InMemoryStaticFilesStorage(base_url="/media/")


def test_persistent_static_files_live_at_static_root_not_in_media():
    clear_persistent_fs()
    static = InMemoryStaticFilesStorage(persist=True)
    static.save("css/site.css", ContentFile(CSS))
    assert InMemoryStaticFilesStorage(persist=True).exists("css/site.css")
    assert not inmemorystorage_fs.InMemoryStorage(persist=True).exists("css/site.css")
    with (
        override_settings(STATIC_ROOT=None),
        pytest.raises(ImproperlyConfigured, match="STATIC_ROOT"),
    ):
        InMemoryStaticFilesStorage(persist=True).exists("css/site.css")


def collectstatic_error(backend: str, **settings: Any) -> ImproperlyConfigured:
    """Return what the real collectstatic raises into the *backend* staticfiles storage."""
    with (
        override_settings(STORAGES=storages_with(backend), **settings),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        call_command("collectstatic", interactive=False, verbosity=0, stderr=io.StringIO())
    return raised.value


@pytest.mark.parametrize("root", ["", None])
@pytest.mark.parametrize("backend", [MANIFEST, "inmemorystorage_fs.InMemoryStaticFilesStorage"])
def test_collectstatic_without_static_root_raises_django_s_message_then_ours(
    source, root, backend
):
    on_disk = collectstatic_error(STATIC_FILES_STORAGE, STATIC_ROOT=root)
    ours = collectstatic_error(backend, STATIC_ROOT=root, INMEMORYSTORAGE_PERSIST=True)
    # What Django's own test (staticfiles_tests TestConfiguration) looks for, then the hint.
    assert "without having set the STATIC_ROOT setting to a filesystem path" in str(on_disk)
    assert str(ours).startswith(f"{on_disk} ")
    assert "persists at STATIC_ROOT" in str(ours)


def test_without_static_root_a_storage_of_its_own_still_works():
    with override_settings(STATIC_ROOT=None):
        storage = InMemoryStaticFilesStorage()
        storage.save("app.js", ContentFile(JS))
        assert read(storage, "app.js") == JS


def test_backend_paths_are_stable_for_settings_and_migrations():
    assert (
        InMemoryStaticFilesStorage().deconstruct()[0]
        == "inmemorystorage_fs.InMemoryStaticFilesStorage"
    )
    assert InMemoryManifestStaticFilesStorage().deconstruct()[0] == MANIFEST
    assert (
        inmemorystorage_fs.InMemoryManifestStaticFilesStorage is InMemoryManifestStaticFilesStorage
    )
    with pytest.raises(AttributeError, match="NoSuchStorage"):
        inmemorystorage_fs.NoSuchStorage  # noqa: B018


# -- InMemoryManifestStaticFilesStorage -------------------------------------------


def hashed(name: str, data: bytes) -> str:
    stem, ext = name.rsplit(".", 1)
    return f"{stem}.{hashlib.md5(data).hexdigest()[:12]}.{ext}"


@pytest.fixture
def manifest_storage(source):
    clear_persistent_fs()
    with override_settings(STORAGES=storages_with(MANIFEST), INMEMORYSTORAGE_PERSIST=True):
        collectstatic()
        yield staticfiles_storage._wrapped
    clear_persistent_fs()


def test_manifest_collectstatic_writes_hashed_files_and_manifest(manifest_storage):
    assert isinstance(manifest_storage, InMemoryManifestStaticFilesStorage)
    manifest = json.loads(read(manifest_storage, "staticfiles.json"))

    png = hashed("img/dot.png", PNG)
    assert manifest["paths"]["img/dot.png"] == png
    assert manifest["paths"]["js/app.js"] == hashed("js/app.js", JS)
    # The CSS is rewritten to point at the hashed image, then hashed itself.
    css = read(manifest_storage, manifest["paths"]["css/site.css"])
    assert css == CSS.replace(b"../img/dot.png", f"../{png}".encode())
    assert manifest["paths"]["css/site.css"] == hashed("css/site.css", css)
    assert read(manifest_storage, png) == PNG
    assert read(manifest_storage, "img/dot.png") == PNG  # originals stay too


def test_manifest_static_tag_resolves_to_hashed_urls(manifest_storage):
    with override_settings(STORAGES=storages_with(MANIFEST), INMEMORYSTORAGE_PERSIST=True):
        url = render('{% static "js/app.js" %}')
    assert url == "/static/" + hashed("js/app.js", JS)


def test_manifest_is_read_back_by_a_new_storage(manifest_storage):
    fresh = InMemoryManifestStaticFilesStorage(persist=True)
    assert fresh.hashed_files == manifest_storage.hashed_files
    assert fresh.url("img/dot.png") == "/static/" + hashed("img/dot.png", PNG)
    assert fresh.manifest_hash == manifest_storage.manifest_hash != ""


def test_manifest_strict_names_a_file_missing_from_the_manifest(manifest_storage):
    with pytest.raises(ValueError, match=r"Missing staticfiles manifest entry for 'nope\.css'"):
        manifest_storage.url("nope.css")


def test_manifest_in_its_own_memory_is_lost_with_the_storage(source):
    with override_settings(STORAGES=storages_with(MANIFEST)):
        collectstatic()
        assert staticfiles_storage.exists("staticfiles.json")
    assert InMemoryManifestStaticFilesStorage().hashed_files == {}


def test_manifest_storage_option_keeps_the_manifest_elsewhere(source):
    elsewhere = inmemorystorage_fs.InMemoryStorage()
    static = InMemoryManifestStaticFilesStorage(manifest_storage=elsewhere)
    collectstatic(static)
    assert not static.exists("staticfiles.json")
    assert static.exists(hashed("js/app.js", JS))
    manifest = json.loads(read(elsewhere, "staticfiles.json"))
    assert manifest["paths"]["js/app.js"] == hashed("js/app.js", JS)
