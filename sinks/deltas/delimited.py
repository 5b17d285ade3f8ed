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
from pathlib import Path

import polars as pl

from sinks.deltas.changes import (
    ADDED,
    CHANGED,
    REMOVED,
    content_hashes,
    index_changes,
    keys_of,
    shape,
)
from sinks.deltas.record_index import KEY, Indexed, RecordIndex
from sinks.snapshot_store import sha256_of

ACTION = "prism_action"
UPSERT = "upsert"
DELETE = "delete"
KEYS = ("sku", "id")
BOM = "\ufeff"
INDEX_KIND = "delimited"


class DelimitedDeltaError(ValueError):
    """The full feed has no key column (``sku`` or ``id``) or already an ``prism_action``."""


def _dialect(head: str) -> tuple[str, str]:
    """Delimiter (the most frequent of ``;``, tab, ``,`` in the header) and line ending."""
    header = head.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=header.count)
    return delimiter, "\r\n" if header.endswith("\r") else "\n"


def read_rows(path: Path) -> tuple[list[str], pl.DataFrame, str, str, bool]:
    """Header, rows, delimiter, line ending and whether the file starts with a BOM.

    The rows are every cell as text (an empty cell ``""``), columns named ``<index>\\t<name>``
    so that another header is another schema. Read by polars' CSV reader (RFC 4180 quotes, as
    ``csv`` reads them; at 1M rows the ``csv`` module took ~10 s a file); the header by
    ``csv`` from the first line, so repeated names stay as written."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        head = first.decode("utf-8")
    except UnicodeDecodeError as error:
        msg = f"{path.name}: the header is not UTF-8 ({error})"
        raise DelimitedDeltaError(msg) from error
    bom = head.startswith(BOM)
    delimiter, ending = _dialect(head.removeprefix(BOM))
    header = next(csv.reader([head.removeprefix(BOM).rstrip("\r\n")], delimiter=delimiter))
    try:
        rows = pl.read_csv(
            path,
            separator=delimiter,
            infer_schema=False,
            empty_string_is_null=False,
            new_columns=[f"{i}\t{name}" for i, name in enumerate(header)],
            raise_if_empty=False,
            glob=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        msg = f"{path.name}: {error}"
        raise DelimitedDeltaError(msg) from error
    return header, rows.fill_null(""), delimiter, ending, bom


def key_column(header: list[str]) -> str:
    found = next((k for k in KEYS if k in header), None)
    if found is None or ACTION in header:
        msg = f"a delimited delta needs a column {' or '.join(KEYS)} and none named {ACTION}"
        raise DelimitedDeltaError(msg)
    return found


def record_index(path: Path) -> RecordIndex:
    """The index of the feed ``path``: each row's key and content hash, and the header they
    cover (see ``record_index``)."""
    return _index(path, *read_rows(path)[:2])


def _index(
    path: Path, header: list[str], rows: pl.DataFrame, *, digest: bool = True
) -> RecordIndex:
    """The rows of ``path`` as an index: keyed by their key column, hashed over the other
    cells; the file is hashed only if ``digest`` (an index that is not kept needs no name)."""
    at = rows.columns[header.index(key_column(header))]
    keyed = rows.select(pl.col(at).alias(KEY), pl.exclude(at))
    sha256 = sha256_of(path) if digest else ""
    return RecordIndex(INDEX_KIND, sha256, content_hashes(keyed, KEY), shape(keyed, KEY))


def write_delta(
    previous: Path,
    new: Path,
    target: Path,
    *,
    old: RecordIndex | None = None,
    indexed: Indexed | None = None,
) -> int:
    """The delta from the feed ``previous`` to ``new`` into ``target``; its row count.
    ``old``: the index of ``previous`` (it is not read); ``indexed`` gets the index of
    ``new``."""
    earlier = read_rows(previous)[:2] if old is None else old
    header, rows, delimiter, ending, bom = read_rows(new)
    key = key_column(header)
    if not isinstance(earlier, RecordIndex):
        earlier = _index(previous, *earlier, digest=False)
    now = _index(new, header, rows, digest=indexed is not None)
    changes = index_changes(earlier, now, indexed)  # shape: columns by position and header
    at = rows.columns[header.index(key)]
    upserted = rows.filter(pl.col(at).is_in(keys_of(changes, KEY, ADDED, CHANGED)))
    out = [[UPSERT, *r] for r in upserted.iter_rows()]
    for gone in keys_of(changes, KEY, REMOVED):
        out.append([DELETE, *("" if c != at else gone for c in rows.columns)])
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
