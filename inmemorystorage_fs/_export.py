"""Looking at a storage's files: ``export()`` to a folder, FS URL or FS, and ``tree()``."""

from __future__ import annotations

import errno
import os
from typing import Any

from django.core.exceptions import SuspiciousFileOperation

from ._fs import FS, MemoryFS, copy_fs
from ._names import normalize_name
from ._snapshot import restore_snapshot, take_snapshot
from ._tree import Tree, open_folder, open_url, translate

__all__ = ["draw", "export", "load"]


def export(tree: Tree, dest: str | os.PathLike[str] | FS, preserve_time: bool) -> str | FS:
    """Copy every file and directory of *tree* to *dest* and return where they went.

    A folder path (anything without ``://``) is opened as a folder, never read
    as an FS URL, created if missing and returned absolute: ``/tmp/out@sub``
    is a folder named ``out@sub``. An FS URL is opened, filled and closed (so a
    ``zip://`` archive is complete) and returned as given, except ``mem://``,
    whose filesystem closing would discard, so it is returned open. An FS
    object is filled and returned.
    """
    if isinstance(dest, FS):
        _copy(tree, dest, preserve_time, repr(dest))
        return dest
    target = os.fspath(dest)
    if "://" not in target:
        target = os.path.abspath(target)
        os.makedirs(target, exist_ok=True)
        with open_folder(target) as folder:
            _copy(tree, folder, preserve_time, target)
        return target
    dest_fs = open_url(target, writeable=True, create=True)
    if isinstance(dest_fs, MemoryFS):
        _copy(tree, dest_fs, preserve_time, target)
        return dest_fs
    with dest_fs:
        _copy(tree, dest_fs, preserve_time, target)
    return target


def _copy(tree: Tree, dest_fs: FS, preserve_time: bool, shown: str) -> None:
    """Copy the files, then the directory times that copying moved, to *dest_fs*."""
    if tree.root and not tree.fs.isdir(tree.root):
        return  # the root of an emptied shared filesystem: nothing to copy
    source = tree.view()
    with translate(shown):
        copy_fs(source, dest_fs, preserve_time=preserve_time)
        if preserve_time:
            for path in source.walk.dirs():
                modified = source.getinfo(path, namespaces=("details",)).modified
                if modified is not None:
                    dest_fs.setinfo(path, {"details": {"modified": modified.timestamp()}})


def load(tree: Tree, source: str | os.PathLike[str] | FS, prefix: str) -> int:
    """Copy every file and directory of *source* into *tree* under *prefix*; return the files.

    A folder path (anything without ``://``) is a folder, as in ``export()``.
    Every name is checked before anything is written, and if writing fails the
    tree is restored as it was, so a load happens whole or not at all.
    """
    source_fs, shown = _open_source(source)
    try:
        with translate(shown):
            paths = [(path, True) for path in source_fs.walk.dirs("/")]
            paths += [(path, False) for path in source_fs.walk.files("/")]
        entries = []
        for path, is_dir in paths:
            name = f"{prefix}/{path.lstrip('/')}" if prefix else path.lstrip("/")
            normal = normalize_name(name)
            if prefix and not (normal == prefix or normal.startswith(prefix + "/")):
                raise SuspiciousFileOperation(f"{path!r} of {shown!r} would leave {prefix!r}.")
            entries.append((path, normal, is_dir))
        before = take_snapshot(tree.view())
        try:
            for path, name, is_dir in sorted(entries, key=lambda entry: not entry[2]):
                with translate(shown):
                    if is_dir:
                        tree.make_directory(name)
                    else:
                        tree.write_whole(name, source_fs.readbytes(path))
            for path, name, _is_dir in entries:  # after the files, which move directory times
                with translate(shown):
                    info = source_fs.getinfo(path, namespaces=("details",))
                # A zip's implied directories have no details, so no time to keep.
                details: dict[str, Any] = dict(info.raw.get("details") or {})
                if details.get("modified") is not None:
                    tree.set_modified(name, float(details["modified"]))
        except BaseException:
            restore_snapshot(tree.view(), before)
            raise
        return sum(1 for _path, _name, is_dir in entries if not is_dir)
    finally:
        if not isinstance(source, FS):
            source_fs.close()


def _open_source(source: str | os.PathLike[str] | FS) -> tuple[FS, str]:
    """Return the filesystem *source* names, and how to name it in errors."""
    if isinstance(source, FS):
        return source, repr(source)
    shown = os.fspath(source)
    if "://" in shown:
        try:
            return open_url(shown), shown
        except OSError as exc:
            raise FileNotFoundError(errno.ENOENT, f"cannot open it: {exc}", shown) from None
    if not os.path.isdir(shown):
        raise FileNotFoundError(errno.ENOENT, "no such folder", shown)
    return open_folder(os.path.abspath(shown)), shown


def draw(tree: Tree) -> str:
    """Return the directories and files of *tree*, with their sizes, drawn as a tree."""
    lines: list[str] = []
    _draw_lines(tree, "", "", lines)
    return "\n".join(lines) if lines else "(empty)"


def _draw_lines(tree: Tree, path: str, indent: str, lines: list[str]) -> None:
    """Append the lines of directory *path*, each prefixed by *indent*."""
    directories, files = tree.listdir(path)
    entries = [(name, True) for name in directories] + [(name, False) for name in files]
    for index, (name, is_dir) in enumerate(entries):
        last = index == len(entries) - 1
        full = f"{path}/{name}" if path else name
        branch = "└── " if last else "├── "
        if is_dir:
            lines.append(f"{indent}{branch}{name}/")
            _draw_lines(tree, full, indent + ("    " if last else "│   "), lines)
        else:
            size = tree.size(full)
            lines.append(f"{indent}{branch}{name}  ({size:,} byte{'' if size == 1 else 's'})")
