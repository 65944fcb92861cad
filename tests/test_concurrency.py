"""Threads share one storage: no file is lost, mixed up, torn or broken by a race."""

import json
import os
import sys
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.test import override_settings

from inmemorystorage_fs import FSStorage, InMemoryStorage

THREADS = 8
SAVES = 500


@contextmanager
def frequent_switches() -> Iterator[None]:
    """Switch threads far more often than usual, so that races show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Run *target(n)* in *count* threads at once; return what they raised."""
    raised: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        try:
            target(n)
        except BaseException as exc:
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    with frequent_switches():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return raised


def content_of(thread: int, i: int) -> bytes:
    return f"thread {thread} save {i} ".encode() * (1 + i % 7)


STORAGES = {
    "own MemoryFS": lambda tmp_path: InMemoryStorage(),
    "persistent": lambda tmp_path: InMemoryStorage(location="/srv/race", persist=True),
    "real folder": lambda tmp_path: FSStorage(fs=f"osfs://{tmp_path}"),
}


@pytest.mark.parametrize("kind", STORAGES)
def test_threads_saving_one_name_get_distinct_files_with_their_own_contents(kind, tmp_path):
    storage = STORAGES[kind](tmp_path)
    saves = SAVES
    saved: dict[str, bytes] = {}

    def save_all(thread: int) -> None:
        for i in range(saves):
            data = content_of(thread, i)
            name = storage.save("same/report.txt", ContentFile(data))
            saved[name] = data  # a name handed out twice would overwrite here

    assert run_threads(THREADS, save_all) == []
    assert len(saved) == THREADS * saves  # 4,000 distinct names in memory
    assert len(storage.listdir("same")[1]) == THREADS * saves
    for name, data in saved.items():
        with storage.open(name) as handle:
            assert handle.read() == data, name


REPLACING = {
    "own MemoryFS": lambda tmp_path: InMemoryStorage(allow_overwrite=True),
    "max_size": lambda tmp_path: InMemoryStorage(allow_overwrite=True, max_size=10**9),
    "real folder": lambda tmp_path: FSStorage(fs=f"osfs://{tmp_path}", allow_overwrite=True),
}


