"""Per-write cost of an InMemoryStorage with ``max_size`` at 10 files and at 10,000.

Run ``.venv/bin/python benchmarks/bench_limits.py [--files 10 --files 10000]``
(or ``make bench-limits``).

``max_size`` keeps a running count of the bytes in use so that the room check
does not walk the tree on every write; this script shows whether a write costs
the same in a full storage as in an almost empty one. For each ``--files``
count, a storage is filled with that many 1 KiB files (in ~50 directories),
and then, timed:

* ``handle write``   a 1-byte ``write()`` on one handle from
                     ``storage.open("h.bin", "ab")`` (many writes on one handle);
* ``handle write (no max)`` the same on a storage without ``max_size``;
* ``save``           ``storage.save("new/x<i>.bin", ContentFile(b"x"))``, a new
                     1-byte file under a unique name;
* ``save (no max)``  the same on a storage without ``max_size``, for reference;
* ``save (2 stores)`` the ``max_size`` save, each one after a save to another
                     storage in the process (as a test with two storages does);
                     at most 5 batches of 10, as each may count the bytes again.

The files counts take turns batch by batch, so a noisy neighbour hits each
alike. Before each batch, one untimed write or save takes any count of the
bytes in use that is due (a write to the other storages meanwhile makes one
due: see ``save (2 stores)``); after it, the saved files are deleted, untimed,
so the storage keeps holding the stated number. Each figure is the median over
batches of the mean per-write time, garbage collector off while timing. The
ratio column is the cost at the largest count over the cost at the smallest:
at most 2x is the goal for the ``max_size`` rows.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
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

from inmemorystorage_fs import InMemoryStorage  # noqa: E402

MAX_SIZE = 10**12
PAYLOAD = b"x" * 1024


def filled(files: int, max_size: int | None) -> InMemoryStorage:
    """Return a storage holding *files* files of 1 KiB in ~50 directories."""
    storage = InMemoryStorage(max_size=max_size)
    for index in range(files):
        storage.save(f"d{index % 50:02d}/f{index:07d}.bin", ContentFile(PAYLOAD))
    return storage


class Op:
    """One timed operation on one storage: untimed ``prepare()``, timed ``batch()``, ``undo()``."""

    def prepare(self) -> None:
        """Make the storage's byte count current (another storage may have written)."""

    def batch(self, size: int) -> object:
        """Do *size* writes; return what ``undo()`` needs."""
        raise NotImplementedError

    def undo(self, made: object) -> None:
        """Put the storage back to the number of files it held (untimed)."""


class HandleWrites(Op):
    """1-byte writes on one handle from ``storage.open("h.bin", "ab")``."""

    def __init__(self, storage: InMemoryStorage) -> None:
        self.storage = storage
        self.handle = storage.open("h.bin", "ab")
        self.written = 0

    def prepare(self) -> None:
        self.handle.write(b"x")  # an untimed write takes any recount
        self.written += 1

    def batch(self, size: int) -> None:
        write = self.handle.write
        for _ in range(size):
            write(b"x")
        self.written += size

    def close(self) -> None:
        self.handle.close()
        assert self.storage.size("h.bin") == self.written, "writes went missing"
        self.storage.delete("h.bin")


class Saves(Op):
    """Saves of new 1-byte files under unique names (each after one to *other*, if given)."""

    def __init__(self, storage: InMemoryStorage, other: InMemoryStorage | None = None) -> None:
        self.storage = storage
        self.other = other
        self.counter = iter(range(10**9))

    def prepare(self) -> None:
        if self.other is None:  # with another storage, every save may count again anyway
            self.storage.save("warm-up.bin", ContentFile(b"x"))
            self.storage.delete("warm-up.bin")

    def batch(self, size: int) -> list[str]:
        names = [f"new/x{next(self.counter):07d}.bin" for _ in range(size)]
        contents = [ContentFile(b"x") for _ in range(size)]
        save = self.storage.save
        if self.other is None:
            saved = [save(name, content) for name, content in zip(names, contents, strict=True)]
        else:
            others = [ContentFile(b"y") for _ in range(size)]
            other_save = self.other.save
            saved = []
            for name, content, side in zip(names, contents, others, strict=True):
                other_save(name, side)
                saved.append(save(name, content))
        assert saved == names, "save() chose other names"
        return saved

    def undo(self, made: object) -> None:
        assert isinstance(made, list)
        for storage in (self.storage, self.other):
            if storage is not None:
                for name in made:
                    storage.delete(name)


