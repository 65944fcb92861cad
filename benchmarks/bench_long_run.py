"""A long run does not grow: 10,000 tests, each with a fresh storage saving 100 KiB.

Prints resident memory after the first 200 tests and after all of them, and the
number of live InMemoryStorage and MemoryFS objects (``gc.get_objects()``) and
settings receivers, for the default storage alone and with every alias and
alias swapped (``aliases="__all__"``), each with and without recording
operations (``record=True``). The goal: within 20 MiB.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
from pathlib import Path

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
settings.configure(
    USE_TZ=True,
    MEDIA_ROOT="/srv/media",
    INSTALLED_APPS=[],
    SECRET_KEY="benchmarks-only",
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": "/srv/private"},
        },
    },
)
django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.core.signals import setting_changed  # noqa: E402

from inmemorystorage_fs import InMemoryStorage  # noqa: E402
from inmemorystorage_fs._fs import MemoryFS  # noqa: E402
from inmemorystorage_fs.testing import fresh_storage  # noqa: E402

PAYLOAD = b"x" * 100 * 1024


def rss_mib() -> float:
    """Return the resident set size now, in MiB (from /proc, else the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def live() -> tuple[int, int, int]:
    gc.collect()
    objects = gc.get_objects()
    storages = sum(isinstance(o, InMemoryStorage) for o in objects)
    filesystems = sum(isinstance(o, MemoryFS) for o in objects)
    return storages, filesystems, len(setting_changed.receivers)


def run(tests: int, options: dict[str, object]) -> None:
    def one(index: int) -> None:
        with fresh_storage(**options) as storage:  # type: ignore[arg-type]
            name = storage.save(f"uploads/{index}.bin", ContentFile(PAYLOAD))
            with storage.open(name) as handle:
                handle.read()
            for _ in range(20):
                storage.exists(name)

    for index in range(200):
        one(index)
    early, early_live = rss_mib(), live()
    for index in range(200, tests):
        one(index)
    late, late_live = rss_mib(), live()
    label = "aliases=__all__" if options.get("aliases") else "default only"
    if options.get("record"):
        label += ", record"
    print(
        f"  {label:24} RSS after 200: {early:7.1f} MiB, after {tests:,}: {late:7.1f} MiB "
        f"(+{late - early:.1f} MiB)"
    )
    print(f"  {'':24} live storages/MemoryFS/receivers: {early_live} -> {late_live}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"{args.tests:,} tests saving 100 KiB each (and 22 more operations), "
        f"Python {sys.version.split()[0]}"
    )
    run(args.tests, {})
    run(args.tests, {"aliases": "__all__"})
    run(args.tests, {"record": True})
    run(args.tests, {"aliases": "__all__", "record": True})


if __name__ == "__main__":
    main()
