"""Website (JSON-LD, one object per line) delta: ``delta.jsonl`` next to ``products.jsonl``.

A line is keyed by its ``@type`` and identifier: a ``Product`` by its ``sku``, a
``ProductGroup`` by its ``productGroupID``. A line of ``delta.jsonl`` is either a line of the
new full feed (an item added or changed, byte for byte as in the full feed: a ``ProductGroup``
is re-sent whole with all its variants when any of it changed) or a removal record naming a
line of the previous feed that is gone::

    {"@type": "Product", "sku": "P0000001", "prism:removed": true}
    {"@type": "ProductGroup", "productGroupID": "M0000007", "prism:removed": true}

Applying: drop every line whose key the delta names, then add the delta's non-removal lines.
A feed whose lines lack their identifier (a mapping without ``sku``) gets no delta.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from sinks.deltas.changes import (
    ADDED,
    CHANGED,
    REMOVED,
    content_hashes,
    index_changes,
    keys_of,
    shape,
)
from sinks.deltas.record_index import Indexed, RecordIndex
from sinks.snapshot_store import sha256_of

KEY = "key"
IDS = {"Product": "sku", "ProductGroup": "productGroupID"}
REMOVED_FLAG = "prism:removed"
FILE = "delta.jsonl"
INDEX_KIND = "jsonlines"


class JsonLinesDeltaError(ValueError):
    """A line of the feed has no identifier to key it by."""


def key_of(item: dict[str, object]) -> tuple[object, object]:
    """A parsed line's key: its ``@type`` and identifier."""
    kind = item.get("@type")
    return kind, item.get(IDS.get(str(kind), "sku"))


_STRING = r'"(?:[^"\\]|\\.)*"'
_SCALAR = rf"(?:{_STRING}|[-+.\w]+)"
_LEADING = rf"^\s*\{{\s*(?:{_STRING}\s*:\s*{_SCALAR}\s*,\s*)*?"


def _member(name: str) -> str:
    """A regex whose group is the value of the object's member ``name`` when it is a string
    without escapes and only scalar members come before it (how Prism's writer puts
    ``@type``, ``sku`` and ``productGroupID`` first); else no match."""
    return rf'{_LEADING}"{re.escape(name)}"\s*:\s*"([^"\\]*)"'


_TYPE, _SKU, _GROUP = (_member(n) for n in ("@type", "sku", "productGroupID"))


def records(path: Path) -> pl.DataFrame:
    """The key (``@type`` + tab + identifier) and the line of every item of the feed.

    The members are read with a regex that only matches leading top-level members (a JSON
    string cannot hold an unescaped ``"``); a feed with any line it cannot read that way (a
    key with escapes, members in another order) is read with a JSON path instead."""
    try:
        lines = pl.read_lines(path, glob=False)
    except pl.exceptions.ComputeError as error:
        msg = f"{path.name}: {error}"
        raise JsonLinesDeltaError(msg) from error
    line = pl.col("line")
    frame = lines.select(_key(line.str.extract(_TYPE), _SKU, _GROUP), "line")
    if frame[KEY].null_count():
        kind = line.str.json_path_match("$['@type']")
        slow = _key(kind, "$.sku", "$.productGroupID", path=True)
        frame = lines.select(slow, "line")
    if frame[KEY].null_count():
        msg = f"{path.name}: a line without @type or identifier (sku, productGroupID)"
        raise JsonLinesDeltaError(msg)
    return frame


def _key(kind: pl.Expr, sku: str, group: str, *, path: bool = False) -> pl.Expr:
    def read(pattern: str) -> pl.Expr:
        line = pl.col("line")
        return line.str.json_path_match(pattern) if path else line.str.extract(pattern)

    ident = pl.when(kind == "ProductGroup").then(read(group)).otherwise(read(sku))
    return pl.concat_str(kind, pl.lit("\t"), ident).alias(KEY)


def record_index(path: Path) -> RecordIndex:
    """The index of the feed ``path``: each line's key and content hash (see
    ``record_index``)."""
    return _index(path, records(path))


def _index(path: Path, frame: pl.DataFrame, *, digest: bool = True) -> RecordIndex:
    """``frame`` (``records`` of ``path``) as an index; the file is hashed only if ``digest``
    (an index that is not kept needs no name)."""
    sha256 = sha256_of(path) if digest else ""
    return RecordIndex(INDEX_KIND, sha256, content_hashes(frame, KEY), shape(frame, KEY))


def _removal(key: str) -> str:
    kind, ident = key.split("\t", 1)
    return json.dumps(
        {"@type": kind, IDS.get(kind, "sku"): ident, REMOVED_FLAG: True}, ensure_ascii=False
    )


def write_delta(
    previous: Path,
    new: Path,
    target: Path,
    *,
    old: RecordIndex | None = None,
    indexed: Indexed | None = None,
) -> int:
    """The delta from the feed ``previous`` to ``new`` into ``target``; its line count.
    ``old``: the index of ``previous`` (it is not read); ``indexed`` gets the index of
    ``new``."""
    earlier = old if old is not None else _index(previous, records(previous), digest=False)
    fresh = records(new)
    changes = index_changes(earlier, _index(new, fresh, digest=indexed is not None), indexed)
    upserts = fresh.filter(pl.col(KEY).is_in(keys_of(changes, KEY, ADDED, CHANGED)))["line"]
    removals = [_removal(k) for k in keys_of(changes, KEY, REMOVED)]
    lines = [*upserts.to_list(), *removals]
    target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def apply_delta(full: list[dict[str, object]], delta: list[dict[str, object]]) -> list[dict]:
    """The items of a full feed (parsed lines) after a delta (parsed lines)."""
    touched = {key_of(item) for item in delta}
    kept = [item for item in full if key_of(item) not in touched]
    return kept + [item for item in delta if not item.get(REMOVED_FLAG)]
