"""load(), seeds and export() never merge, overflow or shift what they copy."""

import errno
import os
import string
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.test import override_settings
from hypothesis import example, given
from hypothesis import strategies as st

from inmemorystorage_fs import InMemoryStorage
from inmemorystorage_fs._fs import MemoryFS
from inmemorystorage_fs.checks import check_settings
from inmemorystorage_fs.testing import fresh_storage
from tests.helpers import files_of

MiB = 1024 * 1024
OLD = time.time() - 3 * 24 * 3600


def kept(storage: InMemoryStorage) -> InMemoryStorage:
    """Give *storage* a file that a failed load must leave as it was."""
    storage.save("keep.txt", ContentFile(b"kept"))
    return storage


def make_zip(path: Path, entries: dict[str, bytes]) -> str:
    """Write *entries* (names exactly as given) to the zip *path*; return its URL."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, (2001, 2, 3, 4, 5, 6)), data)
    return f"zip://{path}"


# -- two entries never become one name ---------------------------------------------


def merging_folder(tmp_path: Path) -> str:
    """Return a folder holding the two files ``a\\b`` and ``a/b``, as a disk can."""
    folder = tmp_path / "merging"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "b").write_bytes(b"slash")
    (folder / "a\\b").write_bytes(b"backslash")
    return str(folder)


def merging_zip(tmp_path: Path) -> str:
    return make_zip(tmp_path / "merging.zip", {"a/b": b"slash", "a\\b": b"backslash"})


def file_under_file_zip(tmp_path: Path) -> str:
    return make_zip(tmp_path / "under.zip", {"a": b"a file", "a\\b": b"needs a directory a"})


@pytest.mark.parametrize("source", [merging_folder, merging_zip, file_under_file_zip])
def test_load_refuses_two_entries_that_would_become_one_name(
    tmp_path: Path, source: Callable[[Path], str]
) -> None:
    storage = kept(InMemoryStorage())
    with pytest.raises(SuspiciousFileOperation) as caught:
        storage.load(source(tmp_path))
    message = str(caught.value)
    assert "'a\\\\b'" in message and ("'a/b'" in message or "'a'" in message), message
    assert files_of(storage) == {"keep.txt": b"kept"}


def test_a_seed_of_two_entries_that_would_become_one_name_fails(tmp_path: Path) -> None:
    with pytest.raises(SuspiciousFileOperation, match=r"'a\\\\b'"):
        with fresh_storage(seed=merging_folder(tmp_path)):
            pass  # pragma: no cover - the seed fails as the scope starts


# -- entries that leave where the load goes ----------------------------------------


@pytest.mark.parametrize("entry", ["../evil.txt", "/abs.txt", "a/../../evil.txt", "a/../b.txt"])
@pytest.mark.parametrize("into", ["", "in"])
def test_an_absolute_or_climbing_zip_entry_is_suspicious_naming_it(
    tmp_path: Path, entry: str, into: str
) -> None:
    url = make_zip(tmp_path / "evil.zip", {"fine.txt": b"fine", entry: b"evil"})
    storage = kept(InMemoryStorage())
    with pytest.raises(SuspiciousFileOperation, match=f"entry {entry!r}"):
        storage.load(url, into=into)
    assert files_of(storage) == {"keep.txt": b"kept"}


# -- max_size and the load limit ------------------------------------------------------


def twenty_bytes(tmp_path: Path) -> Path:
    folder = tmp_path / "twenty"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_bytes(b"x" * 12)
    (folder / "b.txt").write_bytes(b"y" * 8)
    return folder


def test_load_past_max_size_is_enospc_and_loads_nothing(tmp_path: Path) -> None:
    storage = kept(InMemoryStorage(max_size=23))  # 4 used, 20 to come
    with pytest.raises(OSError) as caught:
        storage.load(twenty_bytes(tmp_path))
    assert caught.value.errno == errno.ENOSPC
    assert files_of(storage) == {"keep.txt": b"kept"}
    assert InMemoryStorage(max_size=24).load(twenty_bytes(tmp_path / "again")) == 2


def test_load_counts_the_files_it_replaces_as_freed(tmp_path: Path) -> None:
    storage = InMemoryStorage(max_size=20)
    storage.save("a.txt", ContentFile(b"z" * 12))
    assert storage.load(twenty_bytes(tmp_path)) == 2


def test_a_seed_past_max_size_is_enospc(tmp_path: Path) -> None:
    with pytest.raises(OSError) as caught:
        with fresh_storage(seed=twenty_bytes(tmp_path), max_size=19):
            pass  # pragma: no cover - the seed fails as the scope starts
    assert caught.value.errno == errno.ENOSPC
    with fresh_storage(seed=twenty_bytes(tmp_path), max_size=20) as storage:
        assert storage.size("a.txt") == 12


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a zip of about 300 KB holding 300 MiB of zeros."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    zeros = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as entry:
            for _ in range(300):
                entry.write(zeros)
    assert path.stat().st_size < 400 * 1024
    return path


def test_a_zip_bomb_fails_before_it_is_inflated(bomb: Path) -> None:
    storage = kept(InMemoryStorage())
    tracemalloc.start()
    try:
        with pytest.raises(OSError) as caught:
            storage.load(f"zip://{bomb}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.errno == errno.EFBIG
    assert "INMEMORYSTORAGE_LOAD_LIMIT" in str(caught.value)
    assert peak < 10 * MiB, f"{peak} bytes taken to refuse the bomb"
    assert files_of(storage) == {"keep.txt": b"kept"}


def test_a_zip_bomb_seed_fails(bomb: Path) -> None:
    with pytest.raises(OSError) as caught:
        with fresh_storage(seed=f"zip://{bomb}"):
            pass  # pragma: no cover - the seed fails as the scope starts
    assert caught.value.errno == errno.EFBIG


class SizelessFS(MemoryFS):  # type: ignore[misc]
    """A real MemoryFS that declares no sizes, as some remote filesystems do not."""

    def getinfo(self, path: str, namespaces: Any = None) -> Any:
        info = super().getinfo(path, namespaces)
        info.raw.get("details", {}).pop("size", None)
        return info


@pytest.mark.parametrize("bound", ["limit", "max_size"])
def test_the_bytes_read_are_bounded_while_reading(bound: str) -> None:
    source = SizelessFS()
    source.writebytes("one.bin", bytes(MiB))
    source.writebytes("two.bin", bytes(3 * MiB))
    if bound == "limit":
        storage, options, code = kept(InMemoryStorage()), {"limit": 2 * MiB}, errno.EFBIG
    else:
        storage, options, code = kept(InMemoryStorage(max_size=2 * MiB)), {}, errno.ENOSPC
    with pytest.raises(OSError) as caught:
        storage.load(source, **options)
    assert caught.value.errno == code
    assert files_of(storage) == {"keep.txt": b"kept"}


def test_the_load_limit_is_a_keyword_and_a_setting(tmp_path: Path) -> None:
    folder = twenty_bytes(tmp_path)
    with pytest.raises(OSError, match="load limit") as caught:
        InMemoryStorage().load(folder, limit=19)
    assert caught.value.errno == errno.EFBIG
    assert InMemoryStorage().load(folder, limit=20) == 2
    with override_settings(INMEMORYSTORAGE_LOAD_LIMIT=19):
        with pytest.raises(OSError, match="load limit"):
            InMemoryStorage().load(folder)
        with pytest.raises(OSError, match="load limit"):
            with fresh_storage(seed=folder):
                pass  # pragma: no cover - the seed fails as the scope starts
        assert InMemoryStorage().load(folder, limit=20) == 2  # the keyword wins


@pytest.mark.parametrize("value", [-1, "100", 1.5, True])
def test_a_bad_load_limit_setting_is_e009(value: object) -> None:
    with override_settings(INMEMORYSTORAGE_LOAD_LIMIT=value):
        found = check_settings()
    assert [(type(item), item.id) for item in found] == [(Error, "inmemorystorage_fs.E009")]
    assert repr(value) in found[0].msg
    with pytest.raises(ValueError, match="load limit"):
        InMemoryStorage().load(MemoryFS(), limit=value)  # type: ignore[arg-type]


# -- times through a zip ----------------------------------------------------------------


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "America/St_Johns"])
def test_export_to_a_zip_and_load_keep_modification_times(
    tmp_path: Path, use_tz: bool, zone: str
) -> None:
    with override_settings(TIME_ZONE=zone, USE_TZ=use_tz):
        storage = InMemoryStorage()
        storage.save("docs/a.txt", ContentFile(b"a"))
        storage.filesystem.setinfo("docs/a.txt", {"details": {"modified": OLD}})
        url = f"zip://{tmp_path / 'out.zip'}"
        storage.export(url)
        back = InMemoryStorage()
        back.load(url)
        # A zip stores whole seconds in 2-second steps.
        shift = back.get_modified_time("docs/a.txt") - storage.get_modified_time("docs/a.txt")
        assert abs(shift.total_seconds()) < 2


# -- names a disk holds but URLs and UTF-8 cannot ----------------------------------------


def test_a_folder_of_undecodable_names_loads_serves_urls_and_exports_the_same_bytes(
    tmp_path: Path,
) -> None:
    source = tmp_path / "latin1"
    os.makedirs(os.fsencode(source / "caf") + b"\xe9")
    with open(os.fsencode(source / "caf") + b"\xe9/na\xefve.txt", "wb") as handle:
        handle.write(b"bytes")
    storage = InMemoryStorage(base_url="/media/")
    assert storage.load(source) == 1
    (name,) = storage.files()
    assert storage.url(name) == "/media/caf%E9/na%EFve.txt"
    dest = tmp_path / "out"
    storage.export(dest)
    walked = sorted(
        os.path.relpath(os.path.join(root, file), os.fsencode(dest))
        for root, _dirs, files in os.walk(os.fsencode(dest))
        for file in files
    )
    assert walked == [b"caf\xe9/na\xefve.txt"]
    assert (
        Path(os.fsdecode(os.fsencode(dest) + b"/caf\xe9/na\xefve.txt"))
    ).read_bytes() == b"bytes"


URL_SAFE = set(string.ascii_letters + string.digits + "-._~/!$&'()*+,;=:@%")
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=30)  # surrogates too


@example("\udcff")
@example("a/\ud800b.txt")
@example("caf\udce9/\udfff\\x")
@given(ANY_TEXT)
def test_url_never_raises_for_a_str_and_matches_the_disk_where_it_answers(name: str) -> None:
    base = "https://cdn.example/media/"
    url = InMemoryStorage(base_url=base).url(name)
    assert url.startswith(base) and set(url) <= URL_SAFE, url
    try:
        disk = FileSystemStorage(location="/srv/media", base_url=base).url(name)
    except UnicodeEncodeError:
        return  # Django cannot quote a lone surrogate
    if disk.startswith(base):  # the disk's URL climbs out only through ".." segments
        assert url == disk


# -- a name component over 255 bytes ------------------------------------------------------

TOO_LONG = ["x" * 256, "é" * 128, "d/" + "x" * 256 + "/f.txt", "😀" * 64]


def outcome(call: Callable[[], Any]) -> Any:
    """Return what *call* gives, as a comparable value, or the type and errno it raises."""
    try:
        result = call()
    except OSError as exc:
        return (OSError, exc.errno)
    if hasattr(result, "close"):
        result.close()
        return "a file"
    return result if isinstance(result, bool) else type(result).__name__


def every_call(storage: Storage, name: str) -> dict[str, Any]:
    return {
        "save": outcome(lambda: storage.save(name, ContentFile(b"x"))),
        "exists": outcome(lambda: storage.exists(name)),
        "size": outcome(lambda: storage.size(name)),
        "open rb": outcome(lambda: storage.open(name, "rb")),
        "open wb": outcome(lambda: storage.open(name, "wb")),
        "listdir": outcome(lambda: storage.listdir(name)),
        "get_modified_time": outcome(lambda: storage.get_modified_time(name)),
        "get_accessed_time": outcome(lambda: storage.get_accessed_time(name)),
        "delete": outcome(lambda: storage.delete(name)),
        "url": outcome(lambda: storage.url(name)),
    }


@pytest.mark.parametrize("name", TOO_LONG, ids=["ascii", "accents", "directory", "emoji"])
def test_a_component_over_255_bytes_fails_as_on_disk(tmp_path: Path, name: str) -> None:
    disk = every_call(FileSystemStorage(location=tmp_path, base_url="/media/"), name)
    assert disk["save"] == (OSError, errno.ENAMETOOLONG)  # the disk itself says so
    assert every_call(InMemoryStorage(), name) == disk


def test_a_component_of_255_bytes_is_fine(tmp_path: Path) -> None:
    name = "é" * 127 + "x"
    disk = every_call(FileSystemStorage(location=tmp_path, base_url="/media/"), name)
    assert disk["save"] == "str"
    assert every_call(InMemoryStorage(), name) == disk


def test_a_zip_entry_over_255_bytes_is_refused_as_the_disk_refuses_it(tmp_path: Path) -> None:
    url = make_zip(tmp_path / "long.zip", {"fine.txt": b"f", "x" * 256: b"long"})
    storage = kept(InMemoryStorage())
    with pytest.raises(OSError) as caught:
        storage.load(url)
    assert caught.value.errno == errno.ENAMETOOLONG
    assert files_of(storage) == {"keep.txt": b"kept"}


def test_a_load_racing_saves_never_passes_max_size(tmp_path: Path) -> None:
    import threading

    source = tmp_path / "source"
    source.mkdir()
    for index in range(20):
        (source / f"{index}.bin").write_bytes(b"l" * 50)  # 1,000 bytes a load
    storage = InMemoryStorage(max_size=2_000)
    peaks: list[int] = []

    def used() -> int:
        total = 0
        for directory in storage.listdir("")[0]:
            for name in storage.listdir(directory)[1]:
                try:
                    total += storage.size(f"{directory}/{name}")
                except FileNotFoundError:
                    pass  # deleted meanwhile
        return total

    done = threading.Event()

    def load_many() -> None:
        for round_ in range(2_000):  # until fifty loads found room
            try:
                storage.load(source, f"load{round_}")
            except OSError:
                continue  # full: nothing loaded
            peaks.append(used())
            storage.delete(f"load{round_}")  # room to race for again
            if len(peaks) == 50:
                break
        done.set()

    def save_many(thread: int) -> None:
        # Each saver holds 3 or 4 files: with the others, 900 to 1,200 bytes,
        # so a load finds its 1,000 bytes free now and then, and races for them.
        saved: list[str] = []
        index = 0
        while not done.is_set():
            index += 1
            if len(saved) == 4:
                storage.delete(saved.pop(0))
            try:
                saved.append(storage.save(f"save{thread}/{index}.bin", ContentFile(b"s" * 100)))
            except OSError:
                pass  # full

    threads = [threading.Thread(target=load_many)]
    threads += [threading.Thread(target=save_many, args=(thread,)) for thread in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peaks  # some loads found room
    assert max(peaks) <= 2_000
