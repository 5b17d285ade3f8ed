"""Which keys were added, changed or removed between two snapshots of one channel.

Each side is a frame with a key column and any other columns; a row's content is one hash over
all its non-key columns (vectorized, ``pl.struct(...).hash``), so a change in any mapped field
counts. When the two sides have different columns or dtypes (the mapping changed), every key
present on both sides counts as changed: a delta may re-send an unchanged item, never miss one.

A side can also come as its rows' hashes already taken (``content_hashes``, and its ``shape``:
what a record index the previous publish kept holds, see ``record_index``); ``hash_changes``
compares those.
"""

from __future__ import annotations

import polars as pl

from sinks.deltas.record_index import KEY as INDEX_KEY
from sinks.deltas.record_index import Indexed, RecordIndex

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
CHANGE = "change"
"""the column naming each key's change (``added``, ``changed``, ``removed``)"""
HASH = "_hash"
"""the column of ``content_hashes``: one hash of a row's content"""


def row_changes(previous: pl.DataFrame, new: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key`` and ``change`` of every key whose row differs, sorted by key; unchanged keys
    are left out. Keys are unique on each side."""
    columns = [c for c in new.columns if c != key and c in previous.columns]
    return hash_changes(
        content_hashes(previous, key, columns),
        content_hashes(new, key, columns),
        key,
        same_shape=previous.schema == new.schema,
    )


def hash_changes(
    previous: pl.DataFrame, new: pl.DataFrame, key: str, *, same_shape: bool
) -> pl.DataFrame:
    """``row_changes`` of two sides given as ``content_hashes``; ``same_shape``: whether the
    rows had the same columns and dtypes (if not, every key on both sides counts as changed,
    and the hashes need not cover the same columns)."""
    joined = previous.join(new, on=key, how="full", coalesce=True, suffix="_new")
    change = (
        pl.when(pl.col(HASH).is_null())
        .then(pl.lit(ADDED))
        .when(pl.col(f"{HASH}_new").is_null())
        .then(pl.lit(REMOVED))
        .when((pl.col(HASH) != pl.col(f"{HASH}_new")) | pl.lit(not same_shape))
        .then(pl.lit(CHANGED))
    )
    return joined.select(key, change.alias(CHANGE)).filter(pl.col(CHANGE).is_not_null()).sort(key)


def index_changes(earlier: RecordIndex, now: RecordIndex, indexed: Indexed | None) -> pl.DataFrame:
    """``row_changes`` between two indexes of a feed (``record_index.KEY`` and ``change``;
    another shape makes every common key changed), after handing the new side's index to
    ``indexed`` (what keeps it for the next publish; None: not kept)."""
    if indexed is not None:
        indexed(now)
    same = earlier.shape == now.shape
    return hash_changes(earlier.records, now.records, INDEX_KEY, same_shape=same)


def content_hashes(frame: pl.DataFrame, key: str, columns: list[str] | None = None) -> pl.DataFrame:
    """``key`` (as text) and ``HASH``: one hash of each row's ``columns`` (default: all but
    ``key``, in the frame's order; the same value ``row_changes`` compares when both sides
    have the same columns). Stable within one polars version only."""
    if columns is None:
        columns = [c for c in frame.columns if c != key]
    content = pl.struct(columns).hash(seed=0) if columns else pl.lit(0, pl.UInt64)
    return frame.select(pl.col(key).cast(pl.String), content.alias(HASH))


def shape(frame: pl.DataFrame, key: str) -> tuple[str, ...]:
    """What ``row_changes`` compares of a side's columns (``same_shape``): their names and
    dtypes in order, the key by its dtype only (it is named for the comparison)."""
    return tuple(f"{'' if name == key else name}\t{dtype}" for name, dtype in frame.schema.items())


def keys_of(changes: pl.DataFrame, key: str, *kinds: str) -> list[str]:
    return changes.filter(pl.col(CHANGE).is_in(kinds))[key].to_list()
