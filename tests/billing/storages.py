"""The storages of a project that keeps files on real backends, as production does."""

import posixpath
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.azure_storage import AzureStorage
from storages.backends.gcloud import GoogleCloudStorage
from storages.backends.s3 import S3Storage

#: Where the project's real storages write. Tests assert that nothing lands here.
DISK = settings.DISK


class ThumbStorage(FileSystemStorage):
    """A storage class of the project's own, instantiated for one field."""

    def __init__(self) -> None:
        super().__init__(location=f"{DISK}/thumbs", base_url="/thumbs/")


def get_scan_storage() -> Storage:
    """Return the storage of scans, chosen at run time (a callable storage)."""
    return storages["exports"]


#: Built at import by code no swap reaches: only strict mode can catch its writes.
LOCAL_CACHE = FileSystemStorage(location=f"{DISK}/cache", base_url="/cache/")


class ReportStorage(S3Storage):
    """The project's S3 storage: each report downloads under its own name."""

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        params["ContentDisposition"] = f'attachment; filename="{posixpath.basename(name)}"'
        return params


# Built offline, as production builds them: no backend calls its service before a file call.
REPORTS = ReportStorage(
    bucket_name="reports",
    location="reports",
    object_parameters={"CacheControl": "max-age=86400", "Metadata": {"team": "billing"}},
    default_acl="private",
)
EXPORTS = GoogleCloudStorage(
    bucket_name="exports",
    object_parameters={"cache_control": "no-store"},
    default_acl="projectPrivate",
)
ARCHIVE = AzureStorage(
    account_name="billing",
    azure_container="archive",
    cache_control="public, max-age=600",
    object_parameters={"content_language": "en"},
)
