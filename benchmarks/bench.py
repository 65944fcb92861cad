"""Benchmark our InMemoryStorage side by side with Django's storages, in one process.

Run ``make bench`` (or ``make bench-quick``), or ``python benchmarks/bench.py [--quick]``.

Backends, measured interleaved (A B C D, then B C D A, ...) so that a noisy
neighbour on a shared machine hurts every backend alike:

* ``ours``    inmemorystorage_fs.InMemoryStorage
* ``django``  django.core.files.storage.InMemoryStorage
* ``tmpfs``   django.core.files.storage.FileSystemStorage on a tmpfs directory
* ``djims``   dj-inmemorystorage 2.1, the package this one replaces (``legacy.py``;
  left out if it is not installed)
* ``memfs``   raw fs.memoryfs.MemoryFS calls: the floor our storage is built on

Every timing runs with the garbage collector off (collected just before), counts
the thread's CPU time (not the time other processes ran), every op checks its
result outside the timed region, and the figure kept is the median of the
repeats. The 64 MiB streamed upload runs in a fresh subprocess per backend so
its peak memory is not hidden by earlier allocations.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    USE_TZ=True,
    MEDIA_ROOT="/srv/media",
    MEDIA_URL="/media/",
    INSTALLED_APPS=[],
    SECRET_KEY="benchmarks-only",
)
django.setup()

from django.core.files.base import ContentFile, File  # noqa: E402
from django.core.files.storage import FileSystemStorage  # noqa: E402
from django.core.files.storage import InMemoryStorage as DjangoInMemoryStorage  # noqa: E402
from django.utils.encoding import filepath_to_uri  # noqa: E402
from legacy import legacy_storage  # noqa: E402

from inmemorystorage_fs import InMemoryStorage  # noqa: E402
from inmemorystorage_fs._fs import MemoryFS, errors  # noqa: E402

LegacyInMemoryStorage = legacy_storage()
PEERS = ("django", "tmpfs") + (("djims",) if LegacyInMemoryStorage else ())
BACKENDS = ("ours", *PEERS, "memfs")
NOISE = 0.07
PAYLOAD = bytes(range(256)) * 4  # 1 KiB
N_DIRS = 50
STREAM_SIZE = 64 * 1024 * 1024
STREAM_CHUNK = 64 * 1024


def tmpfs_parent() -> tuple[str, str]:
    """Return a directory on tmpfs for FileSystemStorage and a word on what it is."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm", "/dev/shm (tmpfs)"
    return tempfile.gettempdir(), f"{tempfile.gettempdir()} (no /dev/shm: a plain temp dir)"


TMPFS_PARENT, TMPFS_NOTE = tmpfs_parent()


# -- backends ------------------------------------------------------------------


class MemFSFloor:
    """The raw MemoryFS calls a storage needs at the least, with Django's method names."""

    base_url = "/media/"

    def __init__(self) -> None:
        self.fs = MemoryFS()

    def save(self, name: str, content: Any) -> str:
        path = "/" + name
        while self.fs.exists(path):  # the collision path, as Django's naming does it
            root, ext = os.path.splitext(path)
            path = f"{root}_{os.urandom(4).hex()[:7]}{ext}"
        try:
            handle = self.fs.openbin(path, "xb")
        except errors.ResourceNotFound:
            self.fs.makedirs(path.rsplit("/", 1)[0], recreate=True)
            handle = self.fs.openbin(path, "xb")
        with handle:
            for chunk in content.chunks():
                handle.write(chunk)
        return path[1:]

    def open(self, name: str, mode: str = "rb") -> Any:
        return self.fs.openbin("/" + name, mode)

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists("/" + name))

    def size(self, name: str) -> int:
        return int(self.fs.getsize("/" + name))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return [], list(self.fs.listdir("/" + path))  # names only: no dir/file split

    def delete(self, name: str) -> None:
        self.fs.remove("/" + name)

    def url(self, name: str) -> str:
        return self.base_url + filepath_to_uri(name)

    def get_modified_time(self, name: str) -> Any:
        return self.fs.getinfo("/" + name, namespaces=("details",)).modified


