"""An in-memory storage standing in for a production backend: URLs, signing, naming, SDK.

``InMemoryStorage(backend=original)`` takes over what the ``Profile`` that
``_profiles`` reads of *original* keeps: whether a name saved again replaces
the file, the URL shape, signed expiring URLs and ``url()``'s keywords, the
metadata of new objects (``_metadata``), the names the service refuses and
the SDK attributes memory lacks. Its URLs are paths on the test site,
``/<host of the real URL>/<key>``, so the test client, the live server and a
browser fetch them from this package's serving view (see
docs/howto/django-storages.rst). When the original's class defines a naming
hook of the project's own, the stand-in runs that very method (see ``_Twin``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

from ._names import join_url, normalize_name
from ._profiles import BARE, REMOTE, Profile, followed, seconds
from ._signing import Verdict, carries_signature, check, sign

__all__ = ["DEFAULT_EXPIRE", "StandIn"]

#: Seconds a signed URL lives unless told: S3's AWS_QUERYSTRING_EXPIRE default.
DEFAULT_EXPIRE = 3600

# botocore's GetObject: the parameters that go into the query, under these names.
_S3_QUERY = {
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseContentType": "response-content-type",
    "ResponseExpires": "response-expires",
    "VersionId": "versionId",
    "PartNumber": "partNumber",
}
# ... and those it sends as headers: accepted, and not in a URL.
_S3_HEADERS = frozenset(
    "Bucket Key IfMatch IfModifiedSince IfNoneMatch IfUnmodifiedSince Range SSECustomerAlgorithm "
    "SSECustomerKey SSECustomerKeyMD5 RequestPayer ExpectedBucketOwner ChecksumMode".split()
)
# google-cloud-storage's Blob.generate_signed_url() keywords, and those that go into the query.
_GCS_KEYWORDS = frozenset(
    "expiration api_access_endpoint method content_md5 content_type response_disposition "
    "response_type generation headers query_parameters client credentials version "
    "service_account_email access_token virtual_hosted_style bucket_bound_hostname scheme".split()
)
_GCS_QUERY = {
    "response_disposition": "response-content-disposition",
    "response_type": "response-content-type",
    "generation": "generation",
}
# azure-storage-blob's generate_blob_sas() keywords that go into the SAS.
_AZURE_QUERY = {
    "cache_control": "rscc",
    "content_disposition": "rscd",
    "content_encoding": "rsce",
    "content_language": "rscl",
    "content_type": "rsct",
}


class _RemoteAttribute:
    """An attribute of a backend's SDK, which a stand-in lacks: reading it explains why."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        profile = instance.__dict__.get("_profile")
        if profile is not None and profile.lacks(self.name):
            raise profile.missing(self.name, instance)
        raise AttributeError(
            f"{type(instance).__name__!r} object has no attribute {self.name!r}",
            name=self.name,
            obj=instance,
        )


