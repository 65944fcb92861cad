"""Files on a real disk appear whole: written unnamed, then linked under their name.

``FileSystemStorage`` writes a new file in place, so a listing taken meanwhile
shows it half written. Here the bytes go to a file with no name yet
(``O_TMPFILE``, Linux), which is then linked under its name: ``link()``
fails if the name is taken, so creation stays exclusive, and a file is listed
only once it holds every byte. Where ``O_TMPFILE`` is missing or its files
cannot be linked (other systems, some sandboxes and overlay filesystems), the
bytes go to a hidden part (``PART_NAME``) that trees leave out of listings,
which is then linked under the name the same way, and removed.

``create_whole()`` and ``replace_whole()`` are a tree's writes on a real disk:
errors raised there name the storage name, as the tree's other errors do.
"""

from __future__ import annotations

import errno
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._errors import NameTaken, is_a_directory, name_taken

if TYPE_CHECKING:
    from ._tree import Staged, Tree

__all__ = ["PART_NAME", "Unnamed", "create_whole", "replace_whole"]

#: The hidden sibling a partial file is written to where O_TMPFILE is missing.
PART_NAME = re.compile(r"\..+\.[0-9a-f]{32}\.part")
# New files get what open() gives them: 0o666 less the umask (the kernel applies it).
_FILE_MODE = 0o666
# What link() of an unnamed file says where the filesystem cannot (overlayfs
# gives EXDEV): the bytes then move to a hidden part, once per device.
_CANNOT_LINK = {errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL}
_COPY_CHUNK = 1024 * 1024  # moving a file to its part: 1 MiB reads, few and small
# An unnamed file is linked through its /proc entry (linkat's AT_EMPTY_PATH
# needs a privilege); without /proc it cannot be linked at all.
_PROC_FDS = "/proc/self/fd"
# Devices whose unnamed files could not be linked: straight to a part there.
_parts_only: set[int] = set()


class Unnamed:
    """A file being written in *directory*, with no name until ``link()`` or ``replace()``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.part: str | None = None
        self.device = os.stat(directory).st_dev
        try:
            if self.device in _parts_only or not os.path.isdir(_PROC_FDS):
                raise OSError(errno.EOPNOTSUPP, "unnamed files cannot be linked here")
            # Read-write: should linking fail, the bytes are read back into a part.
            self.fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, _FILE_MODE)
        except (AttributeError, OSError):  # no O_TMPFILE: another OS, or filesystem
            self.fd = self._new_part()

    def _new_part(self) -> int:
        self.part = os.path.join(self.directory, f".new.{uuid.uuid4().hex}.part")
        return os.open(self.part, os.O_CREAT | os.O_EXCL | os.O_RDWR, _FILE_MODE)

    def _move_to_part(self) -> None:
        """Copy the unnamed file to a hidden part, and write there from now on."""
        _parts_only.add(self.device)
        unnamed, self.fd = self.fd, self._new_part()
        try:
            self.write(_read_all(unnamed))
        finally:
            os.close(unnamed)

    def contents(self) -> Iterable[bytes]:
        """Return the bytes written so far, as chunks."""
        return list(_read_all(self.fd))

    def write(self, chunks: Iterable[bytes]) -> None:
        """Write *chunks*."""
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(self.fd, view) :]

    def _source(self) -> str:
        return self.part or f"{_PROC_FDS}/{self.fd}"

    def link(self, target: str) -> None:
        """Give the file the name *target*; ``FileExistsError`` if it is taken."""
        try:
            os.link(self._source(), target)
        except OSError as exc:
            if self.part is not None or exc.errno not in _CANNOT_LINK:
                raise
            self._move_to_part()
            os.link(self._source(), target)

    def replace(self, target: str) -> None:
        """Put the file at *target* in one step, replacing what is there."""
        if self.part is not None and os.path.dirname(target) == self.directory:
            os.replace(self.part, target)
            self.part = None
            return
        # A name is needed to rename from; it is whole already, and hidden.
        sibling = os.path.join(
            os.path.dirname(target), f".{os.path.basename(target)}.{uuid.uuid4().hex}.part"
        )
        self.link(sibling)
        try:
            os.replace(sibling, target)
        except BaseException:
            os.remove(sibling)
            raise

    def close(self) -> None:
        """Close the file; an unnamed one is gone, a hidden part is removed."""
        os.close(self.fd)
        if self.part is not None:
            try:
                os.remove(self.part)
            except FileNotFoundError:
                pass


def _read_all(fd: int) -> Iterable[bytes]:
    """Yield the bytes of the file *fd* from its start."""
    offset = 0
    while chunk := os.pread(fd, _COPY_CHUNK, offset):
        offset += len(chunk)
        yield chunk


def create_whole(tree: Tree, name: str, target: str, staged: Staged, retries: int) -> None:
    """Write *staged* unnamed, then link it as *name* at *target*: it is listed only whole.

    Raise ``NameTaken`` if the name is taken, with *staged* ready to be read
    again; make the parents again up to *retries* times if a delete takes them.
    """
    root = tree.disk_path("")
    assert root is not None  # a filesystem with a path for a file has one for its root
    with _naming(name):
        # Written at the root, which a concurrent delete leaves in place.
        unnamed = Unnamed(root)
        try:
            unnamed.write(staged.data())
            for attempt in range(retries):
                _parents(tree, name, target)
                try:
                    unnamed.link(target)
                    break
                except FileExistsError:
                    # The caller may try another name, or replace: with these bytes.
                    staged.chunks = iter(unnamed.contents())
                    raise name_taken(name) from None
                except FileNotFoundError:
                    if attempt == retries - 1:
                        raise  # something keeps deleting the parents
        finally:
            unnamed.close()
            tree.changes.note()


def replace_whole(tree: Tree, name: str, target: str, data: bytes) -> None:
    """Make *data* the content of *name* at *target* in one step."""
    if os.path.isdir(target):
        raise is_a_directory(name)
    with _naming(name):
        unnamed = Unnamed(_parents(tree, name, target))
        try:
            unnamed.write((data,))
            unnamed.replace(target)
        finally:
            unnamed.close()


def _parents(tree: Tree, name: str, target: str) -> str:
    """Return the directory of *target*, created (with those above) if missing."""
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        with tree.errors(name):
            tree.make_parents(name)
    return directory


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Make an OS error raised in the block name the storage name *name*."""
    try:
        yield
    except NameTaken:
        raise
    except OSError as exc:
        if exc.filename == name or exc.errno is None:
            raise
        raise type(exc)(exc.errno, exc.strerror, name) from None
