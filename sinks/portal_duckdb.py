"""B2B portal tables in DuckDB: one database file per snapshot, the live one behind a link.

DuckDB lets one process write a database file or many processes read it, never both at once: a
portal whose readers keep the live file open would block a publish that loads into it. So each
snapshot is a file of its own, ``<live>.snapshots/<snapshot id>.duckdb``, written whole by the
run (no reader has it open yet: written under a hidden name, renamed once complete), and the
portal's path ``<live>`` (the URL's database, e.g. ``duckdb:///var/portal.duckdb``) is a
symbolic link to the live snapshot's file, replaced in one rename on activation. A reader opens
``<live>`` read-only (``duckdb.connect(path, read_only=True)``) and sees one snapshot whole,
the one it opened, until it connects again; many readers at once are fine, and none of them
ever waits for a publish or makes one wait.

Each file holds the same relations as the views of a SQL portal (``sinks.portal_sql``):
tables ``products``, ``prices``, ``customers``, ``effective_prices``, the view ``availability``
and the one-row table ``prism_snapshot`` (``snapshot_id``, ``loaded_at``). Types are native:
money and decimals ``DECIMAL(38, 6)`` (exact, numeric: ``max(unit_price)``, ``WHERE
unit_price < 10``), dates ``DATE``, booleans ``BOOLEAN``.

Keys: ``products.sku`` and ``customers.customer_id`` get unique indexes (a duplicate refuses
the load). The price tables are stored as loaded, in sku order, and get no index: DuckDB's
per-row-group min/max (zonemaps) and vectorized scans answer a portal's lookups (one sku's
tiers, a customer group's prices) in milliseconds, while an ART index on 3.7M tiers costs
~1.5 s per index to build (measured at 1M products; see the README's "Portal load").

Publishes on one portal are serialized by a lock file beside the link (``fcntl``); activation
is compare-and-swap like the SQL portals'. A load killed half way leaves a hidden partial file,
deleted by the next load of that snapshot or the next cleanup (never one a live process is
still writing: DuckDB holds a lock on it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import sqlalchemy as sa

from contracts.faults import checkpoint
from contracts.folders import PARTIAL, point_link, sync_file, sync_folder
from contracts.snapshots import check_snapshot_id
from contracts.sql import identifier
from sinks.portal_errors import PortalError, moved

log = logging.getLogger(__name__)

SUFFIX = ".duckdb"
FOLDER_SUFFIX = ".snapshots"
LOCK_SUFFIX = ".lock"
LIVE_TABLE = "prism_snapshot"
UNIQUE = {"products": ("sku",), "customers": ("customer_id",)}
"""the unique keys each snapshot file gets (the price tables: zonemaps, see the docstring)"""
MONEY = pl.Decimal(38, 6)


class DuckDBPortalError(PortalError):
    """A DuckDB portal cannot be used as asked; the message names the file."""


def is_duckdb(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "duckdb"


def live_path(url: str) -> Path:
    """The portal's live path (the link readers open) of a ``duckdb:///<path>`` URL."""
    database = sa.make_url(url).database
    if database in (None, "", ":memory:"):
        msg = f"a DuckDB portal needs a file path, not {url!r} (duckdb:///var/portal.duckdb)"
        raise DuckDBPortalError(msg)
    return Path(str(database))


def snapshots_folder(url: str) -> Path:
    """The folder of the snapshots' files: ``<live>.snapshots``."""
    live = live_path(url)
    return live.with_name(live.name + FOLDER_SUFFIX)


def snapshot_file(url: str, snapshot_id: str) -> Path:
    """The file of one snapshot: ``<live>.snapshots/<snapshot id>.duckdb``."""
    return snapshots_folder(url) / f"{check_snapshot_id(snapshot_id)}{SUFFIX}"


@dataclass(frozen=True)
class Layout:
    """What the SQL portals declare of the tables: the columns that must hold a value, per
    table, and the availability view's columns of ``products`` (besides ``sku``)."""

    required: Mapping[str, Sequence[str]]
    availability: Sequence[str]


