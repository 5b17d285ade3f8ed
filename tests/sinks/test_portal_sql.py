"""Portal tables on SQLite (a temporary file) and PostgreSQL (a throwaway schema per test)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from factories import config_with, golden_products, price_tiers, product, staged_feed, tier

from contracts.snapshots import SnapshotError
from sinks.portal_sql import (
    AVAILABILITY_COLUMNS,
    PortalError,
    activate_portal_snapshot,
    drop_portal_snapshots,
    live_portal_snapshot,
    load_portal_snapshot,
    portal_table,
)

POSTGRES = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIRST, SECOND, THIRD = (
    "20261120T080000Z-0000000a",
    "20261121T080000Z-0000000b",
    "20261122T080000Z-0000000c",
)
HUGE = Decimal("12345678901234567890123456789012.123456")
TRICKY = 'Größe "XL", weiß\nzweite Zeile\r\n\\N ; \tEnde'


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.sqlite'}"
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


@pytest.fixture
def channel(url: str) -> str:
    """The portal database (what the portal functions take)."""
    return url


def load(
    url: str, snapshot_id: str, *rows: dict[str, Any], prices: pl.DataFrame | None = None
) -> dict[str, int]:
    """Load a snapshot the way a run does: the ``sql`` format's mapping (its ``portal``
    preset) over the golden rows, then its writer; returns rows per table."""
    portal = {
        "format": "sql",
        "url": url,
        "locale": "de_DE",
        "currencies": ["EUR", "USD"],
        "price_types": ["list", "group"],
    }
    config = config_with({"portal": portal})
    tiers_ = tiers() if prices is None else prices
    with tempfile.TemporaryDirectory() as folder:
        _, files = staged_feed(
            config, "portal", golden_products(*rows), Path(folder), tiers_, snapshot_id
        )
    return {f.path: f.rows for f in files}


@pytest.fixture
def reader(url: str) -> Iterator[sa.Engine]:
    """An independent connection pool, as a portal application would have."""
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


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


def rows(engine: sa.Engine, view: str, *order: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        table = portal_table(view, sa.MetaData(), bind=conn)
        query = sa.select(table).order_by(*(table.c[c] for c in order))
        return [dict(row._mapping) for row in conn.execute(query)]


def skus(engine: sa.Engine) -> list[str]:
    return [row["sku"] for row in rows(engine, "products", "sku")]


def publish(channel: str, snapshot_id: str, *product_skus: str) -> None:
    load(channel, snapshot_id, *products_of(*product_skus))
    activate_portal_snapshot(channel, snapshot_id)


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_products_prices_and_availability_round_trip_exactly(
    channel: str, reader: sa.Engine
) -> None:
    variant = product(
        "B2",
        item_group="TSHIRT",
        parent="TSHIRT-blue",
        brand="",
        description_de_DE=TRICKY,
        weight=HUGE,
        availability="backorder",
        availability_date=dt.date(2026, 12, 24),
        availability_estimated=True,
        available_qty=0,
    )
    counts = load(channel, FIRST, product("A1"), variant)
    assert counts == {"products": 2, "prices": 3, "availability": 2}
    assert live_portal_snapshot(channel) is None
    activate_portal_snapshot(channel, FIRST)
    assert live_portal_snapshot(channel) == FIRST

    products = rows(reader, "products", "sku")
    assert products[0]["name"] == "Shirt A1 (de)"
    assert products[0]["weight"] == Decimal("0.25")
    assert (products[1]["item_group"], products[1]["parent"], products[1]["brand"]) == (
        "TSHIRT",
        "TSHIRT-blue",
        "",
    )
    assert products[1]["weight"] == HUGE
    assert products[1]["description"] == TRICKY
    assert products[1]["category_path"] == "Clothing (de) > Tops (de)"

    prices = rows(reader, "prices", "sku", "price_type", "currency")
    assert [(p["sku"], p["price_type"], p["currency"], p["unit_price"]) for p in prices] == [
        ("A1", "group", "EUR", Decimal("0.000001")),
        ("A1", "list", "EUR", Decimal("9.5")),
        ("B2", "list", "USD", Decimal("19.999999")),
    ]
    assert prices[0]["customer_group"] == "retail"
    assert prices[0]["min_quantity"] == 10
    assert prices[2]["valid_to"] == dt.date(2026, 12, 31)

    availability = rows(reader, "availability", "sku")
    assert availability[1] == {
        "sku": "B2",
        "available_qty": 0,
        "availability": "backorder",
        "availability_date": dt.date(2026, 12, 24),
        "availability_estimated": True,
        "lead_time_days": 3,
    }


def test_money_is_stored_as_exact_text_or_numeric_not_float(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1")
    with reader.connect() as conn:
        raw = conn.execute(sa.text("SELECT unit_price FROM prices ORDER BY unit_price")).scalars()
        assert [Decimal(str(value)) for value in raw] == [Decimal("0.000001"), Decimal("9.5")]


def test_snapshots_switch_and_old_ones_are_dropped_but_never_the_live_one(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1")
    load(channel, SECOND, *products_of("A1", "B2"))
    assert skus(reader) == ["A1"]
    activate_portal_snapshot(channel, SECOND)
    assert skus(reader) == ["A1", "B2"]
    load(channel, THIRD, *products_of("C3"))

    assert drop_portal_snapshots(channel, keep=[THIRD]) == [FIRST]
    assert drop_portal_snapshots(channel, keep=[]) == [THIRD]
    assert live_portal_snapshot(channel) == SECOND
    assert skus(reader) == ["A1", "B2"]
    assert not any(FIRST.lower()[:8] in name for name in tables(reader) if "__" in name)
    assert len([name for name in tables(reader) if "__" in name]) == 3


def test_reader_sees_the_old_snapshot_until_activation_commits(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1")
    load(channel, SECOND, *products_of("A1", "B2"))
    seen: list[tuple[str | None, list[str] | None]] = []

    def before_commit(conn: sa.Connection) -> None:
        with reader.connect() as other:
            live = other.execute(sa.text("SELECT snapshot_id FROM prism_snapshot")).scalar()
        # PostgreSQL readers of the views wait for the commit (the DDL holds their lock).
        products = skus(reader) if reader.dialect.name == "sqlite" else None
        seen.append((live, products))

    sa.event.listen(sa.Engine, "commit", before_commit)
    try:
        activate_portal_snapshot(channel, SECOND)
    finally:
        sa.event.remove(sa.Engine, "commit", before_commit)
    expected = ["A1"] if reader.dialect.name == "sqlite" else None
    assert seen == [(FIRST, expected)]
    assert live_portal_snapshot(channel) == SECOND
    assert skus(reader) == ["A1", "B2"]


def test_failed_load_leaves_live_snapshot_and_no_partial_tables(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1")
    before = tables(reader)
    broken = tiers().with_columns(
        unit_price=pl.when(pl.col("price_type") == "group").then(None).otherwise("unit_price")
    )
    with pytest.raises(PortalError, match=f"loading portal snapshot {SECOND} failed"):
        load(channel, SECOND, *products_of("A1", "B2"), prices=broken)
    assert tables(reader) == before
    assert live_portal_snapshot(channel) == FIRST
    assert skus(reader) == ["A1"]
    with pytest.raises(PortalError, match="not loaded"):
        activate_portal_snapshot(channel, SECOND)


def test_live_snapshot_cannot_be_reloaded_and_ids_are_validated(channel: str) -> None:
    publish(channel, FIRST, "A1")
    with pytest.raises(PortalError, match="is live"):
        load(channel, FIRST, *products_of("A1"))
    frame = golden_products(product("A1")).select("sku", *AVAILABILITY_COLUMNS)
    with pytest.raises(SnapshotError, match="invalid snapshot id"):
        load_portal_snapshot(channel, frame, tiers(), "x; DROP TABLE products")
    with pytest.raises(PortalError, match="lack the columns"):
        load_portal_snapshot(channel, frame.drop("availability"), tiers(), SECOND)


def test_unused_sqlite_file_has_no_live_snapshot(tmp_path: Path) -> None:
    channel = f"sqlite:///{tmp_path / 'missing' / 'portal.sqlite'}"
    assert live_portal_snapshot(channel) is None
    assert drop_portal_snapshots(channel, keep=[]) == []
    assert not (tmp_path / "missing").exists()
