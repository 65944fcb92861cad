"""Per-save cost of InMemoryStorage alone in its process at 1k, 10k and 100k files.

``bench.py`` measures the same in one process beside three other backends that
each hold as many files, which adds their memory traffic to ours; this script
shows our own growth. Run: ``.venv/bin/python benchmarks/bench_scaling.py``.
"""

import gc
import statistics
import time

import django
from django.conf import settings

settings.configure(MEDIA_ROOT="/srv/bench", MEDIA_URL="/media/", USE_TZ=True)
django.setup()

from django.core.files.base import ContentFile  # noqa: E402

from inmemorystorage_fs import InMemoryStorage  # noqa: E402

PAYLOAD = b"x" * 1024
BATCH, BATCHES = 200, 15


def names(first: int, stop: int) -> list[str]:
    """Return the names bench.py's scaling op uses: ~50 directories."""
    return [f"s{i % 50:02d}/f{i:07d}.txt" for i in range(first, stop)]


def main() -> None:
    storage = InMemoryStorage()
    held = 0
    costs = {}
    gc.disable()
    for point in (1_000, 10_000, 100_000):
        for name in names(held, point):
            storage.save(name, ContentFile(PAYLOAD))
        held = point
        samples = []
        for _ in range(BATCHES):
            batch = names(held, held + BATCH)
            contents = [ContentFile(PAYLOAD) for _ in batch]
            start = time.perf_counter()
            saved = [
                storage.save(name, content) for name, content in zip(batch, contents, strict=True)
            ]
            samples.append((time.perf_counter() - start) / BATCH * 1e6)
            assert saved == batch, "save() chose other names"
            held += BATCH
        costs[point] = statistics.median(samples)
        print(f"us/save at {point:>7,} files: {costs[point]:5.1f}")
    print(f"growth 100000/1000: {costs[100_000] / costs[1_000]:.2f}x (target <= 1.3)")


if __name__ == "__main__":
    main()
