"""Seeds and inherited files: a test starts from them at once, and its changes stay its own.

Restoring a snapshot makes a directory's entries only when something first
walks into it. These tests change seeded files every way a test can (the
storage, handles, the filesystem's public API), side by side with
FileSystemStorage on a copy of the seed folder, and check that the next test,
a nested layer, pickling and export see exactly what they should.
"""

from __future__ import annotations

import os
import pickle
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from inmemorystorage_fs._layers import INHERIT, Layer
from inmemorystorage_fs.testing import fresh_storage

SEED = {
    "top.txt": b"top",
    "a/x.txt": b"x" * 10,
    "a/b/y.txt": b"y",
    "a/b/deep/z.bin": bytes(range(256)),
    "c/z.txt": b"zed",
}


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    folder = tmp_path / "seed"
    for name, content in SEED.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (folder / "empty").mkdir()
    os.utime(folder / "a/x.txt", (1_000_000_000, 1_000_000_000))
    return folder


def state(storage: Any, path: str = "") -> dict[str, Any]:
    """Return every directory and file under *path*: a file's bytes, "dir" for a directory."""
    found: dict[str, Any] = {}
    directories, files = storage.listdir(path)
    for name in files:
        with storage.open(f"{path}{name}", "rb") as file:
            found[path + name] = file.read()
    for name in directories:
        found[path + name] = "dir"
        found |= state(storage, f"{path}{name}/")
    return found


def times(storage: Any) -> dict[str, float]:
    """Return each file's modified time, as a timestamp."""
    return {
        name: storage.get_modified_time(name).timestamp()
        for name, content in state(storage).items()
        if content != "dir"
    }


def change(storage: Any) -> None:
    """Change seeded files and directories the ways a test does."""
    storage.save("a/new.txt", ContentFile(b"new"))
    storage.delete("a/x.txt")
    storage.delete("a/b/y.txt")
    storage.delete("a/b/deep/z.bin")
    storage.delete("a/b/deep")  # empty now: FileSystemStorage removes it too
    with storage.open("c/z.txt", "wb") as file:
        file.write(b"rewritten")
    with storage.open("top.txt", "ab") as file:
        file.write(b"+more")
    storage.save("empty/filled.txt", ContentFile(b"f"))


def test_a_seeded_test_changes_what_the_disk_does_and_the_next_test_has_the_seed(
    seed: Path, tmp_path: Path
) -> None:
    disk = FileSystemStorage(location=shutil.copytree(seed, tmp_path / "disk"))
    original = FileSystemStorage(location=seed)
    with fresh_storage(seed=str(seed)) as memory:
        assert state(memory) == state(original)
        assert times(memory) == times(original)
        change(memory)
        change(disk)
        assert state(memory) == state(disk)
        # Through the filesystem's own API, which changes entries on its own.
        filesystem = memory.filesystem
        filesystem.writebytes("/c/public.txt", b"p")
        filesystem.remove("/empty/filled.txt")
        filesystem.setinfo("/a/new.txt", {"details": {"modified": 1.0}})
        filesystem.move("/c/z.txt", "/c/moved.txt")
        with filesystem.openbin("/top.txt", "r+") as handle:
            handle.write(b"TOP")
    with fresh_storage(seed=str(seed)) as again:
        assert state(again) == state(original)
        assert times(again) == times(original)


def test_reading_a_seeded_file_leaves_the_next_test_s_times_alone(seed: Path) -> None:
    with fresh_storage(seed=str(seed)) as memory:
        accessed = memory.get_accessed_time("a/x.txt")
        with memory.open("a/x.txt") as file:
            assert file.read() == SEED["a/x.txt"]
        assert memory.get_accessed_time("a/x.txt") > accessed  # opening records an access
        with memory.filesystem.openbin("/a/b/y.txt") as handle:
            handle.read()
    with fresh_storage(seed=str(seed)) as again:
        assert again.get_accessed_time("a/x.txt") == accessed


def test_an_inner_layer_starts_from_the_outer_s_files_and_leaves_them_alone(seed: Path) -> None:
    outer = Layer({"seed": str(seed)})
    outer.enter()
    try:
        storage = outer.storage
        assert storage is not None
        storage.save("outer.txt", ContentFile(b"o"))
        storage.delete("a/x.txt")
        before = state(storage)
        inner = Layer({}, INHERIT)
        inner.enter()
        try:
            nested = inner.storage
            assert nested is not None and nested is not storage
            assert state(nested) == before
            change(nested)
            nested.delete("outer.txt")
        finally:
            inner.exit()
        assert state(storage) == before
    finally:
        outer.exit()


def test_a_seeded_storage_pickles_and_exports_what_it_holds(seed: Path, tmp_path: Path) -> None:
    with fresh_storage(seed=str(seed)) as memory:
        memory.save("a/new.txt", ContentFile(b"new"))  # one directory walked into, others not
        expected = state(memory)
        clone = pickle.loads(pickle.dumps(memory))
        assert state(clone) == expected
        exported = memory.export(tmp_path / "out")
        assert state(FileSystemStorage(location=exported)) == expected
        assert memory.tree() == clone.tree()


def test_threads_walking_into_seeded_directories_at_once_see_one_tree(seed: Path) -> None:
    with fresh_storage(seed=str(seed)) as memory:
        expected = state(FileSystemStorage(location=seed))
        seen: list[dict[str, Any]] = []
        start = threading.Barrier(8)

        def walk() -> None:
            start.wait()
            seen.append(state(memory))

        threads = [threading.Thread(target=walk) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [expected] * 8
        memory.save("a/b/after.txt", ContentFile(b"a"))
        assert state(memory) == expected | {"a/b/after.txt": b"a"}
