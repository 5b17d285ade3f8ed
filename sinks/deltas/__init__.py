"""Delta feeds: per channel, the items added, changed and removed since the snapshot a publish
replaces, in the channel's delta format, staged next to the full feed.

A consumer ends in the same state taking the delta (applied to the previous snapshot's full
feed, see each module's ``apply_delta``) or the new full feed. Channels whose format has no
delta format get none; ``Manifest.delta_notes`` says why (and how the marketplace's removals
travel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from contracts.snapshots import FeedFile, Manifest
from sinks.deltas import delimited, google_merchant, jsonlines, portal
from sinks.deltas.delimited import DelimitedDeltaError
from sinks.deltas.jsonlines import JsonLinesDeltaError

FULL_ONLY = {
    "bmecat": "full catalog only: one BMEcat per customer, each priced for that customer; a "
    "T_UPDATE_PRODUCTS / T_UPDATE_PRICES transaction is not offered yet",
}
MARKETPLACE_NOTE = (
    "supplemental.xml overrides price/availability of existing items; delta_items.xml holds "
    "items added or otherwise changed, delta_removed.txt the ids removed (a supplemental feed "
    "cannot add or remove products: use the Merchant API, or the full feed)"
)


@dataclass(frozen=True)
class Deltas:
    files: list[FeedFile]
    notes: dict[str, str]


def write_deltas(
    previous: Manifest,
    previous_dir: Path,
    new: Manifest,
    new_dir: Path,
    formats: Mapping[str, str],
    portals: Mapping[str, str],
) -> Deltas:
    """Each channel's delta from ``previous`` (sealed in ``previous_dir``; on a portal its
    tables) to ``new`` (staged in ``new_dir``, its portal tables loaded); ``formats``: channel
    -> format name, ``portals``: SQL channel -> database URL."""
    files: list[FeedFile] = []
    notes: dict[str, str] = {}
    for channel, name in formats.items():
        old, fresh = _full_files(previous, channel), _full_files(new, channel)
        if name in FULL_ONLY:
            notes[channel] = FULL_ONLY[name]
        elif name == "sql" and channel in portals:
            try:
                counts = portal.write_delta(
                    portals[channel], previous.snapshot_id, new.snapshot_id, new_dir / channel
                )
            except sa.exc.NoSuchTableError as error:
                notes[channel] = f"full tables only: the previous snapshot's table {error} is gone"
                continue
            files += [
                FeedFile(channel, f"{channel}/{n}", c, kind="delta") for n, c in counts.items()
            ]
        elif len(old) != 1 or len(fresh) != 1 or name not in _WRITERS:
            notes[channel] = f"full feed only (no delta format for {name})"
        else:
            try:
                files += _WRITERS[name](channel, previous_dir / old[0], new_dir / fresh[0])
            except (JsonLinesDeltaError, DelimitedDeltaError) as error:
                notes[channel] = f"full feed only: {error}"
                continue
            if name == "google_merchant":
                notes[channel] = MARKETPLACE_NOTE
    return Deltas(files, notes)


def _full_files(manifest: Manifest, channel: str) -> list[str]:
    return [f.path for f in manifest.channel_files(channel) if f.kind == "file"]


def _jsonl(channel: str, old: Path, new: Path) -> list[FeedFile]:
    target = new.parent / jsonlines.FILE
    return [
        FeedFile(
            channel,
            _relative(target, channel),
            jsonlines.write_delta(old, new, target),
            kind="delta",
        )
    ]


def _delimited(channel: str, old: Path, new: Path) -> list[FeedFile]:
    target = new.parent / f"delta{new.suffix}"
    return [
        FeedFile(
            channel,
            _relative(target, channel),
            delimited.write_delta(old, new, target),
            kind="delta",
        )
    ]


def _google(channel: str, old: Path, new: Path) -> list[FeedFile]:
    counts = google_merchant.write_delta(old, new, new.parent)
    return [FeedFile(channel, f"{channel}/{name}", n, kind="delta") for name, n in counts.items()]


def _relative(path: Path, channel: str) -> str:
    return f"{channel}/{path.name}"


_WRITERS = {
    "jsonld": _jsonl,
    "csv": _delimited,
    "tsv": _delimited,
    "meta_catalog": _delimited,
    "google_merchant": _google,
}
