"""Names and text put into SQL keep their quote characters as data."""

from __future__ import annotations

import duckdb

from contracts.sql import identifier, literal


def test_quoted_names_and_text_round_trip_through_duckdb() -> None:
    name, text = 'we"ird; DROP TABLE x --', "it's '; DROP TABLE x --"
    with duckdb.connect() as connection:
        row = connection.sql(f"SELECT {literal(text)} AS {identifier(name)}")
        assert row.columns == [name]
        assert row.fetchall() == [(text,)]
