"""What bounds a 64 MiB streamed save: page faults of fresh memory, not the copy.

Writes 64 MiB in 64 KiB chunks, as ``save()`` streams an upload, into: a
reserved ``BytesIO`` (what the storage does), a growing one, ``b"".join``, a
file on tmpfs (what ``FileSystemStorage`` does there), and a ``BytesIO`` whose
pages are already mapped. Counts the minor page faults of each.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable

MIB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    size, chunk = args.mib * MIB, os.urandom(64 * 1024)
    chunks = [chunk] * (size // len(chunk))
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    mapped = io.BytesIO(bytes(size))
    mapped.getbuffer()[:] = bytes(size)  # touch every page once, up front

    def reserved() -> object:
        buffer = io.BytesIO(bytes(size))
        for piece in chunks:
            buffer.write(piece)
        return buffer

    def growing() -> object:
        buffer = io.BytesIO()
        for piece in chunks:
            buffer.write(piece)
        return buffer

    def joined() -> object:
        return io.BytesIO(b"".join(chunks))

    def tmpfs() -> object:
        path = os.path.join(shm, f"bench-big-{os.getpid()}")
        with open(path, "wb") as handle:
            for piece in chunks:
                handle.write(piece)
        os.remove(path)
        return None

    def premapped() -> object:
        mapped.seek(0)
        for piece in chunks:
            mapped.write(piece)
        return None

    cases: list[tuple[str, Callable[[], object]]] = [
        ("BytesIO reserved (the storage)", reserved),
        ("BytesIO growing", growing),
        ('b"".join', joined),
        (f"file on {shm}", tmpfs),
        ("BytesIO, pages already mapped", premapped),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    faults: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, case in cases:  # in turns, so noise hits all alike
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.perf_counter()
            result = case()
            times[name].append(time.perf_counter() - start)
            faults[name] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
            del result
    tmpfs_speed = size / statistics.median(times[f"file on {shm}"]) / 1e6
    print(f"{args.mib} MiB in 64 KiB chunks, median of {args.repeats}")
    for name, _ in cases:
        speed = size / statistics.median(times[name]) / 1e6
        print(
            f"  {name:32} {speed:8,.0f} MB/s  {speed / tmpfs_speed:5.2f}x tmpfs  "
            f"{faults[name]:7,} minor page faults"
        )


if __name__ == "__main__":
    main()
