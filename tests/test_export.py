"""storage.export() and storage.tree(): looking at a storage's files."""

import os
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs._fs import MemoryFS

FILES = {
    "a.txt": b"alpha",
    "docs/b.bin": bytes(range(256)) * 40,
    "docs/deep/er/c.txt": "ünïcode\n".encode(),
    "empty.dat": b"",
}
OLD = time.time() - 3 * 24 * 3600  # far from "now", so a copy stamped now cannot pass


@pytest.fixture
def filled() -> InMemoryStorage:
    """Return a storage holding FILES, each with an old, distinct modification time."""
    storage = InMemoryStorage()
    for index, (name, data) in enumerate(sorted(FILES.items())):
        storage.save(name, ContentFile(data))
        storage.fs.setinfo(name, {"details": {"modified": OLD + index * 60}})
    storage.fs.setinfo("docs", {"details": {"modified": OLD - 3600}})
    return storage


def _modified(storage: InMemoryStorage, name: str) -> float:
    return storage.get_modified_time(name).timestamp()


def test_export_to_a_missing_folder_creates_it_with_bytes_and_times(
    filled: InMemoryStorage, tmp_path: Path
) -> None:
    dest = tmp_path / "not" / "yet"
    assert filled.export(dest) == str(dest)
    found = {
        str(path.relative_to(dest)).replace(os.sep, "/"): path.read_bytes()
        for path in dest.rglob("*")
        if path.is_file()
    }
    assert found == FILES
    for name in FILES:
        assert os.path.getmtime(dest / name) == pytest.approx(_modified(filled, name), abs=1e-3)
    assert os.path.getmtime(dest / "docs") == pytest.approx(_modified(filled, "docs"), abs=1e-3)


def test_export_without_preserve_time_stamps_now(filled: InMemoryStorage, tmp_path: Path) -> None:
    filled.export(tmp_path, preserve_time=False)
    assert os.path.getmtime(tmp_path / "a.txt") > OLD + 24 * 3600


def test_export_relative_path_returns_it_absolute(
    filled: InMemoryStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert filled.export("out") == str(tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"alpha"


def test_export_to_osfs_url(filled: InMemoryStorage, tmp_path: Path) -> None:
    url = f"osfs://{tmp_path}"
    assert filled.export(url) == url
    assert (tmp_path / "docs" / "b.bin").read_bytes() == FILES["docs/b.bin"]


def test_export_to_zip_url_round_trips_bytes_and_times(
    filled: InMemoryStorage, tmp_path: Path
) -> None:
    url = f"zip://{tmp_path / 'out.zip'}"
    assert filled.export(url) == url
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert {name: archive.read(name) for name in FILES} == FILES
        for name in FILES:
            # A zip stores local time in 2-second steps, as unzip tools read it.
            stored = datetime(*archive.getinfo(name).date_time).timestamp()
            assert stored == pytest.approx(_modified(filled, name), abs=2)


def test_export_to_mem_url_returns_the_open_filesystem(filled: InMemoryStorage) -> None:
    back = filled.export("mem://")
    assert isinstance(back, MemoryFS)
    for name, data in FILES.items():
        assert back.readbytes(name) == data
        assert back.getinfo(name, ["details"]).modified.timestamp() == pytest.approx(
            _modified(filled, name), abs=1e-3
        )


def test_export_to_an_fs_object_fills_and_returns_it(filled: InMemoryStorage) -> None:
    dest = MemoryFS()
    dest.writebytes("kept.txt", b"already there")
    assert filled.export(dest) is dest
    assert dest.readbytes("docs/deep/er/c.txt") == FILES["docs/deep/er/c.txt"]
    assert dest.readbytes("kept.txt") == b"already there"


def test_export_of_an_empty_storage_is_an_empty_folder(tmp_path: Path) -> None:
    InMemoryStorage().export(tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []


def test_export_of_an_emptied_persistent_storage_is_an_empty_folder(tmp_path: Path) -> None:
    storage = InMemoryStorage(persist=True, location="/exported")
    storage.save("x.txt", ContentFile(b"x"))
    storage.clear()
    storage.export(tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []


def test_export_of_a_persistent_storage_holds_its_view_only(tmp_path: Path) -> None:
    InMemoryStorage(persist=True, location="/elsewhere").save("other.txt", ContentFile(b"o"))
    mine = InMemoryStorage(persist=True, location="/mine")
    mine.save("mine.txt", ContentFile(b"m"))
    mine.export(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["mine.txt"]


def test_export_to_an_unknown_url_is_a_value_error(filled: InMemoryStorage) -> None:
    with pytest.raises(ValueError, match="nosuch://x"):
        filled.export("nosuch://x")


def test_export_into_a_file_is_an_os_error(filled: InMemoryStorage, tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OSError):
        filled.export(tmp_path / "file")


def test_tree_draws_directories_first_with_sizes(filled: InMemoryStorage) -> None:
    assert filled.tree() == "\n".join(
        [
            "├── docs/",
            "│   ├── deep/",
            "│   │   └── er/",
            "│   │       └── c.txt  (10 bytes)",
            "│   └── b.bin  (10,240 bytes)",
            "├── a.txt  (5 bytes)",
            "└── empty.dat  (0 bytes)",
        ]
    )


def test_tree_of_an_empty_storage_says_so() -> None:
    storage = InMemoryStorage()
    assert storage.tree() == "(empty)"
    storage.save("x", ContentFile(b"1"))
    assert storage.tree() == "└── x  (1 byte)"
