"""The DuckDB portal: one file per snapshot behind a link, read by other processes while
publishes load and switch, exact money, keys, and loads that die half way."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import polars.testing
import pytest
import sqlalchemy as sa
from factories import golden_products, price_tiers, product, tier
from portals import load, products_of, tiers

from contracts.faults import VARIABLE
from sinks import portal_duckdb
from sinks.portal_errors import LiveSnapshotMoved, PortalError
from sinks.portal_sql import (
    ANY,
    AVAILABILITY_COLUMNS,
    activate_portal_snapshot,
    deactivate_portal,
    drop_portal_snapshots,
    live_portal_snapshot,
    load_portal_snapshot,
    read_portal_snapshot,
)

FIRST, SECOND, THIRD = (
    "20261120T080000Z-0000000a",
    "20261121T080000Z-0000000b",
    "20261122T080000Z-0000000c",
)
HOSTILE = 'Größe "XL" </script> =HYPERLINK("x") ; \\N\r\nzweite Zeile'
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'var' / 'portal.duckdb'}"


def live_file(url: str) -> Path:
    return portal_duckdb.live_path(url)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """``sql`` on the live snapshot, as a portal application reads it."""
    with duckdb.connect(str(live_file(url)), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def skus(url: str) -> list[str]:
    return [row[0] for row in query(url, "SELECT sku FROM products ORDER BY sku")]


def publish(url: str, snapshot_id: str, *product_skus: str) -> None:
    load(url, snapshot_id, *products_of(*product_skus))
    activate_portal_snapshot(url, snapshot_id)


def files(url: str) -> list[str]:
    folder = portal_duckdb.snapshots_folder(url)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_snapshot_round_trips_with_native_types(url: str) -> None:
    variant = product(
        "B2",
        item_group="TSHIRT",
        brand="",
        description_de_DE=HOSTILE,
        weight=Decimal("12345678901234567890123456789012.123456"),
        availability="backorder",
        availability_date=dt.date(2026, 12, 24),
        availability_estimated=True,
        available_qty=0,
    )
    counts = load(url, FIRST, product("A1"), variant)
    assert counts == {
        "products": 2,
        "prices": 3,
        "availability": 2,
        "customers": 0,
        "effective_prices": 0,
    }
    assert live_portal_snapshot(url) is None
    activate_portal_snapshot(url, FIRST)
    assert live_portal_snapshot(url) == FIRST
    assert os.readlink(live_file(url)) == f"portal.duckdb.snapshots/{FIRST}.duckdb"

    rows = query(url, "SELECT sku, name, weight, brand, description FROM products ORDER BY sku")
    assert rows[0][:3] == ("A1", "Shirt A1 (de)", Decimal("0.25"))
    assert rows[1][2:] == (Decimal("12345678901234567890123456789012.123456"), "", HOSTILE)
    availability = query(url, "SELECT * FROM availability WHERE sku = 'B2'")
    assert availability == [("B2", 0, "backorder", dt.date(2026, 12, 24), True, 3)]
    prices = query(
        url,
        "SELECT sku, price_type, customer_group, currency, min_quantity, unit_price, valid_to "
        "FROM prices ORDER BY sku, price_type, currency",
    )
    assert prices == [
        ("A1", "group", "retail", "EUR", 10, Decimal("0.000001"), None),
        ("A1", "list", None, "EUR", 1, Decimal("9.5"), None),
        ("B2", "list", None, "USD", 1, Decimal("19.999999"), dt.date(2026, 12, 31)),
    ]
    live, loaded_at = query(url, "SELECT snapshot_id, loaded_at FROM prism_snapshot")[0]
    assert live == FIRST
    assert isinstance(loaded_at, dt.datetime)


def test_money_is_numeric_in_sql_and_exact(url: str) -> None:
    """``max``, ``WHERE unit_price < 10`` and sums on the stored DECIMAL(38, 6)."""
    amounts = ("535.68", "99.99", "9.5", "0.000001", "1234.5678", "12.34567", "7.123456", "10")
    prices = price_tiers(*(tier("A1", a, min_quantity=i + 1) for i, a in enumerate(amounts)))
    load(url, FIRST, product("A1"), prices=prices)
    activate_portal_snapshot(url, FIRST)
    exact = sorted(Decimal(a) for a in amounts)
    assert query(url, "SELECT max(unit_price), min(unit_price) FROM prices") == [
        (Decimal("1234.5678"), Decimal("0.000001"))
    ]
    cheap = query(url, "SELECT unit_price FROM prices WHERE unit_price < 10 ORDER BY 1")
    assert [row[0] for row in cheap] == [Decimal("0.000001"), Decimal("7.123456"), Decimal("9.5")]
    assert query(url, "SELECT sum(unit_price) FROM prices") == [(sum(exact),)]
    assert query(url, "SELECT typeof(unit_price) FROM prices LIMIT 1") == [("DECIMAL(38,6)",)]


def test_customers_get_their_effective_prices(url: str) -> None:
    """The same rule as the SQL portals: a customer's own tiers, else its group's, else the
    list's, never mixed per sku and currency."""
    customers = [
        {"id": "C1000", "name": "Baumarkt Nord", "group": "retail"},
        {"id": "C9", "name": "Einzelkunde"},
    ]
    prices = price_tiers(
        tier("A1", "9.50"),
        tier("A1", "0.000001", price_type="group", customer_group="retail", min_quantity=10),
        tier("B2", "19.999999"),
        tier("B2", "1.5", price_type="customer", customer_id="C1000"),
    )
    counts = load(
        url, FIRST, *products_of("A1", "B2"), prices=prices, customers=customers,
        price_types=["list", "group", "customer"],
    )  # fmt: skip
    assert (counts["customers"], counts["effective_prices"]) == (2, 4)
    activate_portal_snapshot(url, FIRST)
    assert query(url, "SELECT customer_id, customer_group FROM customers ORDER BY 1") == [
        ("C1000", "retail"),
        ("C9", None),
    ]
    found = query(
        url,
        "SELECT customer_id, sku, min_quantity, unit_price, price_type FROM effective_prices "
        "ORDER BY customer_id, sku, min_quantity",
    )
    assert found == [
        ("C1000", "A1", 10, Decimal("0.000001"), "group"),
        ("C1000", "B2", 1, Decimal("1.5"), "customer"),
        ("C9", "A1", 1, Decimal("9.5"), "list"),
        ("C9", "B2", 1, Decimal("19.999999"), "list"),
    ]


