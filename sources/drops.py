"""File drops: which snapshot folder of a drop location a run reads.

A configured path is one snapshot folder, or a folder of snapshot folders named so that they
sort by time (``20261122T060000Z``); the greatest name is the newest. A folder is a snapshot
when it holds its side's marker file (``products.*`` for the PIM, ``prices.*`` for the ERP), so
a folder still being created without it is not read yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Side = Literal["pim", "erp"]
MARKERS: dict[Side, str] = {"pim": "products", "erp": "prices"}


class DropError(FileNotFoundError):
    """A drop location has no snapshot to read; the message names the path and what is missing."""


def newest_drop(root: Path, side: Side) -> Path:
    """``root`` itself when it is a snapshot, else its newest snapshot sub-folder."""
    marker = MARKERS[side]
    if not root.is_dir():
        msg = f"{side.upper()} file drop {root}: no such folder"
        raise DropError(msg)
    if any(root.glob(f"{marker}.*")):
        return root
    candidates = sorted(p for p in root.glob("*/") if any(p.glob(f"{marker}.*")))
    if not candidates:
        msg = f"{side.upper()} file drop {root}: no snapshot folder with a {marker}.* file"
        raise DropError(msg)
    return candidates[-1]
