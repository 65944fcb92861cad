"""Per-test cost of a seed: fresh_storage(seed=...) with 1,000 and 100,000 files.

A seed is read from its folder once per process; each test then starts from
its snapshot, sharing the stored bytes, and makes a directory's entries only
when it first walks into it. Against an empty storage, per test: entering and
leaving a seeded storage (the goal: at most +0.2 ms whatever the seed's size),
the same with one read of a seeded file, and, for 1,000 files, the folder
copied in with load() (what projects do without a seed). The variants run in
turns, in batches, in one process; the figures are medians of the batches, in
the thread's CPU time (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
settings.configure(
    USE_TZ=True,
    MEDIA_ROOT="/srv/media",
    INSTALLED_APPS=[],
    SECRET_KEY="benchmarks-only",
    INMEMORYSTORAGE_LOAD_LIMIT=2**30,
)
django.setup()

from django.core.files.storage import default_storage  # noqa: E402

from inmemorystorage_fs.testing import fresh_storage  # noqa: E402

#: Files per directory: 1,000 files are 10 directories, 100,000 are 1,000.
PER_DIRECTORY = 100


def write_seed(folder: str, files: int, size: int) -> str:
    """Write *files* files of *size* bytes under *folder*; return the last one's name."""
    payload = b"s" * size
    for index in range(files):
        path = Path(folder, f"d{index // PER_DIRECTORY:04d}", f"f{index:06d}.bin")
        if index % PER_DIRECTORY == 0:
            path.parent.mkdir()
        path.write_bytes(payload)
    return f"d{(files - 1) // PER_DIRECTORY:04d}/f{files - 1:06d}.bin"


def measure(files: int, size: int, batches: int, tests: int, copy: bool) -> dict[str, float]:
    """Return the per-test microseconds of each variant for a seed of *files* files."""
    with tempfile.TemporaryDirectory() as folder:
        last = write_seed(folder, files, size)

        def empty() -> None:
            with fresh_storage():
                assert not default_storage.exists(last)

        def entered() -> None:
            with fresh_storage(seed=folder):
                pass

        def read() -> None:
            with fresh_storage(seed=folder):
                with default_storage.open(last) as file:
                    assert len(file.read()) == size

        def copied() -> None:  # what projects do without a seed: copy the folder in
            with fresh_storage() as storage:
                storage.load(folder)
                assert default_storage.exists(last)

        start = time.perf_counter()
        read()  # the one read of the folder
        first = time.perf_counter() - start
        variants: dict[str, Callable[[], None]] = {
            "empty": empty,
            "entered": entered,
            "read": read,
        }
        if copy:
            variants["copied"] = copied
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(batches):
            for name, test in variants.items():
                start = time.thread_time()
                for _ in range(tests):
                    test()
                results[name].append((time.thread_time() - start) / tests * 1e6)
    figures = {name: statistics.median(values) for name, values in results.items()}
    figures["first_ms"] = first * 1e3
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--tests", type=int, default=50, help="tests per batch")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}; us per test")
    head = f"{'seed':<22}{'empty':>9}{'entered':>9}{'+':>7}{'1 read':>9}{'+':>7}{'load()':>10}"
    print(head + f"{'first (ms)':>12}")
    print("-" * (len(head) + 12))
    for files, size, copy in ((1000, 4096, True), (100_000, 64, False)):
        got = measure(files, size, args.batches, args.tests, copy)
        empty = got["empty"]
        copied = f"{got['copied']:>10.1f}" if copy else f"{'-':>10}"
        print(
            f"{f'{files:,} x {size} B':<22}{empty:>9.1f}{got['entered']:>9.1f}"
            f"{got['entered'] - empty:>+7.0f}{got['read']:>9.1f}{got['read'] - empty:>+7.0f}"
            f"{copied}{got['first_ms']:>12.1f}",
            flush=True,
        )
    print(
        "\n+ = over the empty storage. Goal: entering a seeded test costs at most +200 us,"
        " whatever the seed's size;\na read pays for the directories it walks into"
        f" ({PER_DIRECTORY} files each here), not for the seed."
    )


if __name__ == "__main__":
    main()
