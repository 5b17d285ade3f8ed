"""A deterministic quoting catalog for the BMEcat fan-out tests: products with every kind of
field (nulls, markup to escape, texts over the limits, images the schema cannot type) and tiers
of every level, quantity breaks and validity groups, for customers at each precedence level.

``fixtures/bmecat/fanout/*.xml`` are the catalogs the writer wrote from it before the
customers' catalogs were fanned out from one rendering (each customer rendered on its own);
the fan-out must write the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from contracts.config import ChannelConfig
from contracts.formats import WriteContext
from contracts.golden import PRICE_TIERS_SCHEMA
from golden.pricing import effective_tiers
from sinks.formats import bmecat as bmecat_writer

PRODUCTS = 90
CUSTOMERS = (
    {"id": "C1000", "name": "Baumarkt Nord GmbH", "group": "retail"},
    {"id": "C2000", "name": "Industriebedarf Süd AG & Co", "group": "wholesale"},
    {"id": "C3000", "name": "Werkzeughandel West KG", "group": "retail"},
    {"id": "K/9 ü", "name": "Kunde <Neun>"},
)
"""Own prices (C1000, C2000), only the group's (C3000), list prices only (K/9 ü)."""
SUPPLIER = {"id": "EXAMPLE", "name": "Example GmbH & Co. KG"}
GENERATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.UTC)
START, END = dt.date(2026, 1, 1), dt.date(2027, 6, 30)


def catalog_products() -> pl.DataFrame:
    """``sku`` and every BMEcat field, all text, in a fixed pseudo-random mix."""
    draw = random.Random(13)
    rows = [_product(i, draw) for i in range(PRODUCTS)]
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String()))


def _product(i: int, draw: random.Random) -> dict[str, Any]:
    words = ["Schraube", "Dübel", "Bohrer", "Säge", "<b>Profi</b>", "A&B", "Hammer", '"Zoll"']
    description = " ".join(draw.choice(words) for _ in range(draw.randint(0, 16)))
    return {
        "sku": f"S{i:04d}",
        "short_description": f"{draw.choice(words)} {i} " + "x" * draw.choice([0, 0, 0, 150]),
        "long_description": description or None,
        "gtin": draw.choice([None, "4006381333931"]),
        "manufacturer_pid": draw.choice([None, f"MPN-{i}"]),
        "manufacturer_name": draw.choice([None, "Acme", "Über & Co " * 8]),
        "feature_color": draw.choice([None, "Blau", "Rot <hell>"]),
        "feature_size": draw.choice([None, "M", "XL"]),
        "classification_system": draw.choice([None, "ECLASS-13.0"]),
        "classification_group": draw.choice([None, "23110101", "21040101"]),
        "image": draw.choice(
            [None, f"https://media.example.com/{i}.jpg", f"https://m.example.com/{i}.png?v=1"]
        ),
    }


def catalog_tiers() -> pl.DataFrame:
    """Tiers of every level for most products (some have none): list, group (retail,
    wholesale), customer (C1000, C2000), with quantity breaks, validity groups and USD rows
    (not the channel's currency), in no particular order."""
    draw = random.Random(17)
    rows: list[dict[str, Any]] = []
    for i in range(PRODUCTS):
        sku = f"S{i:04d}"
        if i % 11 == 5:
            continue  # no tier at all
        levels = [("list", None, None)]
        levels += [("group", g, None) for g in ("retail", "wholesale") if draw.random() < 0.4]
        levels += [("customer", None, c) for c in ("C1000", "C2000") if draw.random() < 0.3]
        for price_type, group, customer in levels:
            rows += _tiers(sku, price_type, group, customer, draw)
    draw.shuffle(rows)
    return pl.DataFrame(rows, schema=PRICE_TIERS_SCHEMA)


def _tiers(
    sku: str, price_type: str, group: str | None, customer: str | None, draw: random.Random
) -> list[dict[str, Any]]:
    found = []
    for quantity in sorted(draw.sample([1, 5, 10, 50, 100], draw.randint(1, 3))):
        ending = draw.choice([None, None, END])
        for currency in ("EUR", "USD") if draw.random() < 0.2 else ("EUR",):
            found.append(
                {
                    "sku": sku,
                    "price_type": price_type,
                    "customer_group": group,
                    "customer_id": customer,
                    "currency": currency,
                    "min_quantity": quantity,
                    "unit_price": Decimal(draw.randint(1, 99_999)) / 1000,
                    "valid_from": draw.choice([None, START]),
                    "valid_to": ending,
                    "erp_source": "prices.csv:2",
                }
            )
    return found


def catalog_context(
    folder: Path,
    tiers: pl.DataFrame,
    customers: Sequence[dict[str, str]] = CUSTOMERS[:1],
    compress: str | None = "gzip",
) -> WriteContext:
    """What the ``bmecat`` writer gets for ``customers``' catalogs of ``tiers`` into ``folder``."""
    options = {"supplier": SUPPLIER, "customers": list(customers), "compress": compress}
    return WriteContext(
        channel="quoting",
        settings=ChannelConfig(format="bmecat", locale="de_DE", currency="EUR"),
        options=bmecat_writer.Options.model_validate(options),
        folder=folder,
        snapshot_id="20261122T185607Z-ab12cd34",
        created=GENERATED,
        tiers=tiers,
        golden=None,
        price_rule=effective_tiers,
    )
