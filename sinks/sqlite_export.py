"""Write one query's rows of a SQLite database as an Arrow IPC stream, in a process of its own.

``python sinks/sqlite_export.py DATABASE QUERY BATCH_ROWS`` (started by ``sinks.portal_sql``)
opens the database file read-only, runs the query through ADBC's SQLite driver (rows to Arrow
in C, no Python per row) and writes the rows to its standard output as one Arrow IPC stream,
batch by batch (``BATCH_ROWS`` rows each) as the driver reads them. Exit status 0 only when
every row was written: the stream alone cannot tell a complete result from a cut one (a reader
takes the end of the pipe for the end of the stream).

Column types are the driver's: it infers each column's Arrow type from the values of the first
batch (int64 <: double <: string; a column NULL throughout that batch becomes int64) and fails
on a later value the type cannot hold. A caller that needs fixed types puts a row of typed
literals first (and drops it).

Why a separate process: the driver carries its own SQLite library, which must not open a file
that Python's ``sqlite3`` has open in the same process (POSIX locks belong to the process; see
``sinks/sqlite_ingest.py``). This module imports nothing of Prism (it runs as a script).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import adbc_driver_manager
import adbc_driver_sqlite
import pyarrow as pa


def export(database: Path, query: str, batch_rows: int, sink: IO[bytes]) -> None:
    """Write ``query``'s rows on ``database`` (opened read-only) to ``sink`` as Arrow IPC.

    ADBC's low-level API: its DB-API module imports pandas and polars, a third of a second
    of every read."""
    uri = f"{database.resolve().as_uri()}?mode=ro"
    with (
        adbc_driver_sqlite.connect(uri) as db,
        adbc_driver_manager.AdbcConnection(db) as conn,
        adbc_driver_manager.AdbcStatement(conn) as statement,
    ):
        statement.set_sql_query("PRAGMA busy_timeout=30000")
        statement.execute_update()
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        statement.set_sql_query(query)
        reader = pa.RecordBatchReader.from_stream(statement.execute_query()[0])
        with pa.ipc.new_stream(sink, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage: sqlite_export.py DATABASE QUERY BATCH_ROWS > ARROW-STREAM\n")
        return 2
    export(Path(argv[0]), argv[1], int(argv[2]), sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
