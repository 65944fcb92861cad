"""Measure per-test rollback: restoring 1,000 class-level files vs saving them again.

Run ``.venv/bin/python benchmarks/bench_restore.py [--files N] [--size BYTES]``.

What a test class with ``setUpTestData`` files pays before each test:

* ``re-save``          a new InMemoryStorage and ``save()`` of every file again
                       (what re-running the class setup would cost, without the DB);
* ``restore``          a new InMemoryStorage filled from the class snapshot
                       (the fast path: entry tree copied, bytes shared);
* ``restore (public)`` the same through PyFilesystem2's public API (the fallback);
* ``per-test layer``   everything InMemoryStorageMixin does around one test:
                       install the restored storage, then put the old one back.

Each figure is the median of the repeats, garbage collector off while timing.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    USE_TZ=True, MEDIA_ROOT="/srv/media", INSTALLED_APPS=[], SECRET_KEY="benchmarks-only"
)
django.setup()

from django.core.files.base import ContentFile  # noqa: E402

from inmemorystorage_fs import InMemoryStorage, _entries  # noqa: E402
from inmemorystorage_fs._snapshot import restore_snapshot, take_snapshot  # noqa: E402
from inmemorystorage_fs.testing import Layer  # noqa: E402


@contextmanager
def public_api() -> Iterator[None]:
    """Run the block with MemoryFS's entries off limits, as a changed fs would have them."""
    internals = _entries.MEMORY_INTERNALS
    _entries.MEMORY_INTERNALS = False
    try:
        yield
    finally:
        _entries.MEMORY_INTERNALS = internals


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of *action* over *repeats* runs."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
        gc.enable()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096, help="bytes per file")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    names = [f"documents/{index // 100:02d}/file-{index:04d}.bin" for index in range(args.files)]
    payload = bytes(range(256)) * (args.size // 256) + b"x" * (args.size % 256)

    def resave() -> InMemoryStorage:
        storage = InMemoryStorage()
        for name in names:
            storage.save(name, ContentFile(payload))
        return storage

    class_storage = resave()
    snapshot = take_snapshot(class_storage.filesystem)

    def restore(public: bool) -> InMemoryStorage:
        storage = InMemoryStorage()
        if public:
            with public_api():
                restore_snapshot(storage.filesystem, snapshot)
        else:
            restore_snapshot(storage.filesystem, snapshot)
        return storage

    class_layer = Layer({})
    with class_layer as storage:
        for name in names:
            storage.save(name, ContentFile(payload))
        class_layer_state = class_layer.state()

    def per_test_layer() -> None:
        with Layer({}, class_layer_state) as test_storage:
            assert test_storage.exists(names[-1])

    for check in (restore(False), restore(True)):
        assert check.listdir("documents/00")[1][:1] == ["file-0000.bin"]
        assert check.open(names[-1]).read() == payload

    rows = [
        ("re-save", median_seconds(resave, args.repeats)),
        ("restore", median_seconds(lambda: restore(False), args.repeats)),
        ("restore (public)", median_seconds(lambda: restore(True), args.repeats)),
        ("per-test layer", median_seconds(per_test_layer, args.repeats)),
    ]
    base = rows[0][1]
    print(
        f"{args.files} files of {args.size} bytes, median of {args.repeats}, Python "
        f"{sys.version.split()[0]}"
    )
    for label, seconds in rows:
        print(
            f"  {label:<18} {seconds * 1000:9.2f} ms   {base / seconds:6.1f}x the speed of re-save"
        )


if __name__ == "__main__":
    main()
