"""assert_image: the storage method, the function, the mixin's twin and manage.py test."""

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.test import Client, SimpleTestCase, TestCase

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs.testing import (
    InMemoryStorageMixin,
    assert_image,
    fake_image,
    fake_pdf,
    fresh_storage,
)
from tests.helpers import needs_aliases
from tests.testapp.models import Photo

REPO = Path(__file__).resolve().parent.parent


def failure(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Return the message of the AssertionError that *check* raises."""
    with pytest.raises(AssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


@pytest.fixture
def avatars() -> InMemoryStorage:
    """Return a storage holding a 100x80 PNG named .jpg, a PDF and a text file."""
    storage = InMemoryStorage()
    storage.save("avatars/x.jpg", fake_image("x.png", size=(100, 80)))
    storage.save("docs/a.pdf", fake_pdf())
    storage.save("docs/notes.txt", ContentFile(b"hello world, not an image"))
    return storage


def test_it_passes_for_what_is_given_and_ignores_what_is_not(avatars: InMemoryStorage) -> None:
    avatars.assert_image("avatars/x.jpg")
    avatars.assert_image("avatars/x.jpg", (100, 80))
    avatars.assert_image("avatars/x.jpg", [100, 80], "png", "RGB")
    avatars.assert_image("avatars/x.jpg", format="PNG", mode="RGB")


def test_jpg_is_jpeg() -> None:
    storage = InMemoryStorage()
    storage.save("a.jpg", fake_image("a.jpg"))
    storage.assert_image("a.jpg", format="jpg")
    storage.assert_image("a.jpg", format="JPEG")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"size": (50, 50)}, "expected 50x50"),
        ({"format": "jpeg"}, "expected JPEG"),
        ({"mode": "RGBA"}, "expected RGBA"),
        ({"size": (100, 80), "format": "JPEG"}, "expected 100x80 JPEG"),
        ({"size": (50, 50), "format": "PNG", "mode": "L"}, "expected 50x50 PNG L"),
    ],
)
def test_a_mismatch_says_what_the_image_is_and_what_was_expected(
    avatars: InMemoryStorage, kwargs: dict[str, Any], expected: str
) -> None:
    message = failure(avatars.assert_image, "avatars/x.jpg", **kwargs)
    first, rest = message.split("\n", 1)
    assert first == f"'avatars/x.jpg' is 100x80 PNG RGB, {expected}"
    assert rest == f"The storage holds:\n{avatars.tree()}"


def test_a_file_that_is_not_an_image_fails_saying_so(avatars: InMemoryStorage) -> None:
    message = failure(avatars.assert_image, "docs/notes.txt")
    assert message == (
        "'docs/notes.txt' is not an image: Pillow recognizes no image format in its 25 bytes, "
        f"b'hello world, not'…\nThe storage holds:\n{avatars.tree()}"
    )
    assert "'docs/a.pdf' is not an image: Pillow recognizes no image format in its " in failure(
        avatars.assert_image, "docs/a.pdf", (1, 1)
    )


def test_an_image_cut_short_fails_as_not_decoding() -> None:
    storage = InMemoryStorage()
    whole = fake_image("big.png", size=(300, 200), color="white").read()
    storage.save("cut.png", ContentFile(whole[: len(whole) // 2]))
    message = failure(storage.assert_image, "cut.png", (300, 200))
    assert message.startswith("'cut.png' is a 300x200 PNG RGB image that does not decode: ")


def test_a_missing_file_fails_naming_it(avatars: InMemoryStorage) -> None:
    message = failure(avatars.assert_image, "avatars/y.jpg")
    assert message.startswith("Expected the image 'avatars/y.jpg': [Errno 2] ")
    assert avatars.tree() in message


@pytest.mark.parametrize("size", [50, (50,), ("50", "50"), (50.0, 50)])
def test_a_bad_expected_size_is_a_type_error(avatars: InMemoryStorage, size: Any) -> None:
    with pytest.raises(TypeError, match=r"size=\(width, height\) in pixels"):
        avatars.assert_image("avatars/x.jpg", size)


# -- the function: any storage, by object or alias, the default one by default --------


def test_the_function_checks_the_default_storage_by_default() -> None:
    with fresh_storage() as storage:
        storage.save("a.gif", fake_image("a.gif", size=(3, 2)))
        assert_image("a.gif", (3, 2), "GIF", "P")
        message = failure(assert_image, "a.gif", (2, 3))
        assert message.startswith("'a.gif' is 3x2 GIF P, expected 2x3\nThe storage holds:")


@needs_aliases
def test_the_function_takes_a_storage_or_an_alias() -> None:
    with fresh_storage(aliases=("default", "private")):
        storages["private"].save("p.webp", fake_image("p.webp", size=(4, 4)))
        assert_image("p.webp", (4, 4), "WEBP", storage="private")
        assert_image("p.webp", (4, 4), "WEBP", storage=storages["private"])
        assert "Expected the image 'p.webp'" in failure(assert_image, "p.webp")


def test_the_function_checks_a_folder_on_disk_as_it_checks_memory(tmp_path: Path) -> None:
    """The reference: the same files and checks on Django's FileSystemStorage."""
    on_disk, in_memory = FileSystemStorage(location=tmp_path), InMemoryStorage()
    messages = {}
    for storage in (on_disk, in_memory):
        storage.save("a.png", fake_image("a.png", size=(6, 5), mode="LA", color=(9, 9)))
        storage.save("b.txt", ContentFile(b"text"))
        assert_image("a.png", (6, 5), "PNG", "LA", storage=storage)
        messages[storage] = [
            failure(assert_image, "a.png", (5, 6), storage=storage),
            failure(assert_image, "b.txt", storage=storage),
            failure(assert_image, "c.png", storage=storage),
        ]
    tree = f"\nThe storage holds:\n{in_memory.tree()}"
    for disk, memory in zip(messages[on_disk], messages[in_memory], strict=True):
        assert memory.endswith(tree)  # ours show their files, the disk cannot
        memory = memory.removesuffix(tree)
        if memory.startswith("Expected the image"):  # the disk's error names its path
            missing = "Expected the image 'c.png': [Errno 2] No such file or directory: "
            assert memory == f"{missing}'c.png'"
            assert disk == f"{missing}'{tmp_path / 'c.png'}'"
        else:
            assert disk == memory
    assert messages[on_disk][0] == "'a.png' is 6x5 PNG LA, expected 5x6"


# -- the mixin's twin ------------------------------------------------------------------


class MixinImageTests(InMemoryStorageMixin, TestCase):
    inmemory_storage_aliases = ("default", "private")

    def test_it_checks_a_model_s_stored_image(self) -> None:
        photo = Photo.objects.create(image=fake_image("p.jpg", size=(8, 6), exif_orientation=3))
        self.assertStorageImage(photo.image.name)
        self.assertStorageImage(photo.image.name, (8, 6), "JPEG", "RGB")
        with self.assertRaises(AssertionError) as caught:
            self.assertStorageImage(photo.image.name, (6, 8))
        self.assertEqual(
            str(caught.exception).splitlines()[0],
            f"'{photo.image.name}' is 8x6 JPEG RGB, expected 6x8",
        )
        self.assertIn(self.storage.tree(), str(caught.exception))

    @needs_aliases
    def test_the_alias_chooses_the_storage(self) -> None:
        storages["private"].save("p.png", fake_image(size=(2, 2)))
        self.assertStorageImage("p.png", (2, 2), alias="private")
        with self.assertRaises(AssertionError):
            self.assertStorageImage("p.png")


class MixinOnARealStorageTests(InMemoryStorageMixin, SimpleTestCase):
    @needs_aliases
    def test_a_storage_not_in_memory_is_refused_naming_the_way_out(self) -> None:
        with self.assertRaisesMessage(TypeError, "inmemory_storage_aliases"):
            self.assertStorageImage("a.png", alias="private")


# -- manage.py test -----------------------------------------------------------------

MANAGE = """
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

UNITTEST_MODULE = """
from django.core.files.storage import default_storage
from django.test import TestCase

from inmemorystorage_fs.testing import (
    InMemoryStorageMixin, assert_image, fake_file, fake_image, fake_pdf,
)
from tests.testapp.models import Document, Photo


class FakeUploadTests(InMemoryStorageMixin, TestCase):
    def test_an_image_through_the_thumbnail_view(self):
        upload = fake_image("p.webp", size=(40, 20), exif_orientation=8)
        response = self.client.post("/thumbnails/", {"image": upload})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertStorageImage(response.json()["name"], (40, 20), "WEBP")
        self.assertStorageImage("thumbs/p.jpg", (16, 32), "JPEG", "RGB")
        assert_image("thumbs/p.jpg", (16, 32))

    def test_a_pdf_and_a_file_through_the_document_view(self):
        for upload in (fake_pdf(pages=2), fake_file("rows.csv", size=10)):
            response = self.client.post("/documents/", {"upload": upload})
            self.assertEqual(response.status_code, 200, response.content)
        self.assertStorageContent("documents/rows.csv", b"inmemoryst")
        with default_storage.open("documents/document.pdf") as handle:
            self.assertTrue(handle.read().endswith(b"%%EOF\\n"))
        self.assertEqual(Document.objects.count(), 2)

    def test_a_model_and_a_failing_check(self):
        photo = Photo.objects.create(image=fake_image("a.gif", size=(3, 3)))
        self.assertEqual((photo.width, photo.height), (3, 3))
        self.assertStorageImage(photo.image.name, (4, 4))
"""


def test_manage_py_test_runs_the_fakes_and_shows_the_failure(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(textwrap.dedent(MANAGE))
    (tmp_path / "fake_upload_tests.py").write_text(textwrap.dedent(UNITTEST_MODULE))
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "-W", "error", "manage.py", "test", "-v", "2", "fake_upload_tests"],
        cwd=tmp_path,
        env={**environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stderr
    assert run.returncode == 1, output
    assert "test_an_image_through_the_thumbnail_view (fake_upload_tests.FakeUploadTests" in output
    assert re.search(r"test_an_image_through_the_thumbnail_view .*\.\.\. ok", output), output
    assert re.search(r"test_a_pdf_and_a_file_through_the_document_view .*\.\.\. ok", output)
    assert "Ran 3 tests" in output and "FAILED (failures=1)" in output
    assert re.search(r"AssertionError: 'photos/\d{4}/a\.gif' is 3x3 GIF P, expected 4x4", output)


# -- the pytest plugin's fixture -------------------------------------------------------


@pytest.mark.django_db
def test_the_plugin_s_storage_receives_a_fake_upload(
    client: Client, inmemory_storage: InMemoryStorage
) -> None:
    response = client.post("/photos/", {"image": fake_image("a.jpg", size=(9, 9))})
    assert response.status_code == 200, response.content
    inmemory_storage.assert_image(response.json()["name"], (9, 9), "JPEG", "RGB")
    assert inmemory_storage.files() == [response.json()["name"]]
