"""The storages of a project that keeps files on real backends, as production does."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

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
