"""Delta feeds: per channel, the items added, changed and removed since the snapshot a publish
replaces, in the channel's delta format, staged next to the full feed.

A consumer ends in the same state taking the delta (applied to the previous snapshot's full
feed, see each module's ``apply_delta``) or the new full feed. Channels whose format has no
delta format get none; ``Manifest.delta_notes`` says why (and how the marketplace's removals
travel).

Each full feed file a delta reads whole gets a record index when its snapshot is staged, in an
index folder the publish names (``record_index``, ``indexes``): the next publish reads the
previous side from it instead of splitting that file again, with the same delta.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from contracts.snapshots import FeedFile, Manifest
from sinks.deltas import bmecat, delimited, google_merchant, jsonlines, portal
from sinks.deltas.delimited import DelimitedDeltaError
from sinks.deltas.indexes import IndexUse, index_feeds
from sinks.deltas.jsonlines import JsonLinesDeltaError
from sinks.deltas.record_index import Indexed, RecordIndex
from sinks.deltas.xml_records import XmlRecordError

BMECAT_NOTE = (
    "<customer>.update.xml: a BMEcat T_UPDATE_PRODUCTS (prev_version 0: applies to the full "
    "catalog of delta_of) per customer catalog that changed, also of gzipped catalogs "
    "(the update is plain XML); a customer new in this snapshot, or whose catalog changed "
    "between .xml and .xml.gz, takes its full catalog"
)
MARKETPLACE_NOTE = (
    "supplemental.xml overrides price/availability of existing items; delta_items.xml holds "
    "items added or otherwise changed, delta_removed.txt the ids removed (a supplemental feed "
    "cannot add or remove products: use the Merchant API, or the full feed)"
)


FEED_LANES = 2
"""Feeds' deltas computed at a time (threads: splitting, hashing and polars release the
interpreter for most of their work). The quoting catalogs, the largest files, start first
and keep one lane while the other feeds take the other (1M, five feeds: 19.6-19.8 s in
one lane, 12.9-13.3 s in two)."""

__all__ = ["Deltas", "index_feeds", "write_deltas"]


@dataclass(frozen=True)
class Deltas:
    """``reused``: the previous snapshot's files read from their record index; ``digests``:
    the new snapshot's full files hashed to name their index (path -> SHA-256)."""

    files: list[FeedFile]
    notes: dict[str, str]
    reused: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)


def write_deltas(
    previous: Manifest,
    previous_dir: Path,
    new: Manifest,
    new_dir: Path,
    formats: Mapping[str, str],
    portals: Mapping[str, str],
    index: Path | None = None,
) -> Deltas:
    """Each channel's delta from ``previous`` (sealed in ``previous_dir``; on a portal its
    tables) to ``new`` (staged in ``new_dir``, its portal tables loaded); ``formats``: channel
    -> format name, ``portals``: SQL channel -> database URL. ``index``: the record index
    folder (the previous side is read from it where it holds the file's index; the new
    snapshot's files are indexed into it); None: every file is split."""
    use = IndexUse(index, previous)

    def delta(channel: str, name: str) -> tuple[list[FeedFile], str | None]:
        old, fresh = _full_files(previous, channel), _full_files(new, channel)
        try:
            if name == "sql" and channel in portals:
                return _portal(channel, portals[channel], previous, new, new_dir), None
            if name == "bmecat":
                return _bmecat(channel, previous_dir, old, new_dir, fresh, use), BMECAT_NOTE
            if len(old) == 1 and len(fresh) == 1 and name in _WRITERS:
                before, after = previous_dir / old[0], new_dir / fresh[0]
                sides = use.old(name, old[0], before), use.saver(fresh[0])
                written = _WRITERS[name](channel, before, after, *sides)
                return written, MARKETPLACE_NOTE if name == "google_merchant" else None
        except (JsonLinesDeltaError, DelimitedDeltaError, XmlRecordError) as error:
            return [], f"full feed only: {error}"
        except sa.exc.NoSuchTableError as error:
            return [], f"full tables only: the previous snapshot's table {error} is gone"
        return [], f"full feed only (no delta format for {name})"

    # a portal's delta waits mostly on its database (child processes on SQLite): it runs
    # beside the feeds' deltas, which keep the cores busy (1M: ~15 s of ~55 s)
    tables = [c for c, name in formats.items() if name == "sql" and c in portals]
    feeds = sorted((c for c in formats if c not in tables), key=lambda c: formats[c] != "bmecat")
    with ThreadPoolExecutor(1) as beside, ThreadPoolExecutor(FEED_LANES) as lanes:
        jobs = {c: beside.submit(delta, c, formats[c]) for c in tables}
        jobs |= {c: lanes.submit(delta, c, formats[c]) for c in feeds}
        done = {channel: job.result() for channel, job in jobs.items()}
    files = [f for channel in formats for f in done[channel][0]]
    notes = {channel: note for channel in formats if (note := done[channel][1]) is not None}
    use.finish(new, new_dir, formats)
    return Deltas(files, notes, sorted(use.reused), use.digests)


