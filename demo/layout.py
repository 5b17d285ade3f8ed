"""Where the demo files go: snapshot folders that readers can trust while the generator runs.

Every call writes a new pair ``<target>/pim/<id>/`` and ``<target>/erp/<id>/`` and never touches
a folder a reader may be reading: both are written inside a hidden folder ``<target>/.<id>.partial``
(outside ``pim/`` and ``erp/``, so a file-drop reader never sees it) and then renamed into place,
ERP first, so a reader that pins the PIM export first (``source_snapshots``) and sees the new one
also sees the new ERP snapshot. The id (``<as_of:%Y%m%d>T060000Z-<created:%Y%m%dT%H%M%S%fZ>``)
sorts by as-of date, then by creation time, and the pipeline reads the greatest name
(``sources.drops.newest_drop``): the newest complete pair.

Older snapshot folders of the generator are deleted, except the newest one before this call (a
run may still be reading it).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Literal

Side = Literal["pim", "erp"]
SIDES: tuple[Side, ...] = ("erp", "pim")  # the order the folders appear in
PIM_FILES = (
    "products", "product_models", "attributes", "attribute_options", "families",
    "family_variants", "channels", "categories",
)  # fmt: skip
"""Every entity of Akeneo's catalog model the reader knows (``sources.akeneo_files``)."""
ERP_FILES = ("prices", "stock", "supply")
SNAPSHOT_NAME = re.compile(r"\d{8}T060000Z(-\d{8}T\d{12}Z)?")
"""The folder names this generator writes (also the suffix-less ones of earlier versions)."""


def new_snapshot_id(as_of: dt.date, created: dt.datetime) -> str:
    """The folder name of one call's PIM export and ERP snapshot; unique per call."""
    return f"{as_of:%Y%m%d}T060000Z-{created.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}"


def staging_folder(target: Path, snapshot: str) -> Path:
    """The hidden folder a call writes ``pim/`` and ``erp/`` into before they are published."""
    return target / f".{snapshot}.partial"


def publish(staging: Path, target: Path, snapshot: str) -> dict[Side, Path]:
    """Rename the staged ``pim/`` and ``erp/`` to ``<target>/<side>/<snapshot>``; each rename is
    atomic, so a reader sees a snapshot folder complete or not at all."""
    published: dict[Side, Path] = {}
    for side in SIDES:
        folder = target / side / snapshot
        folder.parent.mkdir(parents=True, exist_ok=True)
        (staging / side).rename(folder)
        published[side] = folder
    return published


def prune(folder: Path, written: str) -> list[Path]:
    """Delete the generator's snapshot folders in ``folder`` but ``written`` and the newest other
    one; returns the deleted folders."""
    names = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and SNAPSHOT_NAME.fullmatch(p.name) and p.name != written
    )
    doomed = [folder / name for name in names[:-1]]
    for path in doomed:
        shutil.rmtree(path)
    return doomed