class Backend:
    """Make fresh storages of one kind and clean up after them."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._dirs: list[str] = []
        self._kept: list[str] = []

    def new(self) -> Any:
        if self.kind == "ours":
            return InMemoryStorage()
        if self.kind == "django":
            return DjangoInMemoryStorage()
        if self.kind == "djims":
            return LegacyInMemoryStorage()
        if self.kind == "tmpfs":
            location = tempfile.mkdtemp(prefix="ims-bench-", dir=TMPFS_PARENT)
            self._dirs.append(location)
            return FileSystemStorage(location=location, base_url="/media/")
        return MemFSFloor()

    def keep(self, storage: Any) -> None:
        """Spare *storage*'s files from cleanup() until cleanup(everything=True)."""
        if self.kind == "tmpfs":
            self._kept.append(self._dirs.pop(self._dirs.index(storage.location)))

    def cleanup(self, everything: bool = False) -> None:
        for location in self._dirs + (self._kept if everything else []):
            shutil.rmtree(location, ignore_errors=True)
        self._dirs.clear()
        if everything:
            self._kept.clear()


def names(n: int, prefix: str = "") -> list[str]:
    """Return *n* file names spread over N_DIRS directories."""
    return [f"{prefix}d{i % N_DIRS:02d}/file{i:06d}.txt" for i in range(n)]


def fill(storage: Any, file_names: list[str]) -> None:
    for name in file_names:
        storage.save(name, ContentFile(PAYLOAD))


# -- ops ---------------------------------------------------------------------------
# Each op is (setup, run, check): setup(backend) -> state (untimed); run(state) ->
# (ops done, result) (timed); check(state, result) raises if the result is wrong.


class Op:
    def __init__(
        self,
        name: str,
        setup: Callable[[Backend], Any],
        run: Callable[[Any], tuple[int, Any]],
        check: Callable[[Any, Any], None],
        shared: bool = False,
    ) -> None:
        self.name = name
        self.setup = setup
        self.run = run
        self.check = check
        self.shared = shared  # setup once per backend, reused by every repeat


