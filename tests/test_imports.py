"""Importing the package is warning-free whatever setuptools there is, or none.

Each case is a throwaway venv without system site-packages. Django and fs come
from this venv's site-packages (linked onto PYTHONPATH, so nothing is
downloaded for them); only the setuptools under test is installed, from pip's
cache when it holds it. A case whose venv cannot be built is skipped, saying why.
"""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What the package imports, by top-level name, and nothing of setuptools.
DEPENDENCIES = ["django", "fs", "six", "appdirs", "asgiref", "sqlparse", "typing_extensions"]

IMPORT_EVERYTHING = """
import sys
import django
from django.conf import settings
settings.configure()
django.setup()
import inmemorystorage_fs
from inmemorystorage_fs import InMemoryStorage, FSStorage
from inmemorystorage_fs._fs import open_fs
from django.core.files.base import ContentFile
storage = InMemoryStorage()
storage.save("a.txt", ContentFile(b"a"))
open_fs("mem://").close()  # the opener registry works without pkg_resources
print("pkg_resources" in sys.modules)
"""


@pytest.fixture(scope="session")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding links to the modules the package needs, and no more."""
    folder = tmp_path_factory.mktemp("deps")
    for name in DEPENDENCIES:
        try:
            module = __import__(name)
        except ModuleNotFoundError:
            continue  # not installed here, so nothing here needs it (typing_extensions)
        source = Path(module.__file__ or "")
        target = source.parent if source.name == "__init__.py" else source
        (folder / target.name).symlink_to(target)
    return folder


def make_venv(path: Path, setuptools: str | None) -> Path:
    """Build a venv at *path* with *setuptools* (a pip requirement) or none; return python."""
    python = path / "bin" / "python"
    marker = path / "ready"
    if marker.exists():
        return python
    venv.EnvBuilder(system_site_packages=False, with_pip=False, clear=True).create(path)
    if setuptools is not None:
        # This venv's pip installs into the other one: no pip needed there.
        result = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
             "--disable-pip-version-check", "--no-deps", setuptools],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.skip(
                f"cannot install {setuptools} (offline, no cached wheel?): {result.stderr}"
            )
    marker.touch()
    return python


def run_under_error(
    python: Path, dependencies: Path, code: str
) -> subprocess.CompletedProcess[str]:
    """Run *code* with warnings as errors in the venv of *python*."""
    return subprocess.run(
        [str(python), "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{REPO}:{dependencies}", "PATH": "/usr/bin:/bin"},
        cwd=dependencies,
    )


CASES = {
    "no setuptools": None,
    "setuptools 81 (pkg_resources warns)": "setuptools>=80,<82",
    "setuptools 82+ (no pkg_resources)": "setuptools>=82",
}


@pytest.mark.parametrize("case", CASES)
def test_import_is_warning_free(case, dependencies, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / ("venv-" + "-".join(case.split()[:2]))
    python = make_venv(folder, CASES[case])
    pkg_resources = run_under_error(python, dependencies, "import pkg_resources")
    if case.startswith("setuptools 81"):
        # The case means something only if pkg_resources itself would fail -W error.
        assert pkg_resources.returncode != 0 and "Warning" in pkg_resources.stderr
    else:
        assert "ModuleNotFoundError" in pkg_resources.stderr
    result = run_under_error(python, dependencies, IMPORT_EVERYTHING)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # the stand-in left no trace behind
