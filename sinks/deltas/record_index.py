"""A full feed file's record index: what the next publish's delta needs of that file.

A delta compares the previous snapshot's full feed with the new one, and the previous one was
the new one of the publish before, which split it already (at 1M products the Google feed and
each BMEcat catalog take ~4-5 s a side, the website ~2 s). So the publish that stages a full
feed keeps, per file, each record's key and what a delta compares of it (the content hash, or
an XML record's digest) and, for XML documents, where the record lies in the uncompressed
document, so the few previous records a delta carries are sliced out instead of splitting the
document again. The next publish reads that index for its previous side.

Indexes live in a cache folder outside the snapshots (those are what consumers fetch), one
Parquet file per feed file, named by the SHA-256 of the file's bytes (what the sealed manifest
records) and a tag of what wrote it: the format, ``VERSION``, the polars version and a probe of
its hash function (hashes are stable within one polars build only) and the source of this
package (a changed key pattern is another index). Trust is never taken from a name: an index's
contents are checked against the checksum it was written with, and it was made from the very
bytes whose SHA-256 names it, the bytes the manifest sealed and consumers fetched: what a delta
applies to. So the file is not hashed again before its index is used (in a 1M run's publish
that read the previous snapshot's files back from disk: ~11 s of hashing threads); its size
must still be the sealed one, and every record a delta slices out of it must hash to its
digest in the index (``xml_records.by_key``), else the channel gets the full feed only. A
missing, damaged or mismatched index is a miss (the delta splits the file as before), never
an error; indexes are written under a hidden name and renamed whole.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from contracts.folders import PARTIAL, hidden_sibling

VERSION = 1
"""The index layout; a new layout is another tag, so old indexes are never read."""
KEY = "key"
"""the records' key column in an index (a format may name it otherwise while comparing)"""
SUFFIX = ".parquet"
_META = "prism_record_index"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordIndex:
    """The index of one full feed file: ``sha256`` of the file's bytes; ``records``: ``KEY``
    and what the format's delta compares, plus an XML record's ``offset`` and ``length`` in
    the uncompressed document; ``shape``: what the compared hashes cover, when that can differ
    between two snapshots (the columns: another shape makes every common key changed)."""

    kind: str
    sha256: str
    records: pl.DataFrame
    shape: tuple[str, ...] = ()


Indexed = Callable[[RecordIndex], None]
"""what a delta hands the new side's index to (the split it made of the new file anyway)"""


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class IndexFolder:
    """The cache folder of record indexes (see the module docstring)."""

    folder: Path

    def path(self, kind: str, sha256: str) -> Path:
        return self.folder / f"{sha256}.{_tag(kind)}{SUFFIX}"

    def load(self, kind: str, sha256: str, file: Path, *, size: int) -> RecordIndex | None:
        """The index of ``file`` (whose sealed SHA-256 is ``sha256`` and sealed size ``size``;
        0: a manifest that does not record sizes), or None: none kept, unreadable, or ``file``
        is gone or of another size."""
        path = self.path(kind, sha256) if sha256 else None
        if path is None or not path.is_file():
            return None
        unreadable = (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError)
        with contextlib.suppress(*unreadable):
            meta = json.loads(pl.read_parquet_metadata(path)[_META])
            records = pl.read_parquet(path)
            if (meta["kind"], meta["sha256"]) != (kind, sha256):
                return None
            stored = file.stat().st_size  # a file gone is no index
            if meta["checksum"] != _checksum(records) or (size and stored != size):
                return None
            return RecordIndex(kind, sha256, records, tuple(meta["shape"]))
        return None

    def save(self, index: RecordIndex) -> Path | None:
        """Keep ``index`` (written whole or not at all); its path, or None when it could not
        be written (a full disk costs the next publish a split, not this one)."""
        path = self.path(index.kind, index.sha256)
        temp = hidden_sibling(path, PARTIAL)
        meta = {
            "kind": index.kind,
            "sha256": index.sha256,
            "shape": list(index.shape),
            "checksum": _checksum(index.records),
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            index.records.write_parquet(
                temp, compression="lz4", statistics=False, metadata={_META: json.dumps(meta)}
            )
            temp.replace(path)
        except (OSError, pl.exceptions.PolarsError) as error:
            temp.unlink(missing_ok=True)
            log.warning("record index of %s not kept: %s", index.sha256, error)
            return None
        return path

    def prune(self, keep: Collection[Path]) -> list[str]:
        """Delete every index but ``keep`` (and a killed writer's hidden leftovers); the names
        deleted. Runs under the publish lock, so no other writer is half way."""
        if not self.folder.is_dir():
            return []
        kept = {p.name for p in keep}
        doomed = [p for p in self.folder.iterdir() if p.is_file() and p.name not in kept]
        for path in doomed:
            path.unlink(missing_ok=True)
        return sorted(p.name for p in doomed)


def _checksum(records: pl.DataFrame) -> str:
    """Of an index's contents, to refuse one damaged after it was written."""
    rows = records.hash_rows(seed=0)
    digest = hashlib.sha256(f"{records.schema}\0{records.height}".encode())
    digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def _tag(kind: str) -> str:
    digest = hashlib.sha256(f"{kind}\0{VERSION}\0{pl.__version__}\0".encode())
    digest.update(_environment())
    return digest.hexdigest()[:16]


@functools.cache
def _environment() -> bytes:
    """The hash function's output on a probe (another polars build or CPU may hash another
    way) and the source of this package (its key patterns and digests)."""
    probe = pl.DataFrame({"k": ["prism"], "n": [1]})
    hashed = probe.select(pl.struct("k", "n").hash(seed=0).alias("row"), pl.col("k").hash(seed=0))
    digest = hashlib.sha256(str(hashed.rows()).encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.digest()
