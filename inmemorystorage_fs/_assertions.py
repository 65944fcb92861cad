"""Assertions on a storage's files, with messages that show what the storage holds."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

__all__ = ["StorageAssertions", "glob_regex"]

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