@pytest.mark.parametrize("kind", REPLACING)
def test_readers_never_see_a_torn_file(kind, tmp_path):
    storage = REPLACING[kind](tmp_path)
    size = 200_000  # several chunks
    versions = [bytes([version]) * size for version in range(1, 6)]
    storage.save("shared.bin", ContentFile(versions[0]))
    written: list[tuple[str, bytes]] = []
    done = threading.Event()
    lock = threading.Lock()
    torn: list[str] = []

    def work(n: int) -> None:
        if n < 4:  # writers: new files, and whole new versions of one file
            for i in range(60):
                data = bytes([n * 60 + i]) * (size // 4)
                name = storage.save(f"new/{n}-{i}.bin", ContentFile(data))
                written.append((name, data))
                storage.save("shared.bin", ContentFile(versions[i % len(versions)]))
            return
        while not done.is_set():  # readers: everything completely written so far
            for name, data in list(written):
                with storage.open(name) as handle:
                    if handle.read() != data:
                        torn.append(name)
            with storage.open("shared.bin") as handle:
                if handle.read() not in versions:
                    torn.append("shared.bin")

    writers_left = [4]

    def work_and_stop(n: int) -> None:
        try:
            work(n)
        finally:
            if n < 4:
                with lock:
                    writers_left[0] -= 1
                    if not writers_left[0]:
                        done.set()  # even if a writer failed: the readers must stop

    assert run_threads(8, work_and_stop) == []
    assert torn == []
    assert len(written) == 240


@pytest.mark.parametrize("kind", REPLACING)
def test_deleting_a_directory_while_threads_save_into_it_raises_nothing(kind, tmp_path):
    storage = REPLACING[kind](tmp_path)
    stop = threading.Event()
    lock = threading.Lock()
    savers_left = [7]
    kept: list[tuple[str, bytes]] = []

    def work(n: int) -> None:
        if n == 0:
            while not stop.is_set():
                storage.delete("uploads")
            return
        try:
            for i in range(300):
                data = f"{n}/{i}".encode()
                name = storage.save(f"uploads/deep/{n}/{i}.txt", ContentFile(data))
                kept.append((name, data))
        finally:
            with lock:
                savers_left[0] -= 1
                if not savers_left[0]:
                    stop.set()

    assert run_threads(8, work) == []
    # Every save returned a name; whatever the deleter did not get to is whole.
    for name, data in kept:
        if storage.exists(name):
            with storage.open(name) as handle:
                assert handle.read() == data
    assert storage.save("uploads/after.txt", ContentFile(b"ok")) == "uploads/after.txt"


def post_document(url: str, filename: str, data: bytes) -> dict[str, object]:
    """Upload *data* as a multipart form to the test project's document view."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="owner"\r\n\r\nlive\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="upload"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url + "/documents/",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, object] = json.load(response)
    return result


@pytest.mark.django_db(transaction=True)
def test_uploads_over_http_while_the_test_thread_reads_the_same_storage(live_server):
    uploads = {f"doc{i}.bin": bytes([i]) * (70_000 + i) for i in range(20)}
    names: dict[str, bytes] = {}
    failures: list[BaseException] = []

    def upload() -> None:
        try:
            for filename, data in uploads.items():
                names[str(post_document(live_server.url, filename, data)["name"])] = data
        except BaseException as exc:
            failures.append(exc)

    uploader = threading.Thread(target=upload)
    uploader.start()
    reads = 0
    while uploader.is_alive():
        for name, data in list(names.items()):
            with default_storage.open(name) as handle:  # the server's storage
                assert handle.read() == data
            reads += 1
    uploader.join()
    assert failures == []
    assert reads > 0  # the test thread read while the server thread wrote
    assert len(names) == len(uploads)
    assert sorted(default_storage.listdir("documents")[1]) == sorted(
        name.rsplit("/", 1)[1] for name in names
    )
    for name, data in names.items():
        assert read_all(default_storage, name) == data


def read_all(storage: Storage, name: str) -> bytes:
    with storage.open(name) as handle:
        data: bytes = handle.read()
    return data


def test_an_fs_url_is_opened_once_however_the_first_use_comes():
    storage = FSStorage(fs="mem://")

    def save(n: int) -> None:
        storage.save(f"{n}.txt", ContentFile(b"x"))

    assert run_threads(THREADS, save) == []  # all racing to open "mem://" first
    assert len(storage.listdir("")[1]) == THREADS
    with override_settings(MEDIA_URL="/elsewhere/"):  # clears the storage's caches
        assert len(storage.listdir("")[1]) == THREADS


# Saves per thread: enough for a lister to catch a half-written file every time.
WHOLE_ROUNDS = 20


def test_a_real_folder_lists_a_file_only_once_it_is_whole(tmp_path):
    storage = FSStorage(fs=f"osfs://{tmp_path}", allow_overwrite=False)
    overwriting = FSStorage(fs=f"osfs://{tmp_path}", allow_overwrite=True)
    data = b"0123456789" * 100_000  # 1 MB: streamed in many chunks
    storage.save("up/first.bin", ContentFile(data))
    done = threading.Event()
    seen: list[object] = []

    def list_while_saving() -> None:
        while not done.is_set():
            for name in storage.listdir("up")[1]:
                if not name.endswith(".bin"):
                    seen.append(name)  # a partial file's own name
                elif (size := os.path.getsize(tmp_path / "up" / name)) != len(data):
                    seen.append((name, size))  # a file listed before it was whole

    def save(thread: int) -> None:
        for _ in range(WHOLE_ROUNDS):
            if thread % 2:
                overwriting.save("up/replaced.bin", ContentFile(data))
            else:
                storage.save("up/new.bin", ContentFile(data))

    lister = threading.Thread(target=list_while_saving)
    lister.start()
    try:
        assert run_threads(4, save) == []
    finally:
        done.set()
        lister.join()
    assert seen == []
    files = storage.listdir("up")[1]
    assert (
        len(files) == 1 + 1 + 2 * WHOLE_ROUNDS
    )  # first, replaced, and each new one under its own name
    for name in files:
        with storage.open(f"up/{name}") as handle:
            assert handle.read() == data
