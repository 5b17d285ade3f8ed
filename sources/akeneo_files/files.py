"""Reading one Akeneo export file: JSON Lines (REST item shape) or CSV (Akeneo's export).

JSON Lines are read by DuckDB with a declared schema where the catalog's attribute types allow
(``typed``), else with pyarrow's multi-threaded reader; only when that fails is the file
re-scanned line by line, either to name the broken line (``PimFileError``) or, when an attribute
mixes JSON types across rows, to normalise the values to text and read them again. Every frame
gets ``pim_source`` ("file:line", 1-based; a CSV header is line 1), and both kinds of file pass
the structural checks of ``sources.text_files`` first (UTF-8, final newline, CSV field counts).
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from sources.akeneo_files.selection import ValueSelection
from sources.akeneo_files.typed import ITEM_COLUMNS, typed_read, typed_schema
from sources.text_files import InputFileError, check_csv_fields, scan_text

BLOCK_SIZE = 8 << 20
LINE = "_line"
ITEM_FIELDS = frozenset({*ITEM_COLUMNS, "values"})
"""The product and product-model properties the readers use (links, associations: not)."""


class PimFileError(InputFileError):
    """A PIM export file is missing or unreadable; the message names the file and line."""


def read_jsonl(path: Path, selection: ValueSelection | None = None) -> pl.DataFrame:
    """All lines of a JSON Lines file as one frame, plus ``pim_source`` ("name:line").

    With a ``selection``, only product/model fields and the wanted attributes are converted."""
    if path.stat().st_size == 0:
        return pl.DataFrame({"pim_source": []}, schema={"pim_source": pl.String})
    schema = None if selection is None else typed_schema(selection)
    if schema is None:
        scan, table = scan_text(path), None
    else:
        # The check of the bytes and DuckDB's read run at once (neither holds the GIL); the
        # read is thrown away if the check finds a key DuckDB would have skipped.
        with ThreadPoolExecutor(1) as pool:
            scanning = pool.submit(scan_text, path, search=schema.variants or None)
            table = typed_read(path, schema)
            scan = scanning.result()
        table = None if scan.found else table
    if table is not None:
        lines = _line_numbers(path, table.num_rows, scan.lines)
    else:
        try:
            table = pa_json.read_json(path, read_options=pa_json.ReadOptions(block_size=BLOCK_SIZE))
            lines = _line_numbers(path, table.num_rows, scan.lines)
        except pa.ArrowInvalid:
            table, lines = _read_jsonl_slowly(path, selection)
        if selection is not None:
            table = _pruned(table, selection)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(_source(path, pl.Series(LINE, lines, pl.Int64)))


def _pruned(table: pa.Table, selection: ValueSelection) -> pa.Table:
    """Drop what the frames never use (links, associations, unwanted attributes) before polars."""
    table = table.select([n for n in table.column_names if n in ITEM_FIELDS])
    if "values" not in table.column_names or not pa.types.is_struct(table["values"].type):
        return table
    kind = table["values"].type
    keep = [
        i
        for i in range(kind.num_fields)
        if selection.wants(kind.field(i).name) or selection.is_identifier(kind.field(i).name)
    ]
    if not keep:
        return table.drop_columns(["values"])
    fields = [kind.field(i) for i in keep]
    chunks = [
        pa.StructArray.from_arrays([c.field(i) for i in keep], fields=fields, mask=c.is_null())
        for c in table["values"].chunks
    ]
    index = table.column_names.index("values")
    return table.set_column(index, "values", pa.chunked_array(chunks, pa.struct(fields)))


def read_csv(path: Path) -> pl.DataFrame:
    """An Akeneo CSV export as text columns; empty cells are null; header is line 1."""
    scan_text(path)
    check_csv_fields(path, ";")
    try:
        frame = pl.read_csv(path, separator=";", infer_schema=False, quote_char='"')
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        msg = f"{path.name}: not a readable CSV file: {error}"
        raise PimFileError(msg) from None
    # Quoted cells may span lines; count their newlines so line numbers match an editor.
    newlines = pl.sum_horizontal(pl.all().str.count_matches("\n").fill_null(0))
    before = newlines.cum_sum().shift(1, fill_value=0)
    lines = frame.select((pl.int_range(pl.len()) + 2 + before).cast(pl.Int64))
    return frame.with_columns(_source(path, lines.to_series()))


def _source(path: Path, lines: pl.Series) -> pl.Series:
    return (f"{path.name}:" + lines.cast(pl.String)).alias("pim_source")


def _line_numbers(path: Path, rows: int, newlines: int) -> list[int] | range:
    """Line of each parsed row; pyarrow skips blank lines, so map them only when there are any
    (the file ends with a newline, so one row per newline means none)."""
    if newlines == rows:
        return range(1, rows + 1)
    with path.open("rb") as handle:
        return [number for number, line in enumerate(handle, 1) if line.strip()]


def _read_jsonl_slowly(path: Path, selection: ValueSelection | None) -> tuple[pa.Table, list[int]]:
    """Parse line by line: name the first broken line, else read values normalised to text."""
    rows, lines = [], []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                rows.append(_normalised(_parse_line(path, number, line), selection))
                lines.append(number)
    buffer = io.BytesIO("\n".join(json.dumps(row) for row in rows).encode())
    try:
        table = pa_json.read_json(buffer, read_options=pa_json.ReadOptions(block_size=BLOCK_SIZE))
    except pa.ArrowInvalid as error:
        msg = f"{path.name}: fields with incompatible JSON types across lines: {error}"
        raise PimFileError(msg) from None
    return table, lines


def _parse_line(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        item = json.loads(line, parse_int=str, parse_float=str)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        hint = "" if line.endswith(b"\n") else " (truncated file?)"
        msg = f"{path.name}:{number}: not valid JSON: {error}{hint}"
        raise PimFileError(msg) from None
    if not isinstance(item, dict):
        msg = f"{path.name}:{number}: expected a JSON object, got {type(item).__name__}"
        raise PimFileError(msg)
    return item


def _normalised(item: dict[str, Any], selection: ValueSelection | None) -> dict[str, Any]:
    """Values' data as text (the flat form), so one attribute has one type in every row; with a
    ``selection``, unused fields are dropped so their types cannot conflict either."""
    values = item.get("values")
    if selection is not None:
        item = {key: value for key, value in item.items() if key in ITEM_FIELDS}
    if isinstance(values, dict) and selection is not None:
        wanted = {
            a: e for a, e in values.items() if selection.wants(a) or selection.is_identifier(a)
        }
        values = item["values"] = wanted
    if isinstance(values, dict):
        for entries in values.values():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    entry["data"] = _text_data(entry.get("data"))
    return item


def _text_data(data: Any) -> Any:
    if isinstance(data, dict):
        return {**data, "amount": _scalar_text(data.get("amount"))} if "amount" in data else data
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        return [_text_data(d) for d in data]
    if isinstance(data, list):
        return ",".join(_scalar_text(d) or "" for d in data)
    return _scalar_text(data)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    return None if value is None else str(value)
