"""Portal tables on SQLite (a temporary file) and PostgreSQL (a throwaway schema per test)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import polars.testing
import pytest
import sqlalchemy as sa
from factories import golden_products, price_tiers, product, tier
from portals import load, portal_url, products_of, tiers

from contracts.snapshots import SnapshotError
from sinks import portal_sql
from sinks.portal_errors import PortalError
from sinks.portal_sql import (
    AVAILABILITY_COLUMNS,
    SQLITE_MAX_MONEY,
    SQLITE_PAGE_SIZE,
    activate_portal_snapshot,
    drop_portal_snapshots,
    live_portal_snapshot,
    load_portal_snapshot,
    portal_table,
    read_portal_snapshot,
    snapshot_table,
)

FIRST, SECOND, THIRD = (
    "20261120T080000Z-0000000a",
    "20261121T080000Z-0000000b",
    "20261122T080000Z-0000000c",
)
HUGE = Decimal("12345678901234567890123456789012.123456")
"""NUMERIC(38, 6)'s range: PostgreSQL holds it; SQLite refuses it (``SQLITE_MAX_MONEY``)."""
PRICES = ("535.68", "99.99", "9.5", "0.000001", "1234.5678", "12.34567", "7.123456", "10")
"""4 to 6 decimals; as text, "99.990000" would sort last and "0.000001" below "10" only by luck."""
TRICKY = 'Größe "XL", weiß\nzweite Zeile\r\n\\N ; \tEnde'


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with portal_url(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def channel(url: str) -> str:
    """The portal database (what the portal functions take)."""
    return url


@pytest.fixture
def reader(url: str) -> Iterator[sa.Engine]:
    """An independent connection pool, as a portal application would have."""
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def biggest(url: str) -> Decimal:
    """The largest money value the database holds exactly."""
    return SQLITE_MAX_MONEY if url.startswith("sqlite") else HUGE


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
        weight=biggest(channel),
        availability="backorder",
        availability_date=dt.date(2026, 12, 24),
        availability_estimated=True,
        available_qty=0,
    )
    counts = load(channel, FIRST, product("A1"), variant)
    assert counts == {
        "products": 2,
        "prices": 3,
        "availability": 2,
        "customers": 0,
        "effective_prices": 0,
    }
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
    assert products[1]["weight"] == biggest(channel)
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


def test_each_customer_gets_its_effective_prices(channel: str, reader: sa.Engine) -> None:
    """Per customer, sku and currency the most specific level's tiers, never mixed; a customer
    without a group gets list prices; the view's money is exact like the prices'."""
    customers = [
        {"id": "C1000", "name": "Baumarkt Nord", "group": "retail"},
        {"id": "C2000", "name": "Industrie Süd", "group": "wholesale"},
        {"id": "C9", "name": "Einzelkunde"},
    ]
    prices = price_tiers(
        tier("A1", "9.50"),
        tier("A1", "8.25", min_quantity=100),
        tier("A1", "0.000001", price_type="group", customer_group="retail", min_quantity=10),
        tier("A1", "9", currency="USD"),
        tier("B2", "19.999999", valid_to=dt.date(2026, 12, 31)),
        tier("B2", "1.5", price_type="customer", customer_id="C1000"),
        tier("B2", "7", price_type="group", customer_group="wholesale"),
    )
    all_types = ["list", "group", "customer"]
    counts = load(
        channel, FIRST, *products_of("A1", "B2"), prices=prices, customers=customers,
        price_types=all_types,
    )  # fmt: skip
    assert (counts["customers"], counts["effective_prices"]) == (3, 11)
    activate_portal_snapshot(channel, FIRST)

    assert rows(reader, "customers", "customer_id") == [
        {"customer_id": "C1000", "customer_group": "retail", "name": "Baumarkt Nord"},
        {"customer_id": "C2000", "customer_group": "wholesale", "name": "Industrie Süd"},
        {"customer_id": "C9", "customer_group": None, "name": "Einzelkunde"},
    ]
    found = rows(reader, "effective_prices", "customer_id", "sku", "currency", "min_quantity")
    columns = ("customer_id", "sku", "currency", "min_quantity", "unit_price", "price_type")
    assert [tuple(r[c] for c in columns) for r in found] == [
        ("C1000", "A1", "EUR", 10, Decimal("0.000001"), "group"),
        ("C1000", "A1", "USD", 1, Decimal(9), "list"),
        ("C1000", "B2", "EUR", 1, Decimal("1.5"), "customer"),
        ("C2000", "A1", "EUR", 1, Decimal("9.5"), "list"),
        ("C2000", "A1", "EUR", 100, Decimal("8.25"), "list"),
        ("C2000", "A1", "USD", 1, Decimal(9), "list"),
        ("C2000", "B2", "EUR", 1, Decimal(7), "group"),
        ("C9", "A1", "EUR", 1, Decimal("9.5"), "list"),
        ("C9", "A1", "EUR", 100, Decimal("8.25"), "list"),
        ("C9", "A1", "USD", 1, Decimal(9), "list"),
        ("C9", "B2", "EUR", 1, Decimal("19.999999"), "list"),
    ]
    assert (found[-1]["valid_from"], found[-1]["valid_to"]) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )


def test_money_is_numeric_in_sql_and_exact(channel: str, reader: sa.Engine) -> None:
    """Plain SQL on the views sorts, filters and aggregates prices as numbers; every value is
    still the exact decimal (SQLite: the REAL's shortest text, or ``unit_price_micros``)."""
    tiers_ = price_tiers(*(tier("A1", p, min_quantity=i + 1) for i, p in enumerate(PRICES)))
    load(channel, FIRST, product("A1"), prices=tiers_)
    activate_portal_snapshot(channel, FIRST)
    exact = sorted(Decimal(p) for p in PRICES)

    def query(sql: str) -> list[Decimal]:
        with reader.connect() as conn:
            return [Decimal(str(value)) for value in conn.execute(sa.text(sql)).scalars()]

    assert query("SELECT max(unit_price) FROM prices") == [Decimal("1234.5678")]
    assert query("SELECT min(unit_price) FROM prices") == [Decimal("0.000001")]
    cheap = query("SELECT unit_price FROM prices WHERE unit_price < 10 ORDER BY unit_price")
    assert cheap == [Decimal("0.000001"), Decimal("7.123456"), Decimal("9.5")]
    assert query("SELECT unit_price FROM prices ORDER BY unit_price DESC") == exact[::-1]
    assert query("SELECT count(*) FROM prices WHERE unit_price BETWEEN 9.5 AND 99.99") == [4]
    if channel.startswith("sqlite"):
        micros = query("SELECT unit_price_micros FROM prices ORDER BY unit_price_micros")
        assert [m.scaleb(-6) for m in micros] == exact
        assert query("SELECT sum(unit_price_micros) FROM prices") == [sum(exact) * 10**6]
    else:
        assert query("SELECT sum(unit_price) FROM prices") == [sum(exact)]

    read = rows(reader, "prices", "unit_price")
    assert [str(row["unit_price"]) for row in read] == [f"{price:.6f}" for price in exact]
    with reader.connect() as conn:
        table = portal_table("prices", sa.MetaData(), bind=conn)
        below = sa.select(table.c.unit_price).where(table.c.unit_price < Decimal("9.5"))
        assert conn.execute(below.order_by(table.c.unit_price)).scalars().all() == exact[:2]


