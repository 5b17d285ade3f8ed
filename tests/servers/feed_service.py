"""A publish directory written with the real SnapshotStore (optionally with price data, as the
price channel ``b2b`` would publish it), and ``prism serve``'s app run by uvicorn on 127.0.0.1
(a free port) in a background thread."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import uvicorn
from factories import price_tiers, tier
from starlette.applications import Starlette

from contracts.config import ServeConfig
from contracts.customers import Customer
from contracts.snapshots import FeedFile, Manifest
from serving.app import Service, create_app
from sinks.price_data import write_price_data
from sinks.snapshot_store import SnapshotStore

FIRST = "20261122T195600Z-00000001"
SECOND = "20261123T195600Z-00000002"
SHOP_TOKEN = "shop-secret-token"
B2B_TOKEN = "b2b-secret-token"
CHANNELS = ["shop", "b2b"]
CUSTOMERS = (
    Customer(id="C1", name="Baumarkt Nord", group="retail"),
    Customer(id="C2", name="Industrie Süd", group="wholesale"),
    Customer(id="C3", name="Einzelkunde"),
)
"""The price channel b2b's customers: C1 has own and group prices, C2 own ones from 5 pieces
up, C3 no group (list prices only)."""


def availability() -> pl.DataFrame:
    """The b2b channel's products: A1 and D4 in stock, B2 on backorder, C3 sold out."""
    return pl.DataFrame(
        {
            "sku": ["A1", "B2", "C3", "D4"],
            "availability": ["in_stock", "backorder", "out_of_stock", "in_stock"],
            "availability_date": [None, dt.date(2026, 12, 24), None, None],
            "availability_estimated": [False, True, None, False],
        }
    )


def b2b_tiers(offset: Decimal = Decimal(0)) -> pl.DataFrame:
    """The b2b channel's tiers (every price raised by ``offset``): C3 has none, D4 only USD."""
    until = dt.date(2026, 12, 31)
    rows = [
        ("A1", "10", 1, {}),
        ("A1", "9.5", 10, {}),
        ("A1", "9", 100, {}),
        ("A1", "9.7", 1, {"price_type": "group", "customer_group": "retail"}),
        ("A1", "9.2", 50, {"price_type": "group", "customer_group": "retail"}),
        ("A1", "9.1", 1, {"price_type": "customer", "customer_id": "C1", "valid_to": until}),
        ("A1", "11", 1, {"currency": "USD"}),
        ("B2", "5.123456", 1, {}),
        ("B2", "4", 5, {"price_type": "customer", "customer_id": "C2"}),
        ("D4", "3", 1, {"currency": "USD"}),
    ]
    return price_tiers(
        *(tier(s, str(Decimal(a) + offset), min_quantity=q, **o) for s, a, q, o in rows)
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def feed_text(snapshot_id: str, lines: int = 2000) -> str:
    """A CSV feed naming its snapshot on every line (big enough to stream in many chunks)."""
    return "sku,snapshot\n" + "".join(f"SKU-{i:06d},{snapshot_id}\n" for i in range(lines))


def publish(
    store: SnapshotStore,
    snapshot_id: str,
    *,
    lines: int = 2000,
    delta_of: str | None = None,
    activate: bool = True,
    prices: Decimal | None = None,
) -> Manifest:
    """Stage, seal and (optionally) activate a snapshot: shop and b2b feeds, a delta for shop
    when ``delta_of`` is given, and a baseline file only operators see; with ``prices`` also
    the price data of the price channel b2b (``b2b_tiers(prices)``)."""
    files = []
    if prices is not None:
        staging = store.staging_dir(snapshot_id)
        files += write_price_data(
            staging, "b2b", ("EUR", "USD"), CUSTOMERS, availability(), b2b_tiers(prices)
        )
    for channel in CHANNELS:
        folder = store.channel_dir(snapshot_id, channel)
        (folder / "products.csv").write_text(feed_text(snapshot_id, lines), encoding="utf-8")
        files.append(FeedFile(channel, f"{channel}/products.csv", lines))
    (store.staging_dir(snapshot_id) / "b2b" / "prices.csv").write_text("sku,price\n", "utf-8")
    files.append(FeedFile("b2b", "b2b/prices.csv", 0))
    if delta_of is not None:
        delta = store.staging_dir(snapshot_id) / "shop" / "delta.csv"
        delta.write_text(f"sku,change\nSKU-000001,changed since {delta_of}\n", "utf-8")
        files.append(FeedFile("shop", "shop/delta.csv", 1, kind="delta"))
    (store.staging_dir(snapshot_id) / "baseline.txt").write_text("baseline", "utf-8")
    files.append(FeedFile("*", "baseline.txt", 0, kind="baseline"))
    manifest = Manifest(
        snapshot_id=snapshot_id,
        as_of="2026-11-22",
        created_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC).isoformat(),
        sources={"pim": "p1", "erp": "e1"},
        files=files,
        channels=dict.fromkeys(CHANNELS, lines),
        delta_of=delta_of,
    )
    sealed = store.seal(manifest)
    if activate:
        store.activate(snapshot_id)
    return sealed


def serve_config(**extra: object) -> ServeConfig:
    return ServeConfig.model_validate(
        {
            "poll_seconds": 3600,  # tests switch with service.snapshots.refresh()
            "channels": {
                "shop": {"token_sha256": [sha(SHOP_TOKEN)]},
                "b2b": {"token_env": ["PRISM_B2B_TOKEN"]},
            },
            **extra,
        }
    )


@dataclass(frozen=True)
class Running:
    url: str
    service: Service


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Yield ``http://127.0.0.1:<port>`` while uvicorn serves ``app`` in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "uvicorn did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def feed_service(
    root: Path, config: ServeConfig | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Running]:
    app = create_app(
        root, config or serve_config(), CHANNELS, env or {"PRISM_B2B_TOKEN": B2B_TOKEN}
    )
    with running(app) as url:
        yield Running(url, app.state.service)
