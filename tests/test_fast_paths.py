"""The fast paths through MemoryFS's entries, their public-API fallback, and save()'s names."""

from __future__ import annotations

import itertools
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage

from inmemorystorage_fs import InMemoryStorage, _entries, _snapshot


@pytest.fixture(params=["fast", "public-api"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> InMemoryStorage:
    """Return a fresh storage, once using MemoryFS's entries and once forced off them."""
    if request.param == "public-api":
        monkeypatch.setattr(_entries, "MEMORY_INTERNALS", False)
        assert _entries.tree_class(_entries.MemoryFS()) is not _entries.EntryTree
    else:
        assert _entries.MEMORY_INTERNALS, "fs's internals changed: the fast path is off"
    return InMemoryStorage()


def read(storage: InMemoryStorage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return bytes(handle.read())


def test_core_behaviours_hold_on_both_paths(store: InMemoryStorage) -> None:
    assert store.save("a/b/c.txt", ContentFile(b"abc")) == "a/b/c.txt"
    assert store.save("a/b/c.txt", ContentFile("é")) != "a/b/c.txt"
    assert store.exists("a") and store.exists("a/b/c.txt") and store.exists("")
    assert not store.exists("a/b/nope") and not store.exists("a/b/c.txt/x")
    assert store.size("a/b/c.txt") == 3
    assert read(store, "a/b/c.txt") == b"abc"
    dirs, files = store.listdir("a/b")
    assert dirs == [] and files[0] == "c.txt" and len(files) == 2
    assert store.listdir("") == (["a"], [])
    assert store.listdir("a") == (["b"], [])
    with pytest.raises(FileNotFoundError):
        store.listdir("missing")
    with pytest.raises(NotADirectoryError):
        store.listdir("a/b/c.txt")
    with pytest.raises(FileNotFoundError):
        store.size("missing.txt")
    with pytest.raises(IsADirectoryError):
        store.size("a")
    with pytest.raises(FileNotFoundError):
        store.open("missing.txt")
    with pytest.raises(IsADirectoryError):
        store.open("a", "rb")
    with pytest.raises(FileNotFoundError):
        store.get_modified_time("missing.txt")
    assert store.get_modified_time("a/b/c.txt").tzinfo is not None
    assert store.url("a/b/c d.txt") == "/media/a/b/c%20d.txt"
    store.delete("a/b/c.txt")
    assert not store.exists("a/b/c.txt")
    store.delete("a/b/c.txt")  # missing: no error
    store.delete("a")
    assert store.listdir("") == ([], [])


def test_listdir_splits_directories_and_files(store: InMemoryStorage) -> None:
    for name in ("d/z.txt", "d/a.txt", "d/m/x.txt", "d/b/x.txt"):
        store.save(name, ContentFile(b"x"))
    assert store.listdir("d") == (["b", "m"], ["a.txt", "z.txt"])


def test_read_handles_are_snapshots_and_independent(store: InMemoryStorage) -> None:
    store.save("f.txt", ContentFile(b"old"))
    first, second = store.open("f.txt", "rb"), store.open("f.txt", "rb")
    assert first.read(1) == b"o"
    with store.open("f.txt", "wb") as writer:
        writer.write(b"new!")
    assert first.read() == b"ld" and second.read() == b"old"
    first.close()
    assert not second.closed
    assert read(store, "f.txt") == b"new!"


def test_opening_updates_accessed_time_only(store: InMemoryStorage) -> None:
    store.save("f.txt", ContentFile(b"x"))
    created, modified = store.get_created_time("f.txt"), store.get_modified_time("f.txt")
    accessed = store.get_accessed_time("f.txt")
    time.sleep(0.01)
    read(store, "f.txt")
    assert store.get_accessed_time("f.txt") > accessed
    assert store.get_modified_time("f.txt") == modified
    assert store.get_created_time("f.txt") == created


def test_saving_and_deleting_date_the_directory(store: InMemoryStorage) -> None:
    store.save("d/one.txt", ContentFile(b"1"))
    before = store.get_modified_time("d")
    time.sleep(0.01)
    store.save("d/two.txt", ContentFile(b"2"))
    after_save = store.get_modified_time("d")
    assert after_save > before
    time.sleep(0.01)
    store.delete("d/two.txt")
    assert store.get_modified_time("d") > after_save


def test_failed_content_leaves_no_file(store: InMemoryStorage) -> None:
    class Broken(ContentFile):
        def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
            yield b"partial"
            raise RuntimeError("upload broke")

    store.save("keep.txt", ContentFile(b"k"))
    with pytest.raises(RuntimeError):
        store.save("new.txt", Broken(b""))
    assert not store.exists("new.txt")
    assert store.listdir("") == ([], ["keep.txt"])


def test_concurrent_saves_of_one_name_make_two_files(store: InMemoryStorage) -> None:
    names: list[str] = []
    barrier = threading.Barrier(4)

    def save(tag: bytes) -> None:
        barrier.wait()
        names.append(store.save("same.txt", ContentFile(tag)))

    threads = [threading.Thread(target=save, args=(bytes([65 + i]),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 4
    assert sorted(read(store, name) for name in names) == [b"A", b"B", b"C", b"D"]


def test_a_file_in_the_way_of_a_directory_fails_cleanly(store: InMemoryStorage) -> None:
    store.save("file.txt", ContentFile(b"x"))
    with pytest.raises(FileExistsError, match="Not a directory") as exc_info:
        store.save("file.txt/child.txt", ContentFile(b"y"))
    assert isinstance(exc_info.value, NotADirectoryError)
    assert read(store, "file.txt") == b"x"


def test_allow_overwrite_replaces_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    for internals in (True, False):
        monkeypatch.setattr(_entries, "MEMORY_INTERNALS", internals)
        storage = InMemoryStorage(allow_overwrite=True)
        assert storage.save("f.txt", ContentFile(b"one")) == "f.txt"
        assert storage.save("f.txt", ContentFile(b"two")) == "f.txt"
        assert read(storage, "f.txt") == b"two"


def test_a_swapped_root_is_followed(store: InMemoryStorage) -> None:
    store.save("before.txt", ContentFile(b"b"))
    snapshot = _snapshot.take_snapshot(store.fs)
    store.save("after.txt", ContentFile(b"a"))
    _snapshot.restore_snapshot(store.fs, snapshot)
    assert store.exists("before.txt") and not store.exists("after.txt")
    assert store.save("after.txt", ContentFile(b"c")) == "after.txt"
    assert read(store, "after.txt") == b"c"


# -- save() gives what Django's own Storage.save() gives ---------------------------

TRICKY_NAMES = [
    "a.txt",
    "dir/a.txt",
    "dir/sub/a.tar.gz",
    "",
    ".",
    "..",
    "a/..",
    "a/.",
    "../a.txt",
    "a/../../b.txt",
    "a/../b.txt",
    "/abs.txt",
    "a//b.txt",
    "./a.txt",
    "a/./b.txt",
    "a\\b.txt",
    "a\\..\\..\\b.txt",
    "dir/",
    "..a",
    "a..",
    "a/.../b",
    " ",
    "ü/é.txt",
    "a\0b",
]


class Counting(InMemoryStorage):
    """Alternative names from a counter, so both save() paths can be compared."""

    def __init__(self) -> None:
        super().__init__()
        self.counter = itertools.count()

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return f"{file_root}_{next(self.counter)}{file_ext}"


def outcome(storage: Counting, save: object, name: str, max_length: int | None) -> object:
    try:
        return save(storage, name, ContentFile(b"x"), max_length=max_length)  # type: ignore[operator]
    except (SuspiciousFileOperation, ValueError, TypeError, OSError) as exc:
        if "\\" in name:
            # save() names a "\\" name with "/" in its errors on purpose.
            return type(exc), str(exc).replace("\\", "/")
        return type(exc), str(exc)


@pytest.mark.parametrize("max_length", [None, 5, 12])
@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_save_picks_what_djangos_save_picks(name: str, max_length: int | None) -> None:
    ours, django = Counting(), Counting()
    for _ in range(3):  # free, then taken twice: the collision path
        expected = outcome(django, Storage.save, name, max_length)
        assert outcome(ours, InMemoryStorage.save, name, max_length) == expected
    assert ours.listdir("") == django.listdir("")


def test_a_subclass_naming_its_own_way_is_asked() -> None:
    class Renaming(InMemoryStorage):
        def get_available_name(self, name: str, max_length: int | None = None) -> str:
            return "renamed-" + name

    assert Renaming().save("a.txt", ContentFile(b"x")) == "renamed-a.txt"


@pytest.mark.parametrize("declared", [2**40, 2**31])
def test_a_content_declaring_an_absurd_size_saves_its_real_bytes(tmp_path, declared):
    ours, on_disk = InMemoryStorage(), FileSystemStorage(location=tmp_path)
    saved = []
    tracemalloc.start()
    try:
        for storage in (ours, on_disk):
            content = ContentFile(b"abcd", name="f.bin")
            content.size = declared  # what a wrong or hostile upload may say
            name = storage.save("f.bin", content)
            with storage.open(name, "rb") as handle:
                saved.append((name, handle.read(), storage.size(name)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert saved[0] == saved[1] == ("f.bin", b"abcd", 4)
    assert peak < _entries._RESERVE_AT_MOST + 1024 * 1024  # never the declared size


def test_a_file_named_like_a_hidden_part_is_listed_on_both_paths(
    store: InMemoryStorage, tmp_path
) -> None:
    # Django's FileSystemStorage lists whatever the folder holds.
    name = f".report.{'a' * 32}.part"
    disk = FileSystemStorage(location=tmp_path)
    for storage in (store, disk):
        storage.save(f"d/{name}", ContentFile(b"mine"))
    assert store.listdir("d") == disk.listdir("d") == ([], [name])
