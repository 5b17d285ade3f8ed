"""Snapshot ids and the manifest: what a published snapshot is, for every layer that reads one.

A snapshot id is sortable and unique: the run's UTC creation time plus the first 8 hex digits of
its run id (``20261122T195600Z-ab12cd34``). The manifest (``manifest.json`` in the snapshot's
folder) names the as-of date, the source snapshots read and every file or table of every channel
with its row count; files also with their sha256 and size.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass

SNAPSHOT_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
MANIFEST = "manifest.json"


class SnapshotError(RuntimeError):
    """A snapshot cannot be staged or published; the live snapshot is untouched."""


def new_snapshot_id(created: dt.datetime, run_id: str) -> str:
    """Sortable, unique id: UTC creation time plus the first 8 hex digits of the run id."""
    stamp = created.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{run_id.replace('-', '')[:8]}"


def check_snapshot_id(snapshot_id: str) -> str:
    if not SNAPSHOT_ID.fullmatch(snapshot_id):
        msg = f"invalid snapshot id {snapshot_id!r} (expected like 20261122T195600Z-ab12cd34)"
        raise SnapshotError(msg)
    return snapshot_id


@dataclass(frozen=True)
class FeedFile:
    """One file of a channel's feed (``path`` relative to the snapshot folder), or with
    ``kind="table"`` one SQL table loaded for the snapshot (``path`` is the table name)."""

    channel: str
    path: str
    rows: int
    kind: str = "file"
    sha256: str = ""
    bytes: int = 0


@dataclass(frozen=True)
class Manifest:
    snapshot_id: str
    as_of: str
    created_at: str
    sources: dict[str, str]
    files: list[FeedFile]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = [FeedFile(**f) for f in data["files"]]
        return cls(**data)
