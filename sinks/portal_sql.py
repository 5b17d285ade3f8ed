"""B2B portal tables in a SQL database (SQLite file or PostgreSQL), swapped atomically per snapshot;
a ``duckdb:///`` URL is a DuckDB portal of one file per snapshot (``sinks.portal_duckdb``),
behind the same functions.

Each snapshot is bulk-loaded into its own tables ``products__<s>``, ``prices__<s>``,
``customers__<s>`` and ``effective_prices__<s>`` (``<s>`` is the snapshot id lower-cased with
``-`` -> ``_``). The products table's columns are the channel's mapping
(``sinks.formats.portal``) plus the availability columns; the others have fixed columns:
``prices`` every tier the portal carries, ``customers`` the channel's customers with their
price group, ``effective_prices`` each of those customers' own tier set per sku and currency
(resolved by ``golden.pricing.effective_tiers``, the rule BMEcat and the price API use, so no
portal has to re-implement it). Portal readers only ever query the views ``products``,
``prices``, ``availability`` (``sku`` and the availability columns of the products table),
``customers``, ``effective_prices`` and the one-row table ``prism_snapshot`` (the live
snapshot id); activation re-points all of them in ONE transaction, so a reader sees the old
snapshot or the new one, never a mix or a half load. A snapshot loaded before customers and
effective prices existed activates with both views empty.

Money and decimals (``unit_price``, ``weight``, every decimal field) are exact and numeric:

- PostgreSQL: ``NUMERIC(38, 6)``, the golden record's ``Decimal(38, 6)``.
- SQLite: the snapshot table stores integer micro-units, ``<name>_micros`` (``BIGINT``: the
  value times 10^6, the golden record's 6 decimals; sums and comparisons on it are exact
  integer arithmetic). The views expose ``<name>`` = ``<name>_micros / 1000000.0``, a REAL
  that sorts, filters and aggregates numerically (``max(unit_price)``,
  ``WHERE unit_price < 10``), and ``<name>_micros`` next to it. SQLite accepts values up to
  +-999,999,999.999999 (15 significant digits), so the REAL is the exact decimal too:
  ``Decimal(repr(value))`` gives it back (``Decimal(micros).scaleb(-6)`` in every case); a
  larger value refuses the load (use PostgreSQL). :func:`portal_table` reads ``Decimal`` on
  both databases.

Dates are ``DATE`` on PostgreSQL and ISO ``YYYY-MM-DD`` text on SQLite.

Keys: ``products`` has the primary key ``sku``, ``customers`` ``customer_id`` and
``effective_prices`` ``(customer_id, currency, sku, min_quantity)`` (one price per customer,
sku, currency and quantity break; SQLite: unique indexes on the NOT NULL columns, since SQLite
cannot add a primary key to a loaded table); ``prices`` is indexed for the portal's lookups:
``(sku, currency, min_quantity)``, ``(customer_group, currency, sku, min_quantity)`` and
``(customer_id, currency, sku, min_quantity)`` (the last two partial: rows with a group or a
customer). They are built after the bulk load (one sort instead of a b-tree insert per row),
inside the load's transaction.

Loading is bulk and in ONE transaction with the keys: PostgreSQL ``COPY ... FROM STDIN (FORMAT
csv)`` fed with polars-written CSV; SQLite through ADBC's bulk ingest from Arrow, in a child
process (``sinks.sqlite_ingest``: the driver's SQLite library must not share a process with
Python's ``sqlite3`` on one file). A failed load leaves no tables behind. Reading a snapshot's
table back (``read_portal_snapshot``, what the portal delta compares) goes the same way out on
SQLite: a child process (``sinks.sqlite_export``) streams it as Arrow.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite as sqlite_dialects
from sqlalchemy.dialects.sqlite import base as sqlite_dialect
from sqlalchemy.engine import Connection, Dialect, Engine

from contracts.golden import MONEY
from contracts.snapshots import check_snapshot_id
from sinks import portal_duckdb
from sinks.portal_errors import PortalError, moved

log = logging.getLogger(__name__)

VIEWS = ("products", "prices", "availability", "customers", "effective_prices")
TABLES = ("products", "prices", "customers", "effective_prices")
"""The views with a table of their own per snapshot (``availability`` reads ``products``)."""
REQUIRED = ("products", "prices")
"""The tables every loaded snapshot has (older ones have no customers or effective prices)."""
LIVE_TABLE = "prism_snapshot"
CHUNK_ROWS = 100_000
BATCH_BYTES = 8 * 1024 * 1024
"""SQLite: bytes per Arrow batch sent to the ingest process. Small enough that the receiving
buffers are reused (a 50 MB read costs three times the kernel time of 8 MB reads: each large
buffer is fresh memory), large enough that per-batch work is negligible."""
_ARROW = pl.CompatLevel.newest()
"""Arrow as polars holds it (string views), which ADBC's SQLite driver binds without a copy."""
ADVISORY_KEY = 0x5052_4953_4D00  # "PRISM": one advisory lock per database for switches
MICROS = "_micros"
"""Suffix of SQLite's stored money columns (integer micro-units)."""
SCALE = 1_000_000
SQLITE_MAX_MONEY = Decimal("999999999.999999")
"""The largest magnitude SQLite holds: 15 significant digits, so the views' REAL is exact."""
_MICRO = Decimal("0.000001")
SQLITE_PAGE_SIZE = 32768
"""Bytes per page of a new SQLite portal file (SQLite's default is 4096): a bulk load writes
and checkpoints an eighth of the pages (the 1M-product load took about a fifth less CPU). A
file made before keeps its page size (SQLite changes it only by a VACUUM outside WAL)."""
_SQLITE_PRAGMAS = (
    f"PRAGMA page_size={SQLITE_PAGE_SIZE}",  # before WAL: only an empty file takes it
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-65536",
)
_INGEST = Path(__file__).with_name("sqlite_ingest.py")
_EXPORT = Path(__file__).with_name("sqlite_export.py")
EXPORT_BATCH_ROWS = 65536
"""SQLite: rows per Arrow batch read from a snapshot's table (the driver's default, 1024, makes
a message of a few hundred KiB and a chunk per message)."""
_SNAPSHOT_TABLE = re.compile(
    r"^(?P<view>products|prices|availability|customers|effective_prices)__(?P<day>\d{8})t(?P<time>\d{6})z_(?P<run>[0-9a-f]{8})$"
)


