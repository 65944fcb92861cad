"""Serving stored files through the test client: views.serve and urls.media_patterns."""

import io
import os
from decimal import Decimal
from typing import Any

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpResponse
from django.test import override_settings
from django.urls import include, path
from django.utils.http import http_date
from django.views.static import serve as static_serve
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from inmemorystorage_fs import FSStorage, InMemoryStorage, _entries
from inmemorystorage_fs._fs import MemoryFS
from inmemorystorage_fs.checks import check_served_aliases
from inmemorystorage_fs.testing import fresh_storage
from inmemorystorage_fs.urls import media_patterns
from inmemorystorage_fs.views import CHUNK_SIZE, serve
from tests.helpers import needs_aliases
from tests.testapp.models import Photo

DATA = bytes(range(256)) * 4  # 1024 bytes, no two neighbours equal
NAME = "docs/data.bin"


def __getattr__(name: str) -> Any:
    """This module is a URLconf too: ``urlpatterns`` is built when a resolver asks for it.

    "exports" is on a disk in the settings and in memory only inside
    ``fresh_storage(aliases=[...])``: each request reads ``storages["exports"]``.
    """
    if name == "urlpatterns":
        return media_patterns() + media_patterns(alias="exports")
    raise AttributeError(name)


def png_bytes(width: int = 9, height: int = 4) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def saved() -> str:
    """Save DATA in the default storage; return its URL."""
    assert default_storage.save(NAME, ContentFile(DATA)) == NAME
    return default_storage.url(NAME)


# -- the whole file --------------------------------------------------------------


@pytest.mark.django_db
def test_an_uploaded_image_is_served_at_its_url_with_its_headers(client):
    image = png_bytes()
    upload = SimpleUploadedFile("pic.png", image, content_type="image/png")
    assert client.post("/photos/", {"image": upload}).status_code == 200
    photo = Photo.objects.get()
    response = client.get(photo.image.url)
    assert response.status_code == 200
    assert response.streaming
    assert body(response) == image
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(image))
    modified = default_storage.get_modified_time(photo.image.name).timestamp()
    assert response["Last-Modified"] == http_date(modified)
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Accept-Ranges"] == "bytes"


def test_an_unknown_extension_is_application_octet_stream(client, saved):
    response = client.get(saved)
    assert response["Content-Type"] == "application/octet-stream"
    assert body(response) == DATA


@fresh_storage(allow_overwrite=True)
def test_the_etag_changes_when_the_file_does(client):
    default_storage.save("a.txt", ContentFile(b"one"))
    first = client.get("/media/a.txt")["ETag"]
    assert default_storage.save("a.txt", ContentFile(b"three")) == "a.txt"
    second = client.get("/media/a.txt", headers={"If-None-Match": first})
    assert second.status_code == 200
    assert body(second) == b"three"
    assert second["ETag"] != first