def test_a_duplicate_sku_or_a_missing_price_fails_the_load_with_nothing_left(url: str) -> None:
    publish(url, FIRST, "A1")
    before = files(url)
    frame = golden_products(product("A1")).select("sku", *AVAILABILITY_COLUMNS)
    with pytest.raises(
        PortalError,
        match=rf"loading portal snapshot {SECOND} failed: products: sku not unique, e.g. \['A1'\]",
    ):
        load_portal_snapshot(url, pl.concat([frame, frame]), tiers(), SECOND)
    broken = tiers().with_columns(
        unit_price=pl.when(pl.col("price_type") == "group").then(None).otherwise("unit_price")
    )
    with pytest.raises(
        PortalError, match=f"loading portal snapshot {SECOND} failed: prices.unit_price: 1 row"
    ):
        load(url, SECOND, *products_of("A1", "B2"), prices=broken)
    assert files(url) == before
    assert live_portal_snapshot(url) == FIRST
    assert skus(url) == ["A1"]
    with pytest.raises(PortalError, match="not loaded"):
        activate_portal_snapshot(url, SECOND)
    with pytest.raises(PortalError, match="is live"):
        load(url, FIRST, *products_of("A1"))


def test_readers_in_other_processes_never_block_a_publish(url: str, tmp_path: Path) -> None:
    """DuckDB lets one process write a file or many read it: a reader holding the live file
    open does not stop the next snapshot from loading and going live; it keeps seeing the
    snapshot it opened, and a new connection sees the new one."""
    publish(url, FIRST, "A1")
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import duckdb, pathlib, sys
        conn = duckdb.connect({str(live_file(url))!r}, read_only=True)
        pathlib.Path({str(ready)!r}).write_text("open")
        sys.stdin.readline()
        print(conn.execute("SELECT string_agg(sku, ',' ORDER BY sku) FROM products").fetchone()[0])
        print(conn.execute("SELECT snapshot_id FROM prism_snapshot").fetchone()[0])
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as reader:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert reader.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.02)
        publish(url, SECOND, "A1", "B2")
        assert skus(url) == ["A1", "B2"]
        out, _ = reader.communicate("go\n", timeout=30)
    assert out.split() == ["A1", FIRST]
    assert drop_portal_snapshots(url, keep=[]) == [FIRST]


