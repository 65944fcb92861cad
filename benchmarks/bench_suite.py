"""A whole pytest-django suite under eight storage setups: wall time and per-test cost.

Run ``.venv/bin/python benchmarks/bench_suite.py [--quick] [--rounds N]`` (or
``make bench-suite``): about 6 minutes in full (3 rounds, 11 pairs, the
profile), about 2.5 with ``--quick`` (1 round, 5 pairs) on a 2-core machine.

It writes a small but realistic pytest-django project into a temp folder: an
app ``gallery`` with a ``Photo`` model (two ``ImageField``\\ s: the image and
its thumbnail), a ``ModelForm`` and an upload view that saves the form; then

* 400 *file tests* (4 modules of 100), each of which makes a 64x48 PNG with
  Pillow, POSTs it to the upload view through pytest-django's ``client``
  (the form's ``ImageField`` checks it with Pillow, the view saves it), reads
  it back through the model's field, makes a 16x12 thumbnail with Pillow and
  saves it into the second field, reads that back, then deletes both files
  (and checks that they are gone) and the row;
* 2,000 *other tests* (20 modules of 100), plain functions with arithmetic,
  string, list and dict asserts that touch neither files nor the database.

The modules are interleaved (an upload module after every five others), as in
a real project. The suite runs in a subprocess
(``python -m pytest -q -p no:cacheprovider -p no:randomly -p no:xdist
-p no:xdist.looponfail -p no:hypothesispytest``) under each setup:

(a) Django's ``FileSystemStorage`` with an autouse fixture giving every test a
    fresh ``tmp_path`` as ``MEDIA_ROOT`` (``settings.MEDIA_ROOT = tmp_path``
    through pytest-django's ``settings``): what projects do today;
(b) Django's ``InMemoryStorage``, fresh per test: an autouse fixture sets
    ``settings.STORAGES`` (pytest-django's ``settings``) to it;
(c) django-override-storage's ``locmem_stats_override_storage()`` in an
    autouse fixture (installed on first use with the venv's pip into
    ``benchmarks/.cache/override-storage/`` and put on ``PYTHONPATH``; skipped,
    saying why, if it cannot be installed or imported);
(d) ours: ``STORAGES["default"]`` is ``inmemorystorage_fs.InMemoryStorage`` and
    ``inmemorystorage_autouse = true`` (given as ``-o``, which is what the ini
    line does) gives every test a fresh one;
(e) ours, the same ``STORAGES``, no per-test isolation (the plugin is loaded
    but inert: no autouse, fixture or marker);
(f) no plugin at all: (e) with ``-p no:inmemorystorage_fs``, the baseline for
    the other tests;
(g) for reference, (f) plus one empty function-scoped autouse fixture taking
    ``request``: the least that any fixture-based per-test isolation costs;
(h) ours as (d), with every alias and model field in memory too
    (``--inmemorystorage-all``: ``aliases="__all__", fields=True``).

(a), (b) and (c) point ``MEDIA_ROOT`` at an empty folder, checked to be empty
after every run: nothing may reach the disk but (a)'s ``tmp_path`` folders.

Per-test times come from a measuring plugin loaded in every run
(``-p benchtiming``): the sum of each test's setup, call and teardown
``report.duration`` (what ``--junitxml`` writes as a testcase's ``time``, at
full precision: junitxml rounds to milliseconds, so a 30 µs test shows 0.000).
It also notes the time from ``pytest_runtest_logstart`` to ``logfinish``,
which adds pytest's own per-test hooks and reporting (the "protocol" figures).
A run's per-test figure is the mean over the tests of a group but the group's
first one, which carries one-off costs (the test database for the file tests,
lazy imports); those are in the wall time, and the first tests are shown on
their own. Every figure is the median over rounds; ``spread`` is the range of
the rounds' wall times over their median. The setups take turns within each
round, in an order rotated every round, after an untimed warm-up (one full
run, then a few tests of each setup), so bytecode caches are written and each
setup is checked to pass before the clock starts.

The plugin also times the garbage collector's passes (``gc.callbacks``), per
run and per test, since they land on whichever setup allocates more.

A whole run is often 10-25% faster or slower than the next on a shared
machine, whatever the setup, so three rounds cannot tell 5% apart. The
autouse goal is decided by ``--pairs`` (11; 5 with ``--quick``) adjacent
runs of (d), (f) and (h), next to each other, of the 2,000 other tests alone,
in an order rotated every time: the median of the ratios of (d) and of (h) to
the (f) run next to them, with their quartiles. The file-test
goals are shown both as a ratio of medians and as the median of each round's
own ratio.

Then (unless ``--no-profile``) one (d), one (f) and one (h) run of the
2,000 other tests under ``cProfile``: the inmemorystorage_fs functions costing
most per test, the steps of our hooks and layers, the extra pytest fixture
set-ups and Python calls per test (a count, so free of the machine's noise),
and what a Layer costs outside pytest (a subprocess timing ``Layer.enter()`` /
``exit()`` with the default storage left lazy, and ``with Layer(...)``).

Last, pytest start-up: ``python -X importtime -c "import
inmemorystorage_fs.pytest_plugin"``, 5 runs, medians; and that importing the
plugin leaves ``django`` and ``fs`` out of ``sys.modules``.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
OVERRIDE_STORAGE = "django-override-storage==0.3.2"
OVERRIDE_TARGET = CACHE / "override-storage"

FILE_MODULES = 4  # x 100 tests
OTHER_MODULES = 20  # x 100 tests
PER_MODULE = 100
OVERHEAD_GOAL = 5.0  # % of (d) and of (h) over (f) on the other tests
CALLS_GOAL = 3.0  # % more Python calls per other test in (d) and in (h) than in (f)

SETUPS: dict[str, str] = {
    "a": "FileSystemStorage, fresh tmp_path MEDIA_ROOT",
    "b": "Django InMemoryStorage, fresh per test",
    "c": "override-storage locmem_stats",
    "d": "ours, inmemorystorage_autouse = true",
    "e": "ours as STORAGES default, no isolation",
    "f": "(e) with -p no:inmemorystorage_fs",
    "g": "(f) + one empty autouse fixture(request)",
    "h": "(d) + every alias and field (--inmemorystorage-all)",
}

PYTEST_FLAGS = [
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:randomly",
    "-p",
    "no:xdist",
    "-p",
    "no:xdist.looponfail",
    "-p",
    "no:hypothesispytest",
    "-p",
    "benchtiming",
]

SETUP_FLAGS: dict[str, list[str]] = {
    "a": [],
    "b": [],
    "c": [],
    "d": ["-o", "inmemorystorage_autouse=true"],
    "e": [],
    "f": ["-p", "no:inmemorystorage_fs"],
    "g": ["-p", "no:inmemorystorage_fs"],
    "h": ["-o", "inmemorystorage_autouse=true", "--inmemorystorage-all"],
}


# -- the generated project ------------------------------------------------------

FILES: dict[str, str] = {
    "pytest.ini": """
        [pytest]
        DJANGO_SETTINGS_MODULE = benchproj.settings
        testpaths = tests
        """,
    "benchproj/__init__.py": "",
    "benchproj/settings.py": """
        import os

        SETUP = os.environ.get("BENCH_SETUP", "e")
        SECRET_KEY = "bench-suite-only"
        DEBUG = False
        USE_TZ = True
        ALLOWED_HOSTS = ["testserver"]
        INSTALLED_APPS = ["gallery"]
        MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
        ROOT_URLCONF = "benchproj.urls"
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        MEDIA_URL = "/media/"
        # (a), (b), (c): an empty folder that must stay empty.
        MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", "/nonexistent/media")
        if SETUP in ("a", "b", "c"):
            DEFAULT_BACKEND = "django.core.files.storage.FileSystemStorage"
        else:
            DEFAULT_BACKEND = "inmemorystorage_fs.InMemoryStorage"
        STORAGES = {
            "default": {"BACKEND": DEFAULT_BACKEND},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        """,
    "benchproj/urls.py": """
        from django.urls import path

        from gallery import views

        urlpatterns = [
            path("upload/", views.upload, name="upload"),
            path("photos/<int:pk>/", views.photo, name="photo"),
        ]
        """,
    "gallery/__init__.py": "",
    "gallery/models.py": """
        from django.db import models


        class Photo(models.Model):
            title = models.CharField(max_length=100)
            image = models.ImageField(upload_to="photos/%Y/%m/")
            thumbnail = models.ImageField(upload_to="thumbs/", blank=True)
        """,
    "gallery/forms.py": """
        from django import forms

        from .models import Photo


        class PhotoForm(forms.ModelForm):
            class Meta:
                model = Photo
                fields = ["title", "image"]
        """,
    "gallery/views.py": """
        from django.http import HttpResponseNotAllowed, JsonResponse
        from django.shortcuts import get_object_or_404, redirect

        from .forms import PhotoForm
        from .models import Photo


        def upload(request):
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            form = PhotoForm(request.POST, request.FILES)
            if not form.is_valid():
                return JsonResponse({"errors": form.errors}, status=400)
            photo = form.save()
            return redirect("photo", pk=photo.pk)


        def photo(request, pk):
            found = get_object_or_404(Photo, pk=pk)
            return JsonResponse({"title": found.title, "url": found.image.url})
        """,
    "gallery/migrations/__init__.py": "",
    "gallery/migrations/0001_initial.py": """
        from django.db import migrations, models


        class Migration(migrations.Migration):
            initial = True
            dependencies = []
            operations = [
                migrations.CreateModel(
                    name="Photo",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("title", models.CharField(max_length=100)),
                        ("image", models.ImageField(upload_to="photos/%Y/%m/")),
                        ("thumbnail", models.ImageField(blank=True, upload_to="thumbs/")),
                    ],
                ),
            ]
        """,
    "conftest.py": """
        import os

        import pytest

        SETUP = os.environ.get("BENCH_SETUP", "e")

        if SETUP == "a":

            @pytest.fixture(autouse=True)
            def _media_root(settings, tmp_path):
                settings.MEDIA_ROOT = tmp_path

        elif SETUP == "b":

            @pytest.fixture(autouse=True)
            def _inmemory_media(settings):
                settings.STORAGES = {
                    **settings.STORAGES,
                    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                }

        elif SETUP == "c":
            from override_storage import locmem_stats_override_storage

            @pytest.fixture(autouse=True)
            def _locmem_storage():
                with locmem_stats_override_storage() as stats:
                    yield stats

        elif SETUP == "g":
            # The floor of any plugin that does something per test in a fixture.

            @pytest.fixture(autouse=True)
            def _per_test(request):
                pass
        """,
    "benchtiming.py": """
        # Loaded with -p benchtiming: per-test phase durations at full precision.
        import gc
        import json
        import os
        from time import perf_counter, process_time

        _tests = {}
        _order = []
        _gc = {"total": 0.0, "count": 0, "started": 0.0}


        def _watch_gc(phase, info):
            if phase == "start":
                _gc["started"] = perf_counter()
            else:
                _gc["total"] += perf_counter() - _gc["started"]
                _gc["count"] += 1


        gc.callbacks.append(_watch_gc)


        def pytest_runtest_logstart(nodeid, location):
            _tests[nodeid] = {
                "phases": 0.0,
                "outcomes": [],
                "start": perf_counter(),
                "cpu_start": process_time(),
                "gc_start": _gc["total"],
            }
            _order.append(nodeid)


        def pytest_runtest_logreport(report):
            entry = _tests[report.nodeid]
            entry["phases"] += report.duration
            entry["outcomes"].append(report.outcome)


        def pytest_runtest_logfinish(nodeid, location):
            entry = _tests[nodeid]
            entry["protocol"] = perf_counter() - entry.pop("start")
            entry["cpu"] = process_time() - entry.pop("cpu_start")
            entry["gc"] = _gc["total"] - entry.pop("gc_start")


        def pytest_sessionfinish(session):
            path = os.environ.get("BENCH_TIMINGS")
            if path:
                with open(path, "w") as out:
                    tests = [[nodeid, _tests[nodeid]] for nodeid in _order]
                    found = {"tests": tests, "gc": _gc["total"], "collections": _gc["count"]}
                    json.dump(found, out)
        """,
    "tests/__init__.py": "",
    "tests/uploads.py": """
        import io

        from django.core.files.base import ContentFile
        from django.core.files.uploadedfile import SimpleUploadedFile
        from PIL import Image

        from gallery.models import Photo


        def make_png(i):
            image = Image.new("RGB", (64, 48), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
            out = io.BytesIO()
            image.save(out, "PNG")
            return out.getvalue()


        def upload_roundtrip(client, i):
            data = make_png(i)
            upload = SimpleUploadedFile(f"photo-{i}.png", data, content_type="image/png")
            response = client.post("/upload/", {"title": f"photo {i}", "image": upload})
            assert response.status_code == 302, response.content
            photo = Photo.objects.get(title=f"photo {i}")
            assert photo.image.name.endswith(".png")
            with photo.image.open("rb") as handle:
                assert handle.read() == data
            with Image.open(io.BytesIO(data)) as image:
                image.thumbnail((16, 16))
                out = io.BytesIO()
                image.save(out, "PNG")
            photo.thumbnail.save(f"thumb-{i}.png", ContentFile(out.getvalue()))
            photo.refresh_from_db()
            with photo.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
                assert thumb.size == (16, 12)
            stored = [
                (photo.image.storage, photo.image.name),
                (photo.thumbnail.storage, photo.thumbnail.name),
            ]
            for storage, name in stored:
                assert storage.exists(name)
            photo.image.delete(save=False)
            photo.thumbnail.delete(save=False)
            photo.delete()
            for storage, name in stored:
                assert not storage.exists(name)
        """,
}

# Bodies of the other tests, cycled: {i} is the test's number, {m} its module's.
OTHER_BODIES = [
    "assert {i} * 3 + {m} == {i3m}",
    'assert "item-{i}".split("-") == ["item", "{i}"]',
    "assert sorted([{i}, {m}, 7]) == {sorted3}",
    'assert {{"a": {i}, "b": {m}}}["a"] - {i} == 0',
    'assert "{i}".zfill(5) == "{z5}" and len("{i}".zfill(5)) == 5',
    "assert sum(range({i} % 17)) == {tri}",
    'assert f"{{{i}:04d}}-{{{m}:02d}}" == "{i:04d}-{m:02d}"',
    "assert [x * x for x in range(4)] == [0, 1, 4, 9] and {i} % 1 == 0",
]


def other_body(i: int, m: int) -> str:
    template = OTHER_BODIES[i % len(OTHER_BODIES)]
    return template.format(
        i=i,
        m=m,
        i3m=i * 3 + m,
        sorted3=sorted([i, m, 7]),
        z5=str(i).zfill(5),
        tri=sum(range(i % 17)),
    )


def module_names() -> list[tuple[str, str]]:
    """Return (file name, kind) of each test module, uploads interleaved with the rest."""
    modules = []
    files = others = 0
    for index in range(FILE_MODULES + OTHER_MODULES):
        if (index % 6 == 2 and files < FILE_MODULES) or others == OTHER_MODULES:
            modules.append((f"test_{index:02d}_uploads.py", "file"))
            files += 1
        else:
            modules.append((f"test_{index:02d}_misc.py", "other"))
            others += 1
    return modules


def write_project(folder: Path) -> tuple[list[str], list[str]]:
    """Write the project into *folder*; return the file and other test modules' paths."""
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    file_modules, other_modules = [], []
    number = 0
    for m, (name, kind) in enumerate(module_names()):
        if kind == "file":
            lines = [
                "import pytest",
                "",
                "from tests.uploads import upload_roundtrip",
                "",
                "pytestmark = pytest.mark.django_db",
                "",
            ]
            for _ in range(PER_MODULE):
                lines += ["", f"def test_upload_{number:04d}(client):"]
                lines += [f"    upload_roundtrip(client, {number})", ""]
                number += 1
            file_modules.append(f"tests/{name}")
        else:
            lines = ['"""Tests that touch neither files nor the database."""', ""]
            for i in range(PER_MODULE):
                lines += ["", f"def test_misc_{m:02d}_{i:03d}():", f"    {other_body(i, m)}", ""]
            other_modules.append(f"tests/{name}")
        (folder / "tests" / name).write_text("\n".join(lines))
    return file_modules, other_modules


# -- django-override-storage ------------------------------------------------------


def override_storage_path() -> tuple[Path | None, str]:
    """Return where django-override-storage is installed (installing it once), or why not."""
    marker = OVERRIDE_TARGET / "override_storage" / "__init__.py"
    if not marker.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / ".gitignore").write_text("*\n")  # a cache: never committed
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(OVERRIDE_TARGET),
            OVERRIDE_STORAGE,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not marker.exists():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"pip install {OVERRIDE_STORAGE} failed: {tail}"
    probe = subprocess.run(
        [sys.executable, "-c", "import override_storage.utils"],
        env={**os.environ, "PYTHONPATH": str(OVERRIDE_TARGET)},
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        tail = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{OVERRIDE_STORAGE} does not import: {tail}"
    return OVERRIDE_TARGET, ""


# -- running the suite ----------------------------------------------------------


class Runner:
    def __init__(self, project: Path, work: Path, override_path: Path | None) -> None:
        self.project = project
        self.work = work
        self.override_path = override_path
        self.runs = 0

    def env(self, setup: str, timings: Path, media: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # Bytecode caches are written (the warm-up run writes them), as in a project.
            if k
            not in (
                "PYTEST_ADDOPTS",
                "DJANGO_SETTINGS_MODULE",
                "PYTHONPATH",
                "PYTHONDONTWRITEBYTECODE",
            )
            and not k.startswith("INMEMORYSTORAGE_")
        }
        # The package of this checkout, not whichever one the venv installed.
        path = [str(self.project), str(ROOT)]
        if setup == "c" and self.override_path is not None:
            path.append(str(self.override_path))
        env.update(
            PYTHONPATH=os.pathsep.join(path),
            BENCH_SETUP=setup,
            BENCH_TIMINGS=str(timings),
            BENCH_MEDIA_ROOT=str(media),
            PYTHONHASHSEED="0",
        )
        return env

    def command(self, setup: str, basetemp: Path, prefix: list[str] | None = None) -> list[str]:
        return [
            sys.executable,
            *(prefix or ["-m", "pytest"]),
            *PYTEST_FLAGS,
            *SETUP_FLAGS[setup],
            f"--basetemp={basetemp}",
        ]

    def run(
        self, setup: str, paths: list[str] | None = None, prefix: list[str] | None = None
    ) -> dict[str, Any]:
        """Run the suite (or *paths*) under *setup*; return its wall time and per-test times."""
        self.runs += 1
        run_dir = self.work / f"run-{self.runs:03d}-{setup}"
        media = run_dir / "media"
        media.mkdir(parents=True)
        timings = run_dir / "timings.json"
        command = [*self.command(setup, run_dir / "basetemp", prefix), *(paths or [])]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=self.project,
            env=self.env(setup, timings, media),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
            cpu_after.ru_stime - cpu_before.ru_stime
        )
        if done.returncode != 0 or not timings.exists():
            sys.exit(
                f"setup ({setup}) failed (exit {done.returncode}): {' '.join(command)}\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        leaked = [p for p in media.rglob("*") if p.is_file()]
        if leaked:
            sys.exit(
                f"setup ({setup}) wrote {len(leaked)} file(s) to MEDIA_ROOT, e.g. {leaked[0]}"
            )
        recorded = json.loads(timings.read_text())
        tests = recorded["tests"]
        shutil.rmtree(run_dir)  # untimed: pytest keeps old basetemps around anyway
        result: dict[str, Any] = {
            "wall": wall,
            "cpu": cpu,
            "count": len(tests),
            "gc": recorded["gc"],
            "collections": recorded["collections"],
        }
        for kind, marker in (("file", "_uploads.py"), ("other", "_misc.py")):
            group = [entry for nodeid, entry in tests if marker in nodeid]
            bad = [e for e in group if any(o != "passed" for o in e["outcomes"])]
            if bad:
                sys.exit(f"setup ({setup}): {len(bad)} {kind} test(s) did not pass")
            if not group:
                continue
            rest = group[1:] or group
            result[kind] = {
                "n": len(group),
                "mean": statistics.fmean(e["phases"] for e in rest) * 1e6,
                "median": statistics.median(e["phases"] for e in rest) * 1e6,
                "protocol": statistics.fmean(e["protocol"] for e in rest) * 1e6,
                "cpu": statistics.fmean(e["cpu"] for e in rest) * 1e6,
                "gc": statistics.fmean(e["gc"] for e in rest) * 1e6,
                "first": group[0]["phases"] * 1e3,
            }
        return result


def median_of(runs: list[dict[str, Any]], kind: str | None, key: str) -> float:
    if kind is None:
        return statistics.median(run[key] for run in runs)
    return statistics.median(run[kind][key] for run in runs)


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values) * 100


