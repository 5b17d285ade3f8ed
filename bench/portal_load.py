"""Time the portal load: N products and ~3.7 tiers each into a fresh portal database.

Builds synthetic frames with the schemas the ``sql`` format's writer hands to
``sinks.portal_sql.load_portal_snapshot`` (the ``portal`` preset's fields, the shipped
prism.yaml's extra fields, the availability columns; ``PRICE_TIERS_SCHEMA`` tiers in EUR and
USD: list prices, two customer groups at quantity breaks 1/10/100, two customers) and, as the
shipped prism.yaml's portal has them, two customers (one per group) with their effective prices
(``sinks.formats.portal.effective_prices`` with ``golden.pricing.effective_tiers``, timed), then
times load (tables, availability, keys and indexes) and activation, per database, ``--runs``
times each, and prints the seconds (median too) and the process's peak RSS.

    .venv/bin/python bench/portal_load.py                         # 1M products, every database
    .venv/bin/python bench/portal_load.py --products 100000 --database sqlite --runs 3
    .venv/bin/python bench/portal_load.py --customers 0           # no customers (before 2026-12-06)
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.customers import Customer
from contracts.golden import MONEY, PRICE_TIERS_SCHEMA
from golden.pricing import effective_tiers
from sinks.formats.portal import effective_prices
from sinks.portal_sql import activate_portal_snapshot, load_portal_snapshot

log = logging.getLogger("bench.portal_load")

POSTGRES = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SNAPSHOTS = ("20261201T120000Z-0000000{}".format, "20261202T120000Z-0000000{}".format)
_ASSORTMENT = ("screws", "garden", "tshirts", "shoes", "jackets", "tools", "lamps")
_BRANDS = ("Nordlicht", "Acme", "Bergwerk", "Kiefer & Söhne")
CUSTOMERS = (
    Customer(id="C1000", group="retail", name="Baumarkt Nord GmbH"),
    Customer(id="C2000", group="wholesale", name="Industriebedarf Süd AG"),
)
"""The shipped prism.yaml's portal customers."""


