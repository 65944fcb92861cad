"""Per-test cost of every storage in memory vs the default storage alone, with 50 models.

Run ``.venv/bin/python benchmarks/bench_every_storage.py [--models 50 --tests 500]``
(or ``make bench-every-storage``).

``fresh_storage(aliases="__all__", fields=True)`` swaps every ``STORAGES``
alias (but ``staticfiles``) and every model ``FileField``'s storage for each
test; ``fresh_storage()`` swaps the default storage alone. This script shows
what the first costs a test more than the second in a project of some size.
In a temporary folder it writes an app, ``benchapp``, with ``--models``
models of 2 ``FileField``s each, their storages taking turns: the default
storage, the ``storages["private"]`` instance, a callable returning
``storages["exports"]``, and a ``FileSystemStorage(location=...)`` of the
field's own. Django is configured with ``STORAGES`` default, private and
exports (``FileSystemStorage``s) and staticfiles, all under the temporary
folder, which must hold no file at the end. Then, per test, timed:

* ``body (default)``       the test alone: ``default_storage.save()`` of a
                           small file and a read of it, no layer per test (in
                           one layer entered once, names unique);
* ``body (all)``           the same, plus a save and a read through one model
                           field's storage (one with a ``FileSystemStorage``
                           of its own);
* ``fresh_storage()``      ``with fresh_storage():`` around ``body (default)``;
* ``fresh_storage(all)``   ``with fresh_storage(aliases="__all__", fields=True):``
                           around ``body (all)``;
* ``Layer INHERIT``        what the pytest plugin does per test: a
                           ``Layer(options, INHERIT)`` inside a module layer
                           that holds one file saved by a "fixture" (a file
                           in the field's storage too, with all), around the
                           matching body, for ``{}`` and for the all options.

The variants take turns batch by batch (in rotating order, after an untimed
warm-up, so that the process-wide filesystem of persistent storages exists in
every batch, as it does once one test of a run used the all options). Each
figure is the median over rounds of the mean per-test time, garbage collector
off while timing; ``layer`` is the figure minus its body's, and "swapped per
test" what the test's own layer replaced (inside a module layer, the fields
already hold the module's in-memory storages, which the test's layer keeps). The ratios are
all/default, of the totals and of the layer costs. Last, cProfile runs
``fresh_storage(all)`` and the top cumulative entries of inmemorystorage_fs
(and of Django below them) show where its cost comes from.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("default", "private", "callable", "own")
PAYLOAD = b"hello, storage\n"


def write_app(folder: Path, models: int) -> None:
    """Write the ``benchapp`` package, with *models* models of 2 FileFields, into *folder*."""
    app = folder / "benchapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "storage_callables.py").write_text(
        "from django.core.files.storage import storages\n\n\n"
        "def exports_storage():\n"
        '    return storages["exports"]\n'
    )
    lines = [
        "from django.core.files.storage import FileSystemStorage, storages",
        "from django.db import models",
        "",
        "from .storage_callables import exports_storage",
        "",
        f"OWN_ROOT = {str(folder / 'own')!r}",
        "",
    ]
    for index in range(models):
        lines += ["", f"class M{index:02d}(models.Model):"]
        for slot, field in enumerate(("file_a", "file_b")):
            kind = KINDS[(2 * index + slot) % len(KINDS)]
            storage = {
                "default": "",
                "private": ', storage=storages["private"]',
                "callable": ", storage=exports_storage",
                "own": f', storage=FileSystemStorage(location=OWN_ROOT + "/m{index:02d}")',
            }[kind]
            lines.append(f'    {field} = models.FileField(upload_to="{field}"{storage})')
        lines += ["", "    class Meta:", '        app_label = "benchapp"', ""]
    (app / "models.py").write_text("\n".join(lines))


def configure(folder: Path, models: int) -> None:
    """Configure Django with the app in *folder* and storages located under *folder*."""
    import django
    from django.conf import settings

    write_app(folder, models)
    sys.path.insert(0, str(folder))

    def disk(name: str) -> dict[str, Any]:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder / name), "base_url": f"/{name}/"},
        }

    settings.configure(
        USE_TZ=True,
        SECRET_KEY="benchmarks-only",
        INSTALLED_APPS=["django.contrib.staticfiles", "benchapp"],
        DATABASES={},
        MEDIA_ROOT=str(folder / "media"),
        MEDIA_URL="/media/",
        STATIC_ROOT=str(folder / "static"),
        STATIC_URL="/static/",
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "private": disk("private"),
            "exports": disk("exports"),
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    django.setup()


def files_in(folder: Path) -> list[str]:
    """Return every file under *folder* (the code may create directories, never files)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


