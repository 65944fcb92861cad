"""max_size: a full storage refuses what would pass it, loses nothing, and frees on delete."""

import errno
import sys
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages

from inmemorystorage_fs import FSStorage, InMemoryStorage, _limits
from tests.helpers import files_of


def used(storage: InMemoryStorage, directory: str = "") -> int:
    """Return the bytes in *storage*'s files, skipping files deleted meanwhile."""
    directories, names = storage.listdir(directory)
    prefix = f"{directory}/" if directory else ""
    total = 0
    for name in names:
        try:
            total += storage.size(prefix + name)
        except FileNotFoundError:
            pass
    return total + sum(used(storage, prefix + child) for child in directories)


class Chunked(File):
    """Content that arrives in small chunks, as an upload does."""

    def __init__(self, data: bytes, chunk: int = 10) -> None:
        super().__init__(None, "chunked.bin")
        self.data, self.chunk = data, chunk

    def chunks(self, chunk_size: int | None = None):  # type: ignore[no-untyped-def]
        for start in range(0, len(self.data), self.chunk):
            yield self.data[start : start + self.chunk]


def assert_full(exc_info: pytest.ExceptionInfo[OSError], limit: int) -> None:
    assert exc_info.value.errno == errno.ENOSPC
    assert f"max_size={limit}" in str(exc_info.value)


def test_a_save_past_the_limit_raises_enospc_and_keeps_earlier_files():
    storage = InMemoryStorage(max_size=100)
    storage.save("a.txt", ContentFile(b"a" * 60))
    with pytest.raises(OSError) as exc_info:
        storage.save("b.txt", Chunked(b"b" * 50))
    assert_full(exc_info, 100)
    assert "b.txt" in str(exc_info.value)
    assert files_of(storage) == {"a.txt": b"a" * 60}  # no partial b.txt


def test_a_save_that_fits_exactly_is_kept():
    storage = InMemoryStorage(max_size=100)
    storage.save("a.txt", Chunked(b"a" * 60))
    storage.save("b.txt", Chunked(b"b" * 40))
    assert files_of(storage) == {"a.txt": b"a" * 60, "b.txt": b"b" * 40}


def test_deleting_files_frees_their_space():
    storage = InMemoryStorage(max_size=100)
    storage.save("dir/a.txt", ContentFile(b"a" * 80))
    with pytest.raises(OSError):
        storage.save("b.txt", ContentFile(b"b" * 80))
    storage.delete("dir")
    assert storage.save("b.txt", ContentFile(b"b" * 80)) == "b.txt"
    assert files_of(storage) == {"b.txt": b"b" * 80}


def test_zero_allows_only_empty_files():
    storage = InMemoryStorage(max_size=0)
    assert storage.save("empty.txt", ContentFile(b"")) == "empty.txt"
    with pytest.raises(OSError) as exc_info:
        storage.save("one.txt", ContentFile(b"1"))
    assert_full(exc_info, 0)
    assert files_of(storage) == {"empty.txt": b""}


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_writes_through_write_handles_count(mode):
    storage = InMemoryStorage(max_size=10)
    data = "0123456789" if "b" not in mode else b"0123456789"
    with storage.open("f.txt", mode) as handle:
        handle.write(data)
    with pytest.raises(OSError) as exc_info:
        with storage.open("g.txt", mode) as handle:
            handle.write(data[:1])
    assert_full(exc_info, 10)
    assert files_of(storage)["f.txt"] == b"0123456789"


def test_appending_counts_and_rewriting_in_place_does_not():
    storage = InMemoryStorage(max_size=10)
    storage.save("f.txt", ContentFile(b"01234"))
    handle = storage.open("f.txt", "ab")
    handle.write(b"56789!")
    # As on a full disk, the buffered bytes are refused when they are
    # flushed, and close() tries them again. A write never lands in part.
    with pytest.raises(OSError) as exc_info:
        handle.flush()
    assert_full(exc_info, 10)
    with pytest.raises(OSError):
        handle.close()
    assert handle.closed
    handle = storage.open("f.txt", "r+b")
    handle.write(b"abcde")  # overwrites: the storage does not grow
    handle.seek(8)
    handle.write(b"XYZ")  # one byte past the end
    with pytest.raises(OSError):
        handle.close()
    assert files_of(storage) == {"f.txt": b"abcde"}


def test_truncate_cannot_grow_past_the_limit():
    storage = InMemoryStorage(max_size=10)
    with storage.open("f.bin", "wb") as handle:
        handle.write(b"12345")
        handle.truncate(10)
        with pytest.raises(OSError) as exc_info:
            handle.truncate(11)
    assert_full(exc_info, 10)
    assert storage.size("f.bin") == 10


