"""Swapped cloud storages keep their backend's promises, side by side with the real backends.

The real django-storages backends are built offline (their clients are made
on first use; signing S3 and Azure URLs, and GCS URLs with a service account
key made here, needs no network). Time is frozen with time-machine wherever
both sides put a clock reading into a URL, so the two can be compared whole.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import django
import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.test import override_settings
from storages.backends.azure_storage import AzureStorage
from storages.backends.gcloud import GoogleCloudStorage
from storages.backends.s3 import S3Storage

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import fresh_storage
from tests.helpers import needs_aliases

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
S3 = {"bucket_name": "shop", "access_key": "AKIAEXAMPLE", "secret_key": "s3cr3t"}
AZURE = {"account_name": "shop", "account_key": "c2VjcmV0", "azure_container": "media"}


@pytest.fixture(scope="module")
def gcs_credentials() -> Any:
    """A service account with a key made here: GCS signs URLs with it, offline."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return service_account.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "client_email": "tests@shop.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
            "project_id": "shop",
        }
    )


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def same_url(real: str, ours: str) -> None:
    """Assert that *ours* is *real* served by the test site: same host+path, query and keys."""
    real_parts, our_parts = urlsplit(real), urlsplit(ours)
    assert not our_parts.netloc
    assert our_parts.path == f"/{real_parts.netloc}{real_parts.path}"
    real_query, our_query = parse_qs(real_parts.query), parse_qs(our_parts.query)
    assert list(our_query) == list(real_query) or set(our_query) == set(real_query)
    for key, values in real_query.items():
        if not re.search(r"Signature|sig$|Credential|AccessKeyId|Key-Pair-Id|^sv$", key):
            assert our_query[key] == values, key  # expiry, method, response overrides


# -- the URL keywords, backend by backend ----------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"expire": 60},
        {"http_method": "PUT"},
        {"parameters": {"ResponseContentDisposition": "attachment; filename=a.jpg"}},
        {"parameters": {"VersionId": "3"}, "expire": 10, "http_method": "GET"},
    ],
)
@pytest.mark.parametrize("options", [{}, {"signature_version": "s3v4"}, {"location": "media"}])
def test_s3_urls_match_the_real_backend(frozen, kwargs, options):
    real = S3Storage(**S3, **options)
    ours = InMemoryStorage(backend=real)
    same_url(real.url("a b/ü.jpg", **kwargs), ours.url("a b/ü.jpg", **kwargs))


def test_s3_unsigned_and_custom_domain_urls_match(frozen):
    for options in (
        {"querystring_auth": False},
        {"custom_domain": "cdn.shop.example", "location": "media"},
        {"endpoint_url": "http://minio:9000"},
    ):
        real = S3Storage(**S3, **options)
        ours = InMemoryStorage(backend=real)
        for kwargs in ({}, {"parameters": {"ResponseContentType": "text/plain"}}):
            if "custom_domain" in options:
                kwargs = {"parameters": {"a": "1"}} if kwargs else {}
            same_url(real.url("x.txt", **kwargs), ours.url("x.txt", **kwargs))


def test_s3_refuses_what_its_url_refuses():
    real = S3Storage(**S3)
    ours = InMemoryStorage(backend=real)
    with pytest.raises(TypeError) as real_error:
        real.url("x", mode="r")
    with pytest.raises(TypeError) as our_error:
        ours.url("x", mode="r")
    assert str(our_error.value) == str(real_error.value)
    with pytest.raises(TypeError, match="too many positional arguments"):
        ours.url("x", {}, 1, "GET", 4)
    with pytest.raises(ValueError, match='Unknown parameter in input: "Colour"'):
        ours.url("x", parameters={"Colour": "red"})


@pytest.mark.parametrize(
    "parameters",
    [
        None,
        {"method": "PUT"},
        {"expiration": 60, "response_disposition": "attachment"},
        {"query_parameters": {"tag": "a"}, "response_type": "text/plain"},
    ],
)
def test_gcs_signed_urls_match_the_real_backend(frozen, gcs_credentials, parameters):
    real = GoogleCloudStorage(bucket_name="shop", credentials=gcs_credentials, location="m")
    ours = InMemoryStorage(backend=real)
    same_url(
        real.url("a b.jpg", parameters=parameters), ours.url("a b.jpg", parameters=parameters)
    )