class Variant:
    """One way of running a test: untimed ``setup()``, timed ``run(n)``, ``teardown()``."""

    body: Callable[..., None]

    def setup(self) -> None:
        pass

    def run(self, tests: int) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        pass


def make_variants(field_name: tuple[str, str]) -> dict[str, Variant]:
    """Return the timed variants, by label; *field_name* is the (model, field) of the body."""
    from django.apps import apps
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from inmemorystorage_fs.testing import INHERIT, Layer, fresh_storage

    model, field = field_name
    file_field: Any = apps.get_model("benchapp", model)._meta.get_field(field)
    all_options = {"aliases": "__all__", "fields": True}

    def body_default(name: str = "uploads/t.txt") -> None:
        saved = default_storage.save(name, ContentFile(PAYLOAD))
        with default_storage.open(saved) as handle:
            assert handle.read() == PAYLOAD

    def body_all(name: str = "uploads/t.txt") -> None:
        body_default(name)
        storage = file_field.storage  # the field's replacement while a layer is on
        saved = storage.save(name, ContentFile(PAYLOAD))
        with storage.open(saved) as handle:
            assert handle.read() == PAYLOAD

    class Body(Variant):
        """The body alone, in one layer entered once (unique names: no free-name search)."""

        def __init__(self, body: Callable[[str], None], options: dict[str, Any]) -> None:
            self.body, self.options = body, options
            self.counter = iter(range(10**9))

        def setup(self) -> None:
            self.layer = Layer(self.options)
            self.layer.__enter__()

        def run(self, tests: int) -> None:
            body, counter = self.body, self.counter
            for _ in range(tests):
                body(f"uploads/t{next(counter)}.txt")

        def teardown(self) -> None:
            self.layer.__exit__(None, None, None)
            del self.layer  # an exited layer kept alive keeps its storages' receivers

    class Fresh(Variant):
        """``with fresh_storage(**options):`` around the body, per test."""

        def __init__(self, body: Callable[[], None], options: dict[str, Any]) -> None:
            self.body, self.options = body, options

        def run(self, tests: int) -> None:
            body, options = self.body, self.options
            for _ in range(tests):
                with fresh_storage(**options):
                    body()

    class Inherit(Variant):
        """The pytest plugin's per-test ``Layer(options, INHERIT)`` inside a module layer."""

        def __init__(self, body: Callable[[], None], options: dict[str, Any]) -> None:
            self.body, self.options = body, options

        def setup(self) -> None:
            self.module = Layer(self.options, None)
            storage = self.module.__enter__()
            storage.save("fixtures/module.txt", ContentFile(PAYLOAD))  # a module fixture's file
            if self.options:
                file_field.storage.save("fixtures/module.txt", ContentFile(PAYLOAD))

        def run(self, tests: int) -> None:
            body, options = self.body, self.options
            for _ in range(tests):
                with Layer(options, INHERIT) as storage:
                    assert storage.exists("fixtures/module.txt")
                    body()

        def teardown(self) -> None:
            self.module.__exit__(None, None, None)
            del self.module

    return {
        "body (default)": Body(body_default, {}),
        "body (all)": Body(body_all, all_options),
        "fresh_storage()": Fresh(body_default, {}),
        "fresh_storage(all)": Fresh(body_all, all_options),
        "Layer INHERIT ({})": Inherit(body_default, {}),
        "Layer INHERIT (all)": Inherit(body_all, all_options),
    }


def median_us(variants: dict[str, Variant], tests: int, rounds: int) -> dict[str, float]:
    """Return, per variant, the median over *rounds* of the mean microseconds per test."""
    samples: dict[str, list[float]] = {label: [] for label in variants}
    order = list(variants)
    for label in order:  # warm-up, untimed
        variants[label].setup()
        variants[label].run(min(tests, 20))
        variants[label].teardown()
    for round_ in range(rounds):
        shift = round_ % len(order)
        for label in order[shift:] + order[:shift]:
            variant = variants[label]
            variant.setup()
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            variant.run(tests)
            samples[label].append((time.perf_counter() - start) / tests * 1e6)
            gc.enable()
            variant.teardown()
    return {label: statistics.median(found) for label, found in samples.items()}


def census(variant: Variant) -> tuple[int, int, int]:
    """Return what the innermost layer swaps in one test: aliases, fields, storages built."""
    from inmemorystorage_fs._layers import entered_layers

    seen: list[int] = []
    body = variant.body

    def recording(*args: Any) -> None:
        swap = entered_layers()[-1].swap
        assert swap is not None
        built = {id(s) for s in [*swap.storages.values(), *swap.field_storages.values()]}
        seen[:] = [len(swap.storages), len(swap.field_storages), len(built)]
        body(*args)

    variant.body = recording
    try:
        variant.setup()
        variant.run(1)
        variant.teardown()
    finally:
        variant.body = body
    return seen[0], seen[1], seen[2]


