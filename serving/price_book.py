"""One snapshot's price data in memory, indexed once when the snapshot loads.

Built from the snapshot's ``kind="serving"`` files (``sinks.price_data``) before the service
switches to it, so a request only does lookups: a sku index (``SkuIndex``) from sku to its
position, and per currency the tiers sorted by sku with the offset of each sku's first tier,
so a sku's tiers are one slice and a request's tiers are gathered at once. The tiers keep
their exact ``Decimal(38, 6)`` prices; text columns with few values (price type, customer,
group, currency) are categorical, so a gather moves integers, not strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from contracts.snapshots import Manifest, SnapshotError
from sinks.price_data import CUSTOMERS, POLICY, PRODUCTS, SERVING, TIERS

_CATEGORIES = ("price_type", "customer_group", "customer_id", "currency")
_SEEDS = 8


@dataclass(frozen=True)
class SkuIndex:
    """sku -> position, by a 64-bit hash: the hashes sorted, the position of each, and the skus
    to confirm a match (a hash alone is never trusted).

    Why not a dict: at 1M skus a dict holds ~100 MB of entries and each lookup of a fresh string
    misses the cache twice (~4.5 ms for 5,000 random skus); here the request's hashes are
    computed at once and looked up in ascending order, which walks the 8 MB of hashes mostly
    in cache (~1 ms), and one gather confirms the skus. The seed is one under which no two skus
    share a hash, so a sku has exactly one candidate."""

    skus: pl.Series
    hashes: np.ndarray
    positions: np.ndarray
    seed: int

    @classmethod
    def build(cls, skus: pl.Series) -> SkuIndex:
        for seed in range(_SEEDS):
            hashes = skus.hash(seed).to_numpy()
            order = np.argsort(hashes, kind="stable")
            ordered = hashes[order]
            if not (ordered[1:] == ordered[:-1]).any():
                return cls(skus, ordered, order, seed)
        msg = f"{_SEEDS} hash seeds all map two skus to one hash"
        raise ValueError(msg)

    def find(self, wanted: pl.Series) -> np.ndarray:
        """Each sku's position, -1 for a sku the index does not hold."""
        if not len(self.hashes):
            return np.full(len(wanted), -1, dtype=np.int64)
        hashes = wanted.hash(self.seed).to_numpy()
        order = np.argsort(hashes)
        slots = np.empty(len(wanted), dtype=np.int64)
        slots[order] = np.searchsorted(self.hashes, hashes[order])
        slots = np.minimum(slots, len(self.hashes) - 1)
        candidates = self.positions[slots]
        same = self.hashes[slots] == hashes
        same &= (self.skus.gather(candidates) == wanted).to_numpy()
        return np.where(same, candidates, -1)


@dataclass(frozen=True)
class CurrencyTiers:
    """One currency's tiers: ``tiers`` sorted by sku (no sku column: the position says it);
    the tiers of the product at position ``p`` are rows ``starts[p]`` to ``starts[p + 1]``."""

    tiers: pl.DataFrame
    starts: np.ndarray

    def rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The row numbers of the tiers of the products at ``positions``, in that order, and
        how many each product has."""
        first, stop = self.starts[positions], self.starts[positions + 1]
        counts = stop - first
        shift = first - np.cumsum(counts) + counts  # each product's first row minus its offset
        return np.repeat(shift, counts) + np.arange(counts.sum()), counts


@dataclass(frozen=True)
class PriceBook:
    """The price channel's customers, products (with availability) and tiers per currency."""

    channel: str
    currency: str
    """the channel's main currency: what a request gets unless it names another"""
    currencies: tuple[str, ...]
    groups: dict[str, str | None]
    """customer id -> its price group (None: list prices only)"""
    index: SkuIndex
    """sku -> its row in ``products`` (-1: the channel did not publish it)"""
    products: pl.DataFrame
    """availability, availability_date, availability_estimated per product, by position"""
    by_currency: dict[str, CurrencyTiers]


def load_price_book(folder: Path, manifest: Manifest) -> PriceBook | None:
    """The price book of a verified snapshot in ``folder`` (None: it has no price data);
    ``SnapshotError`` naming the file when the data cannot be used."""
    paths = {f.path for f in manifest.files if f.kind == SERVING}
    if not paths:
        return None
    missing = sorted({POLICY, CUSTOMERS, PRODUCTS, TIERS} - paths)
    if missing:
        msg = f"snapshot {manifest.snapshot_id}: price data without {missing}"
        raise SnapshotError(msg)
    try:
        return _read(folder)
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as error:
        msg = f"snapshot {manifest.snapshot_id}: price data unusable ({error})"
        raise SnapshotError(msg) from None


def _read(folder: Path) -> PriceBook:
    policy = json.loads((folder / POLICY).read_text(encoding="utf-8"))
    customers = pl.read_parquet(folder / CUSTOMERS)
    products = pl.read_parquet(folder / PRODUCTS)
    skus = products.get_column("sku")
    if not skus.is_sorted() or skus.is_duplicated().any():
        msg = f"{PRODUCTS}: skus not sorted and unique"
        raise ValueError(msg)
    index = SkuIndex.build(skus)
    currencies = tuple(policy["currencies"])
    return PriceBook(
        channel=policy["channel"],
        currency=policy["currency"],
        currencies=currencies,
        groups=dict(customers.select("customer_id", "customer_group").iter_rows()),
        index=index,
        products=products.drop("sku").with_columns(pl.col("availability").cast(pl.Categorical)),
        by_currency={c: _currency_tiers(folder / TIERS, index, c) for c in currencies},
    )


def _currency_tiers(path: Path, index: SkuIndex, currency: str) -> CurrencyTiers:
    """``currency``'s tiers in product order, with each product's first row. Read one currency
    at a time, text made categorical while reading: the load's peak memory stays near what the
    book keeps."""
    own = (
        pl.scan_parquet(path)
        .filter(pl.col("currency") == currency)
        .with_columns(pl.col(_CATEGORIES).cast(pl.Categorical))
        .collect()
    )
    positions = index.find(own.get_column("sku"))
    if (positions < 0).any() or (np.diff(positions) < 0).any():
        msg = f"{TIERS}: {currency} tiers not sorted by sku or of unknown skus"
        raise ValueError(msg)
    starts = np.searchsorted(positions, np.arange(len(index.hashes) + 1))
    return CurrencyTiers(own.drop("sku").rechunk(), starts)
