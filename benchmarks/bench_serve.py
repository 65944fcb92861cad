"""Serving a file from memory (``views.serve``) vs Django's ``static.serve`` from tmpfs.

Run ``.venv/bin/python benchmarks/bench_serve.py [--rounds N] [--no-live]``
(or ``make bench-serve``); the whole run takes well under a minute.

The same two files are served both ways: a 1 KiB file (requests/s) and a
64 MiB file (MB/s, 10^6 bytes). Django's side reads them from ``MEDIA_ROOT``
in a folder on tmpfs (``/dev/shm`` if it exists, else the temp dir: the first
line says which), so neither side waits for a disk; ours reads them from a
``fresh_storage()``. Every response body is consumed whole by iterating it and
summing the chunks' lengths (never ``b"".join``, which would copy it), and its
length is checked.

* ``view``  ``RequestFactory().get(...)`` requests (built before the clock
            starts) handed to the view function directly:
            ``inmemorystorage_fs.views.serve(request, name)`` against
            ``django.views.static.serve(request, name, document_root=MEDIA_ROOT)``;
* ``live``  real HTTP to a ``LiveServerThread`` started as ``LiveServerTestCase``
            starts one, one ``http.client`` connection per request (as
            ``urllib`` makes them): while ``fresh_storage(base_url="/mem/")``
            is active, the live server answers ``/mem/...`` from memory;
            ``/media/...`` is Django's ``_MediaFilesHandler`` reading
            ``MEDIA_ROOT``. The client reads the body with ``readinto()`` into
            one buffer, so it allocates nothing.

The two sides take turns batch by batch (each round in the other order), so a
noisy neighbour hits each alike; each figure is the median over rounds, with
the garbage collector off while timing. ``ours/Django`` is the ratio of the
medians (above 1: ours is faster); ``per round`` is the median and the range
of the ratios within a round, the pair run back to back, which shows how noisy
the machine was. The live server runs in this process, as in a test, so its
figures include the client's work too (the same for both sides).

Then, with ``tracemalloc``, the peak of Python's allocations (every thread's:
the live rows count the server's) while one 64 MiB response is produced and
consumed, relative to the file size: a body copied
whole would show 100% or more (the ``b"".join`` row shows what that looks like).
"""

from __future__ import annotations

import argparse
import functools
import gc
import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHM = Path("/dev/shm")
TMPFS = SHM if SHM.is_dir() and os.access(SHM, os.W_OK) else Path(tempfile.gettempdir())
WORK = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=TMPFS))
MEDIA_ROOT = WORK / "media"
MEDIA_ROOT.mkdir()

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    USE_TZ=True,
    MEDIA_ROOT=str(MEDIA_ROOT),
    MEDIA_URL="/media/",
    STATIC_URL="/static/",  # LiveServerTestCase's static files handler needs one
    STATIC_ROOT=str(WORK / "static"),
    ALLOWED_HOSTS=["localhost", "testserver"],
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    ROOT_URLCONF=__name__,
    SECRET_KEY="benchmarks-only",
)
django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.test import LiveServerTestCase, RequestFactory  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from django.views.static import serve as django_serve  # noqa: E402

from inmemorystorage_fs.testing import fresh_storage  # noqa: E402
from inmemorystorage_fs.views import serve as our_serve  # noqa: E402

urlpatterns: list[Any] = []  # ROOT_URLCONF: both sides answer before any URL is resolved

SMALL, BIG = "small.bin", "big.bin"
SIZES = {SMALL: 1024, BIG: 64 * 1024 * 1024}
MEM_URL = "/mem/"
BUFFER = memoryview(bytearray(1024 * 1024))  # the live client's one read buffer


def consume(response: Iterable[bytes]) -> int:
    """Read a response body whole, chunk by chunk, and return its length (no join, no copy)."""
    total = 0
    for chunk in response:
        total += len(chunk)
    close = getattr(response, "close", None)
    if close is not None:
        close()
    return total