def products_frame(count: int) -> pl.DataFrame:
    """``count`` portal products as the ``sql`` writer passes them (sorted by sku)."""
    n = pl.int_range(count, dtype=pl.Int64)
    sku = pl.format("P{}", n.cast(pl.String).str.zfill(8))
    family = _pick(_ASSORTMENT, n)
    brand = _pick(_BRANDS, n // 7)
    variant = n % 4 != 0
    name = pl.format("{} {} Classic {}", brand, family, n % 9973)
    frame = pl.select(
        sku=sku,
        item_group=pl.when(variant).then(pl.format("G{}", n // 4)),
        parent=pl.when(variant).then(pl.format("G{}-{}", n // 4, n % 2)),
        family=family,
        name=name,
        description=pl.format("{}. Ökologisch hergestellt, 100 % recycelbar.", name),
        brand=brand,
        gtin=pl.format("4{}", n.cast(pl.String).str.zfill(12)),
        color=pl.when(variant).then(_pick(("rot", "blau", "weiß"), n)),
        size=pl.when(variant).then(_pick(("S", "M", "L", "XL"), n)),
        category_path=pl.format("Hauptkatalog > {} > Unterkategorie {}", family, n % 97),
        image_url=pl.format("https://media.example.com/{}/{}.jpg", (n * 7919) % 100_003, sku),
        weight=((n * 37) % 50_000 + 1).cast(MONEY) / 1000,
        warranty_years=pl.when(n % 3 == 0).then(pl.lit(2).cast(MONEY)),
        release_date=pl.when(n % 2 == 0).then(pl.date(2025, 1, 1) + pl.duration(days=n % 700)),
        available_qty=(n * 13) % 500,
        availability=_pick(("in_stock", "in_stock", "backorder", "out_of_stock"), n),
        availability_date=pl.when(n % 4 == 2).then(pl.date(2026, 12, 1) + pl.duration(days=n % 60)),
        availability_estimated=pl.when(n % 4 == 2).then(n % 8 == 2),
        lead_time_days=pl.when(n % 4 == 2).then(n % 30),
    )
    return frame.with_columns(pl.col(MONEY).cast(MONEY))


def tiers_frame(products: pl.DataFrame) -> pl.DataFrame:
    """~3.7 tiers per product: list prices in EUR and USD for every product, group tiers
    (1/10/100) for a third, customer prices for a few (``PRICE_TIERS_SCHEMA``)."""
    sku = products.select("sku", n=pl.int_range(pl.len(), dtype=pl.Int64))
    base = pl.col("n") * 7919 % 53_000 + 24  # cents, 0.24 .. 530.24
    parts = [
        _tiers(sku, "list", None, None, "EUR", 1, base),
        _tiers(sku, "list", None, None, "USD", 1, base * 108 / 100),
    ]
    grouped = sku.filter(pl.col("n") % 3 == 0)
    for quantity, off in ((1, 95), (10, 90), (100, 85)):
        parts.append(_tiers(grouped, "group", "wholesale", None, "EUR", quantity, base * off / 100))
    parts.append(_tiers(grouped, "group", "retail", None, "USD", 1, base * 99 / 100))
    quarter = sku.filter(pl.col("n") % 4 == 0)
    parts.append(_tiers(quarter, "group", "retail", None, "USD", 10, base * 97 / 100))
    few = sku.filter(pl.col("n") % 17 == 0)
    parts.append(_tiers(few, "customer", None, "C1000", "EUR", 1, base * 8 / 10))
    parts.append(_tiers(few, "customer", None, "C2000", "EUR", 1, base * 77 / 100))
    return pl.concat(parts).sort("sku", "currency", "price_type", "min_quantity")


def _tiers(
    sku: pl.DataFrame,
    price_type: str,
    group: str | None,
    customer: str | None,
    currency: str,
    quantity: int,
    cents: pl.Expr,
) -> pl.DataFrame:
    return sku.select(
        "sku",
        price_type=pl.lit(price_type),
        customer_group=pl.lit(group, dtype=pl.String),
        customer_id=pl.lit(customer, dtype=pl.String),
        currency=pl.lit(currency),
        min_quantity=pl.lit(quantity, dtype=pl.Int64),
        unit_price=(cents.cast(pl.Int64).cast(MONEY) / 100).cast(MONEY),
        valid_from=pl.date(2026, 1, 1),
        valid_to=pl.when(pl.col("n") % 5 == 0).then(pl.date(2026, 12, 31)),
        erp_source=pl.format("prices.csv:{}", pl.col("n") + 2),
    ).cast(dict(PRICE_TIERS_SCHEMA))  # type: ignore[arg-type]


def _pick(values: tuple[str, ...], n: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).get(n % len(values))


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty portal database of ``kind`` (a SQLite file, a DuckDB portal's folder, a
    PostgreSQL schema)."""
    if kind == "duckdb":
        place = folder / f"portal-{secrets.token_hex(4)}"
        place.mkdir()
        try:
            yield f"duckdb:///{place / 'portal.duckdb'}"
        finally:
            shutil.rmtree(place)
        return
    if kind == "sqlite":
        path = folder / f"portal-{secrets.token_hex(4)}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in folder.glob(f"{path.name}*"):
                leftover.unlink()
        return
    schema = f"prism_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES)
    try:
        with admin.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()


class Tables:
    """One snapshot's rows as the ``sql`` writer hands them to the load."""

    def __init__(self, count: int, customers: int) -> None:
        self.products = products_frame(count)
        self.tiers = tiers_frame(self.products)
        chosen = CUSTOMERS[:customers]
        rows = [(c.id, c.group, c.name) for c in chosen]
        self.customers = pl.DataFrame(
            rows, schema=["customer_id", "customer_group", "name"], orient="row"
        )
        started = time.perf_counter()
        self.effective = effective_prices(self.tiers, chosen, effective_tiers) if chosen else None
        self.effective_seconds = time.perf_counter() - started

    def load(self, url: str, snapshot_id: str) -> None:
        load_portal_snapshot(
            url,
            self.products,
            self.tiers,
            snapshot_id,
            customers=self.customers,
            effective_prices=self.effective,
        )


def measure(kind: str, tables: Tables, folder: Path) -> dict[str, float]:
    """Seconds of one load and one activation into a fresh database, then of a second snapshot
    loaded and activated next to the first (what a daily publish does)."""
    seconds: dict[str, float] = {}
    with database(kind, folder) as url:
        for round_, snapshot in enumerate(SNAPSHOTS):
            snapshot_id = snapshot(round_ + 1)
            started = time.perf_counter()
            tables.load(url, snapshot_id)
            loaded = time.perf_counter()
            activate_portal_snapshot(url, snapshot_id)
            done = time.perf_counter()
            label = "first" if round_ == 0 else "second"
            seconds[f"{label} load"] = loaded - started
            seconds[f"{label} activate"] = done - loaded
            seconds[f"{label} total"] = done - started
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument(
        "--database", choices=("duckdb", "sqlite", "postgresql", "all"), default="all"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, choices=range(len(CUSTOMERS) + 1), default=2)
    parser.add_argument("--folder", type=Path, default=None, help="where SQLite files go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("sinks.portal_sql").setLevel(logging.WARNING)
    tables = Tables(args.products, args.customers)
    effective = 0 if tables.effective is None else tables.effective.height
    log.info(
        "%d products, %d tiers, %d effective prices (%.2f s); load average %s",
        tables.products.height,
        tables.tiers.height,
        effective,
        tables.effective_seconds,
        _load(),
    )
    kinds = ("duckdb", "sqlite", "postgresql") if args.database == "all" else (args.database,)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for kind in kinds:
            runs = [measure(kind, tables, Path(folder)) for _ in range(args.runs)]
            for key in runs[0]:
                values = [run[key] for run in runs]
                shown = " ".join(f"{v:6.2f}" for v in values)
                log.info(
                    "%-10s %-16s median %6.2f s  (runs: %s)",
                    kind,
                    key,
                    statistics.median(values),
                    shown,
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    log.info("peak RSS %.2f GiB (this process); load average %s", peak, _load())
    return 0


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
