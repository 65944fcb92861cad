"""Upload a few files into memory through Django, show them, export them, then serve one.

Run it with ``make demo`` from the repository root.
"""

import io
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "gallery.settings"

import django

django.setup()

from django.core.files.storage import Storage, default_storage  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from PIL import Image  # noqa: E402

EXPORT_DIR = Path("demo-export")


def picture() -> bytes:
    """Return a small PNG drawn with Pillow."""
    image = Image.new("RGB", (64, 40), "navy")
    image.paste((255, 200, 0), (8, 8, 56, 32))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(
    client: Client, title: str, file: SimpleUploadedFile, **extra: SimpleUploadedFile
) -> None:
    """POST one upload form and fail loudly if Django refuses it."""
    response = client.post("/upload/", {"title": title, "file": file, **extra})
    if response.status_code != 200:
        raise SystemExit(f"upload of {title!r} failed: {response.content.decode()}")


def main() -> None:
    call_command("migrate", run_syncdb=True, verbosity=0)
    client = Client()
    upload(client, "notes", SimpleUploadedFile("notes.txt", "Remember the milk ✓\n".encode()))
    upload(
        client,
        "logo",
        SimpleUploadedFile("logo.txt", b"see the picture"),
        picture=SimpleUploadedFile("logo.png", picture(), content_type="image/png"),
    )
    upload(client, "table", SimpleUploadedFile("table.csv", b"name,score\nann,3\nbob,5\n"))
    upload(client, "notes again", SimpleUploadedFile("notes.txt", b"a second notes.txt"))

    storage = default_storage
    print(f"Storage: {type(storage._wrapped).__module__}.{type(storage._wrapped).__name__}")
    print("Files in memory (nothing was written to disk):\n")
    print(storage.tree())
    print(f"{'name':42} {'bytes':>6}  {'url':44} modified (UTC)")
    for name in sorted(walk(storage, "")):
        print(
            f"{name:42} {storage.size(name):>6}  {storage.url(name):44} "
            f"{storage.get_modified_time(name):%Y-%m-%d %H:%M:%S}"
        )
    target = storage.export(EXPORT_DIR)
    print(f"\nExported every file, with its times, to {target} (fs.copy.copy_fs).")
    print("Nothing else was written; delete that folder when you are done looking.")
    serve_over_http(storage, "pictures/logo.png")


def serve_over_http(storage: Storage, name: str) -> None:
    """Start a live server as LiveServerTestCase does, fetch *name*'s URL, stop the server.

    Django's live server looks for MEDIA_URL files in MEDIA_ROOT on the disk;
    finding none there, it hands the request to the URLconf, whose
    ``media_patterns()`` (gallery/urls.py) serve them from the storage in memory.
    """
    # No static files here: the media handler is served as is.
    server = LiveServerThread("localhost", static_handler=lambda handler: handler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        url = f"http://localhost:{server.port}{storage.url(name)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
            status, content_type = response.status, response.headers["Content-Type"]
    finally:
        server.terminate()
    with storage.open(name, "rb") as stored:
        if body != stored.read():
            raise SystemExit(f"{url} did not answer the stored bytes of {name}")
    print(f"\nStarted a live server, fetched {url} (the stored bytes), stopped it:")
    print(f"served over HTTP: {status} {content_type} {len(body)} bytes")


def walk(storage: Storage, path: str) -> list[str]:
    """Return every file name under *path*."""
    directories, files = storage.listdir(path)
    prefix = f"{path}/" if path else ""
    names = [prefix + name for name in files]
    for directory in directories:
        names += walk(storage, prefix + directory)
    return names


if __name__ == "__main__":
    main()
