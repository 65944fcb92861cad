"""Signed, expiring URLs and presigned PUTs of a swapped bucket, over real HTTP.

The same flows go through the test client, the live server (urllib) and
headless Chromium (a real ``fetch(url, {method: "PUT"})``); time-machine
moves the clock to see a link expire.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings
from django.urls import clear_url_caches

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import fresh_storage
from inmemorystorage_fs.urls import media_patterns
from tests.helpers import needs_aliases
from tests.testapp.urls import urlpatterns as site_patterns

S3 = {"bucket_name": "shop", "access_key": "AKIAEXAMPLE", "secret_key": "s3cr3t"}
STORAGES = {
    "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"},
    "bucket": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**S3, "location": "m"}},
    "azure": {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {"account_name": "shop", "account_key": "c2VjcmV0", "azure_container": "c"},
    },
}
# This module is the URLconf of its tests: the site, and the buckets where they serve.
urlpatterns = list(site_patterns)
pytestmark = [pytest.mark.urls(__name__), needs_aliases]


@pytest.fixture
def bucket() -> Iterator[Any]:
    """The S3 alias, swapped for the test; its URLs are served by media_patterns()."""
    with override_settings(STORAGES=STORAGES), fresh_storage(aliases="__all__"):
        urlpatterns[:] = [
            *site_patterns,
            *media_patterns(alias="bucket"),
            *media_patterns(alias="azure"),
        ]
        clear_url_caches()
        yield storages["bucket"]
    urlpatterns[:] = site_patterns
    clear_url_caches()


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def tamper(url: str, key: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, value if k == key else v) for k, v in parse_qsl(parts.query)]
    return parts._replace(query=urlencode(query)).geturl()


# -- the test client --------------------------------------------------------------


def test_a_signed_url_is_served_and_an_unsigned_or_tampered_one_is_refused(client, bucket):
    name = bucket.save("docs/a b.txt", ContentFile(b"hello"))
    url = bucket.url(name)
    assert url.startswith("/shop.s3.amazonaws.com/m/docs/a%20b.txt?AWSAccessKeyId=")
    assert body(client.get(url)) == b"hello"
    assert client.head(url).status_code == 200
    assert client.get(url.partition("?")[0]).status_code == 403
    assert client.get(tamper(url, "Expires", "9999999999")).status_code == 403
    other = bucket.save("docs/b.txt", ContentFile(b"secret"))
    stolen = bucket.url(other).partition("?")[0] + "?" + url.partition("?")[2]
    response = client.get(stolen)
    assert response.status_code == 403
    assert b"SignatureDoesNotMatch" in response.content


def test_a_link_expires_when_the_clock_moves_on(client, bucket):
    name = bucket.save("a.txt", ContentFile(b"soon gone"))
    with time_machine.travel(0, tick=False) as traveller:
        traveller.move_to("2025-03-01T12:00:00Z")
        url = bucket.url(name, expire=300)
        assert client.get(url).status_code == 200
        traveller.shift(timedelta(seconds=301))
        response = client.get(url)
    assert response.status_code == 403
    assert b"Request has expired" in response.content


def test_a_signed_url_sets_the_response_headers_it_names(client, bucket):
    name = bucket.save("report.csv", ContentFile(b"1,2"))
    url = bucket.url(name, parameters={"ResponseContentDisposition": "attachment; filename=r.csv"})
    response = client.get(url)
    assert response["Content-Disposition"] == "attachment; filename=r.csv"


def test_a_presigned_put_stores_the_body_and_a_get_signature_cannot_put(client, bucket):
    put_url = bucket.url("uploads/new.bin", http_method="PUT")
    response = client.put(put_url, b"\x00direct", content_type="application/octet-stream")
    assert response.status_code == 200 and response["ETag"]
    with bucket.open("uploads/new.bin") as handle:
        assert handle.read() == b"\x00direct"
    # The bucket overwrites (file_overwrite): a second PUT replaces the object.
    assert client.put(put_url, b"again").status_code == 200
    assert bucket.listdir("uploads") == ([], ["new.bin"])
    assert client.put(bucket.url("uploads/new.bin"), b"x").status_code == 403  # a GET URL
    assert client.get(put_url).status_code == 403  # a PUT URL
    assert client.put("/shop.s3.amazonaws.com/m/uploads/new.bin", b"x").status_code == 403


def test_a_presigned_put_stores_its_headers_as_the_objects_metadata(client, bucket):
    put_url = bucket.url("uploads/photo", http_method="PUT")
    headers = {"Cache-Control": "max-age=30", "x-amz-meta-owner": "ann"}
    assert (
        client.put(put_url, b"\x89PNG", content_type="image/png", headers=headers).status_code
        == 200
    )
    # S3 stores what the PUT said, not the backend's object_parameters nor a guess.
    assert bucket.metadata("uploads/photo") == {
        "ContentType": "image/png",
        "CacheControl": "max-age=30",
        "Metadata": {"owner": "ann"},
    }
    served = client.get(bucket.url("uploads/photo"))
    assert served["Content-Type"] == "image/png" and served["Cache-Control"] == "max-age=30"
    assert served["x-amz-meta-owner"] == "ann"
    azure = storages["azure"]
    sas = azure.url("typed.txt", expire=60, mode="w")
    assert client.put(sas, b"{}", content_type="application/json").status_code == 200
    azure.assert_metadata("typed.txt", content_type="application/json")


def test_a_put_of_a_name_the_service_refuses_is_a_400(client, bucket):
    put_url = bucket.url("/".join(["x" * 200] * 6), http_method="PUT")
    response = client.put(put_url, b"x")
    assert response.status_code == 400 and b"KeyTooLongError" in response.content


def test_a_plain_storage_signing_its_urls_takes_a_put_without_metadata(client):
    plain = InMemoryStorage(querystring_auth=True, base_url="/plain/")
    urlpatterns[:] = [*site_patterns, *media_patterns(storage=plain)]
    clear_url_caches()
    try:
        put_url = plain.url("n.txt", http_method="PUT")
        assert client.put(put_url, b"n", content_type="text/csv").status_code == 200
    finally:
        urlpatterns[:] = site_patterns
        clear_url_caches()
    assert plain.open("n.txt").read() == b"n" and plain.metadata("n.txt") == {}


def test_an_azure_sas_for_writing_does_not_overwrite(client, bucket):
    azure = storages["azure"]
    url = azure.url("a.txt", expire=60, mode="w")
    assert urlsplit(url).path == "/shop.blob.core.windows.net/c/a.txt"
    assert client.put(url, b"one").status_code == 200
    response = client.put(url, b"two")  # AZURE_OVERWRITE_FILES is False
    assert response.status_code == 409
    assert azure.url("a.txt") == "/shop.blob.core.windows.net/c/a.txt"  # no expiry: unsigned
    assert body(client.get(azure.url("a.txt"))) == b"one"


# -- the live server (real HTTP) ---------------------------------------------------


def fetch(url: str, data: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.django_db(transaction=True)
def test_the_live_server_checks_signatures_and_takes_presigned_puts(live_server, bucket):
    put_url = live_server.url + bucket.url("up/file.txt", http_method="PUT", expire=60)
    assert fetch(put_url, b"over http", "PUT")[0] == 200
    get_url = live_server.url + bucket.url("up/file.txt")
    assert fetch(get_url) == (200, b"over http")
    assert fetch(get_url.partition("?")[0])[0] == 403
    assert fetch(put_url)[0] == 403  # signed for PUT, asked with GET
    with time_machine.travel(timedelta(hours=2)):
        assert fetch(get_url)[0] == 403  # the server's threads see the moved clock too


# -- headless Chromium -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_browser_puts_straight_to_the_bucket(live_server, bucket, tmp_path):
    from tests.test_browser import screenshot_on_failure, start_browser  # skips without Chromium

    driver = start_browser(tmp_path / "profile")
    try:
        put_url = bucket.url("direct/photo.txt", http_method="PUT", expire=60)
        with screenshot_on_failure(driver, "presigned-put"):
            driver.get(f"{live_server.url}/media/none")  # a page of the site: same origin
            status = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0], {method: 'PUT', body: 'from chromium'})"
                ".then(r => done(r.status), e => done(String(e)));",
                put_url,
            )
            assert status == 200
            with bucket.open("direct/photo.txt") as handle:
                assert handle.read() == b"from chromium"
            text = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
                bucket.url("direct/photo.txt"),
            )
            assert text == "from chromium"
            refused = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0], {method: 'PUT', body: 'x'}).then(r => done(r.status));",
                bucket.url("direct/photo.txt"),  # signed for GET
            )
            assert refused == 403
    finally:
        driver.quit()