def profile(variant: Variant, tests: int, top: int) -> None:
    """Print the *top* cumulative entries of inmemorystorage_fs (and Django) over *tests* tests."""
    profiler = cProfile.Profile()
    variant.setup()
    profiler.enable()
    variant.run(tests)
    profiler.disable()
    variant.teardown()
    stats = pstats.Stats(profiler)
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max(value[3] for value in entries.values())
    package = str(ROOT / "inmemorystorage_fs")

    def table(title: str, keep: Callable[[str], bool]) -> None:
        rows = sorted(
            ((key, value) for key, value in entries.items() if keep(key[0])),
            key=lambda item: item[1][3],
            reverse=True,
        )[:top]
        print(f"  {title}")
        print(f"    {'calls/test':>10} {'cum us/test':>12} {'cum %':>6}  function")
        for (filename, line, function), (_cc, calls, _tt, cumulative, _callers) in rows:
            where = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
            print(
                f"    {calls / tests:>10.1f} {cumulative / tests * 1e6:>12.1f}"
                f" {cumulative / total * 100:>5.0f}%  {function} ({where}:{line})"
            )

    print(f"cProfile of fresh_storage(all), {tests} tests (times include the profiler's overhead)")
    table("inmemorystorage_fs, by cumulative time:", lambda name: name.startswith(package))
    table(
        "django, by cumulative time:",
        lambda name: "/django/" in name and not name.startswith(package),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50, help="models of 2 FileFields each")
    parser.add_argument("--tests", type=int, default=500, help="tests per timed batch")
    parser.add_argument("--rounds", type=int, default=7, help="batches per variant")
    parser.add_argument("--profile-tests", type=int, default=300, help="0: no profile")
    parser.add_argument("--top", type=int, default=10, help="profile entries shown")
    args = parser.parse_args()
    if args.models < 2:
        parser.error("--models must be at least 2 (one model has an own-storage field)")

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="bench-every-storage-"))
    try:
        configure(folder, args.models)
        from django.core.files.storage import storages

        from inmemorystorage_fs._swaps import _file_fields

        # M01.file_b is the 4th field: the kind "own", a FileSystemStorage of its own.
        variants = make_variants(("M01", "file_b"))
        fields = _file_fields()
        kinds = {kind: 0 for kind in KINDS}
        for index in range(2 * args.models):
            kinds[KINDS[index % len(KINDS)]] += 1
        costs = median_us(variants, args.tests, args.rounds)

        print(
            f"us per test (median of {args.rounds} batches of {args.tests}), {args.models} models,"
            f" {len(fields)} FileFields ("
            + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
            + f"), {len(storages.backends)} STORAGES aliases,"
            f" Python {sys.version.split()[0]}, Django {__import__('django').__version__}"
        )
        bodies = {
            "fresh_storage()": "body (default)",
            "fresh_storage(all)": "body (all)",
            "Layer INHERIT ({})": "body (default)",
            "Layer INHERIT (all)": "body (all)",
        }
        print(f"  {'variant':<22}{'total':>10}{'layer':>10}   swapped per test")
        for label, cost in costs.items():
            if label not in bodies:
                print(f"  {label:<22}{cost:>10.1f}")
                continue
            aliases, fields_, built = census(variants[label])
            print(
                f"  {label:<22}{cost:>10.1f}{cost - costs[bodies[label]]:>10.1f}"
                f"   {aliases} aliases, {fields_} fields, {built} storages built"
            )
        for default, all_ in (
            ("fresh_storage()", "fresh_storage(all)"),
            ("Layer INHERIT ({})", "Layer INHERIT (all)"),
        ):
            total = costs[all_] / costs[default]
            layer_all = costs[all_] - costs["body (all)"]
            layer = layer_all / (costs[default] - costs["body (default)"])
            print(f"  all/default, {default:<20} total {total:5.2f}x   layer {layer:5.2f}x")

        if args.profile_tests:
            print()
            profile(variants["fresh_storage(all)"], args.profile_tests, args.top)

        left = files_in(folder)
        left = [name for name in left if not name.startswith("benchapp")]
        assert not left, f"a real storage was written to: {left}"
        elapsed = time.perf_counter() - started
        print(f"\nno file written under the storages' locations; {elapsed:.1f} s in all")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
