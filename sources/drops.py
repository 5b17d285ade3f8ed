"""File drops: which snapshot folder of a drop location a run reads, and whether it is complete.

A configured path is one snapshot folder, or a folder of snapshot folders named so that they
sort by time (``20261122T060000Z``); the greatest name is the newest.

A drop is read only when complete. With a ready marker configured (``ready_marker``, default
``manifest.json``, as SFTP/S3 drop conventions have it) a folder counts once the marker exists;
the producer writes it last. A marker that is JSON names every file of the drop with its size,
row count and sha256::

    {"files": {"prices.csv": {"rows": 3850, "bytes": 212345, "sha256": "9f2c..."}, ...}}

and the folder must match it exactly (no file missing, changed or unlisted); any other marker
(an empty ``_SUCCESS``) only says "complete". Without a marker (``ready_marker: null``) a folder
counts once it holds its side's main file (``products.*`` for the PIM, ``prices.*`` for the
ERP), which cannot tell a complete drop from one still being copied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sources.text_files import InputFileError

Side = Literal["pim", "erp"]
MARKERS: dict[Side, str] = {"pim": "products", "erp": "prices"}
DATA_SUFFIXES = (".jsonl", ".csv", ".parquet")


class DropError(InputFileError):
    """A drop location has no complete snapshot, or a drop does not match its ready marker;
    the message names the path and what is wrong."""


@dataclass(frozen=True)
class MarkedFile:
    rows: int | None
    bytes: int | None
    sha256: str


def is_complete(folder: Path, side: Side, ready_marker: str | None) -> bool:
    if ready_marker is not None:
        return (folder / ready_marker).is_file()
    return any(folder.glob(f"{MARKERS[side]}.*"))


def newest_drop(root: Path, side: Side, ready_marker: str | None = None) -> Path:
    """``root`` itself when it is a complete snapshot, else its newest complete sub-folder
    (a newer folder still being written is skipped until its marker appears)."""
    if not root.is_dir():
        msg = f"{side.upper()} file drop {root}: no such folder"
        raise DropError(msg)
    if is_complete(root, side, ready_marker):
        return root
    candidates = sorted(p for p in root.glob("*/") if is_complete(p, side, ready_marker))
    if not candidates:
        wanted = ready_marker or f"{MARKERS[side]}.* file"
        msg = f"{side.upper()} file drop {root}: no complete snapshot folder (with a {wanted})"
        raise DropError(msg)
    return candidates[-1]


def read_marker(folder: Path, ready_marker: str | None) -> dict[str, MarkedFile] | None:
    """The files a JSON ready marker lists, or None (no marker, or a presence-only one)."""
    if ready_marker is None:
        return None
    path = folder / ready_marker
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("{"):
        return None
    try:
        entries = json.loads(text)["files"]
        return {
            name: MarkedFile(entry.get("rows"), entry.get("bytes"), str(entry["sha256"]))
            for name, entry in entries.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        msg = f"{path}: not a ready marker ({type(error).__name__}: {error}); expected "
        msg += '{"files": {"<name>": {"rows": N, "sha256": "..."}}}'
        raise DropError(msg) from None


def verify_drop(folder: Path, ready_marker: str | None) -> dict[str, int] | None:
    """Check the drop against its JSON ready marker; return the rows it announces per file."""
    listed = read_marker(folder, ready_marker)
    if listed is None or ready_marker is None:
        return None
    present = {p.name for p in folder.iterdir() if p.is_file() and p.suffix in DATA_SUFFIXES}
    unlisted = sorted(present - set(listed))
    if unlisted:
        msg = f"{folder}: {', '.join(unlisted)} not listed in the ready marker {ready_marker}"
        raise DropError(msg)
    for name, marked in listed.items():
        _verify_file(folder / name, marked, ready_marker)
    return {name: m.rows for name, m in listed.items() if m.rows is not None}


def _verify_file(path: Path, marked: MarkedFile, ready_marker: str) -> None:
    if not path.is_file():
        msg = f"{path}: listed in the ready marker {ready_marker} but missing"
        raise DropError(msg)
    size = path.stat().st_size
    if marked.bytes is not None and size != marked.bytes:
        msg = f"{path}: {size} bytes, the ready marker says {marked.bytes} (incomplete copy?)"
        raise DropError(msg)
    digest = _sha256(path)
    if digest != marked.sha256:
        msg = f"{path}: sha256 {digest} does not match the ready marker's {marked.sha256}"
        raise DropError(msg)


def announced_rows(folder: Path, ready_marker: str | None) -> dict[str, int] | None:
    """Rows per file a JSON ready marker announces (without re-hashing the files)."""
    listed = read_marker(folder, ready_marker)
    if listed is None:
        return None
    return {name: m.rows for name, m in listed.items() if m.rows is not None}


def check_rows(folder: Path, announced: Mapping[str, int] | None, read: Mapping[str, int]) -> None:
    """Every file read has the row count its ready marker announced."""
    for name, rows in (announced or {}).items():
        if name in read and read[name] != rows:
            msg = f"{folder / name}: {read[name]} rows read, the ready marker says {rows}"
            raise DropError(msg)


def write_marker(folder: Path, rows: Mapping[str, int], name: str = "manifest.json") -> Path:
    """Write a JSON ready marker for the data files of ``folder`` (producers call this last)."""
    files: dict[str, dict[str, object]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in DATA_SUFFIXES):
        files[path.name] = {
            "rows": rows.get(path.name),
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
    target = folder / name
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps({"files": files}, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()
