"""What a django-storages backend promises that its in-memory stand-in keeps, per family.

S3Storage, GoogleCloudStorage and AzureStorage each store metadata with a
file in their own words, cap the length of an object's name, and hand out
objects of their SDK (``bucket``, ``client``). A ``Profile`` holds the
production instance it stands in for (the original a swap replaces, or the
``backend`` option) and reads it when asked, so the project's settings and a
subclass's ``get_object_parameters`` override are the ones followed. The rules
quote the backends' sources (django-storages 1.14, ``storages/backends/``)
line by line. A storage that is given ``object_parameters`` or
``default_acl`` without a backend follows S3's rules, in S3's words.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ._errors import BackendAttributeError, NameTooLong
from ._metadata import Metadata

__all__ = [
    "FAMILIES",
    "KEY_LIMIT",
    "Profile",
    "StandIn",
    "backend_options",
    "family_of",
    "make_profile",
]

Family = Literal["s3", "gcs", "azure"]

#: The production classes of each family, by dotted path: a class's MRO is
#: matched against them without importing django-storages (and boto3 & co).
FAMILIES: dict[str, Family] = {
    "storages.backends.s3.S3Storage": "s3",
    "storages.backends.gcloud.GoogleCloudStorage": "gcs",
    "storages.backends.azure_storage.AzureStorage": "azure",
}
#: Each family's longest object name, counted with its location prefix: S3
#: and Google Cloud Storage count UTF-8 bytes (their services refuse a longer
#: key); Azure counts characters, as django-storages' own check does.
KEY_LIMIT = 1024
#: AzureStorage's _get_valid_path: ``if s.count("/") > 256: raise ValueError``.
_AZURE_SLASHES = 256
#: The attributes of each family that are its SDK's objects, which talk to the service.
_REMOTE: dict[Family, tuple[str, ...]] = {
    "s3": ("bucket", "connection", "unsigned_connection"),
    "gcs": ("bucket", "client"),
    "azure": ("client", "service_client"),
}
_SERVICE = {"s3": "S3", "gcs": "Google Cloud Storage", "azure": "Azure Blob Storage"}
_DEFAULT_TYPE = "application/octet-stream"  # each backend's default_content_type


def family_of(cls: type) -> Family | None:
    """Return the family of the storage class *cls*, or None for any other storage."""
    for klass in cls.__mro__:
        family = FAMILIES.get(f"{klass.__module__}.{klass.__qualname__}")
        if family is not None:
            return family
    return None


def backend_options(original: object) -> dict[str, Any]:
    """Return the options that make an ``InMemoryStorage`` keep *original*'s promises."""
    return {"backend": original} if family_of(type(original)) else {}


@dataclass(frozen=True)
class Profile:
    """How one stand-in stores metadata and checks names, and what it lacks."""

    family: Family
    backend: Any  # the production storage instance, or None (S3's rules, no instance)
    object_parameters: dict[str, Any] | None  # given to the stand-in: wins over the backend's
    default_acl: str | None

    @property
    def backend_name(self) -> str:
        return "S3Storage" if self.backend is None else type(self.backend).__name__

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

    def parameters(self, key: str) -> dict[str, Any]:
        """Return the object parameters for *key*: the stand-in's own, else the backend's."""
        if self.object_parameters is not None:
            return dict(self.object_parameters)
        if self.backend is not None:
            return dict(self.backend.get_object_parameters(key))
        return {}

    def written(self, storage: Any, name: str, content: Any) -> Metadata:
        """Return the metadata *storage* stores with *content* saved as *name*."""
        key = self.key(name)
        self.check_key(key)
        params: dict[str, Any] = storage.get_object_parameters(key)
        if self.family == "gcs":
            return self._gcs(params, key)
        if self.family == "azure":
            return self._azure(params, key, content)
        return self._s3(params, key, content)

    def _s3(self, params: dict[str, Any], key: str, content: Any) -> Metadata:
        # S3Storage._get_write_parameters(name, content):
        #     params = self.get_object_parameters(name)
        #     if "ContentType" not in params:
        #         _type, encoding = mimetypes.guess_type(name)
        #         content_type = getattr(content, "content_type", None)
        #         content_type = content_type or _type or self.default_content_type
        #         params["ContentType"] = content_type
        #         if encoding:
        #             params["ContentEncoding"] = encoding
        #     if "ACL" not in params and self.default_acl:
        #         params["ACL"] = self.default_acl
        # (AWS_IS_GZIPPED is not kept: the bytes are stored as given, so no
        # "ContentEncoding": "gzip" claims otherwise.)
        if "ContentType" not in params:
            guessed, encoding = mimetypes.guess_type(key)
            default = getattr(self.backend, "default_content_type", _DEFAULT_TYPE)
            params["ContentType"] = getattr(content, "content_type", None) or guessed or default
            if encoding:
                params["ContentEncoding"] = encoding
        acl = self._acl()
        if "ACL" not in params and acl:
            params["ACL"] = acl
        return params

    def _gcs(self, params: dict[str, Any], key: str) -> Metadata:
        # GoogleCloudStorage._save(name, content):
        #     blob_params = self.get_object_parameters(name)
        #     if file_object.mime_encoding and CONTENT_ENCODING not in blob_params:
        #         blob_params[CONTENT_ENCODING] = file_object.mime_encoding
        #     upload_params["predefined_acl"] = blob_params.pop("acl", self.default_acl)
        #     upload_params[CONTENT_TYPE] = blob_params.pop(CONTENT_TYPE, file_object.mime_type)
        # where file_object.mime_type, mime_encoding = mimetypes.guess_type(name), and
        # Blob._get_content_type() stores 'application/octet-stream' for None.
        guessed, encoding = mimetypes.guess_type(key)
        if encoding and "content_encoding" not in params:
            params["content_encoding"] = encoding
        acl = params.pop("acl", self._acl())
        params["content_type"] = params.pop("content_type", guessed) or _DEFAULT_TYPE
        if acl is not None:
            params["acl"] = acl
        return params

    def _azure(self, params: dict[str, Any], key: str, content: Any) -> Metadata:
        # AzureStorage._get_content_settings_parameters(name, content):
        #     guessed_type, content_encoding = mimetypes.guess_type(name)
        #     content_type = (
        #         _content_type(content) or guessed_type or self.default_content_type
        #     )
        #     params["cache_control"] = self.cache_control
        #     params["content_type"] = content_type
        #     params["content_encoding"] = content_encoding
        #     params.update(self.get_object_parameters(name))
        guessed, encoding = mimetypes.guess_type(key)
        claimed = _azure_content_type(content)
        default = getattr(self.backend, "default_content_type", _DEFAULT_TYPE)
        return {
            "cache_control": getattr(self.backend, "cache_control", None),
            "content_type": claimed or guessed or default,
            "content_encoding": encoding,
            **params,
        }

    def _acl(self) -> str | None:
        if self.default_acl is not None:
            return self.default_acl
        acl: str | None = getattr(self.backend, "default_acl", None)
        return acl

    def lacks(self, name: str) -> bool:
        """Return True if *name* is an attribute of the backend's SDK that memory lacks."""
        return self.backend is not None and name in _REMOTE[self.family]

    def missing(self, name: str, storage: object) -> BackendAttributeError:
        """Return the error for the SDK attribute *name* read on the stand-in *storage*."""
        return BackendAttributeError(
            f"{type(storage).__name__} stands in memory for {self.backend_name}, and has no "
            f"{name!r}: no {_SERVICE[self.family]} {_thing(name)} exists in a test. Test "
            "through the storage API (inject a failure with fail_on), or run the code that "
            "talks to the SDK against a local service such as moto; see 'Testing code that "
            "uses django-storages' in the docs."
        )


