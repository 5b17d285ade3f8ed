"""B2B portal tables in a SQL database (SQLite file or PostgreSQL), swapped atomically per snapshot.

Each snapshot is bulk-loaded into its own tables ``products__<s>``, ``prices__<s>`` and
``availability__<s>`` (``<s>`` is the snapshot id lower-cased with ``-`` -> ``_``). The
products table's columns are the channel's mapping (``sinks.formats.portal``) plus the
availability columns; prices and availability have fixed columns. Portal
readers only ever query the views ``products``, ``prices``, ``availability`` and the one-row
table ``prism_snapshot`` (the live snapshot id); activation re-points all of them in ONE
transaction, so a reader sees the old snapshot or the new one, never a mix or a half load.

Money (``unit_price``, ``weight``) is exact: ``NUMERIC(38, 6)`` on PostgreSQL; on SQLite it is
TEXT (e.g. ``'19.990000'``), because SQLite's NUMERIC affinity would turn it into a float.
Read it through :func:`portal_table` (which gives ``Decimal``) or with ``Decimal(text)``.
Dates are ``DATE`` on PostgreSQL and ISO ``YYYY-MM-DD`` text on SQLite.

Loading is bulk: psycopg ``COPY ... FROM STDIN (FORMAT csv)`` fed with polars-written CSV on
PostgreSQL, ``executemany`` of plain tuples on SQLite; ``availability`` is filled by the database
from ``products`` (``INSERT ... SELECT``). A failed load rolls back and leaves no tables behind.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import base as sqlite_dialect
from sqlalchemy.engine import Connection, Dialect, Engine

from contracts.snapshots import check_snapshot_id

log = logging.getLogger(__name__)

VIEWS = ("products", "prices", "availability")
LIVE_TABLE = "prism_snapshot"
CHUNK_ROWS = 100_000
ADVISORY_KEY = 0x5052_4953_4D00  # "PRISM": one advisory lock per database for switches
_ROWS_PER_INSERT = 500
_SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-65536",
)
_SNAPSHOT_TABLE = re.compile(
    r"^(?P<view>products|prices|availability)__(?P<day>\d{8})t(?P<time>\d{6})z_(?P<run>[0-9a-f]{8})$"
)


class PortalError(RuntimeError):
    """A portal snapshot cannot be loaded or activated; the live snapshot is untouched."""


class DecimalText(sa.types.UserDefinedType[str]):
    """SQLite's column type for exact money: declared ``DECIMAL_TEXT``, which SQLite stores
    with TEXT affinity (its name holds "TEXT"), and which reflection maps back to
    ``ExactDecimal`` (so a reader of a mapped products table gets ``Decimal`` again)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "DECIMAL_TEXT"


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """``NUMERIC(38, 6)``; ``DECIMAL_TEXT`` on SQLite so no value ever passes through a
    float."""

    impl = sa.Numeric(38, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DecimalText())
        return dialect.type_descriptor(sa.Numeric(38, 6, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return f"{Decimal(value):.6f}"

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


sqlite_dialect.ischema_names.setdefault("DECIMAL_TEXT", ExactDecimal)

AVAILABILITY_COLUMNS = (
    "available_qty",
    "availability",
    "availability_date",
    "availability_estimated",
    "lead_time_days",
)
"""The ``availability`` view's columns besides ``sku``; the products table carries them too."""


def _columns(view: str) -> list[sa.Column[Any]]:
    """The fixed columns of the ``prices`` and ``availability`` views (``products``' columns
    are the channel's mapping: ``product_columns``)."""
    text, integer = sa.Text, sa.BigInteger
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
    """The products table's columns for a frame of that schema (the channel's mapped fields):
    money and decimals exact (``ExactDecimal``), integers, dates and booleans typed, the rest
    text; ``sku`` is never null."""
    columns: list[sa.Column[Any]] = []
    for name, dtype in schema.items():
        kind: Any = sa.Text
        if isinstance(dtype, pl.Decimal) or dtype in (pl.Float32, pl.Float64):
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
    """The typed table for a view (``snapshot_id=None``) or for one snapshot's table.

    Readers use it to get exact ``Decimal`` and ``date`` values on every database. The
    ``products`` columns are the channel's own: they are read from the database (``bind``),
    money columns as ``ExactDecimal`` where the database cannot tell (SQLite text).
    """
    name = view if snapshot_id is None else snapshot_table(view, snapshot_id)
    if view != "products":
        return sa.Table(name, metadata, *_columns(view))
    if bind is None:
        msg = "the products table's columns are read from the database: pass bind"
        raise ValueError(msg)
    return sa.Table(name, metadata, autoload_with=bind)


def snapshot_table(view: str, snapshot_id: str) -> str:
    """``products__20261122t195600z_ab12cd34`` for view ``products`` and that snapshot."""
    suffix = check_snapshot_id(snapshot_id).lower().replace("-", "_")
    return f"{view}__{suffix}"


def load_portal_snapshot(
    url: str, products: pl.DataFrame, prices: pl.DataFrame, snapshot_id: str
) -> dict[str, int]:
    """Bulk-load one snapshot's tables (not yet visible to readers); return rows per view.

    ``products``: ``sku``, the channel's mapped fields and the availability columns
    (``AVAILABILITY_COLUMNS``), one row per product; ``prices``: the tiers the portal carries
    (the prices view's columns). Loading the live snapshot again is refused; a failed load
    leaves no tables behind.
    """
    check_snapshot_id(snapshot_id)
    missing = [c for c in ("sku", *AVAILABILITY_COLUMNS) if c not in products.columns]
    if missing:
        msg = f"portal products lack the columns {missing}"
        raise PortalError(msg)
    frames = {"products": products, "prices": prices.select(c.name for c in _columns("prices"))}
    with _engine(url, create=True) as engine:
        if _live(engine) == snapshot_id:
            msg = f"portal snapshot {snapshot_id} is live; refusing to reload it"
            raise PortalError(msg)
        _drop_tables(engine, [snapshot_id])
        try:
            with engine.begin() as conn:
                _load(conn, frames, snapshot_id)
        except Exception as error:
            _drop_tables(engine, [snapshot_id])
            msg = f"loading portal snapshot {snapshot_id} failed: {error}"
            raise PortalError(msg) from error
    rows = {view: frame.height for view, frame in frames.items()}
    return {**rows, "availability": rows["products"]}


class LiveSnapshotMoved(PortalError):
    """The portal's live snapshot is not the one the switch expected (another publish won)."""


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
    with _engine(url) as engine:
        missing = [v for v in VIEWS if not _has_table(engine, snapshot_table(v, snapshot_id))]
        if missing:
            msg = f"portal snapshot {snapshot_id} is not loaded (no tables for {missing})"
            raise PortalError(msg)
        metadata = sa.MetaData()
        live = _live_table(metadata)
        with engine.begin() as conn:
            _lock_portal(conn)
            live.create(conn, checkfirst=True)
            _compare(conn, live, expected, snapshot_id)
            for view in VIEWS:
                _replace_view(conn, view, portal_table(view, metadata, snapshot_id, conn))
            conn.execute(live.delete())
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            conn.execute(live.insert().values(snapshot_id=snapshot_id, activated_at=now))
    log.info("portal %s: snapshot %s is live", _safe_url(url), snapshot_id)


def deactivate_portal(url: str, expected: str | object | None = ANY) -> None:
    """Nothing live: drop the views and the live row (a first publish rolled back)."""
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


def _compare(conn: Connection, live: sa.Table, expected: object, target: str | None) -> None:
    if expected is ANY:
        return
    found = conn.execute(sa.select(live.c.snapshot_id).limit(1)).scalar_one_or_none()
    if found != expected:
        msg = (
            f"portal live snapshot is {found or 'nothing'}, expected {expected or 'nothing'}; "
            f"not switching to {target or 'nothing'} (another publish changed it)"
        )
        raise LiveSnapshotMoved(msg)


def _lock_portal(conn: Connection) -> None:
    """Serialize publishes on one database (PostgreSQL advisory lock; SQLite's write lock is
    taken by ``BEGIN IMMEDIATE``), held until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})


def live_portal_snapshot(url: str) -> str | None:
    """The live snapshot id, or None when nothing was ever activated."""
    if _missing_sqlite_file(url):
        return None
    with _engine(url) as engine:
        return _live(engine)


def drop_portal_snapshots(url: str, keep: Collection[str]) -> list[str]:
    """Drop the tables of every snapshot not in ``keep``, never the live one; return their ids."""
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


def _load(conn: Connection, frames: dict[str, pl.DataFrame], snapshot_id: str) -> None:
    metadata = sa.MetaData()
    name = snapshot_table("products", snapshot_id)
    tables = {
        "products": sa.Table(name, metadata, *product_columns(frames["products"].schema)),
        "prices": portal_table("prices", metadata, snapshot_id),
        "availability": portal_table("availability", metadata, snapshot_id),
    }
    metadata.create_all(conn)
    copy = _copy_postgresql if conn.dialect.name == "postgresql" else _insert_many
    for view, frame in frames.items():
        copy(conn, tables[view], frame)
    _fill_availability(conn, tables["products"], tables["availability"])
    for view, table in tables.items():
        columns = ["sku"] if view != "prices" else ["sku", "currency", "price_type"]
        unique = view != "prices"
        sa.Index(f"ix_{table.name}", *(table.c[c] for c in columns), unique=unique).create(conn)


def _insert_many(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Multi-row ``INSERT ... VALUES (..), (..)`` run with ``executemany``.

    Binding plain text/int/None (money and dates as text) many rows per statement costs about
    half the CPU of one statement per row; the last rows of a chunk go one per statement.
    """
    width = len(table.columns)
    per_statement = max(1, min(_ROWS_PER_INSERT, _SQLITE_MAX_VARIABLES // width))
    many, one = _values_insert(conn, table, per_statement), _values_insert(conn, table, 1)
    plain = frame.select(c.name for c in table.columns).with_columns(
        pl.col(pl.Decimal).cast(pl.String), pl.col(pl.Date).dt.to_string("%Y-%m-%d")
    )
    step = per_statement * width
    for chunk in plain.iter_slices(CHUNK_ROWS):
        rows = zip(*(column.to_list() for column in chunk.iter_columns()), strict=True)
        values = list(chain.from_iterable(rows))
        full = len(values) // step * step
        if full:
            conn.exec_driver_sql(many, [tuple(values[i : i + step]) for i in range(0, full, step)])
        if full < len(values):
            rest = range(full, len(values), width)
            conn.exec_driver_sql(one, [tuple(values[i : i + width]) for i in rest])


def _values_insert(conn: Connection, table: sa.Table, rows: int) -> str:
    """``INSERT INTO t (..) VALUES`` with ``rows`` groups of positional parameters, row-major."""
    groups: list[dict[str, Any]] = [
        {c.name: sa.bindparam(f"{c.name}_{i}") for c in table.columns} for i in range(rows)
    ]
    return str(sa.insert(table).values(groups).compile(dialect=conn.dialect))


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


def _fill_availability(conn: Connection, products: sa.Table, availability: sa.Table) -> None:
    names = [c.name for c in availability.columns]
    source = sa.select(*(products.c[n] for n in names))
    conn.execute(sa.insert(availability).from_select(names, source))


# --- activation and housekeeping ---------------------------------------------------------------


def _live_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        LIVE_TABLE,
        metadata,
        sa.Column("snapshot_id", sa.Text, nullable=False),
        sa.Column("activated_at", sa.DateTime, nullable=False),
    )


def _replace_view(conn: Connection, view: str, table: sa.Table) -> None:
    """Drop and recreate ``view`` over ``table`` (identifiers quoted by the dialect)."""
    name = conn.dialect.identifier_preparer.quote(view)
    select = sa.select(*table.columns).compile(dialect=conn.dialect)
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
