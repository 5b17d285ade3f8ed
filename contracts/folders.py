"""Folders that appear whole or not at all, and symlinks that switch target in one step.

A snapshot, a store generation or a feed folder must never be seen half written, and a crash
must never leave a link pointing at nothing or at something incomplete. Both rest on rename(2),
which is atomic within one file system: temporary names are hidden siblings of their targets
(``.<name>.<random>.partial`` for folders, ``.<name>.<random>.link`` for links), so they live on
the same file system and whoever cleans up leftovers of a crashed writer can recognise them.
Contents are fsync'd before a rename and the parent folder after it, so after a power cut the
new name exists only with its complete contents. POSIX only (symlinks, directory fsync).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL = "partial"
LINK = "link"


def hidden_sibling(path: Path, kind: str) -> Path:
    """A fresh hidden name beside ``path``: ``.<name>.<random>.<kind>`` (one leading dot, even
    when ``path`` is hidden itself, so ``.<name>.*`` matches the leftovers of either)."""
    return path.parent / f".{path.name.removeprefix('.')}.{uuid.uuid4().hex[:12]}.{kind}"


@contextmanager
def new_folder(target: Path) -> Iterator[Path]:
    """Yield an empty hidden folder to fill; when the block ends it becomes ``target``.

    If the block raises (or the rename fails) the folder is removed and ``target`` never
    appears. An existing ``target`` is refused up front, never replaced.
    """
    _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = hidden_sibling(target, PARTIAL)
    temp.mkdir()
    try:
        yield temp
        move_folder(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def move_folder(source: Path, target: Path) -> Path:
    """Rename a completely written folder to ``target`` (same file system), durably.

    Everything under ``source`` is fsync'd first and the parent folder(s) after the rename. An
    existing ``target`` is refused: rename(2) would silently replace an empty folder.
    """
    _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sync_tree(source)
    source.rename(target)
    sync_folder(target.parent)
    if source.parent != target.parent:
        sync_folder(source.parent)
    return target


def point_link(link: Path, target: Path | str) -> None:
    """Make ``link`` a symlink to ``target`` (a folder, or a file: a DuckDB portal's snapshot)
    with one rename over the old link.

    Readers resolve either the old or the new target, never a missing link. ``target`` is
    stored as given (relative targets resolve from ``link``'s folder). ``link`` may be absent
    or a symlink; a real folder in its place is an error (rename cannot replace it).
    """
    temp = hidden_sibling(link, LINK)
    temp.symlink_to(target, target_is_directory=True)
    try:
        os.replace(temp, link)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(link.parent)


def sync_tree(folder: Path) -> None:
    """fsync every regular file and folder under ``folder`` (symlinks are not followed)."""
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                _sync(path, os.O_RDONLY)
        sync_folder(Path(parent))


def sync_folder(folder: Path) -> None:
    """fsync a folder: its entries (a rename into it) survive a power cut."""
    _sync(str(folder), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def sync_file(path: Path) -> None:
    """fsync a file's contents."""
    _sync(str(path), os.O_RDONLY)


def _sync(path: str, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _refuse_existing(target: Path) -> None:
    if target.exists() or target.is_symlink():
        msg = f"{target} already exists; refusing to replace it"
        raise FileExistsError(msg)
