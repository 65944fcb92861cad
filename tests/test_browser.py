"""A real browser (headless Chromium) shows images the live server serves from memory.

Run with Debian's chromium and chromium-driver; Selenium is given both paths,
so it never downloads a browser or a driver. A failed check saves a screenshot
to ``$INMEMORYSTORAGE_SCREENSHOTS`` (default ``./browser-screenshots/``).
"""

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path
from django.utils.html import format_html
from PIL import Image

from inmemorystorage_fs.testing import InMemoryStorageMixin
from tests.testapp.urls import urlpatterns as site_patterns

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = (
    "install Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"
)
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(MISSING, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

SCREENSHOTS_ENV = "INMEMORYSTORAGE_SCREENSHOTS"
WIDTH, HEIGHT = 37, 23


def image_page(request: HttpRequest, name: str) -> HttpResponse:
    """A page showing the stored image *name*, a missing one and a static one."""
    return HttpResponse(
        format_html(
            '<!doctype html><title>images</title><img id="a" src="{}">'
            '<img id="missing" src="/media/nope.png">'
            '<img id="static" src="/static/admin/img/icon-yes.svg">',
            default_storage.url(name),
        )
    )


# This module is the URLconf of its tests: the test site plus the page.
urlpatterns = [*site_patterns, path("page/<path:name>", image_page)]


@pytest.fixture
def inmemory_storage(_empty_media, inmemory_storage):
    """The plugin's fixture, entered after tests/conftest.py's ``_empty_media``.

    The plugin's autouse fixture sets the storage up before the conftest's,
    which would then put a new default storage in place of the fresh one.
    """
    return inmemory_storage


def png_bytes(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "purple").save(buffer, format="PNG")
    return buffer.getvalue()


def start_browser(profile: Path) -> Any:
    """Start headless Chromium with its profile in *profile*; the caller quits it."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(20)
    return driver


@contextmanager
def screenshot_on_failure(driver: Any, test_id: str, folder: Path | None = None) -> Iterator[None]:
    """Save a screenshot of the page if the block fails, and name it in the failure."""
    try:
        yield
    except Exception as exc:
        folder = folder or Path(os.environ.get(SCREENSHOTS_ENV) or "browser-screenshots")
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder.absolute() / (re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id) + ".png")
        saved = driver.save_screenshot(str(shot))
        where = f"screenshot: {shot}" if saved else f"no screenshot could be saved to {shot}"
        raise AssertionError(f"{type(exc).__name__}: {exc}\n{where}") from exc


def image_size(driver: Any, element_id: str) -> tuple[int, int]:
    return tuple(
        driver.execute_script(
            "const image = document.getElementById(arguments[0]);"
            "return [image.naturalWidth, image.naturalHeight];",
            element_id,
        )
    )


def show_page(driver: Any, url: str) -> None:
    """Open *url* and wait until every image of it has loaded or failed."""
    driver.get(url)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )


@override_settings(ROOT_URLCONF=__name__)
class ImagesInTheBrowser(InMemoryStorageMixin, StaticLiveServerTestCase):
    driver: Any

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        profile = Path(tempfile.mkdtemp(prefix="inmemorystorage-chromium-"))
        cls.addClassCleanup(shutil.rmtree, profile, ignore_errors=True)
        cls.driver = start_browser(profile)

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            cls.driver.quit()
        finally:
            super().tearDownClass()

    def test_an_image_saved_in_the_storage_shows_and_a_missing_one_does_not(self) -> None:
        name = self.storage.save("pics/dot.png", ContentFile(png_bytes()))
        with screenshot_on_failure(self.driver, self.id()):
            show_page(self.driver, f"{self.live_server_url}/page/{name}")
            assert image_size(self.driver, "a") == (WIDTH, HEIGHT)
            assert image_size(self.driver, "missing") == (0, 0)
            assert image_size(self.driver, "static") == (13, 13)  # the finders' file

    def test_a_failed_check_saves_a_screenshot(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="inmemorystorage-screenshots-"))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        self.driver.get(f"{self.live_server_url}/page/nothing.png")
        with (
            pytest.raises(AssertionError, match=r"screenshot: .*failing\.png") as failure,
            screenshot_on_failure(self.driver, "failing", folder),
        ):
            assert image_size(self.driver, "a") == (WIDTH, HEIGHT)
        assert "(0, 0)" in str(failure.value)
        assert (folder / "failing.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.django_db(transaction=True)
def test_live_server_image_shows_in_the_browser(
    live_server, inmemory_storage, browser, settings, request
):
    settings.ROOT_URLCONF = __name__
    name = inmemory_storage.save("pics/live.png", ContentFile(png_bytes()))
    with screenshot_on_failure(browser, request.node.nodeid):
        show_page(browser, f"{live_server.url}/page/{name}")
        assert image_size(browser, "a") == (WIDTH, HEIGHT)
        assert image_size(browser, "missing") == (0, 0)
        assert image_size(browser, "static") == (13, 13)
