"""Bulk-load Arrow IPC streams into a SQLite database in ONE transaction, in a process of its own.

``python sinks/sqlite_ingest.py`` (started by ``sinks.portal_sql``) reads its standard input:
one line of JSON, the plan (the database file, the statements that create the tables, how many
Arrow IPC streams each table gets, the statements run after the load: keys and indexes), then
the streams, table after table in the plan's order. Each stream is appended by ADBC's bulk
ingest batch by batch as it arrives (one prepared INSERT bound from Arrow in C, no Python per
row), so the sender converts the next batch while this process inserts the last. ``BEGIN
IMMEDIATE`` ... ``COMMIT`` around all of it, and the commit only on the sender's word: with
everything loaded this process writes ``loaded`` to its standard output and commits when the
sender answers ``commit``. A failure, a kill, a stream cut short or a sender gone before its
answer (it failed or was killed: the pipe ends) leaves nothing behind (WAL: an uncommitted
transaction is never seen).

Why a separate process: the ADBC driver carries its own SQLite library, while Prism's other
connections use Python's ``sqlite3``. Two SQLite libraries in one process must not open the
same file at once: POSIX advisory locks belong to the process, so one library closing its
file descriptor silently drops the other's locks ("How To Corrupt An SQLite Database File",
section 2.2.1). Here the ADBC library is alone in its process, so locking between it, Prism and
the portal's readers is the ordinary cross-process kind.

This module imports nothing of Prism (it runs as a script) and stays small.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa

PRAGMAS = (
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-262144",
)
"""WAL as the portal's other connections use it (readers keep reading the live snapshot);
``synchronous=NORMAL`` is WAL's crash-safe level; a 256 MiB page cache for the load."""


def ingest(plan: dict[str, Any], source: IO[bytes], sender: IO[bytes]) -> None:
    """Run ``plan`` in one transaction, its tables' rows read from ``source``, committed when
    ``source`` answers ``commit`` to ``loaded`` written to ``sender`` (see the module
    docstring)."""
    with adbc.connect(plan["database"], autocommit=True) as conn, conn.cursor() as cursor:
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for statement in plan["before"]:
                cursor.execute(statement)
            for table, streams in plan["tables"].items():
                for _ in range(streams):
                    cursor.adbc_ingest(table, pa.ipc.open_stream(source), mode="append")
            for statement in plan["after"]:
                cursor.execute(statement)
            sender.write(b"loaded\n")
            sender.flush()
            if source.readline() != b"commit\n":
                msg = "the sender did not ask for the commit (it failed or was stopped)"
                raise RuntimeError(msg)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


def main(argv: list[str]) -> int:
    if argv:
        sys.stderr.write("usage: sqlite_ingest.py < PLAN-LINE-AND-ARROW-STREAMS\n")
        return 2
    source = sys.stdin.buffer
    ingest(json.loads(source.readline()), source, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
