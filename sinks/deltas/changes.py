"""Which keys were added, changed or removed between two snapshots of one channel.

Each side is a frame with a key column and any other columns; a row's content is one hash over
all its non-key columns (vectorized, ``pl.struct(...).hash``), so a change in any mapped field
counts. When the two sides have different columns or dtypes (the mapping changed), every key
present on both sides counts as changed: a delta may re-send an unchanged item, never miss one.
"""

from __future__ import annotations

import polars as pl

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
CHANGE = "change"
"""the column naming each key's change (``added``, ``changed``, ``removed``)"""


def row_changes(previous: pl.DataFrame, new: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key`` and ``change`` of every key whose row differs, sorted by key; unchanged keys
    are left out. Keys are unique on each side."""
    same_shape = previous.schema == new.schema
    columns = [c for c in new.columns if c != key and c in previous.columns]
    joined = _hashed(previous, key, columns).join(
        _hashed(new, key, columns), on=key, how="full", coalesce=True, suffix="_new"
    )
    change = (
        pl.when(pl.col("_hash").is_null())
        .then(pl.lit(ADDED))
        .when(pl.col("_hash_new").is_null())
        .then(pl.lit(REMOVED))
        .when((pl.col("_hash") != pl.col("_hash_new")) | pl.lit(not same_shape))
        .then(pl.lit(CHANGED))
    )
    return joined.select(key, change.alias(CHANGE)).filter(pl.col(CHANGE).is_not_null()).sort(key)


def _hashed(frame: pl.DataFrame, key: str, columns: list[str]) -> pl.DataFrame:
    content = pl.struct(columns).hash(seed=0) if columns else pl.lit(0, pl.UInt64)
    return frame.select(pl.col(key).cast(pl.String), content.alias("_hash"))


def keys_of(changes: pl.DataFrame, key: str, *kinds: str) -> list[str]:
    return changes.filter(pl.col(CHANGE).is_in(kinds))[key].to_list()