def test_a_large_file_arrives_whole_in_several_chunks(client):
    data = bytes(range(251)) * (3 * 1024 * 1024 // 251 + 1)
    default_storage.save("big.bin", ContentFile(data))
    response = client.get("/media/big.bin")
    assert response["Content-Length"] == str(len(data))
    chunks = list(response.streaming_content)
    assert len(chunks) == -(-len(data) // CHUNK_SIZE) > 1
    assert b"".join(chunks) == data


def test_head_has_the_headers_and_no_body(client, saved):
    got = client.get(saved)
    response = client.head(saved)
    assert response.status_code == 200
    assert body(response) == b""
    for header in ("Content-Type", "Content-Length", "Last-Modified", "ETag"):
        assert response[header] == got[header]
    assert response["Content-Length"] == str(len(DATA))


# -- conditional requests ----------------------------------------------------------


def test_if_none_match_with_the_etag_is_not_modified(client, saved):
    etag = client.get(saved)["ETag"]
    response = client.get(saved, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_if_none_match_among_others_or_weak_is_not_modified(client, saved):
    etag = client.get(saved)["ETag"]
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        assert client.get(saved, headers={"If-None-Match": header}).status_code == 304


def test_if_none_match_with_another_etag_is_the_file(client, saved):
    response = client.get(saved, headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_modified_since_the_last_modified_date_is_not_modified(client, saved):
    last_modified = client.get(saved)["Last-Modified"]
    response = client.get(saved, headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304


def test_if_modified_since_an_older_date_is_the_file(client, saved):
    modified = default_storage.get_modified_time(NAME).timestamp()
    response = client.get(saved, headers={"If-Modified-Since": http_date(modified - 3600)})
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_none_match_wins_over_if_modified_since(client, saved):
    last_modified = client.get(saved)["Last-Modified"]
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert client.get(saved, headers=headers).status_code == 200


# -- ranges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=-5", len(DATA) - 5, len(DATA)),
        ("bytes=5-", 5, len(DATA)),
        ("bytes=1000-5000", 1000, len(DATA)),  # the end past the file: up to its end
        ("bytes=-5000", 0, len(DATA)),  # a suffix longer than the file: all of it
    ],
)
def test_one_range_is_partial_content(client, saved, header, start, end):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start)
    assert body(response) == DATA[start:end]


def test_the_first_ten_bytes(client, saved):
    response = client.get(saved, headers={"Range": "bytes=0-9"})
    assert response["Content-Range"] == f"bytes 0-9/{len(DATA)}"
    assert len(body(response)) == 10


@pytest.mark.parametrize(
    "header", [f"bytes={len(DATA)}-", f"bytes={len(DATA) + 7}-9999", "bytes=-0"]
)
def test_a_range_past_the_end_is_not_satisfiable(client, saved, header):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("header", ["bytes=0-1,3-4", "items=0-9", "bytes=-", "bytes=x-y"])
def test_a_range_not_served_is_answered_with_the_whole_file(client, saved, header):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == DATA


HUGE = "9" * 5000  # past int()'s 4,300-digit limit for str -> int


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        (f"bytes=0-{HUGE}", 0, len(DATA)),
        (f"bytes=-{HUGE}", 0, len(DATA)),
        (f"bytes=00000{'0' * 5000}5-9", 5, 10),  # leading zeros of any length
        ("BYTES=0-9", 0, 10),  # RFC 9110: range units are case-insensitive
    ],
)
def test_a_range_with_thousands_of_digits_is_partial_content(client, saved, header, start, end):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert body(response) == DATA[start:end]


@pytest.mark.parametrize("header", [f"bytes={HUGE}-", f"bytes={HUGE}-{HUGE}1"])
def test_a_range_starting_thousands_of_digits_in_is_not_satisfiable(client, saved, header):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-2",  # last-pos before first-pos: invalid, so ignored (RFC 9110 14.1.2)
        f"bytes={len(DATA) + 5}-{len(DATA) + 2}",  # invalid even past the end: not a 416
        f"bytes={HUGE}1-{HUGE}",
        "bytes=\u0663-\u0665",  # Arabic-Indic digits are not HTTP's DIGIT
        "bytes=1 0-20",  # a space inside a number
    ],
)
def test_an_invalid_range_is_ignored_as_rfc_9110_says(client, saved, header):
    response = client.get(saved, headers={"Range": header})
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == DATA


def test_the_last_bytes_of_an_empty_file_are_the_empty_file(client):
    # Satisfiable (RFC 9110 14.1.2: a non-zero suffix-length always is), but no
    # Content-Range can name zero bytes: the whole, empty, file.
    default_storage.save("empty.bin", ContentFile(b""))
    response = client.get(default_storage.url("empty.bin"), headers={"Range": "bytes=-5"})
    assert response.status_code == 200
    assert body(response) == b""
    assert (
        client.get(default_storage.url("empty.bin"), headers={"Range": "bytes=0-"}).status_code
        == 416
    )


def rfc_9110_answer(first: str, last: str, size: int) -> int | tuple[int, int]:
    """Return the ``[start, end)`` that ``bytes=first-last`` asks of *size* bytes, or the status.

    Written from RFC 9110 sections 14.1.2 and 14.2 with Decimal, which reads
    any number of digits exactly.
    """
    if first:
        if last and Decimal(last) < Decimal(first):
            return 200  # an invalid range-spec: the header is ignored
        if Decimal(first) >= size:
            return 416
        return (int(first), int(min(Decimal(last) + 1, size)) if last else size)
    if not last:
        return 200  # "bytes=-" is no range-spec
    if Decimal(last) == 0:
        return 416
    if size == 0:
        return 200
    return (int(max(size - Decimal(last), 0)), size)


digits = st.one_of(
    st.just(""),
    st.from_regex(r"[0-9]{1,5}", fullmatch=True),
    st.builds(
        lambda zeros, digit, count: "0" * zeros + digit * count,
        st.integers(0, 3),
        st.sampled_from("159"),
        st.integers(4_000, 6_000),
    ),
)