def test_money_beyond_what_sqlite_holds_exactly_refuses_the_load(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1")
    before = tables(reader)
    beyond = SQLITE_MAX_MONEY + Decimal("0.000001")
    if not channel.startswith("sqlite"):
        load(channel, SECOND, product("B2", weight=beyond), prices=price_tiers(tier("B2", "1")))
        return
    with pytest.raises(PortalError, match=r"weight 1000000000\.000000 \(sku B2"):
        load(channel, SECOND, product("B2", weight=beyond))
    with pytest.raises(PortalError, match=r"unit_price .* beyond"):
        load(channel, SECOND, product("B2"), prices=price_tiers(tier("B2", str(-beyond))))
    assert tables(reader) == before
    assert live_portal_snapshot(channel) == FIRST


def test_products_are_keyed_by_sku_and_prices_indexed_for_lookups(
    channel: str, reader: sa.Engine
) -> None:
    publish(channel, FIRST, "A1", "B2")
    products, prices = snapshot_table("products", FIRST), snapshot_table("prices", FIRST)
    inspector = sa.inspect(reader)
    indexes = {i["name"]: (i["column_names"], i["unique"]) for i in inspector.get_indexes(prices)}
    lookup = ["currency", "sku", "min_quantity"]
    assert indexes == {
        f"ix_{prices}_sku": (["sku", "currency", "min_quantity"], False),
        f"ix_{prices}_customer_group": (["customer_group", *lookup], False),
        f"ix_{prices}_customer_id": (["customer_id", *lookup], False),
    }
    primary = {
        products: ["sku"],
        snapshot_table("customers", FIRST): ["customer_id"],
        snapshot_table("effective_prices", FIRST): [
            "customer_id", "currency", "sku", "min_quantity",
        ],
    }  # fmt: skip
    for table, columns in primary.items():
        if channel.startswith("sqlite"):
            keys = {
                i["name"]: (i["column_names"], i["unique"]) for i in inspector.get_indexes(table)
            }
            assert keys == {f"pk_{table}": (columns, True)}
        else:
            key = inspector.get_pk_constraint(table)
            assert (key["name"], key["constrained_columns"]) == (f"pk_{table}", columns)
    if not channel.startswith("sqlite"):
        return
    with reader.connect() as conn:
        for where, index in (
            ("sku = 'A1' AND currency = 'EUR'", "sku"),
            ("customer_group = 'retail' AND currency = 'EUR'", "customer_group"),
            ("customer_id = 'C1000' AND currency = 'EUR' AND min_quantity <= 10", "customer_id"),
        ):
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN SELECT * FROM prices WHERE {where}")
            assert f"ix_{prices}_{index}" in " ".join(str(row[-1]) for row in plan), where


def test_a_snapshot_loaded_before_customers_activates_with_them_empty(
    channel: str, reader: sa.Engine
) -> None:
    """A rollback to a snapshot loaded before customers and effective prices existed."""
    load(channel, FIRST, product("A1"), customers=[{"id": "C1", "name": "Kunde"}])
    metadata = sa.MetaData()
    old = [sa.Table(snapshot_table(v, FIRST), metadata) for v in ("customers", "effective_prices")]
    with reader.begin() as conn:
        metadata.drop_all(conn, tables=old)
    activate_portal_snapshot(channel, FIRST)
    assert skus(reader) == ["A1"]
    assert rows(reader, "customers", "customer_id") == []
    assert rows(reader, "effective_prices", "customer_id") == []
    with reader.connect() as conn:
        empty = conn.execute(sa.text("SELECT count(*) FROM effective_prices WHERE unit_price > 0"))
        assert empty.scalar_one() == 0


def test_a_duplicate_sku_fails_the_load_with_nothing_left(channel: str, reader: sa.Engine) -> None:
    publish(channel, FIRST, "A1")
    before = tables(reader)
    frame = golden_products(product("A1")).select("sku", *AVAILABILITY_COLUMNS)
    with pytest.raises(PortalError, match=f"loading portal snapshot {SECOND} failed"):
        load_portal_snapshot(channel, pl.concat([frame, frame]), tiers(), SECOND)
    assert tables(reader) == before
    assert skus(reader) == ["A1"]


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
    assert len([name for name in tables(reader) if "__" in name]) == 4  # one snapshot's


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


def test_parts_load_the_same_tables_as_one_frame(channel: str, reader: sa.Engine) -> None:
    """A sharded run loads the portal from its shards' Parquet parts (PostgreSQL: several
    connections copying at once): the tables hold what one frame loads."""
    golden = golden_products(*products_of("A1", "B2", "C3", "D4", "E5"))
    products = golden.select("sku", *AVAILABILITY_COLUMNS)
    prices = tiers().filter(pl.col("sku") != "GONE")
    load_portal_snapshot(channel, products, prices, FIRST)
    activate_portal_snapshot(channel, FIRST)
    whole = {view: rows(reader, view, *KEYS[view]) for view in KEYS}
    with tempfile.TemporaryDirectory() as folder:
        parts: dict[str, list[Path]] = {"products": [], "prices": []}
        for index, skus_ in enumerate((["A1", "B2"], ["C3"], ["D4", "E5"])):
            for name, frame in (("products", products), ("prices", prices)):
                path = Path(folder, f"{name}-{index}.parquet")
                frame.filter(pl.col("sku").is_in(skus_)).write_parquet(path)
                parts[name].append(path)
        counts = load_portal_snapshot(channel, parts["products"], parts["prices"], SECOND)
    assert counts["products"] == 5
    assert counts["prices"] == prices.height
    activate_portal_snapshot(channel, SECOND)
    assert {view: rows(reader, view, *KEYS[view]) for view in KEYS} == whole


KEYS = {
    "products": ("sku",),
    "prices": ("sku", "currency", "price_type", "min_quantity", "unit_price"),
    "availability": ("sku",),
}
"""The columns that order each view's rows for a comparison."""


def test_a_new_sqlite_portal_gets_large_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    """Large pages only where SQLite can take them: a new file; a file made with SQLite's
    4 KiB default keeps them and loads all the same."""
    frame = golden_products(product("A1")).select("sku", *AVAILABILITY_COLUMNS)
    new, old = tmp_path / "new.sqlite", tmp_path / "old.sqlite"
    with sqlite3.connect(old) as made_before:
        made_before.execute("PRAGMA journal_mode=WAL")
    for path in (new, old):
        load_portal_snapshot(f"sqlite:///{path}", frame, tiers(), FIRST)
    sizes = [sqlite3.connect(p).execute("PRAGMA page_size").fetchone()[0] for p in (new, old)]
    assert sizes == [SQLITE_PAGE_SIZE, 4096]


def test_rows_sent_one_per_batch_load_as_one_batch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    golden = golden_products(*products_of("A1", "B2", "C3", "D4", "E5"))
    weights = pl.Series("weight", [Decimal(p) for p in PRICES[:5]], dtype=pl.Decimal(38, 6))
    products = golden.select("sku", *AVAILABILITY_COLUMNS).with_columns(weights)
    loaded = []
    for batch_bytes in (10**9, 1):  # every row in one batch, one row per batch
        monkeypatch.setattr(portal_sql, "BATCH_BYTES", batch_bytes)
        url = f"sqlite:///{tmp_path / f'{batch_bytes}.sqlite'}"
        load_portal_snapshot(url, products, tiers(), FIRST)
        loaded.append(
            [read_portal_snapshot(url, v, FIRST).sort("sku") for v in ("products", "prices")]
        )
    for whole, in_batches in zip(*loaded, strict=True):
        assert whole.height > 2
        pl.testing.assert_frame_equal(whole, in_batches)


@pytest.mark.parametrize("count", [1, 20_000])
def test_an_ingest_that_stops_reading_fails_the_load_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, count: int
) -> None:
    """The child stops before reading everything (1 product: its rows fit in the pipe; 20,000:
    the sender finds the pipe broken): its last words are the error, and nothing is loaded."""
    stops = tmp_path / "stops.py"
    stops.write_text("import sys\nsys.exit('disk I/O error')\n", encoding="utf-8")
    monkeypatch.setattr(portal_sql, "_INGEST", stops)
    skus_ = pl.Series("sku", [f"S{n:06d}" for n in range(count)])
    frame = golden_products(product("A1")).select("sku", *AVAILABILITY_COLUMNS)
    frame = frame.select(pl.all().gather([0] * count)).with_columns(skus_)
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    with pytest.raises(PortalError, match="bulk load failed: disk I/O error"):
        load_portal_snapshot(url, frame, tiers(), FIRST)
    engine = sa.create_engine(url)
    assert not [name for name in tables(engine) if "__" in name]
    engine.dispose()


