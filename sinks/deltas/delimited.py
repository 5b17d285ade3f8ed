"""Shop (CSV/TSV) and social (Meta catalog CSV) delta: ``delta.csv`` (``delta.tsv``) next to the
full file, in the full file's dialect (delimiter, BOM, line ending; cells copied as written).

Its first column ``prism_action`` is ``upsert`` (the row as in the new full feed: an item added
or changed) or ``delete`` (only the key cell filled: a row of the previous feed that is gone);
the other columns are the new full feed's. Rows are keyed by the ``sku`` column, else ``id``
(Meta); a variant group's parent row is a row of its own. Applying: drop every row whose key
the delta names, then add the ``upsert`` rows without ``prism_action``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from sinks.deltas.changes import ADDED, CHANGED, REMOVED, keys_of, row_changes

ACTION = "prism_action"
UPSERT = "upsert"
DELETE = "delete"
KEYS = ("sku", "id")
BOM = "\ufeff"
SEPARATOR = "\x1f"


class DelimitedDeltaError(ValueError):
    """The full feed has no key column (``sku`` or ``id``) or already an ``prism_action``."""


def _dialect(text: str) -> tuple[str, str]:
    """Delimiter (the most frequent of ``;``, tab, ``,`` in the header) and line ending."""
    header = text.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=header.count)
    return delimiter, "\r\n" if header.endswith("\r") else "\n"


def read_rows(path: Path) -> tuple[list[str], list[list[str]], str, str, bool]:
    """Header, rows, delimiter, line ending and whether the file starts with a BOM."""
    text = path.read_bytes().decode("utf-8")  # line endings as written
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    delimiter, ending = _dialect(text)
    header, *rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return header, rows, delimiter, ending, bom


def key_column(header: list[str]) -> str:
    found = next((k for k in KEYS if k in header), None)
    if found is None or ACTION in header:
        msg = f"a delimited delta needs a column {' or '.join(KEYS)} and none named {ACTION}"
        raise DelimitedDeltaError(msg)
    return found


def _records(header: list[str], rows: list[list[str]], key: str) -> pl.DataFrame:
    at = header.index(key)
    return pl.DataFrame(
        {key: [r[at] for r in rows], "row": [SEPARATOR.join(r) for r in rows]},
        schema={key: pl.String, "row": pl.String},
    )


def write_delta(previous: Path, new: Path, target: Path) -> int:
    """The delta from the feed ``previous`` to ``new`` into ``target``; its row count."""
    old_header, old_rows, *_ = read_rows(previous)
    header, rows, delimiter, ending, bom = read_rows(new)
    key = key_column(header)
    changes = row_changes(
        _records(old_header, old_rows, key_column(old_header)).rename(
            {key_column(old_header): key}
        ),
        _records(header, rows, key),
        key,
    )
    upserted = set(keys_of(changes, key, ADDED, CHANGED))
    at = header.index(key)
    out = [[UPSERT, *r] for r in rows if r[at] in upserted]
    for gone in keys_of(changes, key, REMOVED):
        out.append([DELETE, *("" if i != at else gone for i in range(len(header)))])
    with target.open("w", encoding="utf-8", newline="") as handle:
        handle.write(BOM if bom else "")
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=ending)
        writer.writerows([[ACTION, *header], *out])
    return len(out)


def apply_delta(
    full: list[dict[str, str]], delta: list[dict[str, str]], key: str
) -> list[dict[str, str]]:
    """The rows of a full feed (``csv.DictReader`` rows) after a delta's rows."""
    touched = {row[key] for row in delta}
    kept = [row for row in full if row[key] not in touched]
    added = [{k: v for k, v in r.items() if k != ACTION} for r in delta if r[ACTION] == UPSERT]
    return kept + added