def test_compare_and_swap_and_deactivation(url: str) -> None:
    publish(url, FIRST, "A1")
    load(url, SECOND, *products_of("B2"))
    with pytest.raises(LiveSnapshotMoved, match=f"live snapshot is {FIRST}, expected nothing"):
        activate_portal_snapshot(url, SECOND, expected=None)
    assert live_portal_snapshot(url) == FIRST
    activate_portal_snapshot(url, SECOND, expected=FIRST)
    with pytest.raises(LiveSnapshotMoved):
        deactivate_portal(url, expected=FIRST)
    deactivate_portal(url, expected=SECOND)
    assert live_portal_snapshot(url) is None
    assert not live_file(url).is_symlink()
    activate_portal_snapshot(url, FIRST, expected=ANY)  # a rollback restores a known state
    assert skus(url) == ["A1"]


def test_old_snapshots_are_deleted_but_never_the_live_one(url: str, tmp_path: Path) -> None:
    publish(url, FIRST, "A1")
    publish(url, SECOND, "B2")
    load(url, THIRD, *products_of("C3"))
    assert drop_portal_snapshots(url, keep=[THIRD]) == [FIRST]
    assert drop_portal_snapshots(url, keep=[]) == [THIRD]
    assert files(url) == [f"{SECOND}.duckdb"]
    assert skus(url) == ["B2"]
    missing = tmp_path / "none" / "portal.duckdb"
    assert live_portal_snapshot(f"duckdb:///{missing}") is None
    assert drop_portal_snapshots(f"duckdb:///{missing}", keep=[]) == []
    assert not missing.parent.exists()


def test_a_file_in_place_of_the_link_is_refused(url: str) -> None:
    path = live_file(url)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"someone else's database")
    with pytest.raises(PortalError, match="is not a link to a portal snapshot"):
        load(url, FIRST, *products_of("A1"))
    assert path.read_bytes() == b"someone else's database"
    for bad in ("duckdb://", "duckdb:///:memory:"):
        with pytest.raises(PortalError, match="needs a file path"):
            live_portal_snapshot(bad)