@pytest.mark.parametrize("content", [DATA, b"", b"x"], ids=["1024-bytes", "empty", "one-byte"])
def test_any_range_header_is_answered_200_206_or_416_with_the_right_bytes(client, content):
    name = default_storage.save("ranges.bin", ContentFile(content))
    url = default_storage.url(name)
    size = len(content)

    def answer(header: str) -> tuple[int, bytes, Any]:
        response = client.get(url, headers={"Range": header})
        assert response.status_code in (200, 206, 416)
        if response.status_code == 416:
            assert response["Content-Range"] == f"bytes */{size}"
            return 416, b"", response
        data = body(response)
        assert response["Content-Length"] == str(len(data))
        if response.status_code == 200:
            assert data == content and "Content-Range" not in response
        return response.status_code, data, response

    @given(first=digits, last=digits)
    def a_valid_header_gets_what_rfc_9110_says(first: str, last: str) -> None:
        expected = rfc_9110_answer(first, last, size)
        status, data, response = answer(f"bytes={first}-{last}")
        if isinstance(expected, int):
            assert status == expected
        else:
            start, end = expected
            assert (status, data) == (206, content[start:end])
            assert response["Content-Range"] == f"bytes {start}-{end - 1}/{size}"

    @given(header=st.one_of(st.text(), st.from_regex(r"(?i)bytes=[0-9 ,-]*", fullmatch=True)))
    def any_header_gets_a_slice_or_the_file(header: str) -> None:
        status, data, response = answer(header)
        if status == 206:
            unit, span = response["Content-Range"].split(" ")
            assert unit == "bytes"
            start, end = (int(pos) for pos in span.split("/")[0].split("-"))
            assert data == content[start : end + 1]

    a_valid_header_gets_what_rfc_9110_says()
    any_header_gets_a_slice_or_the_file()


def test_if_range_with_another_etag_is_the_whole_file(client, saved):
    headers = {"Range": "bytes=0-9", "If-Range": '"stale"'}
    response = client.get(saved, headers=headers)
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_range_with_the_etag_is_the_range(client, saved):
    etag = client.get(saved)["ETag"]
    response = client.get(saved, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert response.status_code == 206
    assert body(response) == DATA[:10]


# -- what is not served ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/media/missing.txt",
        "/media/docs",  # a directory
        "/media/docs/",
        "/media/",
        "/media/../tests/settings.py",
        "/media/docs/../../tests/settings.py",
        "/media/%2e%2e/tests/settings.py",
        "/media/docs/data%00.bin",
    ],
)
def test_what_is_not_a_file_of_the_storage_is_not_found(client, saved, path):
    assert client.get(path).status_code == 404


def test_post_is_not_allowed(client, saved):
    response = client.post(saved)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, PUT"  # PUT: a presigned upload


# -- the storage must be in memory ------------------------------------------------


def test_media_patterns_refuse_a_storage_on_disk(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="in-memory storages only"):
        media_patterns(storage=FileSystemStorage(location=tmp_path, base_url="/disk/"))


class URLconf:
    """A URLconf, for ROOT_URLCONF, whose urlpatterns *make* returns when first asked.

    Made when a resolver asks, not at import: DEFAULT_FILE_STORAGE settings
    (Django 4.2) have no aliases to build patterns for.
    """

    def __init__(self, make: Any) -> None:
        self._make = make

    @property
    def urlpatterns(self) -> list[Any]:
        return list(self._make())


#: The message of a request for STORAGES['private'], on a disk, outside a swap.
PRIVATE_REFUSED = (
    "inmemorystorage_fs.views.serve serves in-memory storages only; STORAGES['private'] is "
    "django.core.files.storage.filesystem.FileSystemStorage, and no test swap has put it in "
    "memory. Put it in memory for the tests: INMEMORYSTORAGE_TESTING = {'aliases': "
    "['private']} (or '__all__') with TEST_RUNNER = 'inmemorystorage_fs.testing.DiscoverRunner', "
    "inmemorystorage_aliases = private (or --inmemorystorage-all) under pytest, or "
    "fresh_storage(aliases=['private']); or serve a disk with django.views.static.serve."
)


@needs_aliases
def test_a_disk_alias_is_refused_at_each_request_outside_a_swap_only(client):
    # media_patterns() no longer looks at the storage's class: the URLconf loads
    # (the runner's checks import it before any swap) and its other URLs work.
    with override_settings(
        ROOT_URLCONF=URLconf(lambda: [*media_patterns(), *media_patterns("private")])
    ):
        default_storage.save("public.txt", ContentFile(b"public"))
        assert body(client.get("/media/public.txt")) == b"public"
        with pytest.raises(ImproperlyConfigured) as refused:
            client.get("/private/contract.pdf")
        assert str(refused.value) == PRIVATE_REFUSED
        with fresh_storage(aliases=["private"]):
            storages["private"].save("contract.pdf", ContentFile(b"%PDF"))
            assert body(client.get("/private/contract.pdf")) == b"%PDF"
        with pytest.raises(ImproperlyConfigured):
            client.get("/private/contract.pdf")


