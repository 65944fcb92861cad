"""Who may read or write through the serving view: signed URLs, presigned PUTs.

A storage that signs its URLs (``querystring_auth``) answers 403 to a request
without a valid, unexpired signature, as S3 does; a request that carries one
is checked whatever the storage's default. A PUT needs a URL signed for PUT
(``url(name, http_method="PUT")``, GCS's ``parameters={"method": "PUT"}``,
Azure's ``mode="w"``) and stores the body under the name, by the storage's
overwrite rule: a storage that does not overwrite answers 409 for a taken
name, as Azure's ``upload_blob(overwrite=False)`` does. A storage keeping
metadata stores the PUT's headers (``Content-Type``, ``Cache-Control``,
``x-amz-meta-*``...) with the object, as the service does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.files.base import File
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from ._signing import Verdict

__all__ = ["RequestBody", "override_headers", "refusal", "verdict"]

#: Bytes read from a PUT body at a time.
CHUNK_SIZE = 256 * 1024

# The query parameters of a signed URL that set a response header, as S3 and
# GCS (response-*) and Azure's SAS (rsc*) name them.
_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-disposition": "Content-Disposition",
    "response-cache-control": "Cache-Control",
    "response-content-encoding": "Content-Encoding",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "rsct": "Content-Type",
    "rscd": "Content-Disposition",
    "rscc": "Cache-Control",
    "rsce": "Content-Encoding",
    "rscl": "Content-Language",
}
_REASONS = {
    Verdict.EXPIRED: "Request has expired: the signed URL's expiry has passed.",
    Verdict.FORBIDDEN: (
        "SignatureDoesNotMatch: the URL was changed after it was signed, "
        "or it was signed for another method."
    ),
}


def verdict(storage: Any, request: HttpRequest, name: str) -> Verdict:
    """Return what *request*'s query string proves about access to *name* of *storage*."""
    verify = getattr(storage, "verify_url", None)  # storages of this package's own
    if verify is None:
        return Verdict.UNSIGNED
    return verify(request.method, name, dict(request.GET.lists()))  # type: ignore[no-any-return]


def refusal(storage: Any, request: HttpRequest, found: Verdict) -> HttpResponse | None:
    """Return the 403 that *request* gets for the signature verdict *found*, or None."""
    reason = _REASONS.get(found)
    if reason is None and found is Verdict.UNSIGNED:
        if request.method == "PUT":
            reason = (
                "AccessDenied: a PUT needs a URL signed for PUT, "
                "such as url(name, http_method='PUT')."
            )
        elif getattr(storage, "querystring_auth", False):
            reason = "AccessDenied: this storage signs its URLs, and the request has no signature."
    return None if reason is None else HttpResponseForbidden(reason, content_type="text/plain")


def override_headers(request: HttpRequest) -> dict[str, str]:
    """Return the response headers a signed request's query sets (``response-content-type``...)."""
    return {header: request.GET[key] for key, header in _OVERRIDES.items() if key in request.GET}


class RequestBody(File):  # type: ignore[type-arg]
    """A request's body as a storage's ``save()`` takes content: in chunks, never whole."""

    def __init__(self, request: HttpRequest, name: str) -> None:
        super().__init__(request, name)  # type: ignore[arg-type]  # read() is all it uses
        self._request = request
        #: The request's headers: a direct upload's metadata (see _metadata.new_object).
        self.sent_headers = dict(request.headers)
        try:
            self.size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            self.size = 0

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        chunk_size = chunk_size or CHUNK_SIZE
        while chunk := self._request.read(chunk_size):
            yield chunk