def _load_in_child(url: str, fault: str) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(REPO)!r}, {str(REPO / "tests")!r}]
        from portals import load, products_of
        load({url!r}, {SECOND!r}, *products_of("A1", "B2"))
        """
    )
    env = {**os.environ, VARIABLE: fault}
    return subprocess.Popen([sys.executable, "-c", script], env=env, text=True)


def test_a_load_killed_half_way_leaves_the_live_snapshot_and_is_cleaned_up(url: str) -> None:
    publish(url, FIRST, "A1")
    child = _load_in_child(url, "portal.duckdb_tables_loaded:kill")
    assert child.wait(timeout=120) == -9
    assert live_portal_snapshot(url) == FIRST
    assert f"{SECOND}.duckdb" not in files(url)
    assert any(name.endswith(".partial") for name in files(url))
    with pytest.raises(PortalError, match="not loaded"):
        activate_portal_snapshot(url, SECOND)
    assert drop_portal_snapshots(url, keep=[]) == []
    assert files(url) == [f"{FIRST}.duckdb"]
    assert skus(url) == ["A1"]


def test_cleanup_leaves_a_load_that_is_still_writing_alone(url: str, tmp_path: Path) -> None:
    publish(url, FIRST, "A1")
    go = tmp_path / "go"
    child = _load_in_child(url, f"portal.duckdb_tables_loaded:pause:{go}")
    try:
        reached = Path(f"{go}.reached")
        deadline = time.monotonic() + 120
        while not reached.exists():
            assert child.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert drop_portal_snapshots(url, keep=[]) == []
        assert any(name.endswith(".partial") for name in files(url))
    finally:
        go.touch()
        assert child.wait(timeout=120) == 0
    activate_portal_snapshot(url, SECOND, expected=FIRST)
    assert skus(url) == ["A1", "B2"]
    assert files(url) == [f"{FIRST}.duckdb", f"{SECOND}.duckdb"]


def test_a_snapshot_reads_back_as_loaded_and_a_deleted_one_is_no_table(url: str) -> None:
    golden = golden_products(*products_of("A1", "B2", "C3"))
    products = golden.select("sku", "family", *AVAILABILITY_COLUMNS)
    load_portal_snapshot(url, products, tiers(), FIRST)
    polars.testing.assert_frame_equal(read_portal_snapshot(url, "products", FIRST), products)
    prices = read_portal_snapshot(url, "prices", FIRST)
    assert prices.schema["unit_price"] == pl.Decimal(38, 6)
    assert prices.height == tiers().height
    with pytest.raises(sa.exc.NoSuchTableError, match="products"):
        read_portal_snapshot(url, "products", SECOND)


def test_parts_load_the_same_tables_as_one_frame(url: str, tmp_path: Path) -> None:
    golden = golden_products(*products_of("A1", "B2", "C3", "D4", "E5"))
    products = golden.select("sku", "family", *AVAILABILITY_COLUMNS)
    parts = []
    for index, part in enumerate(products.iter_slices(2)):
        path = tmp_path / f"part-{index}.parquet"
        part.write_parquet(path)
        parts.append(path)
    load_portal_snapshot(url, parts, tiers(), FIRST)
    load_portal_snapshot(url, products, tiers(), SECOND)
    polars.testing.assert_frame_equal(
        read_portal_snapshot(url, "products", FIRST), read_portal_snapshot(url, "products", SECOND)
    )


@pytest.fixture(autouse=True)
def _no_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)


def test_a_column_without_values_is_text_and_float_money_exact(url: str) -> None:
    products = golden_products(*products_of("A1", "B2")).select("sku", *AVAILABILITY_COLUMNS)
    products = products.with_columns(note=pl.lit(None), weight=pl.Series([0.1, 2.5]))
    load_portal_snapshot(url, products, tiers(), FIRST)
    activate_portal_snapshot(url, FIRST)
    types = dict(query(url, "SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'products'"))  # fmt: skip
    assert (types["note"], types["weight"]) == ("VARCHAR", "DECIMAL(38,6)")
    assert query(url, "SELECT weight FROM products ORDER BY sku") == [
        (Decimal("0.1"),),
        (Decimal("2.5"),),
    ]


def test_the_snapshot_comparison_reads_duckdb_portals(url: str, tmp_path: Path) -> None:
    """``bench/compare_snapshots.py`` (what the benches prove incremental == full with)
    compares two DuckDB portals' live files, their publish stamps masked."""
    other = f"duckdb:///{tmp_path / 'other' / 'portal.duckdb'}"
    publish(url, FIRST, "A1", "B2")
    publish(other, SECOND, "A1", "B2")
    empty = tmp_path / "snapshot"
    empty.mkdir()

    def compare(right: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(REPO / "bench" / "compare_snapshots.py"), str(empty)]
        command += [str(empty), "--portal", str(live_file(url)), right]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    same = compare(str(live_file(other)))
    assert same.returncode == 0, same.stdout
    assert "equal     portal/products: 2 rows" in same.stdout
    publish(other, THIRD, "A1")
    differs = compare(other)
    assert differs.returncode == 1
    assert "DIFFERENT portal/products: 2 vs 1 rows" in differs.stdout
