"""Sphinx configuration of the documentation site (``make docs``)."""

import os
import sys
from pathlib import Path

import django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the package and the tests' Django project, from this checkout

# autodoc imports the modules, and they read Django's settings: use the tests' project.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from inmemorystorage_fs import __version__  # noqa: E402

project = "inmemorystorage_fs"
author = "inmemorystorage_fs contributors"
copyright = "inmemorystorage_fs contributors"
release = __version__
version = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
exclude_patterns = ["_build", "_readme_parts"]
html_theme = "furo"
html_title = f"inmemorystorage_fs {__version__}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Links to Python's and Django's pages are resolved offline: no inventory is fetched.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = False