def make_ops(n: int) -> list[Op]:
    file_names = names(n)
    contents = [ContentFile(PAYLOAD) for _ in range(n)]
    flat = [f"flat/file{i:06d}.txt" for i in range(n)]
    missing = [f"d{i % N_DIRS:02d}/nothing{i:06d}.txt" for i in range(n)]
    ops: list[Op] = []

    def populated(backend: Backend) -> Any:
        storage = backend.new()
        fill(storage, file_names)
        fill(storage, flat)
        backend.keep(storage)
        return storage

    _populated: dict[str, Any] = {}

    def shared_state(backend: Backend) -> Any:
        if backend.kind not in _populated:
            _populated[backend.kind] = populated(backend)
        return _populated[backend.kind]

    # save: 5,000 x 1 KiB into 50 dirs, a fresh storage each repeat
    def save_setup(backend: Backend) -> Any:
        for content in contents:
            content.seek(0)
        return backend.new()

    def save_run(storage: Any) -> tuple[int, Any]:
        save = storage.save
        return n, [save(name, content) for name, content in zip(file_names, contents, strict=True)]

    def save_check(storage: Any, result: Any) -> None:
        assert result == file_names, "save() returned other names"
        assert storage.size(file_names[-1]) == len(PAYLOAD)

    ops.append(Op("save", save_setup, save_run, save_check))

    # the same name 200 times: the collision path (exists + alternative names)
    def collide_run(storage: Any) -> tuple[int, Any]:
        save = storage.save
        return 200, [save("same/name.txt", ContentFile(PAYLOAD)) for _ in range(200)]

    def collide_check(storage: Any, result: Any) -> None:
        assert len(set(result)) == 200, "collisions produced duplicate names"
        assert all(storage.exists(name) for name in result)

    ops.append(Op("save same name x200", backend_new, collide_run, collide_check))

    def open_read_run(storage: Any) -> tuple[int, Any]:
        total = 0
        open_ = storage.open
        for name in file_names:
            f = open_(name, "rb")
            total += len(f.read())
            f.close()
        return n, total

    def open_read_check(storage: Any, result: Any) -> None:
        assert result == n * len(PAYLOAD), "open+read returned wrong bytes"

    ops.append(Op("open+read", shared_state, open_read_run, open_read_check, shared=True))

    def exists_hit_run(storage: Any) -> tuple[int, Any]:
        exists = storage.exists
        return 2 * n, sum(exists(name) for name in file_names) + sum(exists(name) for name in flat)

    ops.append(
        Op(
            "exists (hit)",
            shared_state,
            exists_hit_run,
            lambda s, r: _expect(r == 2 * n, "exists() missed a file"),
            shared=True,
        )
    )

    def exists_miss_run(storage: Any) -> tuple[int, Any]:
        exists = storage.exists
        return n, sum(exists(name) for name in missing)

    ops.append(
        Op(
            "exists (miss)",
            shared_state,
            exists_miss_run,
            lambda s, r: _expect(r == 0, "exists() found a missing file"),
            shared=True,
        )
    )

    def size_run(storage: Any) -> tuple[int, Any]:
        size = storage.size
        return n, sum(size(name) for name in file_names)

    ops.append(
        Op(
            "size",
            shared_state,
            size_run,
            lambda s, r: _expect(r == n * len(PAYLOAD), "size() is wrong"),
            shared=True,
        )
    )

    def listdir_flat_run(storage: Any) -> tuple[int, Any]:
        results = [storage.listdir("flat") for _ in range(20)]
        return 20, results[-1]

    def listdir_flat_check(storage: Any, result: Any) -> None:
        _expect(len(result[1]) == n and not result[0], "listdir(flat) is wrong")

    ops.append(
        Op(
            f"listdir ({n:,} files)",
            shared_state,
            listdir_flat_run,
            listdir_flat_check,
            shared=True,
        )
    )

    def listdir_root_run(storage: Any) -> tuple[int, Any]:
        results = [storage.listdir("") for _ in range(2000)]
        return 2000, results[-1]

    def listdir_root_check(storage: Any, result: Any) -> None:
        if isinstance(storage, MemFSFloor):
            _expect(len(result[1]) == N_DIRS + 1, "listdir('') is wrong")
        else:
            _expect(len(result[0]) == N_DIRS + 1 and not result[1], "listdir('') is wrong")

    ops.append(
        Op("listdir (root)", shared_state, listdir_root_run, listdir_root_check, shared=True)
    )

    def delete_setup(backend: Backend) -> Any:
        storage = backend.new()
        fill(storage, file_names)
        return storage

    def delete_run(storage: Any) -> tuple[int, Any]:
        delete = storage.delete
        for name in file_names:
            delete(name)
        return n, None

    def delete_check(storage: Any, result: Any) -> None:
        _expect(not any(storage.exists(name) for name in file_names), "delete() left files")

    ops.append(Op("delete", delete_setup, delete_run, delete_check))

    def url_run(storage: Any) -> tuple[int, Any]:
        url = storage.url
        return n, [url(name) for name in file_names]

    def url_check(storage: Any, result: Any) -> None:
        _expect(result[7] == "/media/" + file_names[7], f"url() is wrong: {result[7]}")

    ops.append(Op("url", shared_state, url_run, url_check, shared=True))

    def mtime_run(storage: Any) -> tuple[int, Any]:
        mtime = storage.get_modified_time
        return n, [mtime(name) for name in file_names]

    def mtime_check(storage: Any, result: Any) -> None:
        value = result[0]
        if isinstance(storage, MemFSFloor):
            _expect(value is not None, "no modified time")
        else:
            _expect(value.tzinfo is not None, "get_modified_time() is not aware (USE_TZ)")
            _expect(abs(time.time() - value.timestamp()) < 3600, "modified time is off")

    ops.append(Op("get_modified_time", shared_state, mtime_run, mtime_check, shared=True))
    return ops


def backend_new(backend: Backend) -> Any:
    return backend.new()


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def timed(run: Callable[[Any], tuple[int, Any]], state: Any) -> tuple[float, Any]:
    """Return (ops per second, result) of one run, with the GC collected and off."""
    gc.collect()
    gc.disable()
    try:
        # The thread's CPU time (user and kernel: tmpfs's work counts): on a
        # shared machine, wall time also counts the time others ran, which
        # moved the same op's figure by 2x between two runs.
        start = time.thread_time()
        count, result = run(state)
        elapsed = time.thread_time() - start
    finally:
        gc.enable()
    return count / elapsed, result


def rotations(repeats: int) -> Iterator[tuple[str, ...]]:
    for r in range(repeats):
        k = r % len(BACKENDS)
        yield BACKENDS[k:] + BACKENDS[:k]


