import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "inmemorystorage_fs" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="inmemorystorage_fs",
    version=VERSION,
    description="In-memory Django file storage for tests, on PyFilesystem2's MemoryFS.",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["inmemorystorage_fs", "inmemorystorage_fs.*"]),
    package_data={"inmemorystorage_fs": ["py.typed"]},
    python_requires=">=3.10",
    install_requires=["Django>=4.2", "fs>=2.4.16,<2.5"],
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Web Environment",
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Framework :: Django :: 6.1",
        "Framework :: Pytest",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: BSD License",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Software Development :: Testing",
        "Typing :: Typed",
    ],
    entry_points={"pytest11": ["inmemorystorage_fs = inmemorystorage_fs.pytest_plugin"]},
    zip_safe=False,
)