def test_overwriting_counts_only_the_difference():
    storage = InMemoryStorage(max_size=10, allow_overwrite=True)
    storage.save("f.txt", ContentFile(b"x" * 10))
    storage.save("f.txt", ContentFile(b"y" * 10))
    with pytest.raises(OSError) as exc_info:
        storage.save("f.txt", ContentFile(b"z" * 11))
    assert_full(exc_info, 10)
    assert files_of(storage) == {"f.txt": b"y" * 10}


def test_a_persistent_storage_counts_the_files_under_its_location():
    outer = InMemoryStorage(location="/srv/quota", persist=True, max_size=100)
    inner = InMemoryStorage(location="/srv/quota/inner", persist=True)
    elsewhere = InMemoryStorage(location="/srv/other", persist=True)
    elsewhere.save("big.bin", ContentFile(b"o" * 1000))  # not under /srv/quota
    inner.save("x.bin", ContentFile(b"i" * 70))  # under it: counts
    with pytest.raises(OSError) as exc_info:
        outer.save("y.bin", ContentFile(b"y" * 31))
    assert_full(exc_info, 100)
    assert outer.save("y.bin", ContentFile(b"y" * 30)) == "y.bin"
    assert files_of(outer) == {"inner/x.bin": b"i" * 70, "y.bin": b"y" * 30}


def test_fsstorage_over_a_real_folder_honours_the_limit(tmp_path):
    storage = FSStorage(fs=f"osfs://{tmp_path}", max_size=50)
    storage.save("a.bin", Chunked(b"a" * 40))
    with pytest.raises(OSError) as exc_info:
        storage.save("b.bin", Chunked(b"b" * 40))
    assert_full(exc_info, 50)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.bin"]


def test_max_size_is_an_option_in_storages():
    config = {"BACKEND": "inmemorystorage_fs.InMemoryStorage", "OPTIONS": {"max_size": 5}}
    # Built as Django builds STORAGES entries; override_settings(STORAGES=...)
    # would lose OPTIONS on Django 4.2, whose handler prefers DEFAULT_FILE_STORAGE.
    storage = storages.create_storage(config)
    with pytest.raises(OSError) as exc_info:
        storage.save("six.txt", ContentFile(b"123456"))
    assert_full(exc_info, 5)
    assert storage.deconstruct()[2] == {"max_size": 5}


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, [10]])
def test_a_bad_max_size_is_improperly_configured(bad):
    with pytest.raises(ImproperlyConfigured, match="max_size"):
        InMemoryStorage(max_size=bad)
    with pytest.raises(ImproperlyConfigured, match="max_size"):
        FSStorage(fs="mem://", max_size=bad)


def test_threads_racing_for_the_last_bytes_never_pass_the_limit():
    storage = InMemoryStorage(max_size=1000)
    saved: list[str] = []
    refused: list[OSError] = []
    lock = threading.Lock()

    def save_many(thread: int) -> None:
        for i in range(40):
            try:
                name = storage.save(f"t{thread}/{i}.bin", Chunked(bytes([thread]) * 20, 7))
            except OSError as exc:
                with lock:
                    refused.append(exc)
            else:
                with lock:
                    saved.append(name)

    peaks: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            # Writers hold this lock while they check and write, so the sum
            # taken under it is a true snapshot (a failed save's removal and
            # the next save's write cannot both land while we add up).
            with _limits._limit_lock:
                peaks.append(used(storage))

    threads = [threading.Thread(target=save_many, args=(n,)) for n in range(8)]
    watcher = threading.Thread(target=watch)
    watcher.start()
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that races show
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        watcher.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert peaks and max(peaks) <= 1000
    assert len(saved) == 50 and len(refused) == 270
    assert all(exc.errno == errno.ENOSPC for exc in refused)
    stored = files_of(storage)
    assert sorted(stored) == sorted(saved)
    assert all(data == bytes([int(name[1])]) * 20 for name, data in stored.items())


@pytest.mark.parametrize("replaced", [False, True], ids=["deleted", "replaced"])
@pytest.mark.parametrize("where", ["memory", "disk"])
def test_bytes_written_to_a_file_no_longer_stored_take_no_room_after_close(
    tmp_path, where, replaced
):
    # On a disk, bytes written through a handle whose file was unlinked (or
    # renamed over by a new save) take room only until close(): the file is
    # then freed, and a save that fits the files still listed succeeds.
    if where == "disk":
        storage: FSStorage = FSStorage(fs=f"osfs://{tmp_path}", max_size=100)
    else:
        storage = InMemoryStorage(max_size=100)
    storage.save("x", ContentFile(b"c" * 10))
    handle = storage.open("x", "ab")
    storage.delete("x")
    if replaced:
        storage.save("x", ContentFile(b"d" * 10))
    handle.write(b"a" * 60)
    handle.close()
    storage.save("y", ContentFile(b"b" * (90 if replaced else 100)))
    assert used(storage) == 100
    with pytest.raises(OSError) as exc_info:
        storage.save("z", ContentFile(b"!"))
    assert_full(exc_info, 100)  # and the count is still exact