class ViewSide:
    """One side called directly: ``call(request, name)`` returns the response."""

    def __init__(self, call: Callable[[HttpRequest, str], Any], url: str) -> None:
        self.call, self.url = call, url
        self.factory = RequestFactory()

    def requests(self, name: str, count: int) -> list[HttpRequest]:
        return [self.factory.get(self.url + name) for _ in range(count)]

    def once(self, name: str, read: Callable[[Any], int] = consume) -> int:
        """Serve *name* once and return the body's length, read by *read*."""
        return read(self.call(self.requests(name, 1)[0], name))

    def batch(self, name: str, count: int) -> float:
        """Serve *name* *count* times; return the seconds it took."""
        requests = self.requests(name, count)  # untimed
        call, size = self.call, SIZES[name]
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for request in requests:
            if consume(call(request, name)) != size:
                raise AssertionError(f"{self.url}{name}: short body")
        elapsed = time.perf_counter() - start
        gc.enable()
        return elapsed


class LiveSide:
    """One side over HTTP: GET requests to the live server at *port*, under *url*.

    One connection per request, as ``urllib`` makes them (a keep-alive
    connection stalls ~40 ms per small response: the server writes the headers
    and the body apart, and Nagle's algorithm waits for the client's delayed ACK).
    """

    def __init__(self, port: int, url: str) -> None:
        self.port, self.url = port, url

    def fetch(self, name: str) -> int:
        connection = http.client.HTTPConnection("localhost", self.port, timeout=30)
        try:
            connection.request("GET", self.url + name, headers={"Connection": "close"})
            response = connection.getresponse()
            if response.status != 200:
                raise AssertionError(f"{self.url}{name}: {response.status}")
            total = 0
            while read := response.readinto(BUFFER):
                total += read
            response.close()
            return total
        finally:
            connection.close()

    def batch(self, name: str, count: int) -> float:
        size = SIZES[name]
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        for _ in range(count):
            if self.fetch(name) != size:
                raise AssertionError(f"{self.url}{name}: short body")
        elapsed = time.perf_counter() - start
        gc.enable()
        return elapsed


def interleaved(
    sides: dict[str, Any], name: str, count: int, rounds: int
) -> dict[str, list[float]]:
    """Return each side's seconds per batch of *count*, the sides taking turns in rounds."""
    for side in sides.values():
        side.batch(name, 1)  # warm up: imports, mimetypes, first connection
    seconds: dict[str, list[float]] = {label: [] for label in sides}
    order = list(sides)
    for round_ in range(rounds):
        for label in order if round_ % 2 == 0 else order[::-1]:
            seconds[label].append(sides[label].batch(name, count))
    return seconds


def rates(seconds: dict[str, list[float]], per_batch: float) -> dict[str, list[float]]:
    """Turn seconds per batch into a rate (*per_batch* units each batch)."""
    return {label: [per_batch / s for s in found] for label, found in seconds.items()}


def row(what: str, unit: str, found: dict[str, list[float]]) -> str:
    """Format one row: both medians, their ratio, and the per-round ratios."""
    ours, theirs = statistics.median(found["ours"]), statistics.median(found["Django"])
    paired = [a / b for a, b in zip(found["ours"], found["Django"], strict=True)]
    return (
        f"  {what:<23}{unit:>6}{ours:>10,.0f}{theirs:>10,.0f}{ours / theirs:>11.2f}x"
        f"{statistics.median(paired):>10.2f}x ({min(paired):.2f}-{max(paired):.2f})"
    )