def test_gcs_public_urls_and_refusals_match(gcs_credentials):
    for options in (
        {"querystring_auth": False},
        {"default_acl": "publicRead", "location": "m"},
        {"querystring_auth": False, "custom_endpoint": "https://cdn.shop.example"},
    ):
        real = GoogleCloudStorage(bucket_name="shop", credentials=gcs_credentials, **options)
        ours = InMemoryStorage(backend=real)
        same_url(real.url("a b.jpg"), ours.url("a b.jpg"))
    real = GoogleCloudStorage(bucket_name="shop", credentials=gcs_credentials)
    ours = InMemoryStorage(backend=real)
    for kwargs in ({"expire": 3}, {"parameters": {"bogus": 1}}, {"http_method": "PUT"}):
        with pytest.raises(TypeError) as real_error:
            real.url("x", **kwargs)
        with pytest.raises(TypeError) as our_error:
            ours.url("x", **kwargs)
        assert str(our_error.value) == str(real_error.value)


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ({}, {}),
        ({"location": "m"}, {"expire": 60}),
        ({}, {"expire": 60, "mode": "w", "parameters": {"content_disposition": "attachment"}}),
        ({"expiration_secs": 30}, {}),
        ({"custom_domain": "cdn.shop.example"}, {}),
    ],
)
def test_azure_urls_match_the_real_backend(frozen, options, kwargs):
    real = AzureStorage(**AZURE, **options)
    ours = InMemoryStorage(backend=real)
    same_url(real.url("a b.jpg", **kwargs), ours.url("a b.jpg", **kwargs))
    with pytest.raises(TypeError) as real_error:
        real.url("x", http_method="PUT")
    with pytest.raises(TypeError) as our_error:
        ours.url("x", http_method="PUT")
    assert str(our_error.value) == str(real_error.value)


def test_a_filesystem_storage_keeps_url_name_only(tmp_path):
    real = FileSystemStorage(location=tmp_path, base_url="/private/")
    ours = InMemoryStorage(backend=real, base_url="/private/")
    assert ours.url("a b/ü.pdf") == real.url("a b/ü.pdf")
    with pytest.raises(TypeError) as real_error:
        real.url("x", expire=1)
    with pytest.raises(TypeError) as our_error:
        ours.url("x", expire=1)
    assert str(our_error.value) == str(real_error.value)