@pytest.mark.parametrize("answer", [b"commit\n", b""])
def test_the_ingest_process_commits_only_when_the_sender_answers(
    tmp_path: Path, answer: bytes
) -> None:
    """A sender that fails or is killed after sending every row never answers (its end of the
    pipe closes): the ingest process rolls back, and the database has no table."""
    database = tmp_path / "portal.sqlite"
    plan = {"database": str(database), "before": ["CREATE TABLE t (x BIGINT)"], "tables": {"t": 1}}
    command = [sys.executable, str(Path(portal_sql.__file__).with_name("sqlite_ingest.py"))]
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(json.dumps(plan | {"after": []}).encode() + b"\n")
        pl.DataFrame({"x": [1, 2, 3]}).write_ipc_stream(child.stdin)
        child.stdin.flush()
        assert child.stdout.readline() == b"loaded\n"
        child.stdin.write(answer)
        child.stdin.close()
        assert child.wait() == (0 if answer else 1)
    with sqlite3.connect(database) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert found == ([("t",)] if answer else [])


# --- reading a snapshot back -------------------------------------------------------------------

HOSTILE = (
    "</script><script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","klick")',
    "Emoji 🚀👍🏽 ok",
    TRICKY,
    "",
    None,
)
LATE = 5_000
"""Rows whose ``late_*`` columns are NULL: more than the first batch the ADBC driver types
columns from (1024 rows by default; ``EXPORT_BATCH_ROWS`` in the test below)."""