class DecimalText(sa.types.UserDefinedType[str]):
    """Money of snapshots loaded before money became numeric on SQLite: declared
    ``DECIMAL_TEXT`` (TEXT affinity); reflection maps it back to ``ExactDecimal``, so such a
    snapshot can still be activated (a rollback) and read as ``Decimal``."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "DECIMAL_TEXT"


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """Money and decimals as ``Decimal``: ``NUMERIC(38, 6)`` on PostgreSQL; on SQLite the views'
    REAL (``<name>_micros / 1000000.0``, exact up to ``SQLITE_MAX_MONEY``), read back through
    its shortest round-trip text and bound as a float (comparing with the REAL)."""

    impl = sa.Numeric(38, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float())
        return dialect.type_descriptor(sa.Numeric(38, 6, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return float(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(_MICRO)
        return Decimal(value)


sqlite_dialect.ischema_names.setdefault("DECIMAL_TEXT", ExactDecimal)

AVAILABILITY_COLUMNS = (
    "available_qty",
    "availability",
    "availability_date",
    "availability_estimated",
    "lead_time_days",
)
"""The ``availability`` view's columns besides ``sku``; the products table carries them."""


def _columns(view: str) -> list[sa.Column[Any]]:
    """The fixed columns of every view but ``products`` (whose columns are the channel's
    mapping: ``product_columns``)."""
    text, integer = sa.Text, sa.BigInteger
    if view == "customers":
        return [
            sa.Column("customer_id", text, nullable=False),
            sa.Column("customer_group", text),
            sa.Column("name", text, nullable=False),
        ]
    if view == "effective_prices":
        return [
            sa.Column("customer_id", text, nullable=False),
            sa.Column("sku", text, nullable=False),
            sa.Column("currency", text, nullable=False),
            sa.Column("min_quantity", integer, nullable=False),
            sa.Column("unit_price", ExactDecimal, nullable=False),
            sa.Column("price_type", text, nullable=False),
            sa.Column("valid_from", sa.Date),
            sa.Column("valid_to", sa.Date),
        ]
    availability: list[sa.Column[Any]] = [
        sa.Column("available_qty", integer, nullable=False),
        sa.Column("availability", text, nullable=False),
        sa.Column("availability_date", sa.Date),
        sa.Column("availability_estimated", sa.Boolean),
        sa.Column("lead_time_days", integer),
    ]
    if view == "availability":
        return [sa.Column("sku", text, nullable=False), *availability]
    if view != "prices":
        msg = f"the {view!r} view's columns come from the channel's mapping"
        raise ValueError(msg)
    return [
        sa.Column("sku", text, nullable=False),
        sa.Column("price_type", text, nullable=False),
        sa.Column("customer_group", text),
        sa.Column("customer_id", text),
        sa.Column("currency", text, nullable=False),
        sa.Column("min_quantity", integer, nullable=False),
        sa.Column("unit_price", ExactDecimal, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
    ]


def product_columns(schema: pl.Schema) -> list[sa.Column[Any]]:
    """The products view's columns for a frame of that schema (the channel's mapped fields):
    money and decimals exact (``ExactDecimal``), integers, dates and booleans typed, the rest
    text; ``sku`` is never null."""
    columns: list[sa.Column[Any]] = []
    for name, dtype in schema.items():
        kind: Any = sa.Text
        if _is_money(dtype):
            kind = ExactDecimal
        elif dtype.is_integer():
            kind = sa.BigInteger
        elif dtype == pl.Date:
            kind = sa.Date
        elif dtype == pl.Boolean:
            kind = sa.Boolean
        columns.append(sa.Column(name, kind, nullable=name != "sku"))
    return columns


def portal_table(
    view: str,
    metadata: sa.MetaData,
    snapshot_id: str | None = None,
    bind: Engine | Connection | None = None,
) -> sa.Table:
    """The typed table of a view (``snapshot_id=None``), or one snapshot's stored table.

    Readers use it to get exact ``Decimal`` and ``date`` values on every database. The
    ``products`` columns are the channel's own: they are read from the database (``bind``),
    money columns typed ``ExactDecimal`` where the database cannot tell (SQLite's REAL). With
    a SQLite ``bind`` the ``prices`` and ``effective_prices`` views also have
    ``unit_price_micros``. Stored tables are read from the database (pass ``bind``); on SQLite
    their money is ``<name>_micros``.
    """
    if snapshot_id is not None:
        if bind is None:
            msg = "a snapshot's stored table is read from the database: pass bind"
            raise ValueError(msg)
        return sa.Table(snapshot_table(view, snapshot_id), metadata, autoload_with=bind)
    sqlite = bind is not None and bind.dialect.name == "sqlite"
    if view in ("prices", "effective_prices"):
        extra = [sa.Column(f"unit_price{MICROS}", sa.BigInteger, nullable=False)] if sqlite else []
        return sa.Table(view, metadata, *_columns(view), *extra)
    if view != "products":
        return sa.Table(view, metadata, *_columns(view))
    if bind is None:
        msg = "the products table's columns are read from the database: pass bind"
        raise ValueError(msg)
    names = [c["name"] for c in sa.inspect(bind).get_columns(view)]
    money = [sa.Column(n, ExactDecimal) for n in names if sqlite and f"{n}{MICROS}" in names]
    return sa.Table(view, metadata, *money, autoload_with=bind)


def snapshot_table(view: str, snapshot_id: str) -> str:
    """``products__20261122t195600z_ab12cd34`` for view ``products`` and that snapshot."""
    suffix = check_snapshot_id(snapshot_id).lower().replace("-", "_")
    return f"{view}__{suffix}"


COPY_WORKERS = 2
"""PostgreSQL: parts copied at once, each on its own connection (and in memory)."""
Rows = pl.DataFrame | Sequence[Path]
"""A table's rows: a frame, or Parquet files of its parts (a sharded run's shards), loaded one
after the other so only one part is in memory at a time."""


def load_portal_snapshot(
    url: str,
    products: Rows,
    prices: Rows,
    snapshot_id: str,
    customers: pl.DataFrame | None = None,
    effective_prices: Rows | None = None,
) -> dict[str, int]:
    """Bulk-load one snapshot's tables with their keys (not yet visible to readers); return
    rows per view.

    ``products``: ``sku``, the channel's mapped fields and the availability columns
    (``AVAILABILITY_COLUMNS``), one row per product; ``prices``: the tiers the portal carries
    (the prices view's columns); ``customers`` and ``effective_prices`` (None: empty): the
    channel's customers and their effective tiers (those views' columns). Each but the
    customers may come in parts (``Rows``). Loading the live snapshot again is refused; a failed
    load leaves no tables behind.
    """
    check_snapshot_id(snapshot_id)
    parts = {
        "products": _parts("products", products),
        "prices": _parts("prices", prices),
        "customers": _parts("customers", customers),
        "effective_prices": _parts("effective_prices", effective_prices),
    }
    schema = parts["products"][0].schema
    missing = [c for c in ("sku", *AVAILABILITY_COLUMNS) if c not in schema]
    if missing:
        msg = f"portal products lack the columns {missing}"
        raise PortalError(msg)
    if portal_duckdb.is_duckdb(url):
        frames = {view: (part.frame() for part in found) for view, found in parts.items()}
        try:
            rows = portal_duckdb.load(url, frames, snapshot_id, _duckdb_layout())
        except Exception as error:  # as on SQL: any failure is the load's, nothing is left
            msg = f"loading portal snapshot {snapshot_id} failed: {error}"
            raise PortalError(msg) from error
        return {**rows, "availability": rows["products"]}
    with _engine(url, create=True) as engine:
        if _live(engine) == snapshot_id:
            msg = f"portal snapshot {snapshot_id} is live; refusing to reload it"
            raise PortalError(msg)
        _drop_tables(engine, [snapshot_id])
        sqlite = engine.dialect.name == "sqlite"
    try:
        if sqlite:
            rows = _load_sqlite(_sqlite_file(url), parts, snapshot_id)
        else:
            with _engine(url) as engine:
                rows = _load_postgresql(engine, parts, snapshot_id)
    except Exception as error:
        with _engine(url) as engine:
            _drop_tables(engine, [snapshot_id])
        msg = f"loading portal snapshot {snapshot_id} failed: {error}"
        raise PortalError(msg) from error
    return {**rows, "availability": rows["products"]}


def _duckdb_layout() -> portal_duckdb.Layout:
    """The NOT NULL columns of each table, as the SQL portals declare them."""
    required = {v: [c.name for c in _columns(v) if not c.nullable] for v in TABLES[1:]}
    return portal_duckdb.Layout({"products": ["sku"], **required}, AVAILABILITY_COLUMNS)


class _Part:
    """One part of a table's rows: its schema known without reading it."""

    def __init__(self, view: str, rows: pl.DataFrame | Path | None) -> None:
        self.view, self._rows = view, rows
        if isinstance(rows, Path):
            found = pl.read_parquet(rows, n_rows=0)
        else:
            found = rows if rows is not None else pl.DataFrame()
        if view == "products":
            self.schema = found.schema
        else:
            self.schema = _fixed_frame(view, None if rows is None else found).schema

    def frame(self) -> pl.DataFrame:
        rows = pl.read_parquet(self._rows) if isinstance(self._rows, Path) else self._rows
        if self.view == "products" and rows is not None:
            return rows
        return _fixed_frame(self.view, rows)


def _parts(view: str, rows: Rows | None) -> list[_Part]:
    """A table's rows as parts; a table without rows is one empty part (its columns)."""
    if rows is None or isinstance(rows, pl.DataFrame):
        return [_Part(view, rows)]
    if view == "products" and not rows:
        msg = "portal products: no parts to load"
        raise PortalError(msg)
    return [_Part(view, Path(p)) for p in rows] or [_Part(view, None)]


def _fixed_frame(view: str, frame: pl.DataFrame | None) -> pl.DataFrame:
    """``frame`` as the view's columns, in order (None: no rows)."""
    names = [c.name for c in _columns(view)]
    if frame is None:
        types: dict[str, pl.DataType] = {"unit_price": MONEY, "min_quantity": pl.Int64()}
        types |= {"valid_from": pl.Date(), "valid_to": pl.Date()}
        return pl.DataFrame(schema={n: types.get(n, pl.String()) for n in names})
    return frame.select(names)


ANY = object()
"""``expected`` of a switch that does not compare (recovery, which restores a known state)."""


def activate_portal_snapshot(
    url: str, snapshot_id: str, expected: str | object | None = ANY
) -> None:
    """Point the views and ``prism_snapshot`` at a loaded snapshot, in one transaction.

    Compare-and-swap: unless ``expected`` is ``ANY``, the switch happens only if the live
    snapshot is ``expected`` (None: nothing live), checked inside the same transaction under
    the portal's lock (PostgreSQL: an advisory lock; SQLite: the write lock), else
    ``LiveSnapshotMoved`` and nothing changes.
    """
    check_snapshot_id(snapshot_id)
    if portal_duckdb.is_duckdb(url):
        compare = expected is not ANY
        portal_duckdb.activate(url, snapshot_id, compare=compare, expected=_expected(expected))
        log.info("portal %s: snapshot %s is live", _safe_url(url), snapshot_id)
        return
    with _engine(url) as engine:
        missing = [v for v in REQUIRED if not _has_table(engine, snapshot_table(v, snapshot_id))]
        if missing:
            msg = f"portal snapshot {snapshot_id} is not loaded (no tables for {missing})"
            raise PortalError(msg)
        live = _live_table(sa.MetaData())
        with engine.begin() as conn:
            _lock_portal(conn)
            live.create(conn, checkfirst=True)
            _compare(conn, live, expected, snapshot_id)
            for view in VIEWS:
                _replace_view(conn, view, _view_query(conn, view, snapshot_id))
            conn.execute(live.delete())
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            conn.execute(live.insert().values(snapshot_id=snapshot_id, activated_at=now))
    log.info("portal %s: snapshot %s is live", _safe_url(url), snapshot_id)


def deactivate_portal(url: str, expected: str | object | None = ANY) -> None:
    """Nothing live: drop the views and the live row (a first publish rolled back)."""
    if portal_duckdb.is_duckdb(url):
        compare = expected is not ANY
        portal_duckdb.deactivate(url, compare=compare, expected=_expected(expected))
        return
    if _missing_sqlite_file(url):
        return
    with _engine(url) as engine, engine.begin() as conn:
        _lock_portal(conn)
        live = _live_table(sa.MetaData())
        live.create(conn, checkfirst=True)
        _compare(conn, live, expected, None)
        quote = conn.dialect.identifier_preparer.quote
        for view in VIEWS:
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS {quote(view)}")
        conn.execute(live.delete())
    log.info("portal %s: no snapshot is live", _safe_url(url))


def _expected(expected: object) -> str | None:
    return expected if isinstance(expected, str) else None


def _compare(conn: Connection, live: sa.Table, expected: object, target: str | None) -> None:
    if expected is ANY:
        return
    found = conn.execute(sa.select(live.c.snapshot_id).limit(1)).scalar_one_or_none()
    if found != expected:
        raise moved(found, _expected(expected), target)


def _lock_portal(conn: Connection) -> None:
    """Serialize publishes on one database (PostgreSQL advisory lock; SQLite's write lock is
    taken by ``BEGIN IMMEDIATE``), held until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})


def live_portal_snapshot(url: str) -> str | None:
    """The live snapshot id, or None when nothing was ever activated."""
    if portal_duckdb.is_duckdb(url):
        return portal_duckdb.live(url)
    if _missing_sqlite_file(url):
        return None
    with _engine(url) as engine:
        return _live(engine)


def drop_portal_snapshots(url: str, keep: Collection[str]) -> list[str]:
    """Drop the tables of every snapshot not in ``keep``, never the live one; return their ids."""
    if portal_duckdb.is_duckdb(url):
        return portal_duckdb.drop(url, keep)
    if _missing_sqlite_file(url):
        return []
    with _engine(url) as engine:
        loaded = _loaded_snapshots(engine)
        with engine.begin() as conn:
            _lock_portal(conn)
            live = _live_table(sa.MetaData())
            live.create(conn, checkfirst=True)
            current = conn.execute(sa.select(live.c.snapshot_id).limit(1)).scalar_one_or_none()
            doomed = sorted(set(loaded) - {*keep, current})
            metadata = sa.MetaData()
            tables = [_named(v, metadata, s) for s in doomed for v in VIEWS]
            metadata.drop_all(conn, tables=tables, checkfirst=True)
    if doomed:
        log.info("portal %s: dropped tables of snapshots %s", _safe_url(url), doomed)
    return doomed


# --- loading -----------------------------------------------------------------------------------


def _is_money(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Decimal) or dtype in (pl.Float32, pl.Float64)


def _stored_table(
    view: str, metadata: sa.MetaData, snapshot_id: str, schema: pl.Schema, *, sqlite: bool
) -> sa.Table:
    """A snapshot's table for a frame of ``schema``; on SQLite money as ``<name>_micros``."""
    columns = product_columns(schema) if view == "products" else _columns(view)
    if sqlite:
        columns = [
            sa.Column(f"{c.name}{MICROS}", sa.BigInteger, nullable=c.nullable)
            if isinstance(c.type, ExactDecimal)
            else c
            for c in columns
        ]
    return sa.Table(snapshot_table(view, snapshot_id), metadata, *columns)


def _keys(tables: dict[str, sa.Table], *, sqlite: bool) -> list[sa.ExecutableDDLElement]:
    """The primary keys and the prices indexes of the portal's lookups (built after the load).

    A price lookup names the sku (a product page), or the customer or the customer group (a
    customer's price list), then the currency and the quantity break; the group and customer
    indexes hold only the rows that have one."""
    keys = {
        "products": ("sku",),
        "customers": ("customer_id",),
        "effective_prices": ("customer_id", "currency", "sku", "min_quantity"),
    }
    found: list[sa.ExecutableDDLElement] = []
    for view, names in keys.items():
        table = tables[view]
        key = [table.c[n] for n in names]
        if sqlite:
            found.append(sa.schema.CreateIndex(sa.Index(f"pk_{table.name}", *key, unique=True)))
        else:
            primary = sa.PrimaryKeyConstraint(*key, name=f"pk_{table.name}")
            found.append(sa.schema.AddConstraint(primary))
    prices = tables["prices"]
    c = prices.c
    indexes = [sa.Index(f"ix_{prices.name}_sku", c.sku, c.currency, c.min_quantity)]
    for who in ("customer_group", "customer_id"):
        present = c[who].is_not(None)
        columns = (c[who], c.currency, c.sku, c.min_quantity)
        name = f"ix_{prices.name}_{who}"
        indexes.append(sa.Index(name, *columns, sqlite_where=present, postgresql_where=present))
    return [*found, *(sa.schema.CreateIndex(index) for index in indexes)]


def _load_postgresql(
    engine: Engine, parts: dict[str, list[_Part]], snapshot_id: str
) -> dict[str, int]:
    """Tables, rows and keys. One frame per table: one transaction. Parts (a sharded run's
    shards): the empty tables are committed, then the parts are copied by up to
    ``COPY_WORKERS`` connections at once, then the keys are built; the tables are the
    snapshot's own and no reader sees them before the switch, and a failed load drops them
    (``load_portal_snapshot``)."""
    metadata = sa.MetaData()
    tables = {
        view: _stored_table(view, metadata, snapshot_id, parts[view][0].schema, sqlite=False)
        for view in TABLES
    }
    rows = dict.fromkeys(TABLES, 0)
    jobs = [(view, part) for view in TABLES for part in parts[view]]

    def copy(conn: Connection, view: str, part: _Part) -> tuple[str, int]:
        frame = part.frame()
        _copy_postgresql(conn, tables[view], frame)
        return view, frame.height

    def copy_alone(view: str, part: _Part) -> tuple[str, int]:
        with engine.begin() as conn:
            return copy(conn, view, part)

    if len(jobs) == len(TABLES):  # one frame per table
        with engine.begin() as conn:
            metadata.create_all(conn)
            for view, part in jobs:
                rows[view] += copy(conn, view, part)[1]
            _index_postgresql(conn, tables)
        return rows
    with engine.begin() as conn:
        metadata.create_all(conn)
    with ThreadPoolExecutor(max_workers=COPY_WORKERS) as pool:
        for view, height in pool.map(lambda job: copy_alone(*job), jobs):
            rows[view] += height
    with engine.begin() as conn:
        _index_postgresql(conn, tables)
    return rows


def _index_postgresql(conn: Connection, tables: dict[str, sa.Table]) -> None:
    for ddl in _keys(tables, sqlite=False):
        conn.execute(ddl)
    for table in tables.values():
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table.name)}")