class StandIn:
    """What an in-memory storage keeps of the production backend it follows (a mixin)."""

    base_url: str | None
    _profile: Profile | None = None  # the backend followed
    #: Whose rules new objects' metadata follows: the profile of a bucket,
    #: ``BARE`` (S3's words) when given parameters without one, None: no metadata.
    _objects: Profile | None = None
    _object_parameters: dict[str, Any] | None = None
    _default_acl: str | None = None
    _querystring_auth = False
    querystring_expire: int | None = None
    _plain_urls = True  # url(name) is FileSystemStorage's: no backend, no signing
    # The classes with the original's naming hooks, per (base class, original's class).
    _naming_classes: ClassVar[dict[tuple[type, type], type]] = {}

    def _follow(
        self,
        backend: object,
        object_parameters: object,
        default_acl: object,
        querystring_auth: object,
        querystring_expire: object,
    ) -> None:
        """Take what *backend* promises (None: nothing), then the explicit options."""
        profile = followed(backend)
        _check_options(profile, object_parameters, default_acl)
        _check_signing(querystring_auth, querystring_expire)
        self._profile = profile
        self._object_parameters = object_parameters  # type: ignore[assignment]  # checked
        self._default_acl = default_acl  # type: ignore[assignment]  # checked
        overridden = type(self).get_object_parameters is not StandIn.get_object_parameters
        if profile is not None:
            self._objects = profile if profile.keeps_metadata else None
        elif object_parameters is not None or default_acl is not None or overridden:
            self._objects = BARE
        if querystring_auth is None:
            querystring_auth = profile is not None and profile.querystring_auth
        self.querystring_auth = bool(querystring_auth)
        if querystring_expire is not None:
            self.querystring_expire = querystring_expire  # type: ignore[assignment]  # checked
        elif profile is not None and profile.family == "azure":
            self.querystring_expire = profile.querystring_expire  # None: unsigned unless asked
        else:
            self.querystring_expire = (profile and profile.querystring_expire) or DEFAULT_EXPIRE
        if profile is not None and profile.naming_hooks:
            original = type(profile.backend)
            self.__class__ = self._with_naming(type(self), original, profile.naming_hooks)
        self._twin: Any = None  # made on first use; never pickled

    @property
    def querystring_auth(self) -> bool:
        """Return whether ``url()`` signs by default (settable, as on S3Storage)."""
        return self._querystring_auth

    @querystring_auth.setter
    def querystring_auth(self, value: bool) -> None:
        self._querystring_auth = bool(value)
        self._plain_urls = self._profile is None and not value

    @property
    def profile(self) -> Profile | None:
        """Return what this storage keeps of the backend it follows (None: it follows none)."""
        return self._profile

    # -- object metadata and names ---------------------------------------------

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Return the parameters of a new object *name* (a hook, as in django-storages)."""
        if self._object_parameters is not None:
            return dict(self._object_parameters)
        profile = self._profile
        if profile is not None and profile.keeps_metadata:
            return dict(profile.backend.get_object_parameters(name))
        return {}

    # -- url() ----------------------------------------------------------------

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        """Return *name*'s URL: the followed backend's keywords, signed when it signs."""
        base_url = self.base_url
        if base_url is not None and self._plain_urls and not (args or kwargs):
            # FSStorage's url(name), inline: a call more costs a plain storage ~5%.
            return base_url if name is None else join_url(base_url, name)
        return self._backend_url(name, args, kwargs)

    def _backend_url(self, name: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        profile = self._profile
        rules = profile or BARE  # a storage following no backend speaks S3's url()
        arguments: Mapping[str, Any] = {}
        if args or kwargs:  # url(name) binds to every signature: skip the ~3 us
            try:
                arguments = rules.url_signature.bind(name, *args, **kwargs).arguments
            except TypeError as exc:
                owner = profile.backend_name if profile else type(self).__name__
                raise TypeError(f"{owner}.url() {exc}") from None
        base = super().url(name)  # type: ignore[misc]  # FSStorage's: base_url + the name
        family = rules.family
        if name is None or family in ("filesystem", "sftp"):
            return str(base)
        if not arguments and not self.querystring_auth and family != "azure":
            return str(base)
        if family == "gcs":
            return self._gcs_url(name, base, arguments.get("parameters"))
        if family == "azure":
            return self._azure_url(name, base, arguments)
        return self._s3_url(name, base, arguments)

    def _s3_url(self, name: str, base: str, arguments: Mapping[str, Any]) -> str:
        raw = self._profile is not None and self._profile.raw_parameters
        params = dict(arguments.get("parameters") or {})
        query = list(params.items()) if raw else _s3_query(params)
        expire = arguments.get("expire")
        expire = self.querystring_expire if expire is None else expire
        method = str(arguments.get("http_method") or "GET").upper()
        if not self.querystring_auth:
            return _with_query(base, query)
        return self._signed(name, base, method, seconds(expire), query)

    def _gcs_url(self, name: str, base: str, parameters: Any) -> str:
        if not self.querystring_auth:
            return base  # gcloud.py: "return blob.public_url", parameters unused
        params = dict(parameters or {})
        for key in params:
            if key not in _GCS_KEYWORDS:
                raise TypeError(
                    f"Blob.generate_signed_url() got an unexpected keyword argument {key!r}"
                )
        expiration = params.get("expiration") or self.querystring_expire
        if isinstance(expiration, datetime):
            aware = expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc)
            expiration = timedelta(seconds=aware.timestamp() - time.time())
        query = [
            (_GCS_QUERY[key], str(value)) for key, value in params.items() if key in _GCS_QUERY
        ]
        query += list(dict(params.get("query_parameters") or {}).items())
        method = str(params.get("method") or "GET").upper()
        return self._signed(name, base, method, seconds(expiration), query)

    def _azure_url(self, name: str, base: str, arguments: Mapping[str, Any]) -> str:
        expire = arguments.get("expire")
        expire = self.querystring_expire if expire is None else expire
        if not expire and not self.querystring_auth:
            return base  # azure_storage.py: "if expire:" a SAS, else the bare blob URL
        params = dict(arguments.get("parameters") or {})
        query = [
            (_AZURE_QUERY[key], str(value)) for key, value in params.items() if key in _AZURE_QUERY
        ]
        mode = str(arguments.get("mode") or "r")
        return self._signed(name, base, mode, seconds(expire or DEFAULT_EXPIRE), query)

    def _signed(
        self, name: str, base: str, method: str, expire: int, query: list[tuple[str, str]]
    ) -> str:
        style = (self._profile or BARE).style
        signed = sign(style, method, self._signed_path(name), expire, query)
        return _with_query(base, signed)

    def _signed_path(self, name: str) -> str:
        """Return the URL path, decoded, that a signature of *name* covers."""
        base_url = self.base_url or "/"
        return unquote(urlsplit(join_url(base_url, normalize_name(name))).path)

    def verify_url(self, method: str, name: str, query: Mapping[str, list[str]]) -> Verdict:
        """Return what the query string *query* of a *method* request for *name* proves."""
        style = (self._profile or BARE).style
        if not carries_signature(style, query):
            return Verdict.UNSIGNED  # before the name is read: an unusable one is a 404
        try:
            path = self._signed_path(name)
        except (ValueError, SuspiciousFileOperation):
            return Verdict.FORBIDDEN  # no URL of this storage names it: never signed
        return check(style, method, path, query)

    # -- the original's own naming hooks ------------------------------------------

    @classmethod
    def _with_naming(cls, base: type, original: type, hooks: tuple[str, ...]) -> type:
        """Return *base* with *original*'s naming *hooks*, run by ``_Twin``."""
        key = (base, original)
        made = cls._naming_classes.get(key)
        if made is None:
            namespace: dict[str, Any] = {hook: _delegate(hook) for hook in hooks}
            namespace["__reduce__"] = lambda self: (_rebuild, (base, self.__getstate__()))
            namespace["__module__"] = base.__module__
            name = f"{base.__name__}As{original.__name__}"
            made = cls._naming_classes.setdefault(key, type(name, (base,), namespace))
        return made

    def _naming_twin(self) -> Any:
        """Return the original's copy whose file questions this storage answers."""
        # Two threads racing here make two equal twins: either one answers the same.
        twin: Any = self.__dict__.get("_twin")
        if twin is None:
            original = self._profile.backend  # type: ignore[union-attr]  # it has hooks
            twin_class = type(type(original).__name__, (_Twin, type(original)), {})
            twin = object.__new__(twin_class)
            twin.__dict__.update(original.__dict__)
            twin._replacement = self
            self._twin = twin
        return twin


