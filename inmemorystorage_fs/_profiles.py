"""What a storage keeps of the production backend it follows: one profile per backend family.

``profile_for(original)`` reads the original *instance* (its class, by the
dotted names of its MRO, so django-storages is never imported here, and its
attributes, which its constructor filled from its kwargs and settings) and
returns a frozen ``Profile``, or None for a backend this module does not
know: a storage following none keeps the plain behaviour. A profile holds
everything kept: the overwrite rule, the URL shape and signing, ``url()``'s
keywords, the naming hooks of the project's own, the metadata rules (the
family; ``_metadata`` computes them), the longest object name, and the SDK
attributes that raise. Each family follows its django-storages 1.14 source
(``storages/backends/``), quoted where it is read.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ._errors import BackendAttributeError, NameTooLong
from ._metadata import Metadata, new_object
from ._signing import Style

__all__ = [
    "BARE",
    "KEY_LIMIT",
    "NAMING_HOOKS",
    "REMOTE",
    "Family",
    "Profile",
    "built",
    "family_of",
    "followed",
    "naming_overrides",
    "profile_for",
    "replacement_options",
    "seconds",
]

Family = Literal["s3", "gcs", "azure", "sftp", "filesystem"]

# The classes each family is recognised by, anywhere in the original's MRO.
_FAMILIES: dict[str, Family] = {
    "storages.backends.s3.S3Storage": "s3",
    "storages.backends.gcloud.GoogleCloudStorage": "gcs",
    "storages.backends.azure_storage.AzureStorage": "azure",
    "storages.backends.sftpstorage.SFTPStorage": "sftp",
    "django.core.files.storage.filesystem.FileSystemStorage": "filesystem",
    "django.core.files.storage.memory.InMemoryStorage": "filesystem",
}
#: Django's naming hooks: a class of the project's own that defines one keeps it.
NAMING_HOOKS = (
    "get_valid_name",
    "get_alternative_name",
    "get_available_name",
    "generate_filename",
)
# Where the libraries' own hooks live: theirs are what the profile already keeps.
_LIBRARIES = ("django.", "storages.", "inmemorystorage_fs.")
#: The longest object name, counted with the location prefix: S3 and Google
#: Cloud Storage count UTF-8 bytes (their services refuse a longer key); Azure
#: counts characters, as django-storages' own check does.
KEY_LIMIT = 1024
#: AzureStorage's _get_valid_path: ``if s.count("/") > 256: raise ValueError``.
_AZURE_SLASHES = 256
#: The attributes of each family that are its SDK's objects, which talk to the service.
REMOTE: dict[Family, tuple[str, ...]] = {
    "s3": ("bucket", "connection", "unsigned_connection"),
    "gcs": ("bucket", "client"),
    "azure": ("client", "service_client"),
}
_SERVICE = {"s3": "S3", "gcs": "Google Cloud Storage", "azure": "Azure Blob Storage"}


# The url() signature of each family, read from its backend; a storage's url()
# binds its arguments to it, so a keyword the backend lacks is a TypeError.
def _s3_url(
    name: str, parameters: Any = None, expire: Any = None, http_method: Any = None
) -> None:
    """storages/backends/s3.py:

    ``def url(self, name, parameters=None, expire=None, http_method=None)``
    """


def _gcs_url(name: str, parameters: Any = None) -> None:
    """storages/backends/gcloud.py: ``def url(self, name, parameters=None)``."""


def _azure_url(name: str, expire: Any = None, parameters: Any = None, mode: Any = "r") -> None:
    """storages/backends/azure_storage.py:

    ``def url(self, name, expire=None, parameters=None, mode="r")``
    """


def _django_url(name: str) -> None:
    """Django's ``Storage.url(self, name)``; sftpstorage.py's ``def url(self, name)``."""


_URL_SIGNATURES: dict[Family, inspect.Signature] = {
    "s3": inspect.signature(_s3_url),
    "gcs": inspect.signature(_gcs_url),
    "azure": inspect.signature(_azure_url),
    "sftp": inspect.signature(_django_url),
    "filesystem": inspect.signature(_django_url),
}


@dataclass(frozen=True)
class Profile:
    """What a storage keeps of the production backend it follows."""

    family: Family
    backend: Any  # the production instance read; None for BARE
    overwrite: bool  # a name saved again replaces the file
    querystring_auth: bool  # url() signs by default
    querystring_expire: int | None  # seconds a signed URL lives; None: Azure's "unsigned"
    style: Style  # how the signed query is written
    #: The URL path before the name: "/<host of the real URL>/<its key prefix>/"
    #: for a bucket, None to keep the storage's base_url (filesystem, SFTP).
    base_url: str | None
    #: url()'s *parameters* go into the query as given (S3 on a custom domain),
    #: rather than as the backend's service maps them.
    raw_parameters: bool = False
    #: The naming hooks the original's class has of its own (see ``NAMING_HOOKS``).
    naming_hooks: tuple[str, ...] = ()

    @property
    def backend_name(self) -> str:
        """Return the class name of the backend followed ("S3Storage")."""
        return "S3Storage" if self.backend is None else type(self.backend).__name__

    @property
    def url_signature(self) -> inspect.Signature:
        return _URL_SIGNATURES[self.family]

    @property
    def key_root(self) -> str | None:
        """Return where in a bucket's namespace the files live ("host/bucket/prefix"), if any."""
        return None if self.base_url is None else self.base_url.strip("/")

    @property
    def keeps_metadata(self) -> bool:
        """Return True if the backend stores metadata with each object (a bucket)."""
        return self.family in REMOTE

    # -- object names and metadata (buckets) ---------------------------------------

    def key(self, name: str) -> str:
        """Return the object name the backend would use for the storage name *name*."""
        # S3/GCS/Azure's _normalize_name: safe_join(self.location, name), which
        # strips the "/"s around; Azure's _get_valid_path then: s.strip("./").
        location = str(getattr(self.backend, "location", "") or "").strip("/")
        key = f"{location}/{name}" if location else name
        return key.strip("./") if self.family == "azure" else key

    def check_key(self, key: str) -> None:
        """Raise ``NameTooLong`` if the service (or django-storages) refuses *key*."""
        if self.family == "azure":
            # AzureStorage's _get_valid_path:
            #     if len(s) > _AZURE_NAME_MAX_LEN:
            #         raise ValueError("File name max len is %d" % _AZURE_NAME_MAX_LEN)
            if len(key) > KEY_LIMIT:
                raise NameTooLong(f"File name max len is {KEY_LIMIT} ({self._limit(key)})")
            if key.count("/") > _AZURE_SLASHES:
                raise NameTooLong(
                    f"File name must not contain more than {_AZURE_SLASHES} slashes "
                    f"({self._limit(key)})"
                )
        elif len(key.encode()) > KEY_LIMIT:
            raise NameTooLong(
                f"The object name is {len(key.encode())} bytes in UTF-8; {_SERVICE[self.family]} "
                f"takes at most {KEY_LIMIT} ({self._limit(key)})"
            )

    def _limit(self, key: str) -> str:
        return f"{self.backend_name}'s limit, kept in memory; the name was {key[:60]!r}…"

    def written(self, storage: Any, name: str, content: Any, acl: str | None) -> Metadata:
        """Return the metadata *storage* stores with *content* saved as *name*.

        *acl*: the storage's own ``default_acl``, which wins over the backend's.
        """
        key = self.key(name)
        self.check_key(key)
        sent = getattr(content, "sent_headers", None)  # a direct upload (presigned PUT)
        params = None if sent is not None else storage.get_object_parameters(key)
        if acl is None:
            acl = getattr(self.backend, "default_acl", None)
        return new_object(self.family, self.backend, key, content, params, sent, acl)

    def lacks(self, name: str) -> bool:
        """Return True if *name* is an attribute of the backend's SDK that memory lacks."""
        return self.backend is not None and name in REMOTE.get(self.family, ())

    def missing(self, name: str, storage: object) -> BackendAttributeError:
        """Return the error for the SDK attribute *name* read on the stand-in *storage*."""
        thing = "bucket" if name == "bucket" else "connection or client"
        return BackendAttributeError(
            f"{type(storage).__name__} stands in memory for {self.backend_name}, and has no "
            f"{name!r}: no {_SERVICE[self.family]} {thing} exists in a test. Test "
            "through the storage API (inject a failure with fail_on), or run the code that "
            "talks to the SDK against a local service such as moto; see 'Testing code that "
            "uses django-storages' in the docs."
        )


