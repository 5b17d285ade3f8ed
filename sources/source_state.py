"""A source step's results kept across runs, per source state: a run whose PIM export (or ERP
snapshot) did not change reads them instead of reading and parsing the files again.

The PIM changes far less often than prices and stock: most daily runs read the same export
(the same folder, or a new drop with the same contents) with a new ERP snapshot, and a run after
a PIM change reads the ERP snapshot of the run before. Reading and flattening a 1M-product
export takes tens of seconds, typing a 1M-product ERP snapshot several; reading their results
back from Parquet, a second or two. A state is looked up by a key (``state_key``) that covers
everything the results depend on:

- every file of the snapshot folder, by content (SHA-1 of the bytes, not names or times: a new
  drop with the same contents is the same state, a file rewritten in place is not; a file
  drop's ready marker already gives each data file's SHA-256, verified when the run pinned
  the drop, so those files are not read a second time);
- the settings the step reads them with (for the PIM: what the channels need of it and the
  scopes; for the ERP: the channels that take their customers from it);
- the code that reads them (the source of the packages named) and the polars version, so a
  new Prism release never reads an older one's state.

Any difference is a miss and the step computes as before, then stores its results. A damaged
or half-written state is a miss too: states are written to a hidden folder and renamed into
place whole (``contracts.folders``). Only the newest ``KEPT`` states of a cache folder stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import polars as pl

from contracts.folders import PARTIAL, new_folder

KEPT = 2
"""States a cache folder keeps (the newest): the current snapshot's and the one before."""
FRAMES = "frames"
ROWS_READ = "rows_read.json"
STALE_SECONDS = 6 * 3600
"""A hidden partial state older than this is a killed writer's leftover."""


@dataclass(frozen=True)
class SourceState:
    """A source step's results: its outputs by name and the records read per file (for the
    drop's announced-rows check)."""

    frames: dict[str, pl.DataFrame]
    rows_read: dict[str, int]


def state_key(
    folder: Path,
    settings: Mapping[str, object],
    code: Iterable[ModuleType],
    verified: Mapping[str, str] | None = None,
) -> str:
    """The key of the state of ``folder`` read with ``settings`` (JSON-able) by the code of the
    packages ``code`` (see the module docstring).

    ``verified``: the SHA-256 of files the run has already checked against them (a file drop's
    ready marker, verified when the run pinned the drop), by file name; those files are not
    read again (a 1M-product export is 1.5 GB: a second or two per pass)."""
    digest = hashlib.sha1(usedforsecurity=False)
    described = {"settings": settings, "polars": pl.__version__, "code": code_digest(code)}
    digest.update(json.dumps(described, sort_keys=True, default=_sorted).encode())
    known = verified or {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        content = f"sha256:{known[path.name]}" if path.name in known else file_digest(path)
        digest.update(f"\0{path.name}\0{content}".encode())
    return digest.hexdigest()


def _sorted(value: object) -> object:
    """Sets in a key's settings, in a stable order."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    msg = f"{type(value).__name__} cannot be part of a state key"
    raise TypeError(msg)


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.sha1(usedforsecurity=False)).hexdigest()


def code_digest(packages: Iterable[ModuleType]) -> str:
    """A digest of every Python source file of ``packages`` (their paths and bytes)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for package in packages:
        root = Path(str(package.__file__)).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(f"\0{path.relative_to(root.parent).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_state(cache: Path, key: str) -> SourceState | None:
    """The state stored under ``key``, or None (never stored, or unreadable: computed again)."""
    folder = cache / key
    if not folder.is_dir():
        return None
    with contextlib.suppress(OSError, ValueError, pl.exceptions.PolarsError):
        rows_read = json.loads((folder / ROWS_READ).read_text(encoding="utf-8"))
        frames = {
            path.stem: pl.read_parquet(path) for path in sorted((folder / FRAMES).glob("*.parquet"))
        }
        folder.touch()  # the newest use keeps it among the KEPT
        return SourceState(frames, {str(k): int(v) for k, v in rows_read.items()})
    return None


def save_state(
    cache: Path, key: str, frames: Mapping[str, pl.DataFrame], rows_read: Mapping[str, int]
) -> None:
    """Store a state under ``key`` whole (or not at all) and drop all but the ``KEPT`` newest.

    A state already there (unreadable, since the run computed instead) is replaced; when two
    runs store one key at once, the first rename wins and the other's copy is discarded (both
    hold the same results)."""
    target = cache / key
    shutil.rmtree(target, ignore_errors=True)
    with contextlib.suppress(FileExistsError), new_folder(target) as folder:
        (folder / FRAMES).mkdir()
        for name, frame in frames.items():
            # lz4: the fastest to read back, which is what a hit waits for
            path = folder / FRAMES / f"{name}.parquet"
            frame.write_parquet(path, compression="lz4", statistics=False)
        (folder / ROWS_READ).write_text(json.dumps(dict(rows_read)), encoding="utf-8")
    prune_states(cache, KEPT)


def prune_states(cache: Path, kept: int) -> None:
    """Keep the ``kept`` newest states (folders) of ``cache``; remove what killed writers
    left (hidden partial folders older than ``STALE_SECONDS``: a live writer's is younger)."""
    now = time.time()
    states = []
    for path in cache.iterdir():
        if path.name.endswith(f".{PARTIAL}"):
            if now - path.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        elif path.is_dir():
            states.append(path)
    states.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[kept:]:
        shutil.rmtree(old, ignore_errors=True)