def measure(runner: Runner, setups: list[str], rounds: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in setups}
    for round_ in range(rounds):
        order = setups[round_ % len(setups) :] + setups[: round_ % len(setups)]
        for setup in order:
            result = runner.run(setup)
            results[setup].append(result)
            print(
                f"  round {round_ + 1}/{rounds} ({setup}) {result['wall']:6.2f} s  "
                f"file {result['file']['mean']:8.1f} us  other {result['other']['mean']:7.1f} us",
                flush=True,
            )
    return results


def paired_overhead(runner: Runner, other_modules: list[str], pairs: int) -> float:
    """Return the worst median overhead of (d) and (h) over (f) on the other tests (%).

    A whole run here is often 10-25% faster or slower than the next, whatever
    the setup (the machine's noise, not ours): a 5% goal needs many runs, and
    each of (d) and (h) compared with the (f) run next to it, in an order
    rotated every time.
    """
    print()
    print(
        f"Autouse overhead on the {OTHER_MODULES * PER_MODULE:,} other tests alone: {pairs} "
        "runs of (d), (f) and (h) next to each other, in rotated order (us per test)"
    )
    ratios: dict[str, list[float]] = {"d": [], "h": []}
    for pair in range(pairs):
        order = ["d", "f", "h"][pair % 3 :] + ["d", "f", "h"][: pair % 3]
        run = {setup: runner.run(setup, other_modules)["other"]["mean"] for setup in order}
        for setup in ratios:
            ratios[setup].append(run[setup] / run["f"])
        print(
            f"  {pair + 1:>2}/{pairs}  (d) {run['d']:7.1f}  (f) {run['f']:7.1f}"
            f"  (h) {run['h']:7.1f}  (d) {(ratios['d'][-1] - 1) * 100:+6.1f}%"
            f"  (h) {(ratios['h'][-1] - 1) * 100:+6.1f}%",
            flush=True,
        )
    worst = -100.0
    for setup, found in ratios.items():
        overhead = (statistics.median(found) - 1) * 100
        low, _mid, high = statistics.quantiles(found, n=4) if pairs > 1 else (found * 3)
        print(
            f"  ({setup}) median {overhead:+.1f}% (quartiles {(low - 1) * 100:+.1f}% and"
            f" {(high - 1) * 100:+.1f}%; goal <= {OVERHEAD_GOAL:.0f}%): "
            + ("ok" if overhead <= OVERHEAD_GOAL else "MISSED")
        )
        worst = max(worst, overhead)
    return worst


