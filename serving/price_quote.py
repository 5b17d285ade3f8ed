"""The answer to a price request: per sku the customer's effective tiers, the tier for the asked
quantity and the availability, from one snapshot's ``PriceBook``, as JSON bytes.

The tiers are chosen by ``golden.pricing.effective_tiers``, the rule that wrote the customer's
BMEcat catalog and the portal's ``effective_prices``, so all three say the same. Vectorized:
the request's skus are looked up at once, their tiers gathered in one step and resolved as one
frame (the item's number stands in for the sku: the rule only groups by it), and the JSON is
written by polars, not built object by object in Python.

Per entry of the request (in its order; a sku asked twice is answered twice): ``status``
``priced`` (it has tiers),
``unpriced`` (published, but no tier for this customer in this currency: its catalog leaves it
out) or ``unknown`` (not published on the price channel); ``tiers`` ascending by
``min_quantity`` with ``unit_price`` (exact, 6 decimals, as text), ``price_type`` (the level it
came from: customer, group or list) and validity; ``price``: the tier for ``quantity``
(default 1), the one with the largest ``min_quantity`` not above it (null: none); availability
with its date.
"""

from __future__ import annotations

import json
from typing import Annotated, NotRequired

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from golden.pricing import effective_tiers
from serving.price_book import PriceBook

MAX_SKUS = 10_000
MAX_SKU_LENGTH = 255
MAX_QUANTITY = 10**9
_TIER = ("min_quantity", "unit_price", "price_type", "valid_from", "valid_to")
_PRICE = ("min_quantity", "unit_price", "price_type")
_AVAILABILITY = ("availability", "availability_date", "availability_estimated")

Sku = Annotated[str, Field(min_length=1, max_length=MAX_SKU_LENGTH)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


@with_config(ConfigDict(extra="forbid"))
class Item(TypedDict):
    """A sku with the pieces that decide its applicable tier."""

    sku: Sku
    quantity: NotRequired[Quantity]


Entry = Annotated[Sku | Item, Field(union_mode="left_to_right")]
"""A sku or an item. Left to right, not by a discriminator function: no Python call per entry
(pydantic tries the text first, all in Rust)."""


class PriceRequest(BaseModel):
    """The body of ``POST /v1/prices``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    customer: str = Field(min_length=1, max_length=MAX_SKU_LENGTH)
    skus: list[Entry] = Field(min_length=1, max_length=MAX_SKUS)
    """a sku (for 1 piece), or ``{"sku": ..., "quantity": n}``: n pieces pick the tier"""
    currency: str | None = None
    """one of the price channel's currencies (default: its main one)"""


def quote(book: PriceBook, request: PriceRequest, currency: str, snapshot_id: str) -> bytes:
    """The answer as JSON bytes (``request.customer`` is one of ``book.groups``, ``currency``
    one of ``book.currencies``)."""
    asked, quantities = _entries(request.skus)
    positions = book.index.find(pl.Series(asked, dtype=pl.String))
    known = np.flatnonzero(positions >= 0)
    tiers = book.by_currency[currency]
    rows, counts = tiers.rows(positions[known])
    candidates = tiers.tiers[rows].with_columns(sku=pl.Series(np.repeat(known, counts)))
    chosen = effective_tiers(candidates, request.customer, book.groups[request.customer])
    priced = _per_item(chosen, quantities)
    items = _items(book, asked, positions, quantities).join(
        priced, on="sku", how="left", maintain_order="left"
    )
    head = json.dumps(
        {
            "snapshot": snapshot_id,
            "channel": book.channel,
            "customer": request.customer,
            "currency": currency,
        }
    )
    body = _answers(items).write_json()
    return f'{head[:-1]},"items":{body}}}'.encode()


def _entries(entries: list[str | Item]) -> tuple[list[str], np.ndarray]:
    """The skus and the pieces asked for (1 unless given)."""
    skus = [e if isinstance(e, str) else e["sku"] for e in entries]
    quantities = np.ones(len(entries), dtype=np.int64)
    for number, entry in enumerate(entries):
        if not isinstance(entry, str):
            quantities[number] = entry.get("quantity", 1)
    return skus, quantities


def _per_item(chosen: pl.DataFrame, quantities: np.ndarray) -> pl.DataFrame:
    """``sku`` (the item's number), its ``tiers`` and the ``price`` for its quantity."""
    quantity = pl.Series(quantities[chosen.get_column("sku").to_numpy()])
    text = pl.col("unit_price", "price_type").cast(pl.String)
    readable = chosen.with_columns(text, applies=pl.col("min_quantity") <= quantity)
    return readable.group_by("sku").agg(
        tiers=pl.struct(_TIER), price=pl.struct(_PRICE).filter("applies").last()
    )


def _items(
    book: PriceBook, asked: list[str], positions: np.ndarray, quantities: np.ndarray
) -> pl.DataFrame:
    """One row per asked sku: its number, the sku, quantity and availability (null when
    unknown)."""
    known = pl.Series(positions >= 0)
    availability = book.products[np.maximum(positions, 0)].select(
        pl.when(known).then(pl.col(c)).alias(c) for c in _AVAILABILITY
    )
    frame = pl.DataFrame(
        {"sku": np.arange(len(asked)), "code": asked, "quantity": quantities, "known": known}
    )
    return pl.concat([frame, availability], how="horizontal")


def _answers(items: pl.DataFrame) -> pl.DataFrame:
    """The items in the answer's shape and order of keys."""
    status = (
        pl.when(~pl.col("known"))
        .then(pl.lit("unknown"))
        .when(pl.col("tiers").is_null())
        .then(pl.lit("unpriced"))
        .otherwise(pl.lit("priced"))
    )
    return items.select(
        pl.col("code").alias("sku"),
        status.alias("status"),
        "quantity",
        "price",
        pl.col("tiers").fill_null([]),
        pl.col("availability").cast(pl.String),
        "availability_date",
        "availability_estimated",
    )