class _Twin:
    """Put before the original's class: its naming hooks run as written, on this memory.

    ``super()`` inside them reaches the backend's own hook (S3's
    ``file_overwrite`` rule, Django's random suffix); every file question they
    ask goes to the replacement, never to the network or the disk.
    """

    _replacement: Any

    def exists(self, name: str) -> bool:
        return bool(self._replacement.exists(name))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._replacement.listdir(path)  # type: ignore[no-any-return]

    def size(self, name: str) -> int:
        return int(self._replacement.size(name))


def _delegate(hook: str) -> Any:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._naming_twin(), hook)(*args, **kwargs)

    run.__name__ = hook
    return run


def _rebuild(base: Any, state: dict[str, Any]) -> Any:
    """Unpickle a storage running its original's naming hooks."""
    storage = base.__new__(base)
    storage.__setstate__(state)
    profile = state["_profile"]
    storage.__class__ = StandIn._with_naming(base, type(profile.backend), profile.naming_hooks)
    return storage


def _s3_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return GetObject *params* as botocore puts them in a presigned URL's query."""
    query = []
    for key, value in params.items():
        if key in _S3_QUERY:
            query.append((_S3_QUERY[key], str(value)))
        elif key not in _S3_HEADERS:
            known = ", ".join(sorted([*_S3_QUERY, *_S3_HEADERS]))
            raise ValueError(f'Unknown parameter in input: "{key}", must be one of: {known}')
    return query


def _with_query(base: str, query: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(query)}" if query else base


def _check_options(
    profile: Profile | None, object_parameters: object, default_acl: object
) -> None:
    """Raise ``ImproperlyConfigured`` for metadata options the followed backend cannot take."""
    if object_parameters is not None and not isinstance(object_parameters, dict):
        raise ImproperlyConfigured(
            f"object_parameters must be a dict or None, not {object_parameters!r}."
        )
    if default_acl is not None and not isinstance(default_acl, str):
        raise ImproperlyConfigured(f"default_acl must be a str or None, not {default_acl!r}.")
    if profile is None:
        return
    given = "object_parameters" if object_parameters is not None else "default_acl"
    if (object_parameters is not None or default_acl is not None) and not profile.keeps_metadata:
        raise ImproperlyConfigured(
            f"{given} has no meaning for {profile.backend_name}, which stores no metadata."
        )
    if profile.family == "azure" and default_acl is not None:
        raise ImproperlyConfigured("default_acl has no meaning for AzureStorage, which has none.")


def _check_signing(querystring_auth: object, querystring_expire: object) -> None:
    """Raise ``ImproperlyConfigured`` for a bad ``querystring_*`` option."""
    if querystring_auth is not None and not isinstance(querystring_auth, bool):
        raise ImproperlyConfigured(
            f"querystring_auth must be True, False or None, not {querystring_auth!r}."
        )
    if querystring_expire is not None and (
        not isinstance(querystring_expire, int)
        or isinstance(querystring_expire, bool)
        or querystring_expire <= 0
    ):
        raise ImproperlyConfigured(
            f"querystring_expire must be a number of seconds above 0, not {querystring_expire!r}."
        )


# The SDK objects of every family (``bucket``, ``client``...) are descriptors,
# not a __getattr__, which would also answer for a property whose own code
# raised AttributeError and hide that error behind its own message.
for _name in sorted({name for names in REMOTE.values() for name in names}):
    setattr(StandIn, _name, _RemoteAttribute(_name))
