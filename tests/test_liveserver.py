"""Django's live server serves the fresh storages' files from memory, over real HTTP."""

import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import django
import pytest
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import LiveServerTestCase
from django.utils.http import http_date

from inmemorystorage_fs.testing import InMemoryStorageMixin, fresh_storage
from tests.helpers import needs_aliases

DATA = bytes(range(256)) * 40  # 10 KiB
NAME = "docs/data.bin"


@pytest.fixture
def inmemory_storage(_empty_media, inmemory_storage):
    """The plugin's fixture, entered after tests/conftest.py's ``_empty_media``.

    The plugin's autouse fixture sets the storage up before the conftest's,
    which would then put a new default storage in place of the fresh one.
    """
    return inmemory_storage


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    """Return the status, headers and body of *url*, whatever the status."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


class LiveServerServesTheTestStorage(InMemoryStorageMixin, LiveServerTestCase):
    inmemory_storage_options = {"allow_overwrite": True}

    def setUp(self) -> None:
        self.storage.save(NAME, ContentFile(DATA))
        self.url = self.live_server_url + self.storage.url(NAME)

    def test_a_file_is_served_with_its_headers(self) -> None:
        status, headers, body = fetch(self.url)
        assert status == 200
        assert body == DATA
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Length"] == str(len(DATA))
        modified = self.storage.get_modified_time(NAME).timestamp()
        assert headers["Last-Modified"] == http_date(modified)
        assert headers["ETag"]
        assert headers["Accept-Ranges"] == "bytes"

    def test_a_file_saved_by_the_test_is_served_by_the_server_thread(self) -> None:
        self.storage.save("new/página 1.txt", ContentFile("olá".encode()))
        status, headers, body = fetch(self.live_server_url + self.storage.url("new/página 1.txt"))
        assert (status, body) == (200, "olá".encode())
        assert headers["Content-Type"] == "text/plain"

    def test_the_etag_is_not_modified(self) -> None:
        etag = fetch(self.url)[1]["ETag"]
        status, headers, body = fetch(self.url, headers={"If-None-Match": etag})
        assert (status, body) == (304, b"")
        assert headers["ETag"] == etag

    def test_the_last_modified_date_is_not_modified(self) -> None:
        last_modified = fetch(self.url)[1]["Last-Modified"]
        assert fetch(self.url, headers={"If-Modified-Since": last_modified})[0] == 304
        modified = self.storage.get_modified_time(NAME).timestamp()
        older = http_date(modified - 3600)
        assert fetch(self.url, headers={"If-Modified-Since": older})[:3:2] == (200, DATA)

    def test_a_range_is_partial_content(self) -> None:
        status, headers, body = fetch(self.url, headers={"Range": "bytes=0-9"})
        assert (status, body) == (206, DATA[:10])
        assert headers["Content-Range"] == f"bytes 0-9/{len(DATA)}"
        assert headers["Content-Length"] == "10"
        assert fetch(self.url, headers={"Range": "bytes=-5"})[:3:2] == (206, DATA[-5:])
        assert fetch(self.url, headers={"Range": "bytes=5-"})[:3:2] == (206, DATA[5:])

    def test_a_range_past_the_end_is_not_satisfiable(self) -> None:
        status, headers, _ = fetch(self.url, headers={"Range": f"bytes={len(DATA)}-"})
        assert status == 416
        assert headers["Content-Range"] == f"bytes */{len(DATA)}"

    def test_several_ranges_are_the_whole_file(self) -> None:
        status, headers, body = fetch(self.url, headers={"Range": "bytes=0-1,3-4"})
        assert (status, body) == (200, DATA)
        assert headers["Content-Range"] is None

    def test_head_has_the_headers_and_no_body(self) -> None:
        status, headers, body = fetch(self.url, method="HEAD")
        assert (status, body) == (200, b"")
        # Django 4.2's own development server drops Content-Length from HEAD answers.
        if django.VERSION >= (5, 0):
            assert headers["Content-Length"] == str(len(DATA))
        assert headers["ETag"] == fetch(self.url)[1]["ETag"]

    def test_what_the_storage_does_not_hold_is_not_found(self) -> None:
        for path in ("missing.txt", "docs", "docs/", "docs/a%00b"):
            with self.subTest(path=path):
                assert fetch(f"{self.live_server_url}/media/{path}")[0] == 404

    def test_a_missing_static_file_is_still_not_found(self) -> None:
        assert fetch(self.live_server_url + "/static/missing.css")[0] == 404

    def test_other_urls_reach_the_site(self) -> None:
        status, _, body = fetch(self.live_server_url + "/photos/", method="POST")
        assert status == 400  # the upload view, which found no image
        assert b"errors" in body

    def test_downloads_during_overwrites_are_each_one_whole_file(self) -> None:
        contents = {b"A" * 100_000, b"B" * 150_000}
        first, second = sorted(contents)
        self.storage.save("flip.bin", ContentFile(first))
        url = self.live_server_url + self.storage.url("flip.bin")
        seen: list[tuple[str | None, bytes]] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def download() -> None:
            try:
                for _ in range(40):
                    status, headers, body = fetch(url)
                    assert status == 200
                    with lock:
                        seen.append((headers["Content-Length"], body))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=download) for _ in range(8)]
        for thread in threads:
            thread.start()
        saves = 0
        while any(thread.is_alive() for thread in threads):
            assert self.storage.save("flip.bin", ContentFile((first, second)[saves % 2]))
            saves += 1
            time.sleep(0.001)  # let the server threads have the GIL
        for thread in threads:
            thread.join()
        assert failures == []
        assert len(seen) == 8 * 40
        assert saves > 2
        for length, body in seen:
            assert body in contents
            assert length == str(len(body))
        assert {body for _, body in seen} == contents  # the overwrites were seen
        assert self.storage.listdir("") == (["docs"], ["flip.bin"])


@needs_aliases
class LiveServerServesAnotherAlias(InMemoryStorageMixin, LiveServerTestCase):
    inmemory_storage_aliases = ("default", "exports")

    def test_each_alias_is_served_at_its_base_url(self) -> None:
        storages["exports"].save("report.csv", ContentFile(b"a,b\n"))
        self.storage.save("report.csv", ContentFile(b"default"))
        exports = fetch(self.live_server_url + storages["exports"].url("report.csv"))
        assert exports[0] == 200
        assert exports[1]["Content-Type"] == "text/csv"
        assert exports[2] == b"a,b\n"
        assert fetch(self.live_server_url + "/media/report.csv")[2] == b"default"


# -- pytest-django's live_server ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_live_server_serves_a_file_saved_in_the_test(live_server, inmemory_storage):
    assert default_storage.url("x") == "/media/x"
    name = inmemory_storage.save("pics/a b.txt", ContentFile(b"saved in the test"))
    status, headers, body = fetch(live_server.url + inmemory_storage.url(name))
    assert (status, body) == (200, b"saved in the test")
    assert headers["Content-Length"] == "17"
    assert headers["Content-Type"] == "text/plain"


@pytest.mark.django_db(transaction=True)
def test_live_server_serves_names_holding_a_percent_sign(live_server, inmemory_storage):
    files = {"a%41.txt": b"percent 41", "a%2541.txt": b"percent 2541", "aA.txt": b"aA"}
    for name, data in files.items():
        assert inmemory_storage.save(name, ContentFile(data)) == name
    got = {name: fetch(live_server.url + inmemory_storage.url(name))[2] for name in files}
    assert got == files


@needs_aliases
@pytest.mark.django_db(transaction=True)
@pytest.mark.inmemory_storage(aliases=["default", "exports"])
def test_live_server_serves_a_swapped_alias_at_its_base_url(live_server, inmemory_storage):
    exports = storages["exports"]
    assert exports is not inmemory_storage
    name = exports.save("out/report.csv", ContentFile(b"x,y\n"))
    url = exports.url(name)
    assert url == "/exports/out/report.csv"
    status, headers, body = fetch(live_server.url + url)
    assert (status, body) == (200, b"x,y\n")
    assert headers["Content-Type"] == "text/csv"
    assert fetch(live_server.url + "/media/out/report.csv")[0] == 404


@pytest.mark.django_db(transaction=True)
def test_live_server_stops_serving_a_storage_when_its_test_ends(live_server):
    with fresh_storage() as storage:
        storage.save("gone.txt", ContentFile(b"here"))
        url = live_server.url + storage.url("gone.txt")
        assert fetch(url)[:3:2] == (200, b"here")
    assert fetch(url)[0] == 404


@pytest.mark.django_db(transaction=True)
def test_live_server_serves_static_files_as_django_does(live_server, inmemory_storage):
    found = finders.find("admin/css/base.css")
    assert found
    status, headers, body = fetch(live_server.url + "/static/admin/css/base.css")
    assert (status, body) == (200, Path(found).read_bytes())
    assert headers["Content-Type"].startswith("text/css")
    assert fetch(live_server.url + "/static/admin/css/missing.css")[0] == 404


@pytest.mark.django_db(transaction=True)
def test_a_name_escaping_the_storage_is_answered_as_django_answers_it(live_server):
    # In memory it is no file (404), so the request goes on to Django's own
    # MEDIA_ROOT handler, which answers as it did before: never the file.
    url = live_server.url + "/media/../tests/settings.py"
    before = fetch(url)[0]
    with fresh_storage():
        assert fetch(url)[0] == before != 200


class FilesSavedInSetUpClass(InMemoryStorageMixin, LiveServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        default_storage.save("class.txt", ContentFile(b"saved in setUpClass"))

    def test_are_served_in_every_test(self) -> None:
        assert self.storage.exists("class.txt")
        url = self.live_server_url + self.storage.url("class.txt")
        assert fetch(url)[:3:2] == (200, b"saved in setUpClass")