def _copy_postgresql(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """psycopg ``COPY FROM STDIN`` in CSV: polars writes null as an empty cell and "" quoted."""
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN (FORMAT csv)"
    ordered = frame.select(c.name for c in table.columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(statement) as copy:
        for chunk in ordered.iter_slices(CHUNK_ROWS):
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False)
            copy.write(buffer.getvalue())


def _load_sqlite(path: Path, parts: dict[str, list[_Part]], snapshot_id: str) -> dict[str, int]:
    """Tables, rows and keys in one transaction of a child process (``sinks.sqlite_ingest``),
    fed through a pipe: the plan, then one Arrow IPC stream per part, converted to SQLite's
    storage batch by batch (``BATCH_BYTES``) while the child inserts the batches before
    (conversion and insert overlap, and the rows are never copied to a file). The child
    commits only when this process answers its ``loaded`` with ``commit``: a conversion error,
    or this process failing or killed before that, leaves nothing loaded."""
    dialect = sqlite_dialects.dialect()
    metadata = sa.MetaData()
    tables = {
        view: _stored_table(view, metadata, snapshot_id, parts[view][0].schema, sqlite=True)
        for view in TABLES
    }
    plan = {
        "database": str(path),
        "before": [str(sa.schema.CreateTable(t).compile(dialect=dialect)) for t in tables.values()],
        "tables": {table.name: len(parts[view]) for view, table in tables.items()},
        "after": [str(ddl.compile(dialect=dialect)) for ddl in _keys(tables, sqlite=True)],
    }
    with tempfile.TemporaryFile() as errors:
        command = [sys.executable, str(_INGEST)]
        pipe = subprocess.PIPE
        child = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=errors)
        rows = _feed_child(child, plan, parts)
        if child.wait() != 0 or rows is None:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            last = lines[-1] if lines else f"exit status {child.returncode}"
            msg = f"the SQLite bulk load failed: {last}"
            raise PortalError(msg)
    return rows