def bench_ops(n: int, repeats: int) -> dict[str, dict[str, float]]:
    backends = {kind: Backend(kind) for kind in BACKENDS}
    results: dict[str, dict[str, float]] = {}
    try:
        for op in make_ops(n):
            samples: dict[str, list[float]] = {kind: [] for kind in BACKENDS}
            for order in rotations(repeats):
                for kind in order:
                    state = op.setup(backends[kind])
                    rate, result = timed(op.run, state)
                    op.check(state, result)
                    samples[kind].append(rate)
                    if not op.shared:
                        backends[kind].cleanup()
            results[op.name] = {kind: statistics.median(v) for kind, v in samples.items()}
            print(
                f"  {op.name:<24}"
                + "".join(f"{kind}={results[op.name][kind]:>12,.0f}/s " for kind in BACKENDS),
                flush=True,
            )
    finally:
        for backend in backends.values():
            backend.cleanup(everything=True)
    return results


# -- the cost of recording operations ----------------------------------------------

#: The small ops whose cost recording must keep within RECORDING_BUDGET.
RECORDED_OPS = (
    "exists (hit)",
    "exists (miss)",
    "size",
    "url",
    "open+read",
    "save",
    "delete",
    "listdir (root)",
    "get_modified_time",
)
RECORDING_BUDGET = 1.10  # recording on may cost at most 10% per op


def bench_recording(n: int, repeats: int) -> dict[str, dict[str, float]]:
    """Return ops/s of our storage with recording off and on, interleaved in one run."""
    backend = Backend("ours")
    kinds = ("off", "on")
    results: dict[str, dict[str, float]] = {}
    try:
        for op in make_ops(n):
            if op.name not in RECORDED_OPS:
                continue
            samples: dict[str, list[float]] = {kind: [] for kind in kinds}
            for r in range(2 * repeats):
                for kind in kinds if r % 2 == 0 else kinds[::-1]:
                    state = op.setup(backend)
                    if kind == "on":
                        with state.recording() as record:
                            rate, result = timed(op.run, state)
                        _expect(len(record) > 0, f"{op.name}: nothing recorded")
                    else:
                        rate, result = timed(op.run, state)
                    op.check(state, result)
                    samples[kind].append(rate)
                    if not op.shared:
                        backend.cleanup()
            rates = {kind: statistics.median(v) for kind, v in samples.items()}
            results[op.name] = rates
            print(
                f"  recording {op.name:<20} off={rates['off']:>12,.0f}/s "
                f"on={rates['on']:>12,.0f}/s  cost x{rates['off'] / rates['on']:.2f}",
                flush=True,
            )
    finally:
        backend.cleanup(everything=True)
    return results


# -- per-save cost as the storage grows -------------------------------------------


def scaling_names(first: int, stop: int) -> list[str]:
    return [f"s{i % N_DIRS:02d}/f{i:07d}.txt" for i in range(first, stop)]


def bench_scaling(points: list[int], batch: int, batches: int) -> dict[str, dict[str, float]]:
    """Return microseconds per save when each backend already holds each point's files."""
    makers = {kind: Backend(kind) for kind in BACKENDS}
    storages = {kind: makers[kind].new() for kind in BACKENDS}
    held = dict.fromkeys(BACKENDS, 0)
    cost: dict[str, dict[str, float]] = {kind: {} for kind in BACKENDS}
    window = batch * batches
    try:
        for point in points:
            start = point - window // 2
            for kind in BACKENDS:  # untimed: grow every storage to just below the point
                fill(storages[kind], scaling_names(held[kind], start))
                held[kind] = max(held[kind], start)
            samples: dict[str, list[float]] = {kind: [] for kind in BACKENDS}
            for b in range(batches):
                k = b % len(BACKENDS)
                order = BACKENDS[k:] + BACKENDS[:k]
                for kind in order:
                    first = held[kind]
                    batch_names = scaling_names(first, first + batch)
                    batch_contents = [ContentFile(PAYLOAD) for _ in batch_names]

                    def run(
                        s: Any, nm: list[str] = batch_names, cs: list[Any] = batch_contents
                    ) -> tuple[int, Any]:
                        return batch, [s.save(x, c) for x, c in zip(nm, cs, strict=True)]

                    rate, result = timed(run, storages[kind])
                    _expect(result == batch_names, "scaling save() returned other names")
                    held[kind] += batch
                    samples[kind].append(1e6 / rate)
            for kind in BACKENDS:
                cost[kind][str(point)] = statistics.median(samples[kind])
            print(
                f"  per-save at {point:>7,} files: "
                + "".join(f"{kind}={cost[kind][str(point)]:6.1f}us " for kind in BACKENDS),
                flush=True,
            )
    finally:
        for maker in makers.values():
            maker.cleanup()
    return cost


