"""``pull_erp_snapshot``: fetch the entity sets (prices, stock, products and, with a customer
sales area, the customer master), map them, merge a delta over the previous snapshot and commit
a new snapshot folder and its high-water marks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from contracts.config import SapSource
from sources.sap.client import BasicAuth, BearerAuth, ODataClient
from sources.sap.edm import Record, parse_date, plain
from sources.sap.mapping import PRICE_KEY, map_customers, map_prices, map_stock, map_supply
from sources.sap.queries import (
    customer_area_query,
    customer_query,
    price_query,
    stock_query,
    supply_query,
)
from sources.sap.snapshot import Row, Tables, commit_snapshot, load_state, read_table, save_state
from sources.secrets import logger

log = logger(__name__)


@dataclass(frozen=True)
class PullResult:
    """What one pull wrote; ``records`` counts top-level SAP entities fetched."""

    snapshot: Path
    full: bool
    prices: int
    stock: int
    supply: int
    records: int
    skipped_conditions: int
    unmapped_plants: dict[str, Decimal]
    seconds: float
    customers: int | None = None
    """customer master rows written; None = not pulled (no ``customer_sales_area``)"""

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.inf


@dataclass
class Fetched:
    prices: list[Record]
    stock: list[Record]
    products: list[Record]
    customer_areas: list[Record] | None = None
    customers: list[Record] | None = None

    @property
    def count(self) -> int:
        parts = (self.prices, self.stock, self.products, self.customer_areas, self.customers)
        return sum(len(records or ()) for records in parts)


def pull_erp_snapshot(
    settings: SapSource,
    auth: BasicAuth | BearerAuth,
    full: bool = False,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull SAP into a new snapshot folder ``<settings.root>/<now:%Y%m%dT%H%M%SZ>`` (atomic).

    Incremental unless ``full`` or there is no usable previous state; see the package docstring
    (``sources.sap``).
    """
    started = time.perf_counter()
    root = settings.root
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    root.mkdir(parents=True, exist_ok=True)
    state = {} if full else load_state(root)
    previous = root / state["snapshot"] if state.get("snapshot") else None
    incremental = previous is not None and previous.is_dir()
    if not full and not incremental:
        log.info("sap: no previous snapshot state in %s; pulling in full", root)
    marks = state.get("marks", {}) if incremental else {}
    fetched = _fetch(settings, auth, client, marks, sleep)
    tables, skipped, unmapped = _tables(fetched, settings, previous if incremental else None)
    name = f"{moment:%Y%m%dT%H%M%SZ}"
    target = commit_snapshot(root, name, tables, settings.file_format)
    save_state(root, {"snapshot": name, "marks": _advance(marks, fetched)})
    counts = (len(tables.prices), len(tables.stock), len(tables.supply))
    seconds = time.perf_counter() - started
    result = PullResult(
        target,
        not incremental,
        *counts,
        fetched.count,
        skipped,
        unmapped,
        seconds,
        None if tables.customers is None else len(tables.customers),
    )
    log.info(
        "sap: wrote %s (%s): %s price/stock/supply rows, %s customers; %d records in %.1f s"
        " (%.0f/s)",
        target,
        "full" if result.full else "delta",
        counts,
        "no" if result.customers is None else result.customers,
        result.records,
        result.seconds,
        result.records_per_second,
    )
    return result


def _fetch(
    settings: SapSource,
    auth: BasicAuth | BearerAuth,
    client: httpx.Client | None,
    marks: dict[str, str],
    sleep: Callable[[float], None],
) -> Fetched:
    """The entity sets, concurrently (requests in flight bounded by ``concurrency``); the
    customer master (sales area + A_Customer) is read whole on every pull: no change date."""
    own = client is None
    http = client or httpx.Client(
        timeout=settings.timeout, limits=httpx.Limits(max_connections=settings.concurrency)
    )
    queries = [
        price_query(settings, _mark(marks, "prices")),
        stock_query(),
        supply_query(_mark(marks, "supply")),
    ]
    if settings.customer_sales_area is not None:
        queries += [customer_area_query(settings), customer_query()]
    try:
        with (
            ODataClient(settings, auth, http, sleep) as odata,
            ThreadPoolExecutor(len(queries)) as pool,
        ):
            results = list(pool.map(odata.fetch_all, queries))
    finally:
        if own:
            http.close()
    return Fetched(*results)


def _mark(marks: dict[str, str], name: str) -> datetime | None:
    return datetime.fromisoformat(marks[name]) if marks.get(name) else None


def _advance(marks: dict[str, str], fetched: Fetched) -> dict[str, str]:
    """New high-water marks: the newest change the server reported (its clock, not ours)."""
    advanced = dict(marks)
    for name, records, prop in (
        ("prices", fetched.prices, "CreationDate"),
        ("supply", fetched.products, "LastChangeDateTime"),
    ):
        seen = [parse_date(r[prop], prop) for r in records if r.get(prop) is not None]
        old = _mark(marks, name)
        newest = max([*seen, *([old] if old else [])], default=None)
        if newest is not None:
            advanced[name] = newest.isoformat()
    return advanced


def _tables(
    fetched: Fetched, settings: SapSource, previous: Path | None
) -> tuple[Tables, int, dict[str, Decimal]]:
    prices, touched, skipped = map_prices(fetched.prices, settings)
    stock, unmapped = map_stock(fetched.stock, settings.plants)
    supply = map_supply(fetched.products, settings.plants)
    for plant, quantity in sorted(unmapped.items()):
        log.warning(
            "sap: plant %s is not mapped to a warehouse; %s units left out", plant, plain(quantity)
        )
    if skipped:
        log.info("sap: %d condition records of unmapped type/table skipped", skipped)
    if previous is not None:
        prices = [
            r for r in read_table(previous, "prices") if _price_key(r) not in touched
        ] + prices
        changed = {product["Product"] for product in fetched.products}
        supply = [r for r in read_table(previous, "supply") if r["sku"] not in changed] + supply
    customers = None
    if fetched.customer_areas is not None:
        customers = map_customers(
            fetched.customer_areas, fetched.customers or [], settings.group_field
        )
    return Tables(prices, stock, supply, customers), skipped, unmapped


def _price_key(row: Row) -> tuple[str, ...]:
    return tuple(row[column] for column in PRICE_KEY)