def _feed_child(
    child: subprocess.Popen[bytes], plan: dict[str, Any], parts: dict[str, list[_Part]]
) -> dict[str, int] | None:
    """Send the plan and every part to the ingest child and answer its ``loaded`` with
    ``commit``; return rows per view, or None when the child stopped before (its standard
    error says why). Any other error kills the child (its transaction is never committed) and
    is raised."""
    sink, answers = child.stdin, child.stdout
    assert sink is not None, "started with stdin piped"
    assert answers is not None, "started with stdout piped"
    rows = dict.fromkeys(TABLES, 0)
    try:
        sink.write(json.dumps(plan).encode("utf-8") + b"\n")
        for view in TABLES:
            for part in parts[view]:
                rows[view] += _send_part(sink, part.frame())
        sink.flush()
        if answers.readline() != b"loaded\n":
            return None
        sink.write(b"commit\n")
        sink.close()
    except BrokenPipeError:
        return None
    except BaseException:
        child.kill()
        child.wait()
        raise
    finally:
        with suppress(BrokenPipeError):  # the child is gone: what was not sent is moot
            sink.close()
        answers.close()
    return rows


def _send_part(sink: IO[bytes], frame: pl.DataFrame) -> int:
    """``frame`` as SQLite stores it, one Arrow IPC stream of batches of about ``BATCH_BYTES``
    (checked whole first, so a refused value stops the load before any of its rows are sent)."""
    _check_sqlite_frame(frame)
    rows = max(1, BATCH_BYTES * frame.height // max(1, int(frame.estimated_size())))
    offsets = range(0, max(frame.height, 1), rows)  # one empty slice for no rows
    batches = (
        _sqlite_frame(frame.slice(offset, rows)).to_arrow(compat_level=_ARROW) for offset in offsets
    )
    first = next(batches)
    with pa.ipc.new_stream(sink, first.schema) as writer:
        writer.write_table(first)
        for batch in batches:
            writer.write_table(batch)
    return frame.height


def _sqlite_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as SQLite stores it: money as integer micro-units ``<name>_micros``, dates as
    ISO text, booleans as 0/1, anything else not text as text (``_check_sqlite_frame`` first)."""
    money = [name for name, dtype in frame.schema.items() if _is_money(dtype)]
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if name in money:
            columns.append((column.cast(MONEY) * SCALE).cast(pl.Int64).alias(f"{name}{MICROS}"))
        elif dtype.is_integer() or dtype == pl.Boolean:
            columns.append(column.cast(pl.Int64))
        elif dtype != pl.String:
            columns.append(column.cast(pl.String))
        else:
            columns.append(column)
    return frame.select(columns)


def _check_sqlite_frame(frame: pl.DataFrame) -> None:
    """Refuse columns named like stored money and money beyond ``SQLITE_MAX_MONEY``."""
    reserved = [name for name in frame.columns if name.endswith(MICROS)]
    if reserved:
        msg = f"columns ending in {MICROS!r} are reserved for money on SQLite: {reserved}"
        raise PortalError(msg)
    money = [name for name, dtype in frame.schema.items() if _is_money(dtype)]
    limit = float(SQLITE_MAX_MONEY)
    for name in money:
        beyond = frame.filter(pl.col(name).cast(pl.Float64).abs() > limit)
        if beyond.height:
            example = beyond.row(0, named=True)
            msg = (
                f"{name} {example[name]} (sku {example['sku']}, {beyond.height} row(s)) is beyond "
                f"+-{SQLITE_MAX_MONEY}, more than a SQLite portal holds exactly; use PostgreSQL"
            )
            raise PortalError(msg)


def _sqlite_file(url: str) -> Path:
    database = sa.make_url(url).database
    if database in (None, "", ":memory:") or str(database).startswith("file:"):
        msg = f"a SQLite portal is a database file, not {database!r}"
        raise PortalError(msg)
    return Path(str(database))


# --- activation and housekeeping ---------------------------------------------------------------


def _live_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        LIVE_TABLE,
        metadata,
        sa.Column("snapshot_id", sa.Text, nullable=False),
        sa.Column("activated_at", sa.DateTime, nullable=False),
    )


def _view_query(conn: Connection, view: str, snapshot_id: str) -> sa.Select[Any]:
    """The view's SELECT over the snapshot's stored table: its columns as stored, and on SQLite
    each ``<name>_micros`` also as the numeric ``<name>``. ``availability`` reads the products
    table (snapshots loaded before it did have an ``availability`` table of their own); a
    snapshot loaded before customers and effective prices gets them empty."""
    inspector = sa.inspect(conn)
    source = snapshot_table(view, snapshot_id)
    names = None
    if view == "availability" and not inspector.has_table(source):
        source, names = snapshot_table("products", snapshot_id), ["sku", *AVAILABILITY_COLUMNS]
    if view not in (*REQUIRED, "availability") and not inspector.has_table(source):
        return _empty_query(view, sqlite=conn.dialect.name == "sqlite")
    names = names or [column["name"] for column in inspector.get_columns(source)]
    table = sa.table(source, *(sa.column(name) for name in names))
    exposed: list[Any] = []
    for name in names:
        if name.endswith(MICROS) and conn.dialect.name == "sqlite":
            number = table.c[name] / sa.literal_column(f"{SCALE}.0")
            exposed.append(number.label(name.removesuffix(MICROS)))
        exposed.append(table.c[name])
    return sa.select(*exposed)


def _empty_query(view: str, *, sqlite: bool) -> sa.Select[Any]:
    """A SELECT of the view's columns, typed, that returns no rows."""
    exposed: list[Any] = []
    for column in _columns(view):
        exposed.append(sa.cast(sa.null(), column.type).label(column.name))
        if sqlite and isinstance(column.type, ExactDecimal):
            exposed.append(sa.cast(sa.null(), sa.BigInteger).label(f"{column.name}{MICROS}"))
    return sa.select(*exposed).where(sa.false())


def _replace_view(conn: Connection, view: str, query: sa.Select[Any]) -> None:
    """Drop and recreate ``view`` as ``query`` (identifiers quoted by the dialect)."""
    name = conn.dialect.identifier_preparer.quote(view)
    select = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE VIEW {name} AS {select}")


def _live(engine: Engine) -> str | None:
    if not _has_table(engine, LIVE_TABLE):
        return None
    live = _live_table(sa.MetaData())
    with engine.connect() as conn:
        return conn.execute(sa.select(live.c.snapshot_id).limit(1)).scalar_one_or_none()


def _loaded_snapshots(engine: Engine) -> list[str]:
    """Ids of every snapshot with at least one table in the database (current schema)."""
    found = set()
    for name in sa.inspect(engine).get_table_names():
        if match := _SNAPSHOT_TABLE.match(name):
            found.add(f"{match['day']}T{match['time']}Z-{match['run']}")
    return sorted(found)


def _drop_tables(engine: Engine, snapshot_ids: Collection[str]) -> None:
    if not snapshot_ids:
        return
    metadata = sa.MetaData()
    tables = [_named(v, metadata, s) for s in snapshot_ids for v in VIEWS]
    with engine.begin() as conn:
        metadata.drop_all(conn, tables=tables, checkfirst=True)


def _named(view: str, metadata: sa.MetaData, snapshot_id: str) -> sa.Table:
    """A snapshot's table by name only (enough to drop it)."""
    return sa.Table(snapshot_table(view, snapshot_id), metadata)


def _has_table(engine: Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


# --- engines -----------------------------------------------------------------------------------


@contextmanager
def _engine(url: str, *, create: bool = False) -> Iterator[Engine]:
    """An engine for the portal URL; on SQLite with transactional DDL and WAL (readers never
    block the writer); ``create`` makes the SQLite file's folder."""
    parsed = sa.make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and create and database not in (None, "", ":memory:"):
        Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        yield engine
    finally:
        engine.dispose()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Let SQLAlchemy, not pysqlite, issue BEGIN, so DDL is inside the transaction too.

    WAL lets portal readers keep reading (the old snapshot) while a snapshot loads or
    activates; ``synchronous=NORMAL`` is WAL's crash-safe setting (a power loss may undo the
    last commit, never corrupt the file).
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """``BEGIN IMMEDIATE``: take the write lock at once, so a compare-and-swap inside the
    transaction cannot race another writer."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _missing_sqlite_file(url: str) -> bool:
    parsed = sa.make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return False
    return not Path(database).exists()


def _safe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


# --- reading a snapshot back -------------------------------------------------------------------


def read_portal_snapshot(url: str, view: str, snapshot_id: str) -> pl.DataFrame:
    """One snapshot's stored ``products`` or ``prices`` table (loaded, live or not yet
    dropped) as a frame, money exact: SQLite's ``<name>_micros`` become ``<name>`` as
    ``Decimal(38, 6)``, after the other columns. What a delta compares; raises
    ``sqlalchemy.exc.NoSuchTableError`` for a snapshot whose tables are gone.

    SQLite is read as Arrow by a child process (``_export_sqlite``: the 1M-product tables in
    seconds instead of a minute of Python rows); PostgreSQL, and a SQLite table with a column
    that read does not type (an old snapshot's ``DECIMAL_TEXT`` money), through SQLAlchemy's
    rows. Both give the same frame: each column's values as its SQLAlchemy type reads them,
    the dtype polars infers from all of them (a column without a value: ``Null``), rows in
    the table's own order. A DuckDB portal's snapshot file is read as it is typed."""
    if portal_duckdb.is_duckdb(url):
        return portal_duckdb.read(url, view, snapshot_id)
    with _engine(url) as engine, engine.connect() as conn:
        table = portal_table(view, sa.MetaData(), snapshot_id, bind=conn)
        sqlite = conn.dialect.name == "sqlite"
        if sqlite and all(_storage(column) is not None for column in table.columns):
            frame = _export_sqlite(_sqlite_file(url), table)
        else:
            frame = _rows_frame(conn, table)
    micros = [c for c in frame.columns if c.endswith(MICROS)]
    exact = [
        (pl.col(c).cast(pl.Decimal(38, 0)) * pl.lit(_MICRO))
        .cast(pl.Decimal(38, 6))
        .alias(c.removesuffix(MICROS))
        for c in micros
    ]
    return frame.with_columns(exact).drop(micros)


def _rows_frame(conn: Connection, table: sa.Table) -> pl.DataFrame:
    """``table`` through SQLAlchemy's rows: every value made a Python object by its column
    type (``Decimal``, ``date``, ``bool``), the dtypes inferred from all of them."""
    rows = conn.execute(sa.select(table)).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema=list(table.columns.keys()),
        orient="row",
        infer_schema_length=None,
    )


def _export_sqlite(path: Path, table: sa.Table) -> pl.DataFrame:
    """``table`` read by ``sinks.sqlite_export`` (ADBC's SQLite library, which must not
    share this process with Python's ``sqlite3`` on one file), as ``_rows_frame`` builds it.

    The driver types each column from its first batch, NULL throughout it: int64, and fails
    on a later text; so the query's first row is one literal per column of the storage class
    it holds (``_storage``: '' or 0), and is dropped. ``UNION ALL`` returns that row, then
    the table's rows in the order a plain ``SELECT`` of the table returns them."""
    typed = [
        sa.literal("" if _storage(column) == pl.String else 0).label(column.name)
        for column in table.columns
    ]
    query = sa.select(*typed).union_all(sa.select(table))
    sql = query.compile(dialect=sqlite_dialects.dialect(), compile_kwargs={"literal_binds": True})
    command = [sys.executable, str(_EXPORT), str(path), str(sql), str(EXPORT_BATCH_ROWS)]
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as child,
    ):
        assert child.stdout is not None, "started with stdout piped"
        try:  # each batch converted while the child reads the next
            batches = [pl.DataFrame(pl.from_arrow(b)) for b in pa.ipc.open_stream(child.stdout)]
        except pa.ArrowInvalid:
            batches = []  # cut short: the child's status and last words say why
        except BaseException:
            child.kill()
            raise
        if child.wait() != 0 or not batches:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            last = lines[-1] if lines else f"exit status {child.returncode}"
            msg = f"reading {table.name} of the SQLite portal {path} failed: {last}"
            raise PortalError(msg)
    stored = pl.concat(batches, rechunk=False).slice(1)  # the typed row dropped
    return pl.DataFrame([_as_read(column, stored[column.name]) for column in table.columns])


def _storage(column: sa.Column[Any]) -> pl.DataType | None:
    """The dtype the Arrow read gets ``column``'s stored values in: text for text and ISO
    dates, integers for integers and booleans; None for any other type (it does not convert
    them)."""
    if isinstance(column.type, sa.String | sa.Date):
        return pl.String()
    if isinstance(column.type, sa.Integer | sa.Boolean):
        return pl.Int64()
    return None


def _as_read(column: sa.Column[Any], stored: pl.Series) -> pl.Series:
    """``column``'s values read as Arrow, as SQLAlchemy's rows give them to polars: dates
    parsed, booleans from 0/1, and no value at all as the ``Null`` dtype."""
    storage = _storage(column)
    if stored.dtype != storage:
        msg = f"{column.table.name}.{column.name} holds {stored.dtype} values, not {storage}"
        raise PortalError(msg)
    if stored.null_count() == stored.len():
        return pl.repeat(None, stored.len(), eager=True).alias(column.name)
    if isinstance(column.type, sa.Date):
        return stored.str.to_date("%Y-%m-%d")
    if isinstance(column.type, sa.Boolean):
        return stored.cast(pl.Boolean)
    return stored