# -- system check E010: a disk alias served that no test swap covers ---------------


def e010(alias: str) -> tuple[str, str]:
    """Return the message and hint of E010 for the FileSystemStorage *alias*."""
    return (
        f"The URLconf serves STORAGES[{alias!r}] with inmemorystorage_fs.views.serve "
        "(media_patterns), but it is django.core.files.storage.filesystem.FileSystemStorage "
        "and INMEMORYSTORAGE_TESTING does not put it in memory: each request for its files "
        "would raise ImproperlyConfigured.",
        f"Put it in memory for the tests: INMEMORYSTORAGE_TESTING = {{'aliases': [{alias!r}]}} "
        "(or '__all__') with TEST_RUNNER = 'inmemorystorage_fs.testing.DiscoverRunner', "
        f"inmemorystorage_aliases = {alias} (or --inmemorystorage-all) under pytest, or "
        f"fresh_storage(aliases=[{alias!r}]); or serve a disk with django.views.static.serve. "
        "If only pytest's options or a test's own options swap it, add "
        "'inmemorystorage_fs.E010' to SILENCED_SYSTEM_CHECKS.",
    )


def reported(**kwargs: Any) -> list[tuple[str, str, str]]:
    return [(m.id, m.msg, m.hint) for m in check_served_aliases(**kwargs)]  # type: ignore[misc]


#: default (in memory in the settings), exports inside an include(), private.
SERVING = URLconf(
    lambda: [
        *media_patterns(),
        path("files/", include(media_patterns(alias="exports"))),
        *media_patterns(alias="private"),
        path("", lambda request: HttpResponse(b"home")),
    ]
)


@needs_aliases
@override_settings(ROOT_URLCONF=SERVING)
def test_e010_names_each_served_disk_alias_no_test_swap_covers():
    assert reported() == [
        ("inmemorystorage_fs.E010", *e010("exports")),
        ("inmemorystorage_fs.E010", *e010("private")),
    ]
    with override_settings(INMEMORYSTORAGE_TESTING={"aliases": ["private"]}):
        assert reported() == [("inmemorystorage_fs.E010", *e010("exports"))]


@needs_aliases
@override_settings(ROOT_URLCONF=SERVING)
@pytest.mark.parametrize(
    "testing", [{"aliases": "__all__"}, {"aliases": ["exports", "private"], "fields": True}]
)
def test_e010_is_silent_when_the_runner_s_setting_swaps_them(testing):
    with override_settings(INMEMORYSTORAGE_TESTING=testing):
        assert reported() == []


@needs_aliases
@override_settings(ROOT_URLCONF=SERVING)
def test_e010_takes_the_aliases_pytest_swaps_and_those_in_memory_now():
    assert reported(aliases="__all__") == []
    assert reported(aliases=["private"]) == [("inmemorystorage_fs.E010", *e010("exports"))]
    with fresh_storage(aliases=["exports", "private"]):
        assert reported() == []


@needs_aliases
@override_settings(ROOT_URLCONF=URLconf(lambda: media_patterns(alias="private")))
def test_e010_is_reported_by_django_s_check_framework():
    found = [m for m in checks.run_checks(tags=[checks.Tags.urls]) if m.id.startswith("inmem")]
    assert [(m.id, m.msg, m.hint) for m in found] == [
        ("inmemorystorage_fs.E010", *e010("private"))
    ]


@pytest.mark.parametrize("base_url", ["https://cdn.example.com/media/", "//cdn.example.com/m/"])
def test_media_patterns_refuse_a_base_url_on_another_host(base_url):
    with pytest.raises(ImproperlyConfigured, match="base_url is a path on this site"):
        media_patterns(storage=InMemoryStorage(base_url=base_url))


def test_media_patterns_serve_the_storage_given(rf):
    storage = InMemoryStorage(base_url="/given/")
    storage.save("g.txt", ContentFile(b"given"))
    (pattern,) = media_patterns(storage=storage)
    match = pattern.resolve("given/g.txt")
    assert match is not None
    response = match.func(rf.get("/given/g.txt"), *match.args, **match.kwargs)
    assert body(response) == b"given"