def peak_while(read_body: Callable[[], int]) -> int:
    """Return the peak of traced allocations (all threads) while *read_body()* runs."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        if read_body() != SIZES[BIG]:
            raise AssertionError("short body")
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def joined(response: Any) -> int:
    """Read a body with ``b"".join``: what a whole copy looks like, for reference."""
    body = b"".join(response)
    response.close()
    return len(body)


def start_live_server() -> LiveServerThread:
    """Start a live server thread as ``LiveServerTestCase.setUpClass()`` does."""
    server = LiveServerThread("localhost", LiveServerTestCase.static_handler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31, help="batches per side and row")
    parser.add_argument("--small", type=int, default=1000, help="1 KiB requests per view batch")
    parser.add_argument("--big", type=int, default=1, help="64 MiB responses per view batch")
    parser.add_argument("--live-small", type=int, default=200, help="1 KiB requests per batch")
    parser.add_argument("--live-big", type=int, default=1, help="64 MiB responses per batch")
    parser.add_argument("--no-live", action="store_true", help="skip the live server rows")
    args = parser.parse_args()
    began = time.perf_counter()
    try:
        run(args)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"(whole run: {time.perf_counter() - began:.0f} s)")


def run(args: argparse.Namespace) -> None:
    payloads = {SMALL: os.urandom(SIZES[SMALL]), BIG: os.urandom(SIZES[BIG])}
    where = "/dev/shm" if TMPFS == SHM else f"{TMPFS} (no /dev/shm: the temp dir)"
    print(
        f"Django {django.get_version()}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs;"
        f" Django's side reads MEDIA_ROOT={MEDIA_ROOT} on {where}"
    )
    print(f"median of {args.rounds} rounds per row, the two sides interleaved")
    print(f"  {'':<29}{'ours':>10}{'Django':>10}{'ours/Django':>12}   per round: median (range)")
    for name, data in payloads.items():
        (MEDIA_ROOT / name).write_bytes(data)
    mb = SIZES[BIG] / 1e6
    peaks: list[tuple[str, int]] = []
    with fresh_storage(base_url=MEM_URL) as storage:
        for name, data in payloads.items():
            if storage.save(name, ContentFile(data)) != name:
                raise AssertionError("the storage chose another name")
        views = {
            "ours": ViewSide(our_serve, MEM_URL),
            "Django": ViewSide(
                lambda request, name: django_serve(request, name, document_root=str(MEDIA_ROOT)),
                settings.MEDIA_URL,
            ),
        }
        for side in views.values():  # both answer the same bytes
            response = side.call(side.requests(SMALL, 1)[0], SMALL)
            if b"".join(response) != payloads[SMALL]:
                raise AssertionError(f"{side.url}: other bytes")
            response.close()
        found = interleaved(views, SMALL, args.small, args.rounds)
        print(row("view, 1 KiB file", "req/s", rates(found, args.small)), flush=True)
        found = interleaved(views, BIG, args.big, args.rounds)
        print(row("view, 64 MiB file", "MB/s", rates(found, args.big * mb)), flush=True)
        for label, view in views.items():
            peaks.append((f"view, {label}", peak_while(functools.partial(view.once, BIG))))
        ours = views["ours"]
        peaks.append(("view, ours, b''.join", peak_while(lambda: ours.once(BIG, joined))))
        if not args.no_live:
            server = start_live_server()
            try:
                live = {
                    "ours": LiveSide(server.port, MEM_URL),
                    "Django": LiveSide(server.port, settings.MEDIA_URL),
                }
                found = interleaved(live, SMALL, args.live_small, args.rounds)
                print(row("live HTTP, 1 KiB file", "req/s", rates(found, args.live_small)))
                found = interleaved(live, BIG, args.live_big, args.rounds)
                print(row("live HTTP, 64 MiB file", "MB/s", rates(found, args.live_big * mb)))
                for label, client in live.items():
                    peaks.append(
                        (f"live HTTP, {label}", peak_while(functools.partial(client.fetch, BIG)))
                    )
            finally:
                server.terminate()
    print(f"peak traced memory while one {SIZES[BIG] // 2**20} MiB response is served and read")
    for label, peak in peaks:
        print(f"  {label:<28}{peak / 1024:>10,.0f} KiB  {peak / SIZES[BIG]:>8.2%} of the file")


if __name__ == "__main__":
    main()
