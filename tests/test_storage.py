"""The Django storage contract of InMemoryStorage, call by call."""

import errno
import io
import re
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import PIL.Image
import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import override_settings

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs.storage import PathDoesNotExist, clear_persistent_fs
from inmemorystorage_fs.testing import fresh_storage
from tests.testapp.models import Photo

UTC = timezone.utc  # datetime.UTC is Python 3.11+; this package supports 3.10


def read(storage: Storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        data: bytes = handle.read()
    return data


def tick() -> None:
    """Let the clock move so that consecutive timestamps differ."""
    time.sleep(0.01)


# -- open ---------------------------------------------------------------------


def test_write_mode_truncates_an_existing_file(storage):
    storage.save("note.txt", ContentFile("hello world"))
    with storage.open("note.txt", "w") as handle:
        handle.write("bye")
    assert read(storage, "note.txt") == b"bye"


def test_append_modes_add_at_the_end(storage):
    storage.save("log.txt", ContentFile(b"one\n"))
    with storage.open("log.txt", "a") as handle:
        handle.write("two\n")
    with storage.open("log.txt", "ab") as handle:
        handle.write(b"three\n")
    assert read(storage, "log.txt") == b"one\ntwo\nthree\n"


def test_text_modes_are_utf8(storage):
    with storage.open("greek.txt", "w") as handle:
        handle.write("καλημέρα ✓")
    assert read(storage, "greek.txt") == "καλημέρα ✓".encode()
    with storage.open("greek.txt", "r") as handle:
        assert handle.read() == "καλημέρα ✓"


def test_binary_write_and_read(storage):
    with storage.open("data.bin", "wb") as handle:
        handle.write(bytes(range(256)))
    with storage.open("data.bin", "rb") as handle:
        assert handle.read() == bytes(range(256))


def test_read_write_mode_changes_in_place(storage):
    storage.save("abc.txt", ContentFile(b"abcdef"))
    with storage.open("abc.txt", "r+") as handle:
        assert handle.read(2) == "ab"
        handle.seek(2)
        handle.write("XY")
    assert read(storage, "abc.txt") == b"abXYef"


def test_read_write_mode_needs_an_existing_file(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("missing.txt", "r+")


def test_exclusive_mode_creates_once(storage):
    with storage.open("once.txt", "x") as handle:
        handle.write("first")
    with pytest.raises(FileExistsError):
        storage.open("once.txt", "x")
    assert read(storage, "once.txt") == b"first"


@pytest.mark.parametrize("mode", ["w", "wb", "a", "ab", "x", "xb"])
def test_writing_modes_create_missing_directories(storage, mode):
    with storage.open("deep/er/file.txt", mode) as handle:
        handle.write(b"x" if "b" in mode else "x")
    assert storage.listdir("deep") == (["er"], [])
    assert read(storage, "deep/er/file.txt") == b"x"


# Python 3.10's open() still takes "U" (deprecated, removed in 3.11); the storage
# refuses it on every Python, as 3.11+ does.
_U = pytest.param(
    "rU", marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10's open() takes 'U'")
)


@pytest.mark.parametrize("mode", ["q", "rw", "rbt", "", "rr", "wa", "+", "b", _U, "r\0", 3])
def test_invalid_modes_are_refused_as_open_refuses_them(storage, tmp_path, mode):
    storage.save("f.txt", ContentFile(b"x"))
    (tmp_path / "f.txt").write_bytes(b"x")
    with pytest.raises((ValueError, TypeError)) as on_disk:
        open(tmp_path / "f.txt", mode)
    with pytest.raises(type(on_disk.value), match=re.escape(str(on_disk.value))):
        storage.open("f.txt", mode)


def test_every_open_is_an_independent_handle(storage):
    storage.save("f.txt", ContentFile(b"0123456789"))
    first = storage.open("f.txt")
    second = storage.open("f.txt")
    assert first.read(4) == b"0123"
    assert second.read(2) == b"01"
    first.close()
    assert first.closed
    assert not second.closed
    assert second.read() == b"23456789"
    second.close()


def test_a_read_handle_refuses_writes_as_open_does(storage, tmp_path):
    storage.save("f.txt", ContentFile(b"original"))
    (tmp_path / "f.txt").write_bytes(b"original")
    with open(tmp_path / "f.txt", "rb") as on_disk, storage.open("f.txt", "rb") as ours:
        for handle in (on_disk, ours):
            with pytest.raises(io.UnsupportedOperation):
                handle.write(b"CHANGED!")
            with pytest.raises(io.UnsupportedOperation):
                handle.truncate(0)
            assert not handle.writable()
    assert read(storage, "f.txt") == b"original"


def test_a_read_handle_sees_the_file_as_it_was_when_opened(storage):
    storage.save("f.txt", ContentFile(b"version one"))
    reader = storage.open("f.txt")
    with storage.open("f.txt", "wb") as writer:
        writer.write(b"two")
    assert reader.read() == b"version one"
    assert read(storage, "f.txt") == b"two"
    reader.close()


def test_reading_a_file_while_another_handle_writes_it(storage):
    writer = storage.open("growing.txt", "wb")
    writer.write(b"abc")
    writer.flush()  # as on a disk, a write is buffered until flushed
    assert read(storage, "growing.txt") == b"abc"
    writer.write(b"def")
    writer.flush()
    assert read(storage, "growing.txt") == b"abcdef"
    writer.close()


def test_file_name_is_the_full_storage_name(storage):
    storage.save("avatars/x.jpg", ContentFile(b"jpeg"))
    with storage.open("avatars/x.jpg") as handle:
        assert handle.name == "avatars/x.jpg"
        assert isinstance(handle, File)
    with storage.open("avatars/./x.jpg") as handle:
        assert handle.name == "avatars/x.jpg"


def test_close_really_closes_and_open_reopens(storage):
    storage.save("f.txt", ContentFile(b"content"))
    handle = storage.open("f.txt")
    handle.read()
    handle.close()
    assert handle.closed
    with pytest.raises(ValueError):
        handle.read()
    handle.open()
    assert not handle.closed
    assert handle.read() == b"content"
    handle.open()  # an open file rewinds
    assert handle.read(3) == b"con"
    handle.close()
    handle.open("r")
    assert handle.read() == "content"
    handle.close()


def test_reopening_for_writing_writes_to_the_storage(storage):
    storage.save("f.txt", ContentFile(b"old"))
    handle = storage.open("f.txt")
    handle.close()
    handle.open("wb")
    handle.write(b"new")
    handle.close()
    assert read(storage, "f.txt") == b"new"


def test_opening_a_directory_or_missing_file_fails_like_a_disk(storage):
    storage.save("dir/f.txt", ContentFile(b"x"))
    with pytest.raises(IsADirectoryError):
        storage.open("dir")
    with pytest.raises(IsADirectoryError):
        storage.open("dir", "w")
    with pytest.raises(FileNotFoundError) as excinfo:
        storage.open("dir/missing.txt")
    assert isinstance(excinfo.value, PathDoesNotExist)
    assert excinfo.value.errno == errno.ENOENT
    assert excinfo.value.filename == "dir/missing.txt"


# -- save ---------------------------------------------------------------------


def test_save_returns_the_name_with_forward_slashes(storage):
    assert storage.save("a\\b\\c.txt", ContentFile(b"x")) == "a/b/c.txt"
    assert storage.listdir("a/b") == ([], ["c.txt"])


def test_save_picks_a_new_name_when_taken(storage):
    first = storage.save("doc.txt", ContentFile(b"1"))
    second = storage.save("doc.txt", ContentFile(b"2"))
    assert first == "doc.txt"
    assert second != first
    assert second.startswith("doc_") and second.endswith(".txt")
    assert read(storage, first) == b"1"
    assert read(storage, second) == b"2"


def test_allow_overwrite_replaces_the_file():
    storage = InMemoryStorage(allow_overwrite=True)
    assert storage.save("doc.txt", ContentFile(b"first version")) == "doc.txt"
    assert storage.save("doc.txt", ContentFile(b"second")) == "doc.txt"
    assert storage.listdir("") == ([], ["doc.txt"])
    assert read(storage, "doc.txt") == b"second"


def test_allow_overwrite_keeps_the_old_file_when_the_new_content_fails():
    storage = InMemoryStorage(allow_overwrite=True)
    storage.save("doc.txt", ContentFile(b"keep me"))
    with pytest.raises(RuntimeError):
        storage.save("doc.txt", ExplodingContent())
    assert read(storage, "doc.txt") == b"keep me"


def test_save_accepts_file_contentfile_str_and_plain_file_objects(storage):
    assert read(storage, storage.save("a.bin", File(io.BytesIO(b"file")))) == b"file"
    assert read(storage, storage.save("b.txt", ContentFile("unicode ✓"))) == "unicode ✓".encode()
    assert read(storage, storage.save("c.txt", io.StringIO("text io"))) == b"text io"
    assert read(storage, storage.save("d.bin", io.BytesIO(b"bytes io"))) == b"bytes io"


def test_save_empty_files(storage):
    name = storage.save("empty.txt", ContentFile(b""))
    assert storage.exists(name)
    assert storage.size(name) == 0
    assert read(storage, name) == b""


def test_save_unicode_names(storage):
    name = storage.save("фото/日本語 ✓.txt", ContentFile(b"x"))
    assert name == "фото/日本語 ✓.txt"
    assert storage.listdir("фото") == ([], ["日本語 ✓.txt"])
    assert storage.url(name) == (
        "/media/%D1%84%D0%BE%D1%82%D0%BE/%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E2%9C%93.txt"
    )


def test_save_twenty_directories_deep(storage):
    name = "/".join(f"d{i}" for i in range(20)) + "/leaf.txt"
    assert storage.save(name, ContentFile(b"deep")) == name
    assert read(storage, name) == b"deep"
    assert storage.listdir("d0") == (["d1"], [])
    assert storage.listdir("/".join(f"d{i}" for i in range(20))) == ([], ["leaf.txt"])


class ChunksOnly(File):
    """Content that refuses read(): save() must stream its chunks."""

    def __init__(self, parts: list[bytes]) -> None:
        super().__init__(None, "chunks.bin")
        self.parts = parts

    def read(self, *args):
        raise AssertionError("save() read the whole content instead of streaming it")

    def chunks(self, chunk_size=None):
        yield from self.parts


class ExplodingContent(File):
    """Content whose chunks fail halfway."""

    def __init__(self) -> None:
        super().__init__(None, "explode.bin")

    def chunks(self, chunk_size=None):
        yield b"first half"
        raise RuntimeError("the upload broke")


def test_save_streams_chunks(storage):
    name = storage.save("streamed.bin", ChunksOnly([b"a" * 10, b"b" * 10, "c" * 10]))
    assert read(storage, name) == b"a" * 10 + b"b" * 10 + b"c" * 10


def test_failed_save_leaves_no_file_and_keeps_others(storage):
    storage.save("dir/keep.txt", ContentFile(b"keep"))
    with pytest.raises(RuntimeError, match="the upload broke"):
        storage.save("dir/explode.bin", ExplodingContent())
    assert storage.listdir("dir") == ([], ["keep.txt"])
    assert not storage.exists("dir/explode.bin")
    assert read(storage, "dir/keep.txt") == b"keep"


def test_temporary_upload_file_is_removed_after_save(storage):
    upload = TemporaryUploadedFile("big.bin", "application/octet-stream", 5, None)
    upload.write(b"12345")
    upload.flush()
    temp_path = Path(upload.temporary_file_path())
    assert temp_path.exists()
    name = storage.save("uploads/big.bin", upload)
    assert read(storage, name) == b"12345"
    assert not temp_path.exists()
    upload.close()


def test_two_threads_saving_the_same_name_get_two_files(storage):
    barrier = threading.Barrier(2)
    names = []

    class SlowContent(File):
        def __init__(self, tag: bytes) -> None:
            super().__init__(None, "same.txt")
            self.tag = tag

        def chunks(self, chunk_size=None):
            barrier.wait()  # both threads are inside save() at once
            yield self.tag

    def save(tag: bytes) -> None:
        names.append(storage.save("same.txt", SlowContent(tag)))

    threads = [threading.Thread(target=save, args=(tag,)) for tag in (b"A", b"B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 2
    assert sorted(read(storage, name) for name in names) == [b"A", b"B"]


def test_saving_below_a_file_fails_cleanly(storage):
    storage.save("file.txt", ContentFile(b"x"))
    with pytest.raises(NotADirectoryError, match="Not a directory") as exc_info:
        storage.save("file.txt/child.txt", ContentFile(b"y"))
    assert isinstance(exc_info.value, FileExistsError)  # what Django's InMemoryStorage raises
    assert read(storage, "file.txt") == b"x"


def test_inherited_name_helpers_work_unchanged(storage):
    storage.save("docs/report.tar.gz", ContentFile(b"x"))
    available = storage.get_available_name("docs/report.tar.gz")
    # Django 5.0+ keeps ".tar.gz" whole; 4.2 adds the suffix before ".gz".
    assert available.startswith("docs/report") and available.endswith(".gz")
    assert available != "docs/report.tar.gz"
    assert storage.get_available_name("docs/new.txt") == "docs/new.txt"
    assert storage.generate_filename("docs/My File?.txt") == "docs/My_File.txt"
    with pytest.raises(SuspiciousFileOperation):
        storage.generate_filename("../etc/passwd")


# -- names --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x.txt", "a/../../x.txt", "..", "/etc/passwd", "\\x.txt"])
def test_names_outside_the_storage_are_refused(storage, name):
    with pytest.raises(SuspiciousFileOperation, match=r"x\.txt|passwd|\.\."):
        storage.open(name, "w")
    with pytest.raises(SuspiciousFileOperation):
        storage.exists(name)


def test_a_nul_byte_is_refused_naming_the_name(storage):
    with pytest.raises(ValueError, match="NUL"):
        storage.exists("bad\0name.txt")


def test_dot_dot_may_step_back_inside_the_storage(storage):
    storage.save("a/b.txt", ContentFile(b"x"))
    assert storage.exists("a/c/../b.txt")
    assert storage.exists("./a//b.txt")


# -- delete, exists, size, listdir -------------------------------------------


def test_delete_a_file_and_a_tree(storage):
    storage.save("tree/a.txt", ContentFile(b"a"))
    storage.save("tree/sub/b.txt", ContentFile(b"b"))
    storage.save("other.txt", ContentFile(b"o"))
    storage.delete("tree/a.txt")
    assert not storage.exists("tree/a.txt")
    storage.delete("tree")
    assert not storage.exists("tree")
    assert storage.listdir("") == ([], ["other.txt"])


def test_delete_missing_is_a_no_op(storage):
    storage.delete("never/was.txt")
    storage.delete("nothing.txt")
    assert storage.listdir("") == ([], [])


@pytest.mark.parametrize("name", ["", None])
def test_delete_without_a_name_is_an_error(storage, name):
    with pytest.raises(ValueError, match=r"The name must be given to delete\(\)\."):
        storage.delete(name)


def test_delete_of_the_root_is_refused(storage):
    storage.save("f.txt", ContentFile(b"x"))
    with pytest.raises(ValueError, match="clear"):
        storage.delete(".")
    assert storage.exists("f.txt")


def test_exists(storage):
    storage.save("dir/file.txt", ContentFile(b"x"))
    assert storage.exists("dir/file.txt")
    assert storage.exists("dir")
    assert not storage.exists("dir/other.txt")
    assert not storage.exists("dir/file.txt/child")


def test_size(storage):
    storage.save("f.bin", ContentFile(b"x" * 1234))
    storage.save("u.txt", ContentFile("é"))
    assert storage.size("f.bin") == 1234
    assert storage.size("u.txt") == 2
    with pytest.raises(FileNotFoundError):
        storage.size("missing.bin")
    storage.save("d/f", ContentFile(b""))
    with pytest.raises(IsADirectoryError):
        storage.size("d")


def test_listdir_is_sorted_dirs_and_files(storage):
    for name in ["b.txt", "a.txt", "z/1.txt", "m/2.txt", "c.txt"]:
        storage.save(name, ContentFile(b"x"))
    assert storage.listdir("") == (["m", "z"], ["a.txt", "b.txt", "c.txt"])
    assert storage.listdir("z") == ([], ["1.txt"])


def test_listdir_of_a_file_or_missing_directory(storage):
    storage.save("file.txt", ContentFile(b"x"))
    with pytest.raises(NotADirectoryError):
        storage.listdir("file.txt")
    with pytest.raises(FileNotFoundError):
        storage.listdir("missing")


def test_relative_location_never_shows_up_in_listdir():
    for persist in (False, True):
        storage = InMemoryStorage(location="relative/media", persist=persist)
        storage.save("f.txt", ContentFile(b"x"))
        assert storage.listdir("") == ([], ["f.txt"])


# -- url and path -------------------------------------------------------------


def test_url(storage):
    assert storage.url("photos/a b#1.jpg") == "/media/photos/a%20b%231.jpg"
    assert storage.url(None) == "/media/"
    assert InMemoryStorage(base_url="https://cdn.example/files").url("x.txt") == (
        "https://cdn.example/files/x.txt"
    )


def test_url_follows_media_url_unless_given(storage):
    explicit = InMemoryStorage(base_url="/fixed/")
    with override_settings(MEDIA_URL="/other/"):
        assert storage.url("x.txt") == "/other/x.txt"
        assert explicit.url("x.txt") == "/fixed/x.txt"
    assert storage.url("x.txt") == "/media/x.txt"


def test_url_without_base_url_is_an_error():
    with override_settings(MEDIA_URL=None):
        with pytest.raises(ValueError, match="not accessible via a URL"):
            InMemoryStorage().url("x.txt")


def test_url_of_a_name_climbing_out_stays_under_base_url(storage):
    # FileSystemStorage gives "/admin/" here; a URL never leaves base_url.
    assert storage.url("../../admin/") == "/media/%2E%2E/%2E%2E/admin/"


def test_path_is_not_implemented_for_memory(storage):
    storage.save("f.txt", ContentFile(b"x"))
    with pytest.raises(NotImplementedError):
        storage.path("f.txt")


def test_fsstorage_over_a_real_folder_has_real_paths(tmp_path):
    storage = FSStorage(f"osfs://{tmp_path}")
    name = storage.save("sub/f.txt", ContentFile(b"on disk"))
    assert Path(storage.path(name)) == tmp_path / "sub" / "f.txt"
    assert (tmp_path / "sub" / "f.txt").read_bytes() == b"on disk"
    assert storage.listdir("sub") == ([], ["f.txt"])
    with pytest.raises(SuspiciousFileOperation):
        storage.path("../outside.txt")


def test_fsstorage_needs_a_filesystem():
    with pytest.raises(ImproperlyConfigured, match="fs"):
        FSStorage()
    with pytest.raises(ImproperlyConfigured, match="Invalid option 'location' for FSStorage"):
        FSStorage("mem://", location="/x")


# -- times --------------------------------------------------------------------


def test_times_are_aware_utc_with_use_tz(storage):
    before = datetime.now(UTC)
    storage.save("f.txt", ContentFile(b"x"))
    for getter in (
        storage.get_created_time,
        storage.get_modified_time,
        storage.get_accessed_time,
    ):
        moment = getter("f.txt")
        assert moment.tzinfo is UTC
        assert before <= moment <= datetime.now(UTC)


@override_settings(USE_TZ=False)
def test_times_are_naive_local_without_use_tz(storage):
    storage.save("f.txt", ContentFile(b"x"))
    moment = storage.get_modified_time("f.txt")
    assert moment.tzinfo is None
    assert abs((moment - datetime.now()).total_seconds()) < 60


def test_times_written_before_use_tz_changes_come_back_aware(storage):
    with override_settings(USE_TZ=False):
        storage.save("f.txt", ContentFile(b"x"))
    assert storage.get_modified_time("f.txt").tzinfo is UTC


def test_opening_moves_accessed_and_writing_moves_modified(storage):
    storage.save("f.txt", ContentFile(b"x"))
    created = storage.get_created_time("f.txt")
    modified = storage.get_modified_time("f.txt")
    accessed = storage.get_accessed_time("f.txt")
    tick()
    read(storage, "f.txt")
    assert storage.get_accessed_time("f.txt") > accessed
    assert storage.get_modified_time("f.txt") == modified
    tick()
    with storage.open("f.txt", "ab") as handle:
        handle.write(b"more")
    assert storage.get_modified_time("f.txt") > modified
    assert storage.get_created_time("f.txt") == created


def test_directory_times_move_when_a_child_is_created_or_deleted(storage):
    storage.save("dir/a.txt", ContentFile(b"a"))
    created = storage.get_created_time("dir")
    first = storage.get_modified_time("dir")
    tick()
    storage.save("dir/b.txt", ContentFile(b"b"))
    second = storage.get_modified_time("dir")
    assert second > first
    assert storage.get_accessed_time("dir") >= second
    tick()
    storage.delete("dir/a.txt")
    third = storage.get_modified_time("dir")
    assert third > second
    assert storage.get_accessed_time("dir") >= third
    tick()
    with storage.open("dir/c.txt", "w") as handle:
        handle.write("c")
    assert storage.get_modified_time("dir") > third
    assert storage.get_created_time("dir") == created


def test_rewriting_a_file_does_not_move_its_directory_time(storage):
    storage.save("dir/a.txt", ContentFile(b"a"))
    modified = storage.get_modified_time("dir")
    tick()
    with storage.open("dir/a.txt", "w") as handle:
        handle.write("changed")
    assert storage.get_modified_time("dir") == modified


def test_times_of_a_missing_file(storage):
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("missing.txt")


# -- options and settings -----------------------------------------------------


def test_unknown_option_is_named():
    message = "Invalid option 'base_ulr' for InMemoryStorage"
    with pytest.raises(ImproperlyConfigured, match=message):
        InMemoryStorage(base_ulr="/x/")


@pytest.mark.parametrize(
    "options",
    [
        {"persist": "yes"},
        {"allow_overwrite": 1},
        {"base_url": 3},
        {"location": 5},
    ],
)
def test_options_of_the_wrong_type(options):
    with pytest.raises(ImproperlyConfigured, match=next(iter(options))):
        InMemoryStorage(**options)


def test_options_through_storages_setting():
    from django.core.files.storage import StorageHandler

    handler = StorageHandler(
        {
            "default": {
                "BACKEND": "inmemorystorage_fs.InMemoryStorage",
                "OPTIONS": {"base_url": "/uploads/", "allow_overwrite": True},
            },
            "typo": {
                "BACKEND": "inmemorystorage_fs.InMemoryStorage",
                "OPTIONS": {"presist": True},
            },
        }
    )
    storage = handler["default"]
    assert isinstance(storage, InMemoryStorage)
    assert storage.url("a.txt") == "/uploads/a.txt"
    with pytest.raises(ImproperlyConfigured, match="presist"):
        handler["typo"]


def test_permission_modes_are_accepted_and_follow_settings():
    explicit = InMemoryStorage(file_permissions_mode=0o600, directory_permissions_mode=0o700)
    default = InMemoryStorage()
    with override_settings(FILE_UPLOAD_PERMISSIONS=0o640, FILE_UPLOAD_DIRECTORY_PERMISSIONS=0o750):
        assert default.file_permissions_mode == 0o640
        assert default.directory_permissions_mode == 0o750
        assert explicit.file_permissions_mode == 0o600
        assert explicit.directory_permissions_mode == 0o700


def test_location_follows_media_root_unless_given(tmp_path):
    default = InMemoryStorage()
    explicit = InMemoryStorage(location="/srv/explicit")
    with override_settings(MEDIA_ROOT="/srv/other"):
        assert default.location == "/srv/other"
        assert explicit.location == "/srv/explicit"
    assert default.location == "/srv/media"


def test_deconstruct_gives_the_public_path_and_only_given_options():
    assert InMemoryStorage().deconstruct() == ("inmemorystorage_fs.InMemoryStorage", (), {})
    path, _, kwargs = InMemoryStorage(base_url="/x/", persist=True).deconstruct()
    assert path == "inmemorystorage_fs.InMemoryStorage"
    assert kwargs == {"base_url": "/x/", "persist": True}


def test_migration_of_a_field_with_its_own_storage_is_stable():
    from tests.testapp.models import Archive

    field = Archive._meta.get_field("blob")
    _, _, _, kwargs = field.deconstruct()
    assert kwargs["storage"].deconstruct() == (
        "inmemorystorage_fs.InMemoryStorage",
        (),
        {"base_url": "/archive/"},
    )


# -- persistence --------------------------------------------------------------


def test_non_persistent_storages_are_separate():
    first, second = InMemoryStorage(), InMemoryStorage()
    first.save("f.txt", ContentFile(b"x"))
    assert not second.exists("f.txt")
    assert first.fs is not second.fs


def test_persistent_storages_at_one_location_share_files():
    default = InMemoryStorage(persist=True)
    thumbnailer = InMemoryStorage(persist=True)
    default.save("avatars/ann.jpg", ContentFile(b"jpeg"))
    assert thumbnailer.exists("avatars/ann.jpg")
    assert read(thumbnailer, "avatars/ann.jpg") == b"jpeg"


@override_settings(INMEMORYSTORAGE_PERSIST=True)
def test_persist_setting_makes_storages_share():
    InMemoryStorage().save("shared.txt", ContentFile(b"x"))
    assert InMemoryStorage().exists("shared.txt")
    assert not InMemoryStorage(persist=False).exists("shared.txt")


def test_persistent_locations_never_collide_and_nest():
    media = InMemoryStorage(persist=True, location="/srv/media")
    other = InMemoryStorage(persist=True, location="/srv/other")
    nested = InMemoryStorage(persist=True, location="/srv/media/thumbs")
    media.save("a.txt", ContentFile(b"media"))
    other.save("a.txt", ContentFile(b"other"))
    nested.save("t.jpg", ContentFile(b"thumb"))
    assert read(media, "a.txt") == b"media"
    assert read(other, "a.txt") == b"other"
    assert media.listdir("") == (["thumbs"], ["a.txt"])
    assert read(media, "thumbs/t.jpg") == b"thumb"
    assert other.listdir("") == ([], ["a.txt"])


def test_persistent_storage_follows_media_root():
    storage = InMemoryStorage(persist=True)
    storage.save("root.txt", ContentFile(b"x"))
    with override_settings(MEDIA_ROOT="/srv/elsewhere"):
        assert not storage.exists("root.txt")
        storage.save("else.txt", ContentFile(b"y"))
    assert storage.exists("root.txt")
    assert InMemoryStorage(persist=True, location="/srv/elsewhere").exists("else.txt")


def test_storage_fs_is_the_storage_view():
    storage = InMemoryStorage(persist=True)
    storage.save("dir/f.txt", ContentFile(b"x"))
    assert storage.fs.listdir("/") == ["dir"]
    assert storage.fs.readbytes("dir/f.txt") == b"x"
    own = InMemoryStorage()
    own.save("g.txt", ContentFile(b"y"))
    assert own.fs.readbytes("g.txt") == b"y"


def test_clear_empties_only_the_storage_view():
    media = InMemoryStorage(persist=True, location="/srv/media")
    other = InMemoryStorage(persist=True, location="/srv/other")
    media.save("a/b.txt", ContentFile(b"x"))
    other.save("c.txt", ContentFile(b"y"))
    media.clear()
    assert media.listdir("") == ([], [])
    assert other.exists("c.txt")
    media.save("again.txt", ContentFile(b"z"))
    assert media.exists("again.txt")


def test_clear_persistent_fs_empties_every_view():
    media = InMemoryStorage(persist=True, location="/srv/media")
    other = InMemoryStorage(persist=True, location="/srv/other")
    media.save("a.txt", ContentFile(b"x"))
    other.save("b.txt", ContentFile(b"y"))
    clear_persistent_fs()
    assert media.listdir("") == ([], [])
    assert not other.exists("b.txt")
    media.save("dir/again.txt", ContentFile(b"z"))
    assert read(media, "dir/again.txt") == b"z"


def test_clear_of_an_own_filesystem(storage):
    storage.save("a/b.txt", ContentFile(b"x"))
    storage.clear()
    assert storage.listdir("") == ([], [])


def test_simple_uploaded_file(storage):
    upload = SimpleUploadedFile("up.txt", b"uploaded", content_type="text/plain")
    name = storage.save("up.txt", upload)
    assert read(storage, name) == b"uploaded"


PATH_MESSAGE = (
    "'avatars/x.png' is not on a disk, so it has no path on the OS. Read it with "
    "storage.open('avatars/x.png'), or, for a model's file, with field_file.open() "
    "(Pillow opens that too: Image.open(field_file))."
)


def test_path_names_the_file_and_says_what_reads_it_instead(storage):
    # The type of Django's protocol for storages off the disk; its message names no file.
    with pytest.raises(NotImplementedError, match=r"^This backend doesn't support absolute"):
        Storage().path("avatars/x.png")
    with pytest.raises(NotImplementedError) as raised:
        storage.path("avatars//x.png")
    assert str(raised.value) == PATH_MESSAGE
    # What the message suggests works: Pillow reads a model's image from the storage.
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (3, 2)).save(buffer, "PNG")
    with fresh_storage():
        photo = Photo()
        photo.image.save("x.png", ContentFile(buffer.getvalue()), save=False)
        with pytest.raises(NotImplementedError, match=r"Image\.open\(field_file\)"):
            photo.image.path  # noqa: B018
        photo.image.open()
        assert PIL.Image.open(photo.image).size == (3, 2)