def load(
    url: str, tables: Mapping[str, Iterable[pl.DataFrame]], snapshot_id: str, layout: Layout
) -> dict[str, int]:
    """Write one snapshot's file (not yet live): each of ``tables`` (view -> its parts, loaded
    one after the other; ``layout.required`` columns NOT NULL), the ``availability`` view and
    ``prism_snapshot``; rows per table. Loading the live snapshot again is refused; a failed
    load (a null where a value is required, a duplicate key) leaves no file."""
    target = snapshot_file(url, snapshot_id)
    _refuse_live(url, snapshot_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    with _writing(partial):
        return _write(url, tables, snapshot_id, layout, partial, target)


def _write(
    url: str,
    tables: Mapping[str, Iterable[pl.DataFrame]],
    snapshot_id: str,
    layout: Layout,
    partial: Path,
    target: Path,
) -> dict[str, int]:
    _remove_database(partial)
    rows: dict[str, int] = {}
    try:
        with contextlib.closing(duckdb.connect(str(partial))) as conn:
            for view, parts in tables.items():
                rows[view] = _load_table(conn, view, parts)
            checkpoint("portal.duckdb_tables_loaded")
            for view, required in layout.required.items():
                for column in required:
                    _require(conn, view, column)
            for view, key in UNIQUE.items():
                _key(conn, view, key)
            columns = ", ".join(identifier(c) for c in ("sku", *layout.availability))
            conn.execute(f"CREATE VIEW availability AS SELECT {columns} FROM products")
            loaded = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            conn.execute(
                f"CREATE TABLE {LIVE_TABLE} AS SELECT ? AS snapshot_id, ? AS loaded_at",
                [snapshot_id, loaded],
            )
            conn.execute("CHECKPOINT")
        sync_file(partial)
        with _locked(url):
            _refuse_live(url, snapshot_id)  # activated by another process meanwhile
            _remove_database(target)
            partial.replace(target)
            sync_folder(target.parent)
    except BaseException:
        _remove_database(partial)
        raise
    return rows


def _refuse_live(url: str, snapshot_id: str) -> None:
    if live(url) == snapshot_id:
        msg = f"portal snapshot {snapshot_id} is live; refusing to reload it"
        raise DuckDBPortalError(msg)


def _load_table(conn: duckdb.DuckDBPyConnection, view: str, parts: Iterable[pl.DataFrame]) -> int:
    """Create ``view`` from its first part and append the others (DuckDB reads each frame's
    Arrow buffers itself, in parallel); its rows."""
    count = 0
    for index, part in enumerate(parts):
        frame = _stored(part)
        verb = "CREATE TABLE {} AS" if index == 0 else "INSERT INTO {}"
        conn.execute(f"{verb.format(identifier(view))} SELECT * FROM frame")
        count += frame.height
    return count


def _require(conn: duckdb.DuckDBPyConnection, view: str, column: str) -> None:
    """``column`` of ``view`` NOT NULL; a null refuses the load naming the column and rows."""
    try:
        conn.execute(f"ALTER TABLE {identifier(view)} ALTER {identifier(column)} SET NOT NULL")
    except duckdb.ConstraintException as error:
        sku = "sku" if view != "customers" else "customer_id"
        found = conn.execute(
            f"SELECT count(*), list({identifier(sku)} ORDER BY {identifier(sku)})[1:5] "
            f"FROM {identifier(view)} WHERE {identifier(column)} IS NULL"
        ).fetchone()
        count, examples = found if found else (0, [])
        msg = f"{view}.{column}: {count} row(s) without a value, e.g. {sku} {examples}"
        raise DuckDBPortalError(msg) from error


def _key(conn: duckdb.DuckDBPyConnection, view: str, key: Sequence[str]) -> None:
    """A unique index on ``key``; duplicates refuse the load naming a few of them."""
    columns = ", ".join(identifier(c) for c in key)
    try:
        conn.execute(f"CREATE UNIQUE INDEX {view}_key ON {identifier(view)} ({columns})")
    except duckdb.ConstraintException as error:
        twice = conn.execute(
            f"SELECT {columns} FROM {identifier(view)} GROUP BY ALL HAVING count(*) > 1 "
            f"ORDER BY ALL LIMIT 5"
        ).fetchall()
        msg = f"{view}: {', '.join(key)} not unique, e.g. {[row[0] for row in twice]}"
        raise DuckDBPortalError(msg) from error


def _stored(frame: pl.DataFrame) -> pl.DataFrame:
    """Money exact (floats as ``DECIMAL(38, 6)``, as the SQL portals store them) and a column
    without any value typed as text (Arrow's null type has no DuckDB column type)."""
    casts: dict[str, pl.DataType] = {}
    for name, dtype in frame.schema.items():
        if dtype in (pl.Float32, pl.Float64):
            casts[name] = MONEY
        elif dtype == pl.Null:
            casts[name] = pl.String()
    return frame.cast(casts) if casts else frame  # type: ignore[arg-type]


def activate(url: str, snapshot_id: str, *, compare: bool, expected: str | None) -> None:
    """Point the live link at a loaded snapshot's file; with ``compare``, only if the live
    snapshot is ``expected`` (else ``LiveSnapshotMoved`` from the caller's check)."""
    target = snapshot_file(url, snapshot_id)
    if not target.is_file():
        msg = f"portal snapshot {snapshot_id} is not loaded (no file {target})"
        raise PortalError(msg)
    link = live_path(url)
    with _locked(url):
        found = live(url)
        if compare and found != expected:
            raise moved(found, expected, snapshot_id)
        point_link(link, Path(target.parent.name) / target.name)


def deactivate(url: str, *, compare: bool, expected: str | None) -> None:
    """Nothing live: remove the link (a first publish rolled back)."""
    link = live_path(url)
    if not link.parent.is_dir():
        return
    with _locked(url):
        found = live(url)
        if compare and found != expected:
            raise moved(found, expected, None)
        link.unlink(missing_ok=True)


def live(url: str) -> str | None:
    """The live snapshot id (the link's target), or None: no link. A regular file where the
    link belongs is not Prism's portal: an error, never overwritten."""
    link = live_path(url)
    if not link.is_symlink():
        if link.exists():
            msg = f"{link} is not a link to a portal snapshot; refusing to use it as the portal"
            raise DuckDBPortalError(msg)
        return None
    name = Path(os.readlink(link)).name
    return name.removesuffix(SUFFIX) if name.endswith(SUFFIX) else None


def loaded(url: str) -> list[str]:
    """The snapshots whose files are complete, sorted."""
    folder = snapshots_folder(url)
    if not folder.is_dir():
        return []
    names = (p.name for p in folder.iterdir() if not p.name.startswith("."))
    return sorted(n.removesuffix(SUFFIX) for n in names if n.endswith(SUFFIX))


def drop(url: str, keep: Collection[str]) -> list[str]:
    """Delete the file of every snapshot not in ``keep``, never the live one, and the partial
    files of loads that died (not one a live process still writes); return the ids deleted.
    A reader that has a deleted file open keeps reading it until it disconnects."""
    if not live_path(url).parent.is_dir():
        return []
    with _locked(url):
        current = live(url)
        doomed = sorted(set(loaded(url)) - {*keep, current})
        for snapshot_id in doomed:
            _remove_database(snapshot_file(url, snapshot_id))
        folder = snapshots_folder(url)
        if folder.is_dir():
            for leftover in folder.glob(f".*{SUFFIX}.{PARTIAL}"):
                with _writing(leftover, wait=False) as free:
                    if free:
                        _remove_database(leftover)
    if doomed:
        log.info("portal %s: deleted the files of snapshots %s", live_path(url), doomed)
    return doomed


def read(url: str, view: str, snapshot_id: str) -> pl.DataFrame:
    """One snapshot's ``view`` as a frame (what a delta compares); raises
    ``sqlalchemy.exc.NoSuchTableError`` for a snapshot whose file is gone, as the SQL portals
    do for dropped tables."""
    path = snapshot_file(url, snapshot_id)
    if not path.is_file():
        raise sa.exc.NoSuchTableError(f"{view} of {path}")
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as conn:
        return conn.sql(f"SELECT * FROM {identifier(view)}").pl()


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.{PARTIAL}")


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(f"{path.name}.wal").unlink(missing_ok=True)


@contextlib.contextmanager
def _writing(partial: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock file of a partial snapshot file (``<partial>.lock``, ``flock``: a second
    open file conflicts even in the same process) while a load writes it; with ``wait=False``
    the lock is only tried: ``False`` while a load holds it (its file must stay)."""
    lock = partial.with_name(f"{partial.name}{LOCK_SUFFIX}")
    handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            lock.unlink(missing_ok=True)  # still held: nobody else is between open and lock
    finally:
        os.close(handle)


@contextlib.contextmanager
def _locked(url: str) -> Iterator[None]:
    """The portal's lock file held (one switch or cleanup at a time, across processes)."""
    link = live_path(url)
    link.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(link.with_name(link.name + LOCK_SUFFIX), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)
