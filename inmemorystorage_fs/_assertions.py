"""Assertions on a storage's files, with messages that show what the storage holds."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from io import BytesIO
from typing import Any

from ._fakes import import_pillow

__all__ = ["StorageAssertions", "assert_image", "glob_regex"]

#: The most lines of ``tree()`` a failure message shows: enough to see the
#: shape of a test's files, short enough to read in a terminal.
TREE_LINES = 50


@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Return the regex of a glob *pattern* matched against whole storage names.

    ``*`` is any characters but ``/``, ``?`` one character but ``/``,
    ``[...]`` a character class and ``**`` any depth: ``a/**`` is everything
    below ``a``, ``**/*.txt`` every ``.txt`` file, at the root too.
    """
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find(
                "]", index + 2 if pattern[index + 1 : index + 2] in "!^" else index + 1
            )
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body[:1] in "!^":
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z", re.S)


class StorageAssertions:
    """``files()`` and the ``assert_*`` methods, for any storage with listdir/open/tree."""

    def _quiet(self) -> AbstractContextManager[None]:
        """Return a context in which this thread's calls are no operations of the record."""
        return nullcontext()

    def _walk(self, path: str = "") -> Iterator[tuple[str, bool]]:
        """Yield every name below *path* with True for a directory, False for a file."""
        try:
            with self._quiet():
                directories, files = self.listdir(path)  # type: ignore[attr-defined]
        except FileNotFoundError:
            return
        prefix = f"{path}/" if path else ""
        for name in files:
            yield prefix + name, False
        for name in directories:
            yield prefix + name, True
            yield from self._walk(prefix + name)

    def files(self, pattern: str = "**") -> list[str]:
        """Return the sorted names of the files matching the glob *pattern*."""
        regex = glob_regex(pattern)
        return sorted(name for name, is_dir in self._walk() if not is_dir and regex.match(name))

    def _shown(self, expected: str) -> str:
        lines = str(self.tree()).splitlines()  # type: ignore[attr-defined]
        if len(lines) > TREE_LINES:
            lines = [*lines[:TREE_LINES], f"… and {len(lines) - TREE_LINES} more lines"]
        return f"{expected}\nThe storage holds:\n" + "\n".join(lines)

    def assert_exists(self, *patterns: str) -> None:
        """Fail unless each of *patterns* matches a file or a directory."""
        names = [name for name, _is_dir in self._walk()]
        missing = [p for p in patterns if not any(glob_regex(p).match(n) for n in names)]
        if missing:
            raise AssertionError(
                self._shown(f"Expected to exist: {', '.join(map(repr, missing))}")
            )

    def assert_missing(self, *patterns: str) -> None:
        """Fail if any of *patterns* matches a file or a directory."""
        found = {
            pattern: [name for name, _is_dir in self._walk() if glob_regex(pattern).match(name)]
            for pattern in patterns
        }
        present = {pattern: names for pattern, names in found.items() if names}
        if present:
            listed = "; ".join(
                f"{p!r} matches {', '.join(map(repr, n))}" for p, n in present.items()
            )
            raise AssertionError(self._shown(f"Expected to be missing: {listed}"))

    def assert_count(self, expected: int, pattern: str = "**") -> None:
        """Fail unless exactly *expected* files match *pattern*."""
        actual = len(self.files(pattern))
        if actual != expected:
            raise AssertionError(
                self._shown(f"Expected {expected} files matching {pattern!r}, found {actual}")
            )

    def assert_content(self, name: str, expected: bytes | str) -> None:
        """Fail unless the file *name* holds *expected* (str: as UTF-8 text, with a diff)."""
        try:
            with self._quiet(), self.open(name, "rb") as handle:  # type: ignore[attr-defined]
                actual: bytes = handle.read()
        except OSError as exc:
            raise AssertionError(self._shown(f"Expected the file {name!r}: {exc}")) from None
        if isinstance(expected, str):
            text = actual.decode("utf-8", errors="replace")
            if text != expected:
                diff = difflib.unified_diff(
                    expected.splitlines(),
                    text.splitlines(),
                    fromfile=f"expected {name}",
                    tofile=f"stored {name}",
                    lineterm="",
                )
                raise AssertionError(
                    self._shown(f"{name!r} differs from the expected text:\n" + "\n".join(diff))
                )
        elif actual != expected:
            offset = next(
                (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
                min(len(actual), len(expected)),
            )
            raise AssertionError(
                self._shown(
                    f"{name!r} holds {len(actual)} bytes, expected {len(expected)}; they "
                    f"first differ at byte {offset}: stored {actual[offset : offset + 16]!r}, "
                    f"expected {expected[offset : offset + 16]!r}"
                )
            )

    def assert_empty(self, path: str = "") -> None:
        """Fail if any file is under the directory *path* (a missing one is empty)."""
        held = [name for name, is_dir in self._walk(path) if not is_dir]
        if held:
            where = repr(path) if path else "the storage"
            raise AssertionError(
                self._shown(f"Expected no files under {where}, found {len(held)}: {held[:10]!r}")
            )

    def assert_metadata(self, name: str, **expected: object) -> None:
        """Fail unless the metadata stored with *name* has each of *expected*'s keys and values."""
        try:
            stored: dict[str, object] = self.metadata(name)  # type: ignore[attr-defined]
        except OSError as exc:
            raise AssertionError(self._shown(f"Expected the file {name!r}: {exc}")) from None
        differences = [
            f"{key} is {stored[key]!r}, expected {value!r}"
            if key in stored
            else f"{key} is missing, expected {value!r}"
            for key, value in expected.items()
            if stored.get(key, _MISSING) != value
        ]
        if differences:
            raise AssertionError(
                f"The metadata of {name!r} differs: {'; '.join(differences)}.\nStored: {stored!r}"
            )

    def assert_image(
        self,
        name: str,
        size: tuple[int, int] | None = None,
        format: str | None = None,
        mode: str | None = None,
    ) -> None:
        """Fail unless *name* is an image that decodes, of *size*, *format* and *mode* if given."""
        problem = image_problem(self, name, size, format, mode)
        if problem is not None:
            raise AssertionError(self._shown(problem))


def assert_image(
    name: str,
    size: tuple[int, int] | None = None,
    format: str | None = None,
    mode: str | None = None,
    *,
    storage: Any = None,
) -> None:
    """Fail unless *name* in *storage* is an image of *size*, *format* and *mode* if given.

    *storage* is a storage, a ``STORAGES`` alias, or None for the default
    storage: any Django storage, so the same check runs against
    ``FileSystemStorage``. This package's storages show their files on failure.
    """
    from django.core.files.storage import storages

    if storage is None or isinstance(storage, str):
        storage = storages[storage or "default"]  # what default_storage stands for
    if isinstance(storage, StorageAssertions):
        storage.assert_image(name, size, format, mode)
        return
    problem = image_problem(storage, name, size, format, mode)
    if problem is not None:
        raise AssertionError(problem)


def image_problem(
    storage: Any,
    name: str,
    size: tuple[int, int] | None,
    format: str | None,
    mode: str | None,
) -> str | None:
    """Return what is wrong with the image *name* of *storage*, or None if nothing is."""
    expected_size = _expected_size(size)
    expected_format = None if format is None else _format_name(format)
    image_module = import_pillow("assert_image()")
    try:
        with storage.open(name, "rb") as handle:
            data: bytes = handle.read()
    except OSError as exc:
        return f"Expected the image {name!r}: {exc}"
    try:
        image = image_module.open(BytesIO(data))
    except Exception as exc:  # Pillow raises more than OSError for a bad header
        # Its usual message names only the BytesIO object: say what was read instead.
        reason = (
            "Pillow recognizes no image format in"
            if isinstance(exc, image_module.UnidentifiedImageError)
            else f"Pillow cannot read it ({exc}):"
        )
        return f"{name!r} is not an image: {reason} its {len(data)} bytes, {data[:16]!r}…"
    found = f"{image.width}x{image.height} {image.format} {image.mode}"
    try:
        image.load()  # the header alone passes a file cut short
    except Exception as exc:
        return f"{name!r} is a {found} image that does not decode: {exc}"
    if (
        (expected_size is None or image.size == expected_size)
        and (expected_format is None or image.format == expected_format)
        and (mode is None or image.mode == mode)
    ):
        return None
    wanted = [
        f"{expected_size[0]}x{expected_size[1]}" if expected_size is not None else None,
        expected_format,
        mode,
    ]
    return f"{name!r} is {found}, expected {' '.join(part for part in wanted if part)}"


def _expected_size(size: Any) -> tuple[int, int] | None:
    """Return an expected *size* as a (width, height) tuple, refusing anything else."""
    if size is None:
        return None
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(side, int) and not isinstance(side, bool) for side in size)
    ):
        return size[0], size[1]
    raise TypeError(f"assert_image() takes size=(width, height) in pixels, not {size!r}.")


def _format_name(format: str) -> str:
    """Return Pillow's name of an image *format*: upper case, JPG as JPEG."""
    upper = str(format).upper()
    return "JPEG" if upper == "JPG" else upper


_MISSING = object()
