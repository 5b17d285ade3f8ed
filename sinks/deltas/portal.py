"""Portal (SQL) delta: upserts for consumers that sync the portal incrementally (the portal's
own tables are swapped atomically per snapshot). Two Parquet files under ``portal/``, computed
from the two snapshots' stored tables (mapped fields plus availability, and the price tiers):

- ``delta_products.parquet``: ``prism_action`` (``upsert`` or ``delete``) and the products
  table's columns: an ``upsert`` row is the product's new row (added or changed), a ``delete``
  row names a sku gone (other columns null);
- ``delta_prices.parquet``: ``prism_action`` (``replace`` or ``delete``) and the prices table's
  columns: a sku whose tiers changed in any way has all its new tier rows as ``replace`` rows
  (its tiers are replaced as a whole); a sku left without tiers has one ``delete`` row.

Money is exact (``Decimal(38, 6)``). Applying: per file, drop every sku the delta names, then
add its ``upsert`` / ``replace`` rows without ``prism_action``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from sinks.deltas.changes import ADDED, CHANGED, REMOVED, keys_of, row_changes
from sinks.portal_sql import read_portal_snapshot

ACTION = "prism_action"
UPSERT = "upsert"
REPLACE = "replace"
DELETE = "delete"
PRODUCTS_FILE = "delta_products.parquet"
PRICES_FILE = "delta_prices.parquet"


def product_delta(previous: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    changes = row_changes(previous, new, "sku")
    return _with_deletes(new, changes, UPSERT)


def price_delta(previous: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Each sku's tiers compared as a whole: the sorted hashes of its tier rows."""
    changes = row_changes(_tier_sets(previous), _tier_sets(new), "sku")
    return _with_deletes(new, changes, REPLACE)


def _tier_sets(prices: pl.DataFrame) -> pl.DataFrame:
    others = [c for c in prices.columns if c != "sku"]
    hashed = prices.select("sku", pl.struct(others).hash(seed=0).alias("tier"))
    return hashed.group_by("sku").agg(pl.col("tier").sort())


def _with_deletes(new: pl.DataFrame, changes: pl.DataFrame, action: str) -> pl.DataFrame:
    kept = new.filter(pl.col("sku").is_in(keys_of(changes, "sku", ADDED, CHANGED)))
    gone = pl.DataFrame({"sku": keys_of(changes, "sku", REMOVED)}, schema={"sku": pl.String})
    return pl.concat(
        [
            kept.select(pl.lit(action).alias(ACTION), pl.all()),
            gone.select(pl.lit(DELETE).alias(ACTION), "sku"),
        ],
        how="diagonal_relaxed",
    )


def write_delta(url: str, previous: str, new: str, folder: Path) -> dict[str, int]:
    """The delta from snapshot ``previous`` to ``new`` of the portal at ``url`` into
    ``folder``: file name -> its rows. The two snapshots' tables are read at once (on SQLite
    each by a child process: 1M products, two reads of 4-5 s each)."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    with ThreadPoolExecutor(2) as pool:
        for view, name, delta in (
            ("products", PRODUCTS_FILE, product_delta),
            ("prices", PRICES_FILE, price_delta),
        ):
            snapshots = (previous, new)
            before, after = pool.map(read_portal_snapshot, (url, url), (view, view), snapshots)
            rows = delta(before, after)
            del before, after
            rows.write_parquet(folder / name)
            counts[name] = rows.height
    return counts


def apply_delta(full: pl.DataFrame, delta: pl.DataFrame) -> pl.DataFrame:
    """A products or prices table after its delta."""
    kept = full.join(delta.select("sku"), on="sku", how="anti")
    added = delta.filter(pl.col(ACTION) != DELETE).drop(ACTION)
    return pl.concat([kept, added], how="diagonal_relaxed")
