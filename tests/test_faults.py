"""Faults mid-write: content that fails, clients that leave, code that raises in ``with``."""

import socket
import threading
import urllib.request
import uuid

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.signals import request_finished

from tests.helpers import STORAGE_KINDS as STORAGES
from tests.helpers import files_of


class Broken(RuntimeError):
    """The fault a test injects."""


class FailingContent(File):
    """Content whose chunks() raises after yielding *good* chunks."""

    def __init__(self, good: int = 3, chunk: bytes = b"x" * 1000) -> None:
        super().__init__(None, "failing.bin")
        self.good, self.chunk = good, chunk
        self.size = good * 2 * len(chunk)  # what it claims, as an upload would

    def chunks(self, chunk_size: int | None = None):  # type: ignore[no-untyped-def]
        for _ in range(self.good):
            yield self.chunk
        raise Broken("the upload broke halfway")


@pytest.mark.parametrize("kind", STORAGES)
def test_content_failing_halfway_leaves_no_file_and_keeps_the_others(kind, tmp_path):
    storage = STORAGES[kind](tmp_path)
    storage.save("docs/kept.txt", ContentFile(b"kept"))
    for _ in range(3):  # the same name again and again: nothing accumulates
        with pytest.raises(Broken):
            storage.save("docs/report.pdf", FailingContent())
    assert files_of(storage) == {"docs/kept.txt": b"kept"}
    # The name is free: a complete save takes it, not "report_abc1234.pdf".
    assert storage.save("docs/report.pdf", ContentFile(b"whole")) == "docs/report.pdf"
    assert files_of(storage) == {"docs/kept.txt": b"kept", "docs/report.pdf": b"whole"}


@pytest.mark.parametrize("kind", STORAGES)
def test_a_failed_overwrite_keeps_the_old_contents(kind, tmp_path):
    storage = STORAGES[kind](tmp_path, allow_overwrite=True)
    storage.save("avatar.png", ContentFile(b"old picture"))
    with pytest.raises(Broken):
        storage.save("avatar.png", FailingContent())
    assert files_of(storage) == {"avatar.png": b"old picture"}


def test_a_failing_first_chunk_leaves_no_zero_length_file(storage):
    with pytest.raises(Broken):
        storage.save("empty.bin", FailingContent(good=0))
    assert not storage.exists("empty.bin")
    assert storage.listdir("") == ([], [])


@pytest.mark.parametrize("kind", STORAGES)
def test_an_exception_inside_with_open_closes_the_handle(kind, tmp_path):
    storage = STORAGES[kind](tmp_path)
    storage.save("other.txt", ContentFile(b"other"))
    with pytest.raises(Broken):
        with storage.open("log.txt", "wb") as handle:
            handle.write(b"first line\n")
            raise Broken("the code writing the file failed")
    assert handle.closed
    # Like a file on disk: what was written before the error is there.
    assert files_of(storage) == {"log.txt": b"first line\n", "other.txt": b"other"}
    with pytest.raises(Broken):
        with storage.open("other.txt", "rb") as reader:
            reader.read(2)
            raise Broken("the code reading the file failed")
    assert reader.closed
    with storage.open("log.txt", "ab") as handle:  # the storage keeps working
        handle.write(b"second line\n")
    assert files_of(storage) == {"log.txt": b"first line\nsecond line\n", "other.txt": b"other"}


# -- clients that leave during an upload to the live server --------------------


def send_partial_upload(url: str, path: str, how: str) -> bytes:
    """Send half of a body to *path*, then close (FIN) or reset (RST) the connection."""
    host, port = url.removeprefix("http://").split(":")
    body = b"z" * 200_000
    content_type = "application/octet-stream"
    if path.startswith("/documents"):
        boundary = uuid.uuid4().hex
        content_type = f"multipart/form-data; boundary={boundary}"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; '
            f'filename="half.bin"\r\n\r\n'
        ).encode() + body
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body) + 1000}\r\nConnection: close\r\n\r\n"
    ).encode()
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(head + body[: len(body) // 2])
    if how == "reset":
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        connection.close()
        return b""
    connection.shutdown(socket.SHUT_WR)
    reply = b""
    while chunk := connection.recv(65536):
        reply += chunk
    connection.close()
    return reply


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("path", ["/raw/half.bin", "/documents/"])
def test_a_client_leaving_mid_upload_leaves_no_file(live_server, path, how):
    finished = threading.Semaphore(0)

    def count(**kwargs: object) -> None:
        finished.release()

    request_finished.connect(count)
    try:
        reply = send_partial_upload(live_server.url, path, how)
        # Wait until the server has handled (and given up on) the request.
        assert finished.acquire(timeout=30), "the server never finished the request"
    finally:
        request_finished.disconnect(count)
    if how == "close":
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert files_of(default_storage) == {}
    # The server and the storage keep working.
    whole = b"w" * 70_000
    default_storage.save("raw/before.bin", ContentFile(b"b"))
    request = urllib.request.Request(live_server.url + "/raw/whole.bin", data=whole)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert files_of(default_storage) == {"raw/before.bin": b"b", "raw/whole.bin": whole}
