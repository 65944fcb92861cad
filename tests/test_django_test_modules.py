"""Django's own test modules, replayed: where they would tell our storage from the disk.

Each case follows the steps of a test in Django's ``tests/`` folder (named in
its docstring), with Django's settings overrides and ``default_storage``, once
with ``FileSystemStorage`` on a temporary folder and once with this package's
storage: from the settings, and as the pytest plugin's fresh storage.
"""

import os
import shutil
import tempfile
import uuid
from typing import Any, ClassVar

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings

from inmemorystorage_fs import InMemoryStorage
from tests.testapp.models import Document

# A folder that does not exist until a class needs it, as Django's MEDIA_ROOT
# (tempfile.mkdtemp()) for its file_uploads tests.
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), f"inmemorystorage_fs-{uuid.uuid4().hex}")
UPLOAD_FOLDER = "documents"  # Document.upload's upload_to: Django's FileModel has test_upload
UPLOAD_TO = os.path.join(MEDIA_ROOT, UPLOAD_FOLDER)
ON_DISK = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


class DirectoryCreation:
    """Django's ``file_uploads.tests.DirectoryCreationTests.test_not_a_directory``."""

    expected_storage: ClassVar[type]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()  # type: ignore[misc]
        os.makedirs(MEDIA_ROOT, exist_ok=True)
        cls.addClassCleanup(shutil.rmtree, MEDIA_ROOT)  # type: ignore[attr-defined]

    def test_a_file_where_the_upload_directory_goes_is_named_in_the_error(self: Any) -> None:
        assert isinstance(default_storage._wrapped, self.expected_storage)
        # An absolute name inside MEDIA_ROOT: FileSystemStorage deletes it (here,
        # nothing to delete), so the storage must not call it suspicious.
        default_storage.delete(UPLOAD_TO)
        with SimpleUploadedFile(UPLOAD_TO, b"x") as file:
            default_storage.save(UPLOAD_FOLDER, file)
        self.addCleanup(default_storage.delete, UPLOAD_TO)
        message = f"{UPLOAD_TO} exists and is not a directory."
        with self.assertRaisesMessage(FileExistsError, message):
            with SimpleUploadedFile("foo.txt", b"x") as file:
                Document().upload.save("foo.txt", file, save=False)
        assert default_storage.listdir("") == ([], [UPLOAD_FOLDER])

    def test_an_absolute_name_inside_media_root_is_deleted(self: Any) -> None:
        default_storage.save(f"{UPLOAD_FOLDER}/a.txt", SimpleUploadedFile("a.txt", b"x"))
        default_storage.delete(os.path.join(UPLOAD_TO, "a.txt"))
        default_storage.delete(UPLOAD_TO)  # the directory, under its absolute name
        assert not default_storage.exists(UPLOAD_FOLDER)


@override_settings(MEDIA_ROOT=MEDIA_ROOT, STORAGES=ON_DISK)
class DirectoryCreationOnDiskTests(DirectoryCreation, SimpleTestCase):
    """The reference: Django's FileSystemStorage, as Django's own test suite runs it."""

    expected_storage = FileSystemStorage


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class DirectoryCreationInMemoryTests(DirectoryCreation, SimpleTestCase):
    """The STORAGES setting's InMemoryStorage, following the overridden MEDIA_ROOT."""

    expected_storage = InMemoryStorage


@pytest.mark.inmemory_storage
@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class DirectoryCreationFreshStorageTests(DirectoryCreation, SimpleTestCase):
    """The pytest plugin's fresh storage for the test, following the overridden MEDIA_ROOT."""

    expected_storage = InMemoryStorage
