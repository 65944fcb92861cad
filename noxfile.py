"""The test matrix: the whole suite on every supported Django and Python (``make matrix``).

Interpreters come from ``PATH`` or, failing that, from pyenv (``$PYENV_ROOT`` or
``pyenv root``, then ``versions/3.X.*``). A session whose Python is nowhere to be
found is skipped with a message saying where it looked; it does not fail.
``make matrix`` writes nox's JSON report and per-session JUnit XML under ``.nox/``,
from which ``tools/matrix_report.py`` rebuilds docs/compatibility.rst's table.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"  # only this machine's interpreters are tested

ROOT = Path(__file__).parent
RESULTS = ROOT / ".nox" / "results"

# Django version -> the Pythons it supports among those this package supports.
DJANGO_PYTHONS = {
    "4.2": ("3.10", "3.11", "3.12"),
    "5.2": ("3.10", "3.11", "3.12", "3.13"),
    "6.0": ("3.12", "3.13"),
    "6.1": ("3.12", "3.13"),
}
# Django 4.2 is the last version with DEFAULT_FILE_STORAGE; tests/settings.py
# switches to it when TESTS_STORAGE_SETTING says so.
SETTING_STYLES = {"4.2": ("STORAGES", "DEFAULT_FILE_STORAGE")}
# The setuptools sessions use a Python whose fresh venvs still get setuptools.
SETUPTOOLS_PYTHON = "3.11"
# requirements-dev.txt entries that the test run itself does not need.
TOOLS = {"django", "mypy", "django-stubs", "ruff", "nox", "build", "twine"}


@functools.cache
def pyenv_root() -> str | None:
    """Return pyenv's root folder, if pyenv is there."""
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    default = os.path.expanduser("~/.pyenv")
    return default if os.path.isdir(default) else None


def _is_python(path: str, version: str) -> bool:
    """Return True if *path* runs and is Python *version* (pyenv shims may not run)."""
    try:
        found = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and found.stdout.strip() == version


@functools.cache
def find_python(version: str) -> str | None:
    """Return the path of a working Python *version*, from PATH or pyenv, or None."""
    candidates = [shutil.which(f"python{version}")]
    root = pyenv_root()
    if root:
        installs = glob.glob(os.path.join(root, "versions", f"{version}.*", "bin"))
        # The newest patch release first: 3.12.10 sorts after 3.12.9.
        installs.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
        candidates += [os.path.join(bin_dir, f"python{version}") for bin_dir in installs]
    return next((c for c in candidates if c and _is_python(c, version)), None)


def where_looked(version: str) -> str:
    """Return where find_python() looks for Python *version*, for skip messages."""
    root = pyenv_root() or "$PYENV_ROOT (pyenv not installed)"
    return f"python{version} on PATH, {root}/versions/{version}.*/bin"


def test_requirements() -> list[str]:
    """Return requirements-dev.txt's entries that running the suite needs."""
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    wanted = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower()
        if line and name not in TOOLS:
            wanted.append(line)
    return wanted


def install(session: nox.Session, django: str) -> None:
    """Install Django *django*, the test requirements and this package (editable)."""
    session.install(f"Django~={django}.0", *test_requirements())
    session.install("-e", ".")