def rows_read(url: str, view: str, snapshot_id: str) -> pl.DataFrame:
    """``read_portal_snapshot`` as it was before its Arrow read: SQLAlchemy's rows, dtypes
    inferred from all of them, micro-units to ``Decimal(38, 6)`` after the other columns."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            table = portal_table(view, sa.MetaData(), snapshot_id, bind=conn)
            rows = conn.execute(sa.select(table)).all()
    finally:
        engine.dispose()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema=list(table.columns.keys()),
        orient="row",
        infer_schema_length=None,
    )
    micros = [c for c in frame.columns if c.endswith("_micros")]
    exact = [
        (pl.col(c).cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.000001")))
        .cast(pl.Decimal(38, 6))
        .alias(c.removesuffix("_micros"))
        for c in micros
    ]
    return frame.with_columns(exact).drop(micros)


def every_kind(count: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Products with every column kind a portal table holds (text, integers, money, dates,
    booleans; some values null, some columns null in their first ``LATE`` rows, some null
    throughout) and their price tiers (a customer id only in the last rows)."""
    index = range(count)

    def late(values: list[Any]) -> list[Any]:
        return [None if i < LATE else values[i % len(values)] for i in index]

    money = [Decimal("0.000001"), -SQLITE_MAX_MONEY, None, Decimal("12.5"), SQLITE_MAX_MONEY]
    days = [dt.date(2026, 12, 24), None, dt.date(1999, 1, 1)]
    products = pl.DataFrame(
        {
            "sku": [f"S{i:06d}" for i in index],
            "name": [HOSTILE[i % len(HOSTILE)] for i in index],
            "weight": [money[i % len(money)] for i in index],
            "warranty_years": [None if i % 7 == 0 else i % 5 for i in index],
            "release_date": [days[i % len(days)] for i in index],
            "rating": [None if i % 3 == 0 else i / 4 for i in index],
            "late_note": late(list(HOSTILE[:4])),
            "late_qty": late([1, -(2**62), None]),
            "late_date": late(days),
            "late_flag": late([True, False, None]),
            "late_price": late(money),
            "never_note": [None] * count,
            "never_price": [None] * count,
            "never_date": [None] * count,
            "never_flag": [None] * count,
            "available_qty": [i % 11 for i in index],
            "availability": [("in_stock", "backorder", "out_of_stock")[i % 3] for i in index],
            "availability_date": [days[i % len(days)] if i % 2 else None for i in index],
            "availability_estimated": [(True, False, None)[i % 3] for i in index],
            "lead_time_days": [None if i % 4 == 0 else i % 30 for i in index],
        },
        schema_overrides={
            "weight": pl.Decimal(38, 6),
            "late_price": pl.Decimal(38, 6),
            "never_note": pl.String,
            "never_price": pl.Decimal(38, 6),
            "never_date": pl.Date,
            "never_flag": pl.Boolean,
            "warranty_years": pl.Int32,
        },
    )
    prices = price_tiers(
        *(
            tier(
                f"S{i // 2:06d}",
                str(money[i % 2 * 3]),
                price_type=("list", "group")[i % 2],
                customer_group=("retail" if i % 2 else None),
                customer_id=(f"C{i}" if i >= LATE else None),
                min_quantity=1 + i % 2 * 9,
                valid_to=days[i % 3],
            )
            for i in index
        )
    )
    return products, prices


