"""The documentation site: it builds, says all README.rst says, and its examples run.

Every ``python`` and ``pycon`` block of ``docs/`` is preceded by an rst comment
saying what it is, so that none goes stale unnoticed:

``.. example: run``
    Python run in this repository's Django project (tests/settings.py), inside a
    ``fresh_storage()``; the blocks of one page share their names, in order.
``.. example: pycon``
    Each ``>>>`` statement is run the same way and its output compared; an
    expected ``Name: message`` line means that exception, with that message.
``.. example: settings``
    A settings snippet: run, then its upper-case names given to the system
    checks (``override_settings``), which must find nothing.
``.. example: file PATH``
    A file of the tutorial's project, which is written out and tested with pytest.
``.. example: pytest``
    A pytest module, run by pytest in this repository's Django project
    (tests/settings.py, its apps and URLs); each of its tests must pass. One
    that uses Selenium is skipped where tests/test_browser.py is (no Chromium).
``.. example: fragment REASON``
    Code that needs a project the docs only sketch: it must compile.

Indented lines under the comment are hidden set-up code, run before the block.
"""

import configparser
import fnmatch
import io
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import override_settings

from inmemorystorage_fs import FSStorage, InMemoryStorage
from inmemorystorage_fs.checks import check_settings
from inmemorystorage_fs.testing import fresh_storage
from tests.helpers import needs_aliases

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.rst") if "_build" not in path.parts)
KINDS = ("run", "pycon", "settings", "file", "pytest", "fragment")
DIRECTIVE = re.compile(r"^( *)\.\. code-block:: *(\S+)")
MARK = re.compile(r"^( *)\.\. example: *(\S+) *(.*)$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the code-block directive
    language: str
    code: str
    kind: str | None
    argument: str
    setup: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Return the code blocks of *page* with the example comment before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        directive = DIRECTIVE.match(line)
        if not directive:
            continue
        indent = len(directive.group(1))
        body = []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        kind, argument, setup = _mark_before(lines, index)
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        found.append(Block(page, index + 1, directive.group(2), code, kind, argument, setup))
    return found


def _mark_before(lines: list[str], index: int) -> tuple[str | None, str, str]:
    """Return the kind, argument and set-up code of the comment above ``lines[index]``."""
    position = index - 1
    while position >= 0 and not lines[position].strip():
        position -= 1
    setup: list[str] = []
    while position >= 0 and lines[position].strip() and not MARK.match(lines[position]):
        setup.insert(0, lines[position])
        position -= 1
    mark = MARK.match(lines[position]) if position >= 0 else None
    inside = mark and all(line.startswith(mark.group(1) + " ") for line in setup)
    if not mark or not inside:
        return None, "", ""
    return mark.group(2), mark.group(3), textwrap.dedent("\n".join(setup))


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
PYTHON_BLOCKS = [block for block in ALL_BLOCKS if block.language in ("python", "pycon")]


def test_every_python_example_says_what_it_is() -> None:
    unmarked = [str(block) for block in PYTHON_BLOCKS if block.kind not in KINDS]
    assert not unmarked, f"add '.. example: <{'|'.join(KINDS)}>' above: {unmarked}"
    assert {block.kind for block in PYTHON_BLOCKS} == set(KINDS)


# ---------------------------------------------------------------------------
# Running the examples
# ---------------------------------------------------------------------------


def statements(code: str) -> Iterator[tuple[str, str]]:
    """Yield each ``>>>`` statement of a pycon block with its expected output."""
    source: list[str] = []
    expected: list[str] = []
    for line in code.splitlines():
        if line.startswith(">>> "):
            if source:
                yield "\n".join(source) + "\n", "\n".join(expected)
            source, expected = [line[4:]], []
        elif line.startswith("...") and not expected and source:
            source.append(line[4:])
        else:
            expected.append(line)
    if source:
        yield "\n".join(source) + "\n", "\n".join(expected)


def run_pycon(block: Block, names: dict[str, Any]) -> None:
    for source, expected in statements(block.code):
        printed = io.StringIO()
        try:
            with redirect_stdout(printed):
                exec(compile(source, str(block), "single"), names)
        except Exception as exc:
            name, _, message = expected.partition(": ")
            assert name.rsplit(".", 1)[-1] == type(exc).__name__, f"{block}: {source}{exc!r}"
            assert message == str(exc), f"{block}: {source}"
        else:
            assert printed.getvalue().rstrip("\n") == expected, f"{block}: {source}"


def page_names(stack: ExitStack) -> dict[str, Any]:
    """Return the names every runnable example may use without importing them."""
    return {
        "__name__": "docs_example",
        "ContentFile": ContentFile,
        "FSStorage": FSStorage,
        "InMemoryStorage": InMemoryStorage,
        "default_storage": default_storage,
        "fresh_storage": fresh_storage,
        "override_settings": override_settings,
        "stack": stack,
        "storages": storages,
    }


RUN_PAGES = sorted({block.page for block in PYTHON_BLOCKS if block.kind in ("run", "pycon")})


# The examples use the STORAGES aliases of tests/settings.py, which Django 4.2's
# DEFAULT_FILE_STORAGE settings (a nox session) have not.
@needs_aliases
@pytest.mark.parametrize("page", RUN_PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_the_runnable_examples_of_a_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # set-up code may write folders to seed from
    with ExitStack() as stack:
        stack.enter_context(fresh_storage())
        names = page_names(stack)
        for block in blocks(page):
            if block.kind not in ("run", "pycon"):
                continue
            exec(compile(block.setup, f"{block} (set-up)", "exec"), names)
            if block.kind == "pycon" or block.language == "pycon":
                run_pycon(block, names)
            else:
                exec(compile(block.code, str(block), "exec"), names)


SETTINGS_BLOCKS = [block for block in PYTHON_BLOCKS if block.kind == "settings"]


@pytest.mark.parametrize("block", SETTINGS_BLOCKS, ids=str)
def test_a_settings_example_passes_the_system_checks(block: Block) -> None:
    names: dict[str, Any] = {}
    exec(compile(block.setup + block.code, str(block), "exec"), names)
    given = {name: value for name, value in names.items() if name.isupper()}
    assert given, f"{block} sets no setting"
    with override_settings(**given):
        assert check_settings() == []
        for params in given.get("STORAGES", {}).values():
            # Every backend builds with its options. (storages[alias] would drop
            # the default's OPTIONS on Django 4.2, whose override of STORAGES
            # also overrides DEFAULT_FILE_STORAGE.)
            storages.create_storage(params)


@pytest.mark.parametrize(
    "block", [block for block in PYTHON_BLOCKS if block.kind == "fragment"], ids=str
)
def test_a_fragment_compiles(block: Block) -> None:
    assert block.argument or block.setup, f"{block}: say why it is a fragment"
    compile(block.code, str(block), "exec")


PYTEST_INI = """
[pytest]
DJANGO_SETTINGS_MODULE = tests.settings
filterwarnings = error
"""


@needs_aliases
@pytest.mark.parametrize(
    "block", [block for block in PYTHON_BLOCKS if block.kind == "pytest"], ids=str
)
def test_a_pytest_example_passes(
    block: Block, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "selenium" in block.code:
        pytest.importorskip("tests.test_browser")  # skipped as the browser tests are
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    pytester.makeini(PYTEST_INI)
    pytester.makepyfile(test_example=block.setup + "\n" + block.code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and set(outcomes) == {"passed"}, result.stdout.str()


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.language == "ini"], ids=str)
def test_an_ini_example_parses(block: Block) -> None:
    parser = configparser.ConfigParser(inline_comment_prefixes=("#",))
    parser.read_string(block.code)
    assert parser.sections()


# ---------------------------------------------------------------------------
# The tutorial, run as a reader runs it
# ---------------------------------------------------------------------------


def test_the_tutorial_project_gives_the_files_it_shows(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("INMEMORYSTORAGE_DUMP_DIR", raising=False)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE")  # the tutorial's pytest.ini names its own
    tutorial = blocks(DOCS / "tutorial.rst")
    for block in tutorial:
        if block.kind == "file":
            target = pytester.path / block.argument
            target.parent.mkdir(parents=True, exist_ok=True)
            (target.parent / "__init__.py").touch()
            target.write_text(block.code, encoding="utf-8")
    (pytester.path / "__init__.py").unlink()  # the project's root is no package
    shown = next(block.code for block in tutorial if block.kind == "output")
    command = re.search(r"^\$ pytest (.*)$", shown, re.M)
    assert command
    result = pytester.runpytest_subprocess(*command.group(1).split())
    summary = re.search(r"=+ (\d+ failed, \d+ passed) in", shown)
    assert summary
    result.assert_outcomes(**{k: int(n) for n, k in re.findall(r"(\d+) (\w+)", summary[1])})
    for line in shown.splitlines():
        if line.startswith(("E ", ">")):
            result.stdout.fnmatch_lines([line])
    folder = re.search(r"files are in \S+/(failed-files/\S+)", shown)
    assert folder
    result.stdout.fnmatch_lines([f"*files are in {pytester.path / folder[1]}*"])
    listed = [line for line in shown.splitlines() if line.startswith("failed-files/")]
    found = sorted(
        str(path.relative_to(pytester.path))
        for path in (pytester.path / "failed-files").rglob("*")
        if path.is_file()
    )
    assert found == listed


# ---------------------------------------------------------------------------
# Nothing README.rst says is lost
# ---------------------------------------------------------------------------

README = REPO / "README.rst"
# README.rst as it was before it became a landing page (issue 19): all it said
# stays in the docs.
FULL_README = REPO / "tests" / "readme_before_the_docs_site.rst"
# The landing page's own section: a map of the docs, by their paths.
README_MAP = "Documentation"
# The size of a landing page that is read in one go (issue 19, section 5).
README_MAX_BYTES = 15 * 1024

# What the docs say differently on purpose, README's text -> the docs' text.
README_CHANGES = {
    # Issue 19, section 4: pytest collects settings_test.py as a test module.
    "# settings_test.py": "# settings_tests.py",
    "myproject.settings_test   # STORAGES": "myproject.settings_tests  # STORAGES",
    "# myproject/urls_test.py  (ROOT_URLCONF": "# myproject/urls_tests.py  (ROOT_URLCONF",
    # Issue 19, section 4: the package is installed from a clone or a wheel until released.
    "In your project:": (
        "In your project, install it from a clone, or from the wheel that ``make dist``"
        " builds in ``dist/``:"
    ),
    "$ pip install inmemorystorage_fs pytest-django": (
        "$ pip install /path/to/inmemorystorage_fs pytest-django"
    ),
    # Issue 19, section 5: the site has a make target.
    "$ make matrix  # the suite on every Django x Python below, with nox": (
        "$ make docs    # the documentation site in docs/_build/html, with warnings as errors\n"
        "   $ make matrix  # the suite on every supported Django x Python, with nox"
    ),
    # Examples that run against this repository's Django project (tests/testapp).
    "class InvoiceTests(InMemoryStorageMixin": "class DocumentTests(InMemoryStorageMixin",
    'cls.invoice = Invoice.objects.create(pdf=ContentFile(b"%PDF", name="1.pdf"))': (
        'cls.document = Document.objects.create(upload=ContentFile(b"%PDF", name="1.pdf"))'
    ),
    "self.invoice.pdf.delete()": "self.document.upload.delete()",
    '"invoices/1.pdf"': '"documents/1.pdf"',
    "failed-files/invoices.tests.InvoiceTests.": "failed-files/documents.tests.DocumentTests.",
    "class AvatarPageTests(InMemoryStorageMixin": "class PhotoPageTests(InMemoryStorageMixin",
    "def test_the_avatar_loads(self):": "def test_the_photo_loads(self):",
    "user = User.objects.create(avatar=ContentFile(": (
        "photo = Photo.objects.create(image=ContentFile("
    ),
    # Chromium refuses to start as root (a container's user) without it.
    'options.add_argument("--headless=new")': (
        'options.add_argument("--headless=new")\n'
        'options.add_argument("--no-sandbox")  # as root, in a container'
    ),
    '"/users/{user.pk}/")   # <img src="{{ user.avatar.url }}">': (
        '"/photos/{photo.pk}/")   # <img src="{{ photo.image.url }}">'
    ),
    # Issue 19, section 2: media_patterns(alias=...) reads the storage at each request.
    (
        "is ``False`` in tests). The storage is checked when the URLconf loads: one\n"
        "    that is not in memory, or a ``base_url`` with a host, is\n"
        "    ``ImproperlyConfigured``, so a disk is never served by accident."
    ): (
        "is ``False`` in tests). With *alias*, the URLconf may serve an alias that is on a"
        " disk in the settings and that the tests swap: the storage is read at each request,"
        " and a disk is never served by accident."
    ),
    "    storages only: any other raises ``ImproperlyConfigured``.\n``inmemorystorage_fs.urls": (
        "    storages only: any other raises ``ImproperlyConfigured``. For an alias, that is"
        " decided at each request: a disk alias is served while a test swap has put it in"
        " memory, and refused otherwise, the message naming the alias and the ways to swap"
        " it.\n``inmemorystorage_fs.urls"
    ),
    # Issue 19, section 2: the system check that replaced the refusal at URLconf load.
    "``inmemorystorage_fs.W001``   a warning:": (
        "``inmemorystorage_fs.E010``   the URLconf serves, with ``views.serve``"
        " (``media_patterns(alias=...)``), an alias that is not in memory and that"
        ' ``INMEMORYSTORAGE_TESTING["aliases"]`` does not swap (tag ``urls``; see'
        " :doc:`/howto/serving`) ``inmemorystorage_fs.W001``   a warning:"
    ),
    # The sorted list files() returns (the README's order was not sorted).
    "['samples/contract.pdf', 'samples/logo.png', 'samples/data/rows.csv']": (
        "['samples/contract.pdf', 'samples/data/rows.csv', 'samples/logo.png']"
    ),
}
# Sphinx lays out the page: a table of contents of the README itself is not text.
README_ONLY = (".. contents::", ":local:", ":depth: 1")


def flat(text: str) -> str:
    """Return *text* without rst markup that differs between README and docs pages."""
    text = re.sub(r":(?:ref|doc):`([^`<]+?)\s*<[^>]+>`", r"\1", text)
    text = re.sub(r"`([^`<]+?)\s*<[^>]+>`__?", r"\1", text)  # README's links to docs/ pages
    text = re.sub(r"`([^`<]+?)`_", r"\1", text)
    text = "\n".join(line for line in text.splitlines() if not re.fullmatch(r"[=\-~]{3,}", line))
    return " ".join(text.split())


def readme_sections(readme: Path = README) -> list[tuple[str, list[str]]]:
    """Return the sections of *readme*, each with its paragraphs."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    sections: list[tuple[str, list[str]]] = [("(title)", [])]
    paragraph: list[str] = []
    for index, line in enumerate(lines):
        underline = index + 1 < len(lines) and re.fullmatch(r"[=\-]{3,}", lines[index + 1])
        if underline and line.strip() and not line.startswith(" "):
            sections[-1][1].append("\n".join(paragraph))
            sections.append((line, []))
            paragraph = []
        elif line.strip():
            if paragraph and paragraph[-1].startswith(" ") and not line.startswith(" "):
                # A new term or item of a list: each is checked on its own, so a
                # list the docs extend still holds the items the README had.
                sections[-1][1].append("\n".join(paragraph))
                paragraph = []
            paragraph.append(line)
        else:
            sections[-1][1].append("\n".join(paragraph))
            paragraph = []
    sections[-1][1].append("\n".join(paragraph))
    return [(title, [p for p in paras if flat(p)]) for title, paras in sections]


def docs_text() -> dict[Path, str]:
    return {page: flat(page.read_text(encoding="utf-8")) for page in PAGES}


def where_in_docs(paragraph: str, pages: dict[Path, str]) -> Path | None:
    for before, after in README_CHANGES.items():
        paragraph = paragraph.replace(before, after)
    wanted = flat(paragraph)
    if wanted.startswith(README_ONLY) or all(
        re.fullmatch(r"[=\-]{3,}|inmemorystorage_fs", word) for word in wanted.split()
    ):
        return DOCS / "index.rst"
    return next((page for page, text in pages.items() if wanted in text), None)


@pytest.mark.parametrize("readme", [README, FULL_README], ids=["README", "full-README"])
def test_every_paragraph_of_the_readme_is_in_the_docs(readme: Path) -> None:
    pages = docs_text()
    missing = [
        f"{title}: {paragraph[:70]!r}"
        for title, paragraphs in readme_sections(readme)
        if title != README_MAP
        for paragraph in paragraphs
        if where_in_docs(paragraph, pages) is None
    ]
    assert not missing, f"{readme.name} says this and docs/ does not:\n" + "\n".join(missing)


def test_the_readme_is_a_landing_page() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.rst is {size} bytes: move text to docs/"
    assert "make docs" in README.read_text(encoding="utf-8")


def test_the_readme_links_to_docs_pages_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    titles = [title for title, _ in readme_sections()]
    assert README_MAP in titles
    linked = set(re.findall(r"<(docs/[^>]+\.rst)>`__", text))
    assert linked, "README.rst links to no docs page"
    assert sorted(path for path in linked if not (REPO / path).is_file()) == []
    shown = {page.relative_to(REPO).as_posix() for page in PAGES} - {"docs/changelog.rst"}
    assert sorted(shown - linked - {"docs/index.rst"}) == []  # every page is reachable


# ---------------------------------------------------------------------------
# The build, and the tutorial page in a real browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site with warnings as errors, as ``make docs`` does; return its folder."""
    if shutil.which("sphinx-build", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("sphinx is not installed: pip install -r requirements-dev.txt")
    out = tmp_path_factory.mktemp("docs-html")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOCS, out],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return out


def test_the_site_builds_without_warnings(site: Path) -> None:
    assert (site / "tutorial.html").is_file()
    api = (site / "reference" / "api.html").read_text(encoding="utf-8")
    assert "Install a new" in api  # fresh_storage's docstring, through autodoc


def test_the_tutorial_page_renders_in_chromium(
    site: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    browser_tests = pytest.importorskip("tests.test_browser")
    driver = browser_tests.start_browser(tmp_path / "profile")
    try:
        with browser_tests.screenshot_on_failure(driver, request.node.nodeid):
            driver.get((site / "tutorial.html").as_uri())
            assert driver.title.startswith("Tutorial: from install to a failed test")
            shown = driver.execute_script(
                "return Array.from(document.querySelectorAll('div.highlight pre'))"
                ".filter(p => p.offsetHeight > 0 && p.querySelector('span'))"
                ".map(p => p.innerText)"
            )
            assert len(shown) >= 8, shown
            assert any("class Invoice(models.Model):" in text for text in shown)
            colours = driver.execute_script(
                "return new Set(Array.from(document.querySelectorAll('div.highlight pre span'))"
                ".map(s => getComputedStyle(s).color)).size"
            )
            assert colours > 2  # highlighted: keywords, strings and names differ
    finally:
        driver.quit()


# ---------------------------------------------------------------------------
# No suggested settings module or URLconf is one pytest collects as tests
# ---------------------------------------------------------------------------

SUGGESTED_MODULES = (
    re.compile(r"\b(\w*(?:settings|urls)\w*)\.py\b"),  # a file: settings_tests.py
    re.compile(r"\b(?:\w+\.)+(\w*(?:settings|urls)\w*)\b"),  # a module: mysite.settings_tests
    re.compile(r"(?:DJANGO_SETTINGS_MODULE|ROOT_URLCONF|--ds)\W+(?:\w+\.)*(\w+)"),
)


def suggested_modules(text: str) -> set[str]:
    """Return the settings and URLconf module names that *text* names."""
    return {name for pattern in SUGGESTED_MODULES for name in pattern.findall(text)}


def test_no_suggested_settings_or_urlconf_is_collected_by_pytest(
    pytester: pytest.Pytester,
) -> None:
    python_files = pytester.parseconfig().getini("python_files")  # pytest's defaults
    assert python_files == ["test_*.py", "*_test.py"]
    collected = {
        f"{path.relative_to(REPO)}: {name}.py"
        for path in [README, *PAGES]
        for name in suggested_modules(path.read_text(encoding="utf-8"))
        if any(fnmatch.fnmatch(f"{name}.py", pattern) for pattern in python_files)
    }
    assert not collected, f"pytest would collect these as test modules: {sorted(collected)}"


def test_the_suggested_module_scan_finds_what_pytest_collects() -> None:
    old = suggested_modules(FULL_README.read_text(encoding="utf-8"))
    assert {"settings_test", "urls_test"} <= old
    assert suggested_modules("DJANGO_SETTINGS_MODULE = proj.test_settings") == {"test_settings"}
