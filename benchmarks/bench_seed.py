"""Per-test cost of a seed: fresh_storage(seed=...) with 1,000 files against an empty one.

A seed is read from its folder once per process; each test then starts from
its snapshot, sharing the stored bytes. Both variants run in turns, in
batches, on the same process; the figures are medians of the batches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
settings.configure(
    USE_TZ=True, MEDIA_ROOT="/srv/media", INSTALLED_APPS=[], SECRET_KEY="benchmarks-only"
)
django.setup()

from django.core.files.storage import default_storage  # noqa: E402

from inmemorystorage_fs.testing import fresh_storage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096, help="bytes per file")
    parser.add_argument("--batches", type=int, default=9)
    parser.add_argument("--tests", type=int, default=200, help="tests per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        payload = b"s" * args.size
        for index in range(args.files):
            path = Path(folder, f"d{index // 100:02d}", f"f{index:04d}.bin")
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(payload)
        last = f"d{(args.files - 1) // 100:02d}/f{args.files - 1:04d}.bin"

        def empty() -> None:
            with fresh_storage():
                assert not default_storage.exists(last)

        def seeded() -> None:
            with fresh_storage(seed=folder):
                assert default_storage.exists(last)

        def copied() -> None:  # what projects do without a seed: copy the folder in
            with fresh_storage() as storage:
                storage.load(folder)
                assert default_storage.exists(last)

        start = time.perf_counter()
        seeded()  # the one read of the folder
        first = time.perf_counter() - start
        results: dict[str, list[float]] = {"empty": [], "seeded": [], "copied": []}
        for _ in range(args.batches):
            for name, test in (("empty", empty), ("seeded", seeded), ("copied", copied)):
                start = time.perf_counter()
                for _ in range(args.tests):
                    test()
                results[name].append((time.perf_counter() - start) / args.tests * 1e6)
    empty, seeded_us, copied_us = (statistics.median(results[k]) for k in results)
    print(f"{args.files} files of {args.size} bytes, Python {sys.version.split()[0]}")
    print(f"  first seeded test (reads the folder)  {first * 1e3:9.1f} ms")
    print(f"  per test, empty storage               {empty:9.1f} us")
    print(f"  per test, seeded storage              {seeded_us:9.1f} us")
    print(f"  per test, folder copied in (load)     {copied_us:9.1f} us")
    ratio = seeded_us / copied_us
    print(f"  seeded: {ratio:.2f}x the copy's cost, +{seeded_us - empty:.0f} us a test")


if __name__ == "__main__":
    main()