def _portal(
    channel: str, url: str, previous: Manifest, new: Manifest, new_dir: Path
) -> list[FeedFile]:
    counts = portal.write_delta(url, previous.snapshot_id, new.snapshot_id, new_dir / channel)
    return [FeedFile(channel, f"{channel}/{n}", c, kind="delta") for n, c in counts.items()]


def _full_files(manifest: Manifest, channel: str) -> list[str]:
    return [f.path for f in manifest.channel_files(channel) if f.kind == "file"]


Writer = Callable[[str, Path, Path, RecordIndex | None, Indexed | None], list[FeedFile]]
"""a channel's delta from its previous full file (and its index) to its new one (and what
takes the new one's index)"""


def _jsonl(
    channel: str, old: Path, new: Path, index: RecordIndex | None, indexed: Indexed | None
) -> list[FeedFile]:
    target = new.parent / jsonlines.FILE
    rows = jsonlines.write_delta(old, new, target, old=index, indexed=indexed)
    return [FeedFile(channel, _relative(target, channel), rows, kind="delta")]


def _delimited(
    channel: str, old: Path, new: Path, index: RecordIndex | None, indexed: Indexed | None
) -> list[FeedFile]:
    target = new.parent / f"delta{new.suffix}"
    rows = delimited.write_delta(old, new, target, old=index, indexed=indexed)
    return [FeedFile(channel, _relative(target, channel), rows, kind="delta")]


def _google(
    channel: str, old: Path, new: Path, index: RecordIndex | None, indexed: Indexed | None
) -> list[FeedFile]:
    counts = google_merchant.write_delta(old, new, new.parent, old=index, indexed=indexed)
    return [FeedFile(channel, f"{channel}/{name}", n, kind="delta") for name, n in counts.items()]


def _bmecat(
    channel: str,
    previous_dir: Path,
    old: list[str],
    new_dir: Path,
    fresh: list[str],
    use: IndexUse,
) -> list[FeedFile]:
    """One update per customer catalog present in both snapshots and changed; a gzipped
    catalog (``<name>.xml.gz``) gets a plain ``<name>.update.xml`` (updates are small). A
    catalog whose file name changed (``compress`` switched) has no counterpart: the customer
    takes its full catalog. A catalog that cannot be split removes the updates written before
    it (the channel gets no delta)."""
    files, written = [], []
    try:
        for path in sorted(set(old) & set(fresh)):
            name = Path(path).name.removesuffix(".gz").removesuffix(".xml")
            target = new_dir / Path(path).parent / f"{name}{bmecat.SUFFIX}"
            index = use.old("bmecat", path, previous_dir / path)
            count = bmecat.write_delta(
                previous_dir / path, new_dir / path, target, old=index, indexed=use.saver(path)
            )
            if count:
                written.append(target)
                files.append(FeedFile(channel, _relative(target, channel), count, kind="delta"))
    except XmlRecordError:
        for target in written:
            target.unlink()
        raise
    return files


def _relative(path: Path, channel: str) -> str:
    return f"{channel}/{path.name}"


_WRITERS: dict[str, Writer] = {
    "jsonld": _jsonl,
    "csv": _delimited,
    "tsv": _delimited,
    "meta_catalog": _delimited,
    "google_merchant": _google,
}
