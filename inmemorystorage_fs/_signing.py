"""Signed, expiring URLs: the query strings ``url()`` adds and the serving view checks.

A signature is an HMAC (``salted_hmac``, keyed by ``SECRET_KEY``) over the
HTTP method, the storage's URL path of the name and every other query
parameter, expiry included: changing any of them, or the path, breaks it.
The parameters are named as the real backend names them (``X-Amz-Expires``,
``X-Goog-Signature``, Azure's ``se``/``sp``/``sig``, CloudFront's
``Expires``/``Signature``), so code that reads them keeps working; their
values are this package's, and no real service would take them.

Time is ``time.time()``, read at each call: freezegun, time-machine or any
patch of it moves what ``url()`` signs and what the view accepts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Literal

from django.utils.crypto import constant_time_compare, salted_hmac

__all__ = ["STYLES", "Verdict", "carries_signature", "check", "sign"]

#: What one signed URL names: the style a backend family writes its query in.
Style = Literal["s3v2", "s3v4", "gcs", "cloudfront", "azure"]
STYLES: tuple[Style, ...] = ("s3v2", "s3v4", "gcs", "cloudfront", "azure")

_SALT = "inmemorystorage_fs.signed-url"
# The identity the v4 styles' Credential names: a key id no real account has.
_KEY_ID = "INMEMORYSTORAGE"
_DATE = "%Y%m%dT%H%M%SZ"  # X-Amz-Date / X-Goog-Date, as botocore and google-cloud-storage write it
_AZURE_DATE = "%Y-%m-%dT%H:%M:%SZ"  # Azure SAS 'se', as azure-storage-blob writes it
_AZURE_VERSION = "2026-10-06"  # the 'sv' azure-storage-blob 12.31 writes
# Azure SAS permissions ('sp') that allow each method: read, write or create.
_AZURE_ALLOWS = {"GET": "r", "HEAD": "r", "PUT": "wc"}


class Verdict(Enum):
    """What the serving view makes of a request's query string."""

    SIGNED = "signed"  # a valid signature for this method, not expired
    UNSIGNED = "unsigned"  # no signature in the query
    EXPIRED = "expired"
    FORBIDDEN = "forbidden"  # tampered, or signed for another method


def _v4_prefix(style: Style) -> str:
    return "X-Amz-" if style == "s3v4" else "X-Goog-"


def _signature_key(style: Style) -> str:
    if style in ("s3v4", "gcs"):
        return _v4_prefix(style) + "Signature"
    return "sig" if style == "azure" else "Signature"


def _stamp(when: float, layout: str) -> str:
    return datetime.fromtimestamp(int(when), tz=timezone.utc).strftime(layout)


def _expiry_fields(style: Style, method: str, now: float, expire: int) -> list[tuple[str, str]]:
    """Return the query fields, before the signature, that say when the URL expires."""
    if style in ("s3v4", "gcs"):
        prefix = _v4_prefix(style)
        service = "us-east-1/s3/aws4_request" if style == "s3v4" else "auto/storage/goog4_request"
        algorithm = "AWS4-HMAC-SHA256" if style == "s3v4" else "GOOG4-RSA-SHA256"
        return [
            (f"{prefix}Algorithm", algorithm),
            (f"{prefix}Credential", f"{_KEY_ID}/{_stamp(now, '%Y%m%d')}/{service}"),
            (f"{prefix}Date", _stamp(now, _DATE)),
            (f"{prefix}Expires", str(expire)),
            (f"{prefix}SignedHeaders", "host"),
        ]
    if style == "s3v2":
        return [("AWSAccessKeyId", _KEY_ID), ("Expires", str(int(now) + expire))]
    if style == "cloudfront":
        return [("Expires", str(int(now) + expire)), ("Key-Pair-Id", _KEY_ID)]
    # Azure signs a permission (its url()'s *mode*), passed here as the method.
    return [("se", _stamp(now + expire, _AZURE_DATE)), ("sp", method), ("sv", _AZURE_VERSION)]


def _digest(method: str, path: str, fields: Iterable[tuple[str, str]]) -> str:
    message = "\n".join([method, path, *sorted(f"{key}={value}" for key, value in fields)])
    return salted_hmac(_SALT, message, algorithm="sha256").hexdigest()


def sign(
    style: Style,
    method: str,
    path: str,
    expire: int,
    params: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """Return the query of *path*, with *params*, signed for *method* for *expire* seconds.

    For the Azure style, *method* is the SAS permission ("r", "w", "cw" ...).
    """
    fields = list(params)
    if style == "azure":
        fields += [("sr", "b")]
    fields += _expiry_fields(style, method, time.time(), expire)
    # Azure's permission is a field ('sp'); the others sign the method itself.
    signed_method = "" if style == "azure" else method
    return [*fields, (_signature_key(style), _digest(signed_method, path, fields))]


def carries_signature(style: Style, query: Mapping[str, list[str]]) -> bool:
    """Return True if the query string *query* has a signature of *style*."""
    return _signature_key(style) in query


def check(style: Style, method: str, path: str, query: Mapping[str, list[str]]) -> Verdict:
    """Return what the query string *query* of a *method* request for *path* proves."""
    signature_key = _signature_key(style)
    if signature_key not in query:
        return Verdict.UNSIGNED
    fields = [(key, value) for key, values in query.items() for value in values]
    given = [value for key, value in fields if key == signature_key]
    fields = [(key, value) for key, value in fields if key != signature_key]
    if style == "azure":
        allowed = _AZURE_ALLOWS.get(method, "")
        permissions = query.get("sp", [""])[-1]
        candidates = [""] if any(letter in permissions for letter in allowed) else []
    else:
        # A HEAD asks what a GET would get: a URL signed for GET answers both.
        candidates = [method, "GET"] if method == "HEAD" else [method]
    if len(given) != 1 or not any(
        constant_time_compare(given[0], _digest(candidate, path, fields))
        for candidate in candidates
    ):
        return Verdict.FORBIDDEN
    expires_at = _expires_at(style, query)
    if expires_at is None:
        return Verdict.FORBIDDEN
    return Verdict.EXPIRED if time.time() > expires_at else Verdict.SIGNED


def _expires_at(style: Style, query: Mapping[str, list[str]]) -> float | None:
    """Return when the signed *query* expires (a timestamp), or None if it cannot say."""
    try:
        if style in ("s3v4", "gcs"):
            prefix = _v4_prefix(style)
            issued = datetime.strptime(query[f"{prefix}Date"][-1], _DATE)
            issued = issued.replace(tzinfo=timezone.utc)
            return issued.timestamp() + int(query[f"{prefix}Expires"][-1])
        if style == "azure":
            expiry = datetime.strptime(query["se"][-1], _AZURE_DATE)
            return expiry.replace(tzinfo=timezone.utc).timestamp()
        return float(int(query["Expires"][-1]))
    except (KeyError, ValueError, OverflowError):
        return None