# -- the 64 MiB streamed upload, one fresh subprocess per backend -----------------


class StreamedUpload(File):
    """A 64 MiB upload that exists only as the chunks it yields."""

    def __init__(self) -> None:
        super().__init__(None, "upload.bin")
        self.size = STREAM_SIZE

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        for i in range(STREAM_SIZE // STREAM_CHUNK):
            yield bytes([i % 251]) * STREAM_CHUNK

    def seek(self, *args: Any) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        # Only dj-inmemorystorage reads the upload whole: it pays for that here.
        return b"".join(self.chunks())


def expected_digest() -> str:
    digest = hashlib.sha256()
    for chunk in StreamedUpload().chunks():
        digest.update(chunk)
    return digest.hexdigest()


def stream_child(kind: str, repeats: int) -> dict[str, Any]:
    """Measure, in this fresh process, the streamed save and read-back of 64 MiB."""
    import tracemalloc

    backend = Backend(kind)
    try:
        save_rates, read_rates = [], []
        want = expected_digest()
        for _ in range(repeats):
            storage = backend.new()
            rate, name = timed(lambda s: (1, s.save("big/upload.bin", StreamedUpload())), storage)
            save_rates.append(rate * STREAM_SIZE / 2**20)

            def read_back(s: Any, name: str = name) -> tuple[int, Any]:
                f = s.open(name, "rb")
                chunks = list(File(f).chunks(STREAM_CHUNK))
                f.close()
                return 1, chunks

            rate, chunks = timed(read_back, storage)
            read_rates.append(rate * STREAM_SIZE / 2**20)
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
            _expect(digest.hexdigest() == want, "64 MiB read back differs")
            del chunks, storage
            backend.cleanup()
            gc.collect()
        storage = backend.new()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        storage.save("big/upload.bin", StreamedUpload())
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        _expect(storage.size("big/upload.bin") == STREAM_SIZE, "64 MiB upload has wrong size")
    finally:
        backend.cleanup()
    return {
        "save_MBps": statistics.median(save_rates),
        "read_MBps": statistics.median(read_rates),
        "peak_x": peak / STREAM_SIZE,
    }


def bench_stream(repeats: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind in BACKENDS:
        proc = subprocess.run(
            [sys.executable, __file__, "--stream-child", kind, "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"  64 MiB stream {kind:<7} save {out[kind]['save_MBps']:8.0f} MB/s  "
            f"read {out[kind]['read_MBps']:8.0f} MB/s  peak {out[kind]['peak_x']:.3f}x",
            flush=True,
        )
    return out


# -- import time ------------------------------------------------------------------


def import_time(module: str, repeats: int) -> dict[str, Any]:
    """Return the median cumulative ``-X importtime`` of *module*, in ms, and pkg_resources."""
    totals, saw_pkg_resources = [], False
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        saw_pkg_resources |= bool(re.search(r"\|\s+pkg_resources\s*$", proc.stderr, re.M))
        line = re.search(rf"\|\s*(\d+)\s*\|\s{re.escape(module)}\s*$", proc.stderr, re.M)
        _expect(line is not None, f"no importtime line for {module}")
        totals.append(int(line.group(1)) / 1000)
    return {"ms": statistics.median(totals), "pkg_resources": saw_pkg_resources}


# -- report ------------------------------------------------------------------------


def ratio_cell(ours: float, peer: float, higher_is_better: bool = True) -> str:
    ratio = ours / peer if higher_is_better else peer / ours
    mark = "  " if ratio >= 1.0 else (" ~" if ratio >= 1 - NOISE else " !")
    return f"{ratio:6.2f}x{mark}"


def report(data: dict[str, Any]) -> str:
    lines = []
    head = f"{'op':<24}" + "".join(f"{k:>12}" for k in BACKENDS)
    head += "".join(f"{'ours/' + peer:>13}" for peer in PEERS)
    lines += ["", "ops/s (median); ratio = ours/peer, higher is better", head, "-" * len(head)]
    for op, rates in data["ops"].items():
        row = f"{op:<24}" + "".join(f"{rates[k]:>12,.0f}" for k in BACKENDS)
        row += "".join(f"{ratio_cell(rates['ours'], rates[p]):>13}" for p in PEERS)
        lines.append(row)
    stream = data["stream"]
    for key, label in (("save_MBps", "64 MiB save MB/s"), ("read_MBps", "64 MiB read MB/s")):
        row = f"{label:<24}" + "".join(f"{stream[k][key]:>12,.0f}" for k in BACKENDS)
        row += "".join(f"{ratio_cell(stream['ours'][key], stream[p][key]):>13}" for p in PEERS)
        lines.append(row)
    row = f"{'64 MiB save peak (x)':<24}" + "".join(
        f"{stream[k]['peak_x']:>12.3f}" for k in BACKENDS
    )
    lines.append(row + "   (tracemalloc peak during save / file size; target ours <= 1.05)")
    scaling = data["scaling"]
    points = list(scaling["ours"])
    for point in points:
        row = f"{'us/save at ' + f'{int(point):,}':<24}" + "".join(
            f"{scaling[k][point]:>12.1f}" for k in BACKENDS
        )
        row += "".join(
            f"{ratio_cell(scaling['ours'][point], scaling[p][point], False):>13}" for p in PEERS
        )
        lines.append(row)
    growth = {k: scaling[k][points[-1]] / scaling[k][points[0]] for k in BACKENDS}
    lines.append(
        f"{'growth ' + points[-1] + '/' + points[0]:<24}"
        + "".join(f"{growth[k]:>11.2f}x" for k in BACKENDS)
        + "   (per-save cost; target ours <= 1.3)"
    )
    if "recording" in data:
        lines += ["", f"{'recording cost':<24}{'off /s':>12}{'on /s':>12}{'cost (off/on)':>15}"]
        for op, rates in data["recording"].items():
            cost = rates["off"] / rates["on"]
            mark = "  " if cost <= RECORDING_BUDGET else " !"
            lines.append(
                f"{op:<24}{rates['off']:>12,.0f}{rates['on']:>12,.0f}{cost:>14.2f}x{mark}"
            )
        lines.append(f"(budget: x{RECORDING_BUDGET:.2f}; ! marks an op over it)")
        lines.append("")
    imp = data["import"]
    lines.append(
        f"{'import (ms, cumulative)':<24}{imp['ours']['ms']:>12.1f}{imp['django']['ms']:>12.1f}"
        f"   (inmemorystorage_fs vs django.core.files.storage; pkg_resources imported: "
        f"{imp['ours']['pkg_resources']}; target ours <= 40 ms)"
    )
    lines += [
        "",
        "Ratios within +/-7% (marked ~) are noise on a shared machine; ! marks a real loss.",
        f"tmpfs = FileSystemStorage on {data['meta']['tmpfs']}; memfs = raw MemoryFS calls "
        "(the floor; listdir there returns names only, url is string joining).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, under a minute")
    parser.add_argument("--stream-child", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument(
        "--recording-only", action="store_true", help="only the cost of recording operations"
    )
    args = parser.parse_args()
    if args.stream_child:
        print(json.dumps(stream_child(args.stream_child, args.repeats or 3)))
        return

    quick = args.quick
    repeats = args.repeats or (3 if quick else 7)
    n = 5000
    points = [1000, 10000, 20000] if quick else [1000, 10000, 100000]
    print(
        f"inmemorystorage_fs benchmark ({'quick' if quick else 'full'}): {repeats} repeats,"
        f" Python {platform.python_version()}, Django {django.get_version()},"
        f" {os.cpu_count()} CPUs; tmpfs = {TMPFS_NOTE}",
        flush=True,
    )
    data: dict[str, Any] = {
        "meta": {
            "quick": quick,
            "repeats": repeats,
            "files": n,
            "python": platform.python_version(),
            "django": django.get_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "tmpfs": TMPFS_NOTE,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "noise": NOISE,
        }
    }
    if args.recording_only:
        data["recording"] = bench_recording(n, repeats)
        return
    data["ops"] = bench_ops(n, repeats)
    data["recording"] = bench_recording(n, repeats)
    data["scaling"] = bench_scaling(points, batch=200, batches=3 if quick else 7)
    data["stream"] = bench_stream(1 if quick else 3)
    data["import"] = {
        "ours": import_time("inmemorystorage_fs", 3 if quick else 7),
        "django": import_time("django.core.files.storage", 3 if quick else 7),
    }
    text = report(data)
    print(text)
    out = args.json or HERE / "results" / f"bench-{'quick' if quick else 'full'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data["table"] = text
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
