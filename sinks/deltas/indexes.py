"""Which feed files a publish keeps record indexes of, and one publish's use of them.

Every full feed file of a format with a delta (a channel of one file; a BMEcat channel's every
catalog) gets an index when a publish computes deltas: from the split its delta makes of it,
or, for a file without a delta of its own (a channel new in this snapshot, a delta that
failed), from a split of its own (one per file: the cost of one side of a delta). A publish
without deltas (the first) indexes nothing (``assets.publish``). The index folder keeps only
the indexes of the live snapshot's files and the new snapshot's: the ones the next publish can
use, whether this one goes live or not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from contracts.snapshots import Manifest
from sinks.deltas import bmecat, delimited, google_merchant, jsonlines
from sinks.deltas.record_index import Indexed, IndexFolder, RecordIndex

INDEXED: dict[str, tuple[str, Callable[[Path], RecordIndex]]] = {
    "jsonld": (jsonlines.INDEX_KIND, jsonlines.record_index),
    "csv": (delimited.INDEX_KIND, delimited.record_index),
    "tsv": (delimited.INDEX_KIND, delimited.record_index),
    "meta_catalog": (delimited.INDEX_KIND, delimited.record_index),
    "google_merchant": (google_merchant.INDEX_KIND, google_merchant.record_index),
    "bmecat": (bmecat.INDEX_KIND, bmecat.record_index),
}
"""format -> index kind and how a file of it is indexed: the formats with a delta of their
full feed files (a portal's tables are compared in its database)"""

log = logging.getLogger(__name__)


def indexed_files(manifest: Manifest, formats: Mapping[str, str]) -> dict[str, str]:
    """The files of ``manifest`` a delta reads whole (path -> format): those to index."""
    found: dict[str, str] = {}
    for channel, name in formats.items():
        files = [f.path for f in manifest.channel_files(channel) if f.kind == "file"]
        if name in INDEXED and (name == "bmecat" or len(files) == 1):
            found |= dict.fromkeys(files, name)
    return found


def index_feeds(
    manifest: Manifest,
    folder: Path,
    formats: Mapping[str, str],
    index: Path,
    *,
    done: Mapping[str, Path] | None = None,
    keep: Collection[Path] = (),
) -> dict[str, str]:
    """Keep the index of every file ``indexed_files`` names of ``manifest`` (staged in
    ``folder``) in the folder ``index`` but those ``done`` (path -> its index, written by the
    deltas), then delete every index but theirs and ``keep``; the paths indexed here, each
    with the SHA-256 of its bytes (what naming its index took). A file that cannot be split
    or an index that cannot be written is left out (its next delta splits it), never an
    error."""
    store, written = IndexFolder(index), dict(done or {})
    indexed = {}
    for path, name in indexed_files(manifest, formats).items():
        if path in written:
            continue
        try:
            record_index = INDEXED[name][1](folder / path)
        except (OSError, ValueError, pl.exceptions.PolarsError) as error:
            log.debug("%s: no record index (%s)", path, error)
            continue
        if (saved := store.save(record_index)) is not None:
            written[path] = saved
            indexed[path] = record_index.sha256
    store.prune([*written.values(), *keep])
    return indexed


@dataclass
class IndexUse:
    """One publish's deltas and the index folder (``folder`` None: no indexes): the previous
    snapshot's files read from their index, the new snapshot's indexed by their delta."""

    folder: Path | None
    previous: Manifest
    reused: list[str] = field(default_factory=list)
    written: dict[str, Path] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    """the new snapshot's files hashed to name their index: path -> SHA-256 (the seal need
    not read them again)"""

    def old(self, name: str, path: str, file: Path) -> RecordIndex | None:
        """The index of the previous snapshot's ``path`` (the file ``file``, format ``name``),
        if one is kept for its bytes."""
        if self.folder is None:
            return None
        sealed = next((f for f in self.previous.files if f.path == path), None)
        if sealed is None:
            return None
        kind = INDEXED[name][0]
        found = IndexFolder(self.folder).load(kind, sealed.sha256, file, size=sealed.bytes)
        if found is not None:
            self.reused.append(path)
            log.debug("%s: the delta's previous side is read from its record index", path)
        return found

    def saver(self, path: str) -> Indexed | None:
        """What a delta hands the index of the new snapshot's ``path`` to."""
        if self.folder is None:
            return None
        store = IndexFolder(self.folder)

        def save(index: RecordIndex) -> None:
            self.digests[path] = index.sha256
            if (saved := store.save(index)) is not None:
                self.written[path] = saved

        return save

    def finish(self, new: Manifest, new_dir: Path, formats: Mapping[str, str]) -> None:
        """Index the new snapshot's files no delta indexed, and prune to those and the
        previous snapshot's."""
        if self.folder is None:
            return
        store = IndexFolder(self.folder)
        previous = indexed_files(self.previous, formats)
        sha256 = {f.path: f.sha256 for f in self.previous.files if f.sha256}
        keep = [store.path(INDEXED[n][0], sha256[p]) for p, n in previous.items() if p in sha256]
        done = self.written
        self.digests |= index_feeds(new, new_dir, formats, self.folder, done=done, keep=keep)