def report(results: dict[str, list[dict[str, Any]]], rounds: int) -> float | None:
    """Print the tables and the goals; return (d)'s overhead over (f) on the other tests (%)."""
    file_us = {s: median_of(r, "file", "mean") for s, r in results.items()}
    other_us = {s: median_of(r, "other", "mean") for s, r in results.items()}
    file_cpu = {s: median_of(r, "file", "cpu") for s, r in results.items()}
    other_cpu = {s: median_of(r, "other", "cpu") for s, r in results.items()}

    def ratio(table: dict[str, float], peer: str, setup: str) -> str:
        return f"{table[peer] / table[setup]:.2f}x" if peer in table else "-"

    print()
    print(
        f"Whole suite ({FILE_MODULES * PER_MODULE} file tests, {OTHER_MODULES * PER_MODULE} "
        f"other tests), medians of {rounds} round(s); Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print("  us per test: setup + call + teardown (junitxml's time), the group's first test aside")
    print("  vs (a), vs (b): (a)'s or (b)'s us per file test / this setup's (above 1: faster)")
    head = (
        f"  {'setup':<46}{'wall s':>8}{'spread':>8}{'us/file test':>14}{'us/other test':>15}"
        f"{'file vs (a)':>13}{'file vs (b)':>13}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for setup, runs in results.items():
        walls = [run["wall"] for run in runs]
        print(
            f"  ({setup}) {SETUPS[setup]:<42}{statistics.median(walls):>8.2f}"
            f"{spread(walls):>7.1f}%{file_us[setup]:>14.1f}{other_us[setup]:>15.1f}"
            f"{ratio(file_us, 'a', setup):>13}{ratio(file_us, 'b', setup):>13}"
        )
    print()
    print(
        "  The same in CPU time (the run's, and each test's from logstart to logfinish, "
        "pytest's hooks included),"
    )
    print(
        "  which other processes on the machine disturb less; then wall-clock medians over tests:"
    )
    head = (
        f"  {'setup':<6}{'cpu s':>7}{'cpu us/file':>13}{'cpu us/other':>14}{'vs (a)':>8}"
        f"{'vs (b)':>8}{'median file':>13}{'median other':>14}{'1st file ms':>13}"
        f"{'1st other ms':>14}{'gc ms':>7}{'gc us/other':>13}"
    )
    print(head)
    for setup, runs in results.items():
        print(
            f"  ({setup})  {median_of(runs, None, 'cpu'):>7.2f}{file_cpu[setup]:>13.1f}"
            f"{other_cpu[setup]:>14.1f}{ratio(file_cpu, 'a', setup):>8}"
            f"{ratio(file_cpu, 'b', setup):>8}{median_of(runs, 'file', 'median'):>13.1f}"
            f"{median_of(runs, 'other', 'median'):>14.1f}{median_of(runs, 'file', 'first'):>13.2f}"
            f"{median_of(runs, 'other', 'first'):>14.2f}"
            f"{median_of(runs, None, 'gc') * 1e3:>7.0f}{median_of(runs, 'other', 'gc'):>13.1f}"
        )
    print(
        "  (gc: the garbage collector's passes in the run, and within each other test, wall time)"
    )
    print()
    print("Goals (wall-clock us per test; CPU time in brackets)")

    def flag(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    if "d" in file_us:
        for peer, goal in (("a", 1.5), ("b", 1.0), ("c", 1.0)):
            if peer not in file_us:
                print(f"  file tests, (d) vs ({peer}): not measured")
                continue
            wall_x = file_us[peer] / file_us["d"]
            cpu_x = file_cpu[peer] / file_cpu["d"]
            paired = statistics.median(
                p["file"]["mean"] / d["file"]["mean"]
                for p, d in zip(results[peer], results["d"], strict=True)
            )
            print(
                f"  file tests, (d) vs ({peer}): {wall_x:.2f}x faster [{cpu_x:.2f}x]; median of"
                f" the rounds' own ratios {paired:.2f}x (goal >= {goal:.1f}x):"
                f" {flag(wall_x >= goal)} [{flag(cpu_x >= goal)}] ({flag(paired >= goal)})"
            )
    overhead = None
    if "d" in other_us and "f" in other_us:
        f, d = other_us["f"], other_us["d"]
        overhead = (d - f) / f * 100
        cpu_overhead = (other_cpu["d"] - other_cpu["f"]) / other_cpu["f"] * 100
        print(
            f"  other tests, autouse overhead (d) vs (f): {overhead:+.1f}% [{cpu_overhead:+.1f}%] "
            f"({d:.1f} vs {f:.1f} us, {d - f:+.1f} us a test "
            f"[{other_cpu['d'] - other_cpu['f']:+.1f} us]): from {rounds} round(s) of whole"
            " runs, too few for a 5% goal: the pairs below decide it"
        )
        med_d = median_of(results["d"], "other", "median")
        med_f = median_of(results["f"], "other", "median")
        print(
            f"    on the median test: {(med_d - med_f) / med_f * 100:+.1f}% "
            f"({med_d:.1f} vs {med_f:.1f} us)"
        )
        if "e" in other_us:
            inert = (other_us["e"] - f) / f * 100
            inert_cpu = (other_cpu["e"] - other_cpu["f"]) / other_cpu["f"] * 100
            print(
                f"  other tests, the inert plugin (e) vs (f): {inert:+.1f}% [{inert_cpu:+.1f}%] "
                f"({other_us['e']:.1f} vs {f:.1f} us)"
            )
        if "g" in other_us:
            floor = (other_us["g"] - f) / f * 100
            floor_cpu = (other_cpu["g"] - other_cpu["f"]) / other_cpu["f"] * 100
            print(
                f"  other tests, one empty autouse fixture (g) vs (f): {floor:+.1f}% "
                f"[{floor_cpu:+.1f}%] ({other_us['g'] - f:+.1f} us a test): the floor of a "
                "per-test fixture"
            )
        if "h" in other_us:
            every = (other_us["h"] - f) / f * 100
            every_cpu = (other_cpu["h"] - other_cpu["f"]) / other_cpu["f"] * 100
            print(
                f"  other tests, autouse of every alias and field (h) vs (f): {every:+.1f}% "
                f"[{every_cpu:+.1f}%] ({other_us['h']:.1f} vs {f:.1f} us)"
            )
        wall_d = median_of(results["d"], None, "wall")
        wall_f = median_of(results["f"], None, "wall")
        print(f"  whole run, (d) vs (f): {(wall_d - wall_f) / wall_f * 100:+.1f}% wall")
        overhead = max(overhead, cpu_overhead)
    return overhead


# -- the profile ----------------------------------------------------------------

# (file name, function) -> what it does, for the breakdown.
STEPS = [
    ("pytest_plugin.py", "pytest_runtest_setup", "pytest_runtest_setup (all of it)"),
    ("pytest_plugin.py", "_new", "  _new(): options + Layer(), before the fixtures"),
    ("_plugin_options.py", "marker_options", "    marker_options() (marker)"),
    ("pytest_plugin.py", "pytest_fixture_setup", "pytest_fixture_setup, each fixture"),
    ("pytest_plugin.py", "pytest_runtest_call", "pytest_runtest_call"),
    ("pytest_plugin.py", "_enter_due", "entering the due layers (from either hook)"),
    ("_layers.py", "enter", "  Layer.enter()"),
    ("_layers.py", "state", "    Layer.state() of the module layer (INHERIT)"),
    ("_swaps.py", "install", "    Swap.install() (lazy: no storage made)"),
    ("_persist.py", "clear_persistent_fs", "    clear_persistent_fs()"),
    ("_liveserver.py", "serving", "    serving() (live server)"),
    ("pytest_plugin.py", "_leave", "leaving a layer (a node finalizer)"),
    ("_layers.py", "exit", "  Layer.exit()"),
    ("_swaps.py", "restore", "    Swap.restore()"),
    ("pytest_plugin.py", "pytest_runtest_logreport", "pytest_runtest_logreport (dumps)"),
    ("_swaps.py", "default_storage", "the default storage made on first use"),
]


def _profiled(
    runner: Runner, setup: str, modules: list[str]
) -> tuple[dict[Any, Any], dict[str, Any]]:
    out = runner.work / f"suite-{setup}.prof"
    run = runner.run(setup, modules, prefix=["-m", "cProfile", "-o", str(out), "-m", "pytest"])
    return pstats.Stats(str(out)).stats, run  # type: ignore[attr-defined]


def _protocol(stats: dict[Any, Any]) -> float:
    return sum(v[3] for k, v in stats.items() if k[2] == "runtestprotocol" and "_pytest" in k[0])


def profile(runner: Runner, other_modules: list[str]) -> None:
    tests = OTHER_MODULES * PER_MODULE
    stats, run_d = _profiled(runner, "d", other_modules)
    baseline, run_f = _profiled(runner, "f", other_modules)
    every, _run_h = _profiled(runner, "h", other_modules)
    protocol, protocol_f = _protocol(stats) / tests * 1e6, _protocol(baseline) / tests * 1e6
    ours = [(k, v) for k, v in stats.items() if f"{os.sep}inmemorystorage_fs{os.sep}" in k[0]]
    print()
    print(
        f"Profile: the {tests:,} other tests alone under cProfile (which inflates small calls):"
        f" pytest's runtestprotocol {protocol:.1f} us a test in (d), {protocol_f:.1f} in (f),"
        f" {protocol - protocol_f:+.1f} us"
    )
    print(
        f"  the garbage collector ran {run_d['other']['gc']:.1f} us a test in (d) and "
        f"{run_f['other']['gc']:.1f} in (f) ({run_d['collections']} and {run_f['collections']}"
        " passes): cProfile charges a pass to whatever allocated when it began"
    )
    print(
        f"  {'cum us/test':>12}{'own us/test':>12}{'calls/test':>11}  inmemorystorage_fs function"
    )
    for (filename, line, name), (_cc, calls, own, cum, _callers) in sorted(
        ours, key=lambda kv: -kv[1][3]
    )[:15]:
        where = f"{Path(filename).name}:{line} {name}"
        print(
            f"  {cum / tests * 1e6:>12.1f}{own / tests * 1e6:>12.1f}"
            f"{calls / tests:>11.2f}  {where}"
        )

    def step(filename: str, name: str) -> float:
        # The outermost of same-named functions (InMemoryStorage.__init__ calls FSStorage's).
        found = [v[3] for k, v in ours if k[0].endswith(filename) and k[2] == name]
        return max(found, default=0.0) / tests * 1e6

    print("  Steps, cumulative us a test (indented: part of the line above):")
    for filename, name, label in STEPS:
        print(f"    {step(filename, name):>8.1f}  {label}")
    own_total = sum(v[2] for _k, v in ours) / tests * 1e6
    print(
        f"  inmemorystorage_fs's own time: {own_total:.1f} us a test; the rest of the fixtures'"
        " cost is pytest's fixture machinery and the Django and fs code they call"
    )

    def executions(table: dict[Any, Any]) -> float:
        return sum(
            v[1]
            for k, v in table.items()
            if k[0].endswith("_pytest/fixtures.py") and k[2] == "execute"
        )

    def calls(table: dict[Any, Any]) -> float:
        return sum(v[1] for v in table.values())

    extra = (executions(stats) - executions(baseline)) / tests
    extra_calls = (calls(stats) - calls(baseline)) / tests
    every_calls = (calls(every) - calls(baseline)) / tests
    hooks = sum(
        step("pytest_plugin.py", name)
        for name in (
            "pytest_runtest_setup",
            "pytest_fixture_setup",
            "pytest_runtest_call",
            "pytest_runtest_logreport",
        )
    ) + step("pytest_plugin.py", "_leave")
    layer = layer_cost()
    print(
        f"  per test in (d) over (f): {extra:+.2f} pytest FixtureDef.execute() calls,"
        f" {extra_calls:+.0f} Python calls (deterministic; {calls(baseline) / tests:.0f} in (f));"
        f" our hooks and finalizer {hooks:.0f} us profiled"
    )
    in_f = calls(baseline) / tests
    print(
        f"  Python calls per test over (f) (goal <= +{CALLS_GOAL:.0f}%): (d) {extra_calls:+.0f}"
        f" ({extra_calls / in_f * 100:+.1f}%), (h) {every_calls:+.0f}"
        f" ({every_calls / in_f * 100:+.1f}%): "
        + ("ok" if max(extra_calls, every_calls) / in_f * 100 <= CALLS_GOAL else "MISSED")
    )
    print(
        f"  outside pytest, a Layer costs {layer['lazy']:.1f} us to enter and leave with its"
        f" default storage left for first use ({layer['lazy_inherit']:.1f} us inheriting from"
        f" an empty module layer, as each test does), {layer['eager']:.1f} us when the storage"
        " is made (`with Layer(...)`, as fresh_storage() does)"
    )


LAYER_COST = """
import json, timeit
import django
from django.conf import settings
settings.configure(USE_TZ=True, INSTALLED_APPS=[], SECRET_KEY="bench-suite-only",
                   STORAGES={"default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"}})
django.setup()
from inmemorystorage_fs.testing import INHERIT, Layer

def lazy(base=None):
    layer = Layer({}, base)
    layer.enter()
    layer.exit()

def eager():
    with Layer({}):
        pass

def timed(function):
    return min(timeit.repeat(function, number=2000, repeat=5)) / 2000 * 1e6

costs = {"lazy": timed(lazy), "eager": timed(eager)}
module = Layer({})
module.enter()
costs["lazy_inherit"] = timed(lambda: lazy(INHERIT))
module.exit()
print(json.dumps(costs))
"""


def layer_cost() -> dict[str, float]:
    """Return the us to enter and leave a Layer outside pytest: alone, and inheriting."""
    done = subprocess.run(
        [sys.executable, "-c", LAYER_COST], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


# -- import time ----------------------------------------------------------------


def importtime(code: str) -> dict[str, tuple[int, int]]:
    """Return {module: (self us, cumulative us)} of ``python -X importtime -c code``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, cum, name = line[len("import time:") :].split("|")
        found.setdefault(name.strip(), (int(own), int(cum)))
    return found


def startup(repeats: int = 5) -> None:
    plugin = "inmemorystorage_fs.pytest_plugin"
    rows: dict[str, list[float]] = {
        k: [] for k in ("self", "cum", "pytest", "package", "own", "after")
    }
    for _ in range(repeats):
        alone = importtime(f"import {plugin}")
        rows["self"].append(alone[plugin][0] / 1e3)
        rows["cum"].append(alone[plugin][1] / 1e3)
        rows["pytest"].append(alone["pytest"][1] / 1e3)
        rows["package"].append(alone["inmemorystorage_fs"][1] / 1e3)
        rows["own"].append((alone[plugin][1] - alone["pytest"][1]) / 1e3)
        after = importtime(f"import pytest; import {plugin}")
        rows["after"].append((after[plugin][1] + after.get("inmemorystorage_fs", (0, 0))[1]) / 1e3)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print()
    print(f'Start-up: python -X importtime -c "import {plugin}", median of {repeats} runs (ms)')
    print(f"  {plugin}: self {med['self']:.2f}, cumulative {med['cum']:.2f}")
    print(f"  pytest (imported by it): cumulative {med['pytest']:.2f}")
    print(f"  the plugin's own cumulative minus pytest's: {med['own']:.2f}")
    print(f"  the inmemorystorage_fs package (__init__, imported first): {med['package']:.2f}")
    print(f"  package + plugin after 'import pytest' (what a pytest run pays): {med['after']:.2f}")
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, json, {plugin}; "
            "print(json.dumps({m: m in sys.modules for m in ('django', 'fs')}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded = json.loads(check.stdout)
    for module, present in loaded.items():
        state = "in sys.modules: FAILED" if present else "not in sys.modules: ok"
        print(f"  after importing the plugin, {module!r} is {state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round instead of 3")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--setups", default="abcdefgh", help="which setups (default abcdefgh)")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile (d) and (f) on the other tests (default: yes)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="(d)/(f)/(h) runs of the other tests for the overhead goal (default 11, --quick 5)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    args = parser.parse_args()
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if args.pairs is None:
        args.pairs = 5 if args.quick else 11
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    setups = [s for s in SETUPS if s in args.setups]
    began = time.perf_counter()

    override_path = None
    if "c" in setups:
        override_path, why = override_storage_path()
        if override_path is None:
            print(f"(c) skipped: {why}")
            setups.remove("c")

    work = Path(tempfile.mkdtemp(prefix="ims-bench-suite-"))
    try:
        project = work / "project"
        _file_modules, other_modules = write_project(project)
        runner = Runner(project, work, override_path)
        print(f"Project in {project}; warming up (untimed)...", flush=True)
        runner.run(setups[-1])  # writes every bytecode cache
        one_each = [_file_modules[0], other_modules[0]]
        for setup in setups:
            runner.run(setup, one_each)
        load_before = os.getloadavg()
        results = measure(runner, setups, rounds)
        load_after = os.getloadavg()
        report(results, rounds)
        if {"d", "f", "h"} <= set(setups) and args.pairs > 0:
            paired_overhead(runner, other_modules, args.pairs)
        print(
            f"  (load average before/after the timed runs: {load_before[0]:.2f} / "
            f"{load_after[0]:.2f} on {os.cpu_count()} CPUs: above that, other processes "
            "competed for the CPUs and the wall-clock figures are noisy)"
        )
        if args.profile:
            profile(runner, other_modules)
        startup()
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n(the whole benchmark took {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