def test_serve_refuses_a_storage_on_disk(rf, tmp_path):
    (tmp_path / "x.txt").write_bytes(b"on disk")
    with pytest.raises(ImproperlyConfigured, match="the storage given"):
        serve(rf.get("/x.txt"), "x.txt", storage=FileSystemStorage(location=tmp_path))


@needs_aliases
def test_serve_refuses_an_alias_on_disk(rf):
    with pytest.raises(ImproperlyConfigured, match=r"STORAGES\['private'\]"):
        serve(rf.get("/private/x.txt"), "x.txt", alias="private")


# -- another alias, swapped by fresh_storage ---------------------------------------


@needs_aliases
@override_settings(ROOT_URLCONF=__name__)
def test_an_alias_put_in_memory_is_served_at_its_base_url(client):
    with fresh_storage(aliases=["default", "exports"]):
        exports = storages["exports"]
        assert exports.save("report.csv", ContentFile(b"a,b\n1,2\n")) == "report.csv"
        url = exports.url("report.csv")
        assert url == "/exports/report.csv"
        response = client.get(url)
        assert response.status_code == 200
        assert body(response) == b"a,b\n1,2\n"
        assert response["Content-Type"] == "text/csv"
        # Each alias serves its own files.
        assert client.get("/media/report.csv").status_code == 404
        default_storage.save("only-default.txt", ContentFile(b"d"))
        assert client.get("/exports/only-default.txt").status_code == 404
        assert body(client.get("/media/only-default.txt")) == b"d"


def test_the_served_alias_is_the_test_s_fresh_storage(client):
    default_storage.save("outer.txt", ContentFile(b"outer"))
    with fresh_storage() as storage:
        storage.save("inner.txt", ContentFile(b"inner"))
        assert body(client.get("/media/inner.txt")) == b"inner"
        assert client.get("/media/outer.txt").status_code == 404
    assert client.get("/media/inner.txt").status_code == 404
    assert body(client.get("/media/outer.txt")) == b"outer"


# -- one lookup per request ----------------------------------------------------------


def test_headers_and_bytes_match_django_s_static_serve_of_the_same_file(rf, tmp_path):
    storage = InMemoryStorage(base_url="/m/")
    storage.save(NAME, ContentFile(DATA))
    disk = tmp_path / NAME
    disk.parent.mkdir(parents=True)
    disk.write_bytes(DATA)
    modified = storage.get_modified_time(NAME).timestamp()
    os.utime(disk, (modified, modified))
    ours = serve(rf.get("/m/" + NAME), NAME, storage=storage)
    django = static_serve(rf.get("/m/" + NAME), NAME, document_root=str(tmp_path))
    try:
        assert body(ours) == b"".join(django.streaming_content) == DATA
        for header in ("Content-Length", "Last-Modified", "Content-Type"):
            assert ours[header] == django[header], header
    finally:
        django.file_to_stream.close()  # close() would signal request_finished (the database)


def test_serving_records_an_access_as_opening_does(rf):
    storage = InMemoryStorage(base_url="/m/")
    storage.save(NAME, ContentFile(DATA))
    before = storage.get_accessed_time(NAME)
    modified = storage.get_modified_time(NAME)
    assert body(serve(rf.get("/m/" + NAME), NAME, storage=storage)) == DATA
    assert storage.get_accessed_time(NAME) > before
    assert storage.get_modified_time(NAME) == modified  # reading changes no modified time


def test_a_subclass_opening_its_own_way_is_served_what_it_opens(rf):
    class Upper(InMemoryStorage):
        def _open(self, name, mode="rb"):
            opened = super()._open(name, mode)
            return ContentFile(opened.read().upper(), name=name)

    storage = Upper(base_url="/m/")
    storage.save("a.txt", ContentFile(b"shout"))
    response = serve(rf.get("/m/a.txt"), "a.txt", storage=storage)
    assert body(response) == b"SHOUT"
    assert response["Content-Length"] == "5"


@pytest.mark.parametrize("way", ["entries", "public-api"])
def test_a_storage_over_a_memory_filesystem_is_served_with_its_times(rf, monkeypatch, way):
    if way == "public-api":
        monkeypatch.setattr(_entries, "MEMORY_INTERNALS", False)
    storage = FSStorage(MemoryFS(), base_url="/m/")
    storage.save("d/x.bin", ContentFile(DATA))
    response = serve(rf.get("/m/d/x.bin"), "d/x.bin", storage=storage)
    assert body(response) == DATA
    modified = storage.get_modified_time("d/x.bin").timestamp()
    assert response["Last-Modified"] == http_date(modified)
    with pytest.raises(Http404):
        serve(rf.get("/m/d"), "d", storage=storage)  # a directory is no file
