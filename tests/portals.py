"""Portal databases for tests (a SQLite file, a DuckDB portal's link, a throwaway PostgreSQL
schema) and snapshots loaded into them the way a run loads them."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from factories import config_with, golden_products, price_tiers, product, staged_feed, tier

POSTGRES = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def portal_url(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty portal database of ``kind`` (sqlite | duckdb | postgresql)."""
    if kind in ("sqlite", "duckdb"):
        yield f"{kind}:///{folder / f'portal.{kind}'}"
        return
    schema = f"prism_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES)
    try:
        with admin.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()


def load(
    url: str,
    snapshot_id: str,
    *rows: dict[str, Any],
    prices: pl.DataFrame | None = None,
    **options: Any,
) -> dict[str, int]:
    """Load a snapshot the way a run does: the ``sql`` format's mapping (its ``portal``
    preset) over the golden rows, then its writer; returns rows per table. ``options`` go
    into the channel's configuration."""
    portal = {
        "format": "sql",
        "url": url,
        "locale": "de_DE",
        "currencies": ["EUR", "USD"],
        "price_types": ["list", "group"],
        **options,
    }
    config = config_with({"portal": portal})
    tiers_ = tiers() if prices is None else prices
    with tempfile.TemporaryDirectory() as folder:
        _, files = staged_feed(
            config, "portal", golden_products(*rows), Path(folder), tiers_, snapshot_id
        )
    return {f.path: f.rows for f in files}


def products_of(*skus: str) -> list[dict[str, Any]]:
    return [product(sku) for sku in skus]


def tiers() -> pl.DataFrame:
    return price_tiers(
        tier("A1", "9.50"),
        tier("A1", "0.000001", price_type="group", customer_group="retail", min_quantity=10),
        tier("B2", "19.999999", currency="USD", valid_to=dt.date(2026, 12, 31)),
        tier("B2", "1", price_type="customer", customer_id="C1000"),
        tier("B2", "1", currency="CHF"),
        tier("GONE", "1"),
    )