#: What a storage following no backend speaks: S3's url() keywords, signing
#: style and metadata words (given object_parameters or default_acl), with
#: none of S3's promises (no overwrite, no signing unless told, its base_url).
BARE = Profile("s3", None, False, False, None, "s3v4", None)


def family_of(cls: type) -> Family | None:
    """Return the backend family of the storage class *cls*, or None if it has no profile."""
    for klass in cls.__mro__:
        family = _FAMILIES.get(f"{klass.__module__}.{klass.__qualname__}")
        if family is not None:
            return family
    return None


def naming_overrides(cls: type) -> tuple[str, ...]:
    """Return the naming hooks that a class of the project's own in *cls*'s MRO defines."""
    hooks = []
    for hook in NAMING_HOOKS:
        for klass in cls.__mro__:
            if hook in vars(klass):
                if not klass.__module__.startswith(_LIBRARIES):
                    hooks.append(hook)
                break
    return tuple(hooks)


def profile_for(original: object) -> Profile | None:
    """Return the profile of the storage *original*, or None if its backend is unknown."""
    family = family_of(type(original))
    if family is None:
        return None
    return _READERS[family](original, naming_overrides(type(original)))


def built(cls: type, options: dict[str, Any]) -> object:
    """Return ``cls(**options)``, a backend this package builds, not the project's code.

    django-storages' own deprecation warnings from its constructor (AzureStorage
    calls ``datetime.utcnow()``, deprecated on Python 3.12) are the package's
    doing here, so they must not fail a project's run under ``-W error``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"storages\.")
        return cls(**options)


def followed(backend: object) -> Profile | None:
    """Return the profile of the ``backend`` option: an instance, a class or a dotted path."""
    if backend is None:
        return None
    cls = backend if isinstance(backend, type) else type(backend)
    if isinstance(backend, str):
        try:
            cls = import_string(backend)
        except ImportError as exc:
            raise ImproperlyConfigured(f"backend {backend!r} cannot be imported: {exc}") from None
    if not isinstance(cls, type) or family_of(cls) is None:
        raise ImproperlyConfigured(
            "backend must be a storage of a family this package knows: S3Storage, "
            "GoogleCloudStorage, AzureStorage, SFTPStorage, FileSystemStorage or a subclass "
            f"(a dotted path, a class or an instance), not {backend!r}."
        )
    # A class is built as the project's settings configure it (offline: no
    # backend of these families talks to its service before a file call).
    original = built(cls, {}) if isinstance(backend, (str, type)) else backend
    return profile_for(original)


def replacement_options(original: object, remote_root: str) -> dict[str, Any]:
    """Return the ``InMemoryStorage`` options of a replacement that follows *original*.

    A bucket's files live at ``<remote_root>/<host>/<bucket>/<location>``, so
    replacements of one bucket share files, as the bucket does. Unknown
    backends: no options, the plain behaviour.
    """
    profile = profile_for(original)
    if profile is None:
        return {}
    options: dict[str, Any] = {"backend": original}
    if profile.key_root:
        options["location"] = f"{remote_root}/{profile.key_root}"
    return options


def _attr(original: object, name: str, default: Any = None) -> Any:
    return getattr(original, name, default)


def _prefix(location: object) -> str:
    """Return a bucket location ("media/", "") as the path segment it adds ("media", "")."""
    return str(location or "").strip("/")


def _base(*segments: str) -> str:
    return "/" + "".join(f"{segment}/" for segment in segments if segment)


def _netloc_and_path(url: str) -> str:
    parts = urlsplit(url if "//" in url else f"//{url}")
    return (parts.netloc + parts.path).rstrip("/")


def _s3(original: object, hooks: tuple[str, ...]) -> Profile:
    # get_default_settings(): "file_overwrite": setting("AWS_S3_FILE_OVERWRITE", True),
    # "querystring_auth": setting("AWS_QUERYSTRING_AUTH", True),
    # "querystring_expire": setting("AWS_QUERYSTRING_EXPIRE", 3600),
    # "location": setting("AWS_LOCATION", ""), "custom_domain": setting("AWS_S3_CUSTOM_DOMAIN")
    custom_domain = _attr(original, "custom_domain")
    signs = bool(_attr(original, "querystring_auth", True))
    if custom_domain:
        # url(): "{}//{}/{}{}".format(self.url_protocol, self.custom_domain,
        # filepath_to_uri(name), ...); signed only "if self.querystring_auth and
        # self.cloudfront_signer", by CloudFront (Expires, Signature, Key-Pair-Id).
        host = _netloc_and_path(str(custom_domain))
        signs = signs and _attr(original, "cloudfront_signer") is not None
        style: Style = "cloudfront"
    else:
        host = _s3_host(original)
        style = "s3v4" if _attr(original, "signature_version") == "s3v4" else "s3v2"
    return Profile(
        family="s3",
        backend=original,
        overwrite=bool(_attr(original, "file_overwrite", True)),
        querystring_auth=signs,
        querystring_expire=int(_attr(original, "querystring_expire", 3600)),
        style=style,
        base_url=_base(host, _prefix(_attr(original, "location"))),
        raw_parameters=bool(custom_domain),
        naming_hooks=hooks,
    )


# A bucket name botocore puts in the host (utils.check_dns_name): otherwise in the path.
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def _s3_host(original: object) -> str:
    """Return "host/bucket" or "bucket.host" of a presigned URL, as botocore 1.44 writes it."""
    bucket = str(_attr(original, "bucket_name") or "bucket")
    endpoint = _attr(original, "endpoint_url")
    if endpoint:
        return f"{_netloc_and_path(str(endpoint))}/{bucket}"  # http://minio:9000/<bucket>
    if _attr(original, "addressing_style") != "path" and _DNS_BUCKET.fullmatch(bucket):
        return f"{bucket}.s3.amazonaws.com"  # virtual-hosted style
    region = _attr(original, "region_name")
    if region and len(bucket) >= 3:
        return f"s3.{region}.amazonaws.com/{bucket}"
    return f"s3.amazonaws.com/{bucket}"


def _gcs(original: object, hooks: tuple[str, ...]) -> Profile:
    # get_default_settings(): "file_overwrite": setting("GS_FILE_OVERWRITE", True),
    # "querystring_auth": setting("GS_QUERYSTRING_AUTH", True),
    # "expiration": setting("GS_EXPIRATION", timedelta(seconds=86400)),
    # "custom_endpoint": setting("GS_CUSTOM_ENDPOINT", None),
    # "location": setting("GS_LOCATION", "")
    # url(): no_signed_url = (blob_params.get("acl", self.default_acl) == "publicRead"
    #        or not self.querystring_auth); unsigned: blob.public_url
    #        ("https://storage.googleapis.com/<bucket>/<name>") or
    #        "{storage_base_url}/{quoted_name}" with the custom endpoint.
    endpoint = _attr(original, "custom_endpoint")
    if endpoint:
        host = _netloc_and_path(str(endpoint))
    else:
        host = f"storage.googleapis.com/{_attr(original, 'bucket_name') or 'bucket'}"
    public = _attr(original, "default_acl") == "publicRead"
    return Profile(
        family="gcs",
        backend=original,
        overwrite=bool(_attr(original, "file_overwrite", True)),
        querystring_auth=bool(_attr(original, "querystring_auth", True)) and not public,
        querystring_expire=seconds(_attr(original, "expiration", 86400)),
        style="gcs",
        base_url=_base(host, _prefix(_attr(original, "location"))),
        naming_hooks=hooks,
    )


def _azure(original: object, hooks: tuple[str, ...]) -> Profile:
    # get_default_settings(): "overwrite_files": setting("AZURE_OVERWRITE_FILES", False),
    # "expiration_secs": setting("AZURE_URL_EXPIRATION_SECS"),
    # "location": setting("AZURE_LOCATION", ""),
    # "custom_domain": setting("AZURE_CUSTOM_DOMAIN"),
    # "endpoint_suffix": setting("AZURE_ENDPOINT_SUFFIX", "core.windows.net")
    # url(): "if expire is None: expire = self.expiration_secs"; "if expire:" a SAS
    # (se, sp, sv, sr, sig); the blob URL "<account>.blob.<suffix>/<container>/<name>",
    # its netloc replaced by the custom domain.
    account = _attr(original, "account_name") or "account"
    suffix = _attr(original, "endpoint_suffix") or "core.windows.net"
    host = _attr(original, "custom_domain") or f"{account}.blob.{suffix}"
    expire = _attr(original, "expiration_secs")
    return Profile(
        family="azure",
        backend=original,
        overwrite=bool(_attr(original, "overwrite_files", False)),
        querystring_auth=bool(expire),
        querystring_expire=int(expire) if expire else None,
        style="azure",
        base_url=_base(
            host,
            str(_attr(original, "azure_container") or ""),
            _prefix(_attr(original, "location")),
        ),
        naming_hooks=hooks,
    )


def _sftp(original: object, hooks: tuple[str, ...]) -> Profile:
    # No file_overwrite: Django's get_available_name (a random suffix).
    # url(): urljoin(self.base_url, name);
    # "base_url": setting("SFTP_BASE_URL") or setting("MEDIA_URL")
    return Profile("sftp", original, False, False, None, "s3v4", None, naming_hooks=hooks)


def _filesystem(original: object, hooks: tuple[str, ...]) -> Profile:
    # Django 5.1+: FileSystemStorage(allow_overwrite=False) keeps it as _allow_overwrite.
    overwrite = bool(_attr(original, "_allow_overwrite", False))
    return Profile(
        "filesystem", original, overwrite, False, None, "s3v4", None, naming_hooks=hooks
    )


_READERS = {"s3": _s3, "gcs": _gcs, "azure": _azure, "sftp": _sftp, "filesystem": _filesystem}


def seconds(value: object) -> int:
    """Return an expiry given as seconds or a ``timedelta`` (GS_EXPIRATION) in whole seconds."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"An expiry must be seconds or a timedelta, not {value!r}.")