def _azure_content_type(content: Any) -> str | None:
    """Return what azure_storage._content_type(content) returns, in its order."""
    for holder in ("file", None):
        try:
            owner = content if holder is None else getattr(content, holder)
            found: str | None = owner.content_type
            return found
        except AttributeError:
            continue
    return None


def _thing(name: str) -> str:
    return "bucket" if name == "bucket" else "connection or client"


def make_profile(
    backend: object, object_parameters: object, default_acl: object, overridden: bool
) -> Profile | None:
    """Return the profile of a stand-in given these options, or None if it keeps no metadata.

    *overridden*: the stand-in's class overrides ``get_object_parameters``.
    """
    if object_parameters is not None and not isinstance(object_parameters, dict):
        raise ImproperlyConfigured(
            f"object_parameters must be a dict or None, not {object_parameters!r}."
        )
    if default_acl is not None and not isinstance(default_acl, str):
        raise ImproperlyConfigured(f"default_acl must be a str or None, not {default_acl!r}.")
    instance = _instance(backend)
    if instance is None:
        if object_parameters is None and default_acl is None and not overridden:
            return None  # a disk's stand-in: it stores no metadata
        return Profile("s3", None, object_parameters, default_acl)
    family = family_of(type(instance))
    assert family is not None  # _instance() checked it
    if family == "azure" and default_acl is not None:
        raise ImproperlyConfigured("default_acl has no meaning for AzureStorage, which has none.")
    return Profile(family, instance, object_parameters, default_acl)


def _instance(backend: object) -> object | None:
    """Return the production storage instance the ``backend`` option names, if any."""
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
            f"backend must be a django-storages S3Storage, GoogleCloudStorage or AzureStorage "
            f"(a dotted path, a class or an instance), not {backend!r}."
        )
    # A class is built as the project's settings configure it (offline: no
    # backend of these families talks to its service before a file call).
    return cls() if isinstance(backend, (str, type)) else backend


class StandIn:
    """What an in-memory storage keeps of the production backend it stands in for."""

    #: None: a disk's stand-in, which stores no metadata.
    _profile: Profile | None = None

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Return the parameters of a new object *name* (a hook, as in django-storages)."""
        profile = self._profile
        return {} if profile is None else profile.parameters(name)

    def _stand_in(self, backend: object, object_parameters: object, default_acl: object) -> None:
        """Set up the profile of these options (``InMemoryStorage``'s)."""
        overridden = type(self).get_object_parameters is not StandIn.get_object_parameters
        self._profile = make_profile(backend, object_parameters, default_acl, overridden)

    if not TYPE_CHECKING:  # mypy would take every attribute for one that exists

        def __getattr__(self, name: str) -> Any:
            profile = self.__dict__.get("_profile")
            if profile is not None and profile.lacks(name):
                raise profile.missing(name, self)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