def run_suite(session: nox.Session, **env: str) -> None:
    """Run the whole suite, leaving JUnit XML for tools/matrix_report.py."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    junit = RESULTS / (re.sub(r"[^\w.-]+", "_", session.name).strip("_") + ".xml")
    junit.unlink(missing_ok=True)
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-m",
        "not slow",  # the packaging test builds and installs a wheel: once, in `make test`
        # It checks the record of the previous `make matrix`; `make test` runs it.
        "--ignore=tests/test_matrix_record.py",
        f"--junitxml={junit}",
        *session.posargs,
        # Each session's real-disk folder of its own: sessions may run side by side.
        env={"INMEMORYSTORAGE_TESTS_DISK": str(RESULTS / "disk" / junit.stem), **env},
    )


def skip_if_missing(session: nox.Session, version: str) -> None:
    """Skip *session*, saying where its Python was looked for, if none was found."""
    if session.python is False:
        session.skip(f"Python {version} not found (looked for {where_looked(version)})")


def _param(version: str, *args: str, id: str) -> object:
    # python=False (no venv) lets the session body skip with a clear message
    # instead of nox failing to create a venv for a missing interpreter.
    return nox.param(find_python(version) or False, version, *args, id=id)


MATRIX = [
    _param(python, django, setting, id=f"django{django}-py{python}-{setting}")
    for django, pythons in DJANGO_PYTHONS.items()
    for python in pythons
    for setting in SETTING_STYLES.get(django, ("STORAGES",))
]


@nox.session
@nox.parametrize("python,version,django,setting", MATRIX)
def tests(session: nox.Session, version: str, django: str, setting: str) -> None:
    """Run the suite on one Django and Python, with one style of storage settings."""
    skip_if_missing(session, version)
    install(session, django)
    session.run("python", "-m", "django", "--version")
    run_suite(session, TESTS_STORAGE_SETTING=setting)


SETUPTOOLS_CHECK = """
import importlib.util, sys, warnings
warnings.simplefilter("error")
import inmemorystorage_fs
from inmemorystorage_fs._fs import MemoryFS
MemoryFS().writetext("/ok", "ok")
spec = importlib.util.find_spec("setuptools")
if spec is None:
    print("setuptools: absent; fs imported")
else:
    import setuptools
    print("setuptools:", setuptools.__version__, "; fs imported")
"""


@nox.session
@nox.parametrize(
    "python,version,state",
    [
        _param(SETUPTOOLS_PYTHON, "newest", id=f"newest-py{SETUPTOOLS_PYTHON}"),
        _param(SETUPTOOLS_PYTHON, "absent", id=f"absent-py{SETUPTOOLS_PYTHON}"),
    ],
)
def setuptools(session: nox.Session, version: str, state: str) -> None:
    """Run the suite with the newest setuptools, or with none, to prove ``fs`` imports."""
    skip_if_missing(session, version)
    install(session, "5.2")
    if state == "newest":
        session.install("--upgrade", "setuptools")
    else:
        session.run("python", "-m", "pip", "uninstall", "--yes", "setuptools")
        session.run("python", "-c", "import setuptools", success_codes=[1], silent=True)
    session.run("python", "-c", SETUPTOOLS_CHECK)
    run_suite(session)


FS_NEXT_CHECK = """
import fs, fs.memoryfs, importlib.metadata as m
from inmemorystorage_fs import _entries
assert _entries.MEMORY_INTERNALS, "the entries probe refused fs-next's MemoryFS"
print("fs-next", m.version("fs-next"), "; entries fast path on")
"""


@nox.session
@nox.parametrize("python,version", [_param("3.12", id="django6.0-py3.12")])
def fs_next(session: nox.Session, version: str) -> None:
    """Run the suite on fs-next, the maintained fork that installs the same ``fs`` package."""
    skip_if_missing(session, version)
    install(session, "6.0")
    # The two distributions ship the same package: fs must go before fs-next comes.
    session.run("python", "-m", "pip", "uninstall", "--yes", "fs")
    # Forced: in a reused venv fs-next may look installed while fs's uninstall
    # just removed the files the two share.
    session.install("--force-reinstall", "--no-deps", "fs-next")
    session.run("python", "-c", FS_NEXT_CHECK)
    run_suite(session)


#: Sequences the handle machine runs in `nox -s handles` (500 in a normal run).
HANDLE_SEQUENCES = "20000"


# Not a default session: `make matrix` runs the 500 sequences in every session.
@nox.session(default=False)
@nox.parametrize("python,version", [_param("3.12", id="django5.2-py3.12")])
def handles(session: nox.Session, version: str) -> None:
    """Run the differential handle machine (tests/test_handles.py) on 20,000 sequences."""
    skip_if_missing(session, version)
    install(session, "5.2")
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/test_handles.py::TestHandles",
        "--hypothesis-show-statistics",
        *session.posargs,
        env={"INMEMORYSTORAGE_HANDLE_EXAMPLES": HANDLE_SEQUENCES},
    )
