"""Portal databases for tests: a SQLite file, or a throwaway PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

POSTGRES = os.environ.get(
    "PRISM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def portal_url(kind: str, folder: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty portal database of ``kind`` (sqlite | postgresql)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'portal.sqlite'}"
        return
    schema = f"prism_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES)
    try:
        with admin.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()