@pytest.mark.parametrize("batch_rows", [1000, portal_sql.EXPORT_BATCH_ROWS])
def test_a_sqlite_snapshot_reads_as_sqlalchemy_rows_read_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, batch_rows: int
) -> None:
    """The Arrow read gives the frame SQLAlchemy's rows gave: same columns in the same order
    (money last), dtypes (never a value: ``Null``), values and row order, also for columns
    whose first values, or first batches, are all NULL."""
    monkeypatch.setattr(portal_sql, "EXPORT_BATCH_ROWS", batch_rows)
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    products, prices = every_kind(LATE + 1_500)
    load_portal_snapshot(url, products, prices, FIRST)
    for view in ("products", "prices"):
        found = read_portal_snapshot(url, view, FIRST)
        pl.testing.assert_frame_equal(found, rows_read(url, view, FIRST))
    found = read_portal_snapshot(url, "products", FIRST)
    assert found.columns[-4:] == ["weight", "rating", "late_price", "never_price"]
    assert found["name"].head(len(HOSTILE)).to_list() == list(HOSTILE)
    kinds = {c: found.schema[c] for c in found.columns if c.startswith(("late_", "never_"))}
    assert kinds == {
        "late_note": pl.String, "late_qty": pl.Int64, "late_date": pl.Date,
        "late_flag": pl.Boolean, "never_note": pl.Null, "never_date": pl.Null,
        "never_flag": pl.Null, "late_price": pl.Decimal(38, 6), "never_price": pl.Decimal(38, 6),
    }  # fmt: skip


def test_an_empty_snapshot_reads_as_before_and_a_dropped_one_is_no_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    products, prices = every_kind(0)
    load_portal_snapshot(url, products, prices, FIRST)
    for view in ("products", "prices"):
        found = read_portal_snapshot(url, view, FIRST)
        pl.testing.assert_frame_equal(found, rows_read(url, view, FIRST))
        assert found.height == 0
    assert drop_portal_snapshots(url, keep=[]) == [FIRST]
    with pytest.raises(sa.exc.NoSuchTableError, match=snapshot_table("products", FIRST)):
        read_portal_snapshot(url, "products", FIRST)


def test_a_snapshot_with_money_as_text_reads_as_before(tmp_path: Path) -> None:
    """Snapshots loaded before money became micro-units on SQLite declare it ``DECIMAL_TEXT``
    (the decimal's text with 6 places)."""
    path = tmp_path / "portal.sqlite"
    products, prices = snapshot_table("products", FIRST), snapshot_table("prices", FIRST)
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"CREATE TABLE {products} (sku TEXT NOT NULL, weight DECIMAL_TEXT, "
            "available_qty BIGINT NOT NULL, availability_date DATE, availability_estimated BOOLEAN)"
        )
        conn.executemany(
            f"INSERT INTO {products} VALUES (?, ?, ?, ?, ?)",
            [("A1", "0.250000", 5, None, 0), ("B2", None, 0, "2026-12-24", 1)],
        )
        conn.execute(
            f"CREATE TABLE {prices} (sku TEXT NOT NULL, currency TEXT NOT NULL, "
            "min_quantity BIGINT NOT NULL, unit_price DECIMAL_TEXT NOT NULL, valid_to DATE)"
        )
        conn.execute(f"INSERT INTO {prices} VALUES ('A1', 'EUR', 1, '9.500000', NULL)")
    url = f"sqlite:///{path}"
    for view in ("products", "prices"):
        pl.testing.assert_frame_equal(
            read_portal_snapshot(url, view, FIRST), rows_read(url, view, FIRST)
        )
    found = read_portal_snapshot(url, "prices", FIRST)
    assert found.schema["unit_price"] == pl.Decimal(38, 6)
    assert found["unit_price"].to_list() == [Decimal("9.5")]


CUT_SHORT = {
    "before writing": "import sys\nsys.exit('disk I/O error')\n",
    "after a batch": (
        "import sys\nimport pyarrow as pa\nrows = pa.table({'sku': ['A1']})\n"
        "writer = pa.ipc.new_stream(sys.stdout.buffer, rows.schema)\nwriter.write_table(rows)\n"
        "sys.stdout.buffer.flush()\nsys.exit('disk I/O error')\n"
    ),
}
"""Export children that fail: the second has written a readable stream (its end unmarked)."""


@pytest.mark.parametrize("script", CUT_SHORT.values(), ids=CUT_SHORT.keys())
def test_a_failed_sqlite_read_names_the_table_file_and_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    load_portal_snapshot(url, *every_kind(3), FIRST)
    stops = tmp_path / "stops.py"
    stops.write_text(script, encoding="utf-8")
    monkeypatch.setattr(portal_sql, "_EXPORT", stops)
    table = snapshot_table("products", FIRST)
    reason = f"reading {table} of the SQLite portal .*portal.sqlite failed: disk I/O error"
    with pytest.raises(PortalError, match=reason):
        read_portal_snapshot(url, "products", FIRST)
