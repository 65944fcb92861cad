"""The release: sdist and wheel build, the wheel installs and works in a fresh venv."""

import email
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import inmemorystorage_fs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

# Run inside the fresh venv, away from the checkout: report what an installed
# copy offers, with every warning an error.
PROBE = """
import json, sys, warnings
warnings.simplefilter("error")
from importlib import metadata
import django
from django.conf import settings
settings.configure(STORAGES={"default": {"BACKEND": "inmemorystorage_fs.InMemoryStorage"}})
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
import inmemorystorage_fs
name = default_storage.save("hello.txt", ContentFile(b"hi"))
plugins = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
print(json.dumps({
    "file": inmemorystorage_fs.__file__,
    "version": inmemorystorage_fs.__version__,
    "read": default_storage.open(name).read().decode(),
    "manifest": inmemorystorage_fs.InMemoryManifestStaticFilesStorage.__name__,
    "pytest11": plugins,
}))
"""


def run(*args: object, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist, and the wheel from it, as `make dist` does."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    return out


def one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def source_version() -> str:
    text = (ROOT / "inmemorystorage_fs" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert match
    return match.group(1)


def wheel_metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(one(dist, "*.whl")) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_string(wheel.read(name).decode())


def test_version_comes_from_one_place(dist):
    version = source_version()
    assert inmemorystorage_fs.__version__ == version
    assert wheel_metadata(dist)["Version"] == version
    assert one(dist, "*.whl").name == f"inmemorystorage_fs-{version}-py3-none-any.whl"
    assert one(dist, "*.tar.gz").name == f"inmemorystorage_fs-{version}.tar.gz"


def test_metadata_names_what_is_supported(dist):
    meta = wheel_metadata(dist)
    assert meta["Name"] == "inmemorystorage_fs"
    assert meta["Requires-Python"] == ">=3.10"
    assert sorted(meta.get_all("Requires-Dist")) == ["Django>=4.2", "fs<2.5,>=2.4.16"]
    assert meta["Description-Content-Type"] == "text/x-rst"
    assert meta.get_payload().strip() == (ROOT / "README.rst").read_text().strip()
    classifiers = set(meta.get_all("Classifier"))
    assert {"Typing :: Typed", "Framework :: Django", "Framework :: Pytest"} <= classifiers

    # Every Django and Python that `make matrix` tests has its classifier, and
    # no classifier claims one that it does not test.
    sessions = json.loads((ROOT / "tests" / "matrix.json").read_text())["sessions"]
    tested = [s for s in sessions if s["session"].startswith("tests(")]
    djangos = {f"Framework :: Django :: {s['django']}" for s in tested}
    pythons = {f"Programming Language :: Python :: {s['version']}" for s in tested}
    assert {c for c in classifiers if c.startswith("Framework :: Django ::")} == djangos
    assert {c for c in classifiers if re.match(r"Programming Language :: Python :: 3\.", c)} == (
        pythons
    )


def test_long_description_renders_cleanly(dist):
    output = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert output.count("PASSED") == 2


def test_wheel_holds_the_package_and_its_types_only(dist):
    with zipfile.ZipFile(one(dist, "*.whl")) as wheel:
        names = wheel.namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"inmemorystorage_fs", f"inmemorystorage_fs-{source_version()}.dist-info"}
    assert "inmemorystorage_fs/py.typed" in names
    assert "inmemorystorage_fs/staticfiles.py" in names


def test_sdist_has_what_building_and_testing_it_needs(dist):
    with tarfile.open(one(dist, "*.tar.gz")) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    expected = {
        "README.rst",
        "CHANGELOG.rst",
        "LICENSE",
        "setup.py",
        "pyproject.toml",
        "inmemorystorage_fs/py.typed",
        "tests/settings.py",
        "tests/matrix.json",
    }
    assert expected <= names
    assert not {n for n in names if "__pycache__" in n or n.endswith(".pyc")}


def test_pytest_plugin_is_registered_when_shipped(dist):
    with zipfile.ZipFile(one(dist, "*.whl")) as wheel:
        names = wheel.namelist()
        entry_points = next((n for n in names if n.endswith("entry_points.txt")), None)
        text = wheel.read(entry_points).decode() if entry_points else ""
    if "inmemorystorage_fs/pytest_plugin.py" not in names:
        pytest.skip("no pytest plugin in this version")
    assert re.search(r"^\[pytest11\]\n[\w.-]+ = inmemorystorage_fs\.pytest_plugin$", text, re.M)


def test_wheel_installs_and_works_in_a_fresh_venv(dist, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", one(dist, "*.whl"))

    found = json.loads(run(python, "-c", PROBE, cwd=tmp_path))

    assert found["file"].startswith(str(venv))  # the installed copy, not the checkout
    assert found["version"] == source_version()
    assert found["read"] == "hi"
    assert found["manifest"] == "InMemoryManifestStaticFilesStorage"
    if (ROOT / "inmemorystorage_fs" / "pytest_plugin.py").exists():
        assert list(found["pytest11"].values()) == ["inmemorystorage_fs.pytest_plugin"]
