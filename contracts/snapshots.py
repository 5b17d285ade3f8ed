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
from dataclasses import asdict, dataclass, field

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


BASELINE = "baseline.parquet"
"""In every snapshot: sku and list prices of what it published, the next run's breaker baseline."""


@dataclass(frozen=True)
class FeedFile:
    """One file of a channel's feed (``path`` relative to the snapshot folder), or with
    ``kind="table"`` one SQL table loaded for the snapshot (``path`` is the table name), or with
    ``kind="baseline"`` the snapshot's breaker baseline (channel ``*``), or with
    ``kind="delta"`` a channel's changes since ``Manifest.delta_of`` (items added, changed and
    removed, in the channel's delta format), or with ``kind="serving"`` data the feed service
    loads (the price channel's customers, products and tiers for the price API, under
    ``_prices/``; channel: the price channel), or with ``kind="rows"`` the channel's
    mapped rows as Parquet (``sku`` + target fields: what a preview or a delta compares with)."""

    channel: str
    path: str
    rows: int
    kind: str = "file"
    sha256: str = ""
    bytes: int = 0


@dataclass(frozen=True)
class Manifest:
    """``channels``: products published per channel (what the drop breaker compares);
    ``delta_of``: the snapshot the ``kind="delta"`` files apply to (None: no deltas);
    ``delta_notes``: per channel, how its delta travels or why it has none (full feed only)."""

    snapshot_id: str
    as_of: str
    created_at: str
    sources: dict[str, str]
    files: list[FeedFile]
    channels: dict[str, int] = field(default_factory=dict)
    delta_of: str | None = None
    delta_notes: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a manifest; a malformed one raises ``SnapshotError`` naming what is wrong."""
        try:
            data = json.loads(text)
            data["files"] = [FeedFile(**f) for f in data["files"]]
            return cls(**data)
        except (ValueError, TypeError, KeyError) as error:
            msg = f"unreadable manifest: {type(error).__name__}: {error}"
            raise SnapshotError(msg) from None

    def channel_files(self, channel: str) -> list[FeedFile]:
        return [f for f in self.files if f.channel == channel]

    def rows(self, channel: str) -> FeedFile | None:
        return next((f for f in self.files if f.kind == "rows" and f.channel == channel), None)

    def deltas(self, channel: str) -> list[FeedFile]:
        return [f for f in self.files if f.kind == "delta" and f.channel == channel]

    def baseline(self) -> FeedFile | None:
        return next((f for f in self.files if f.kind == "baseline"), None)