def median_us(ops: dict[int, Op], size: int, batches: int) -> dict[int, float]:
    """Return, per files count, the median of *batches* of the mean microseconds per write.

    The counts take turns batch by batch (in rotating order), so that a noisy
    neighbour hits each alike.
    """
    samples: dict[int, list[float]] = {point: [] for point in ops}
    order = list(ops)
    for round_ in range(batches):
        for point in order[round_ % len(order) :] + order[: round_ % len(order)]:
            op = ops[point]
            op.prepare()
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            made = op.batch(size)
            samples[point].append((time.perf_counter() - start) / size * 1e6)
            gc.enable()
            op.undo(made)
    return {point: statistics.median(found) for point, found in samples.items()}


def measure(points: list[int], size: int, batches: int) -> dict[str, dict[int, float]]:
    """Return each op's per-write cost in microseconds at each files count in *points*."""
    limited = {point: filled(point, MAX_SIZE) for point in points}
    plain = {point: filled(point, None) for point in points}
    costs = {}
    for label, storages in (("handle write", limited), ("handle write (no max)", plain)):
        handles = {point: HandleWrites(storage) for point, storage in storages.items()}
        costs[label] = median_us(dict(handles), size, batches)
        for handle in handles.values():
            handle.close()
    costs["save"] = median_us({p: Saves(s) for p, s in limited.items()}, size, batches)
    costs["save (no max)"] = median_us({p: Saves(s) for p, s in plain.items()}, size, batches)
    # Each of these saves may count the bytes again (~0.1 s at 10,000 files): fewer.
    other = InMemoryStorage()
    costs["save (2 stores)"] = median_us(
        {p: Saves(s, other) for p, s in limited.items()}, min(size, 10), min(batches, 5)
    )
    for point, storage in limited.items():
        held = sum(len(storage.listdir(d)[1]) for d in storage.listdir("")[0])
        assert held == point, f"the storage holds {held} files, not {point}"
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files", type=int, action="append", help="files held (repeat; default 10 and 10000)"
    )
    parser.add_argument("--batch", type=int, default=200, help="writes per timed batch")
    parser.add_argument("--batches", type=int, default=15)
    args = parser.parse_args()
    points = sorted(args.files or [10, 10_000])

    costs = measure(points, args.batch, args.batches)
    first, last = points[0], points[-1]
    print(
        f"us per write (median of {args.batches} batches of {args.batch}), max_size={MAX_SIZE:,},"
        f" Python {sys.version.split()[0]}"
    )
    head = f"  {'op':<22}" + "".join(f"{f'{p:,} files':>14}" for p in points)
    head += f"{f'{last:,}/{first:,}':>14}"
    print(head)
    for op, cost in costs.items():
        ratio = cost[last] / cost[first]
        goal = "" if "no max" in op else ("  ok" if ratio <= 2 else "  over 2x")
        print(
            f"  {op:<22}" + "".join(f"{cost[p]:>14.2f}" for p in points) + f"{ratio:>13.2f}x{goal}"
        )
    for point in points:
        write = costs["handle write"][point] / costs["handle write (no max)"][point]
        save = costs["save"][point] / costs["save (no max)"][point]
        print(
            f"  with max_size / without, at {point:,} files: handle write {write:.2f}x,"
            f" save {save:.2f}x"
        )


if __name__ == "__main__":
    main()