def test_a_plain_storage_takes_s3s_keywords_and_signs_when_told():
    plain = InMemoryStorage()
    assert plain.url("a b.txt") == "/media/a%20b.txt"
    assert plain.url("x.txt", parameters={"ResponseContentType": "text/csv"}, expire=5) == (
        "/media/x.txt?response-content-type=text%2Fcsv"
    )
    signed = parse_qs(urlsplit(InMemoryStorage(querystring_auth=True).url("x.txt")).query)
    assert signed["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in signed
    with pytest.raises(TypeError, match=r"InMemoryStorage.url\(\) got an unexpected keyword"):
        plain.url("x", mode="r")


def test_the_backend_option_takes_an_instance_a_class_or_a_dotted_path_alike(settings):
    settings.AWS_STORAGE_BUCKET_NAME = "shop"
    settings.AWS_S3_FILE_OVERWRITE = False
    profiles = [
        InMemoryStorage(backend=given).profile
        for given in (S3Storage(), S3Storage, "storages.backends.s3.S3Storage")
    ]
    kept = {(p.family, p.overwrite, p.base_url, p.querystring_auth) for p in profiles}
    assert kept == {("s3", False, "/shop.s3.amazonaws.com/", True)}
    assert InMemoryStorage().profile is None
    disk = InMemoryStorage(backend="django.core.files.storage.FileSystemStorage")
    assert disk.profile.family == "filesystem" and disk.url("a b") == "/media/a%20b"


def test_querystring_auth_set_on_the_instance_is_followed_as_s3storage_follows_it(frozen):
    real, ours = S3Storage(**S3), InMemoryStorage(backend=S3Storage(**S3))
    for signs in (False, True):
        real.querystring_auth = ours.querystring_auth = signs
        same_url(real.url("x.txt"), ours.url("x.txt"))
    plain = InMemoryStorage()
    plain.querystring_auth = True
    assert "X-Amz-Signature=" in plain.url("x.txt")
    plain.querystring_auth = False
    assert plain.url("x.txt") == "/media/x.txt"


# -- overwriting: the same name saved twice ---------------------------------------


def save_twice(storage: Storage) -> tuple[str, str, bytes]:
    first = storage.save("docs/a.txt", ContentFile(b"first"))
    second = storage.save("docs/a.txt", ContentFile(b"second"))
    with storage.open(first) as handle:
        return first, second, handle.read()


@pytest.mark.parametrize("allow_overwrite", [False, True])
def test_a_filesystem_storage_overwrites_as_the_disk_does(tmp_path, allow_overwrite):
    if allow_overwrite and django.VERSION < (5, 1):
        pytest.skip("FileSystemStorage takes allow_overwrite from Django 5.1")
    overwrite = {"allow_overwrite": True} if allow_overwrite else {}
    real = FileSystemStorage(location=tmp_path, **overwrite)
    ours = InMemoryStorage(backend=real)
    (real_first, real_second, real_bytes) = save_twice(real)
    (first, second, stored) = save_twice(ours)
    assert (first, stored) == (real_first, real_bytes)
    assert (second == first) is (real_second == real_first) is allow_overwrite


@pytest.mark.parametrize(
    ("backend", "options", "overwrites"),
    [
        (S3Storage, S3, True),  # AWS_S3_FILE_OVERWRITE defaults to True
        (S3Storage, {**S3, "file_overwrite": False}, False),
        (GoogleCloudStorage, {"bucket_name": "shop"}, True),  # GS_FILE_OVERWRITE: True
        (GoogleCloudStorage, {"bucket_name": "shop", "file_overwrite": False}, False),
        (AzureStorage, AZURE, False),  # AZURE_OVERWRITE_FILES defaults to False
        (AzureStorage, {**AZURE, "overwrite_files": True}, True),
    ],
)
def test_a_bucket_overwrites_by_its_backends_rule(backend, options, overwrites):
    real = backend(**options)
    # The real rule, offline: an overwriting backend keeps the name without asking
    # the bucket; one that does not asks exists() (the network) before it answers.
    if overwrites:
        assert real.get_available_name("docs/a.txt") == "docs/a.txt"
    first, second, stored = save_twice(InMemoryStorage(backend=real))
    assert first == "docs/a.txt"
    if overwrites:
        assert (second, stored) == (first, b"second")
    else:
        assert re.fullmatch(r"docs/a_[A-Za-z0-9]{7}\.txt", second) and stored == b"first"


class DatedS3(S3Storage):
    """A project's own naming, calling the backend's rule through super()."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return super().get_available_name(f"2025/{name}", max_length)


def test_the_originals_own_naming_hook_runs_on_memory():
    ours = InMemoryStorage(backend=DatedS3(**S3, file_overwrite=False))
    assert ours.save("a.txt", ContentFile(b"1")) == "2025/a.txt"
    # super() reached S3Storage's rule, whose exists() asked the memory, not S3.
    assert re.fullmatch(r"2025/a_[A-Za-z0-9]{7}\.txt", ours.save("a.txt", ContentFile(b"2")))
    again = pickle.loads(pickle.dumps(ours))
    assert type(again) is type(ours) and again.exists("2025/a.txt")
    assert again.save("b.txt", ContentFile(b"3")) == "2025/b.txt"


# -- through the swaps: STORAGES aliases and model fields ---------------------------


BUCKETS = {
    "default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"},
    "s3": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**S3, "location": "media"}},
    "azure": {"BACKEND": "storages.backends.azure_storage.AzureStorage", "OPTIONS": AZURE},
    "gcs": {
        "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
        "OPTIONS": {"bucket_name": "shop", "querystring_auth": False},
    },
    "odd": {"BACKEND": "tests.test_cloud.OddStorage"},
}


class OddStorage(Storage):
    """A backend no profile knows."""


@needs_aliases
def test_swapped_aliases_behave_like_their_backends(frozen):
    with override_settings(STORAGES=BUCKETS), fresh_storage(aliases="__all__"):
        s3, azure, gcs = storages["s3"], storages["azure"], storages["gcs"]
        assert isinstance(s3, InMemoryStorage)
        assert s3.profile.family == "s3" and azure.profile.family == "azure"
        assert save_twice(s3) == ("docs/a.txt", "docs/a.txt", b"second")
        assert save_twice(azure)[1] != "docs/a.txt"
        real = S3Storage(**S3, location="media")
        same_url(real.url("docs/a.txt", expire=5), s3.url("docs/a.txt", expire=5))
        assert gcs.url("x.txt") == "/storage.googleapis.com/shop/x.txt"
        odd = storages["odd"]
        assert odd.profile is None and not odd._allow_overwrite  # today's behaviour


@needs_aliases  # tests.billing is installed with STORAGES only
def test_a_fields_own_bucket_is_swapped_with_its_semantics():
    from tests.billing.models import Invoice

    field = Invoice._meta.get_field("thumb")
    before = field.storage
    field.storage = S3Storage(**S3, custom_domain="cdn.shop.example")
    try:
        with fresh_storage(fields=True):
            invoice = Invoice(thumb=ContentFile(b"png", name="a.png"))
            replacement = field.storage
            assert replacement.profile.family == "s3"
            assert replacement.save("thumbs/a.png", ContentFile(b"1")) == "thumbs/a.png"
            assert replacement.save("thumbs/a.png", ContentFile(b"2")) == "thumbs/a.png"
            assert invoice.thumb.storage is replacement
            assert replacement.url("thumbs/a.png") == "/cdn.shop.example/thumbs/a.png"
    finally:
        field.storage = before
