"""SQL quoting for the names and text a query is built from (DuckDB and standard SQL alike).

Codes come from the PIM and the configuration, so a name is quoted as an identifier and a text
as a literal, with their quote characters doubled, wherever one is put into SQL text."""

from __future__ import annotations


def identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
