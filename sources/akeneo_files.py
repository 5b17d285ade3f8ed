"""Akeneo PIM file drops -> flat polars frames, one per entity.

A drop folder holds per entity either ``<entity>.jsonl`` (one Akeneo REST API item per line) or
``<entity>.csv`` (Akeneo's semicolon separated CSV export). Both give the same frames: product
values become one String column per value, named like Akeneo's CSV header (``name-en_US``,
``description-en_US-ecommerce``, ``price-EUR``, ``weight`` + ``weight-unit``); multi-valued
data is comma-joined and booleans are "1"/"0". Only the requested locales, scope and attributes
are kept, and value columns that are empty in every row are left out, so a missing column means
"no value anywhere". ``pim_source`` is "file:line" (1-based; a CSV header is line 1).

JSON Lines are read with pyarrow's multi-threaded reader; only when it fails is the file
re-scanned line by line, either to name the broken line (``PimFileError``) or, when an attribute
mixes JSON types across rows, to normalise the values to text and read them again.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from contracts.golden import REJECTS_SCHEMA
from sources.text_files import InputFileError, check_csv_fields, scan_text

IDENTIFIER_TYPE = "pim_catalog_identifier"
DEFAULT_IDENTIFIER = "sku"
BLOCK_SIZE = 8 << 20
LINE = "_line"
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
_SUFFIX = re.compile(r"^(unit|[A-Z]{3})$")
_ITEM_FIELDS = frozenset(
    {"identifier", "uuid", "code", "enabled", "family", "family_variant", "parent"}
    | {"categories", "updated", "values"}
)
_ASSOCIATION_SUFFIXES = ("groups", "products", "product_models", "product_uuids")

PRODUCT_COLUMNS = {
    "sku": pl.String,
    "uuid": pl.String,
    "enabled": pl.Boolean,
    "family": pl.String,
    "parent": pl.String,
    "categories": pl.List(pl.String),
    "updated": pl.Datetime("us", "UTC"),
    "pim_source": pl.String,
}
MODEL_COLUMNS = {
    "code": pl.String,
    "family": pl.String,
    "family_variant": pl.String,
    "parent": pl.String,
    "categories": pl.List(pl.String),
    "pim_source": pl.String,
}
ATTRIBUTE_COLUMNS = {
    "code": pl.String,
    "type": pl.String,
    "localizable": pl.Boolean,
    "scopable": pl.Boolean,
}
FAMILY_COLUMNS = {"code": pl.String, "attribute_as_label": pl.String}


class PimFileError(InputFileError):
    """A PIM export file is missing or unreadable; the message names the file and line."""


@dataclass(frozen=True)
class PimExport:
    """One PIM export snapshot, flattened; ``rejects`` follows ``REJECTS_SCHEMA``."""

    export_id: str
    products: pl.DataFrame
    product_models: pl.DataFrame
    attributes: pl.DataFrame
    families: pl.DataFrame
    categories: pl.DataFrame
    rejects: pl.DataFrame
    rows_read: dict[str, int]
    """records read per file (e.g. ``{"products.jsonl": 1200}``), rejects included"""


@dataclass(frozen=True)
class ValueSelection:
    """Which product values are kept: locales, one scope, optionally only some attributes."""

    locales: tuple[str, ...]
    scope: str
    attributes: frozenset[str] | None
    identifier: str

    def wants(self, attribute: str) -> bool:
        if attribute == self.identifier:
            return False
        return self.attributes is None or attribute in self.attributes


def value_column(attribute: str, locale: str | None = None, scope: str | None = None) -> str:
    """Akeneo CSV header name of a value, e.g. ``value_column("name", "en_US") == "name-en_US"``."""
    return "-".join(part for part in (attribute, locale, scope) if part)


def read_pim_export(
    folder: Path,
    locales: tuple[str, ...],
    scope: str,
    attributes: Collection[str] | None = None,
) -> PimExport:
    """Read every entity of one export folder; products are required, the rest may be absent."""
    rows: dict[str, int] = {}
    attribute_frame = _read_entity(folder, "attributes", _attributes, rows=rows)
    selection = ValueSelection(
        locales,
        scope,
        None if attributes is None else frozenset(attributes),
        _identifier_attribute(attribute_frame),
    )
    known = frozenset(attribute_frame["code"].to_list()) or None
    products = _read_entity(
        folder, "products", lambda f, csv: _products(f, csv, selection, known), selection, rows
    )
    if products.height == 0:
        name = next(n for n in rows if n.startswith("products."))
        msg = f"{folder / name}: no products in the file (an empty export would unpublish all)"
        raise PimFileError(msg)
    products, rejects = _split_rejects(products)
    return PimExport(
        export_id=folder.name,
        products=products,
        product_models=_read_entity(
            folder,
            "product_models",
            lambda f, csv: _models(f, csv, selection, known),
            selection,
            rows,
        ),
        attributes=attribute_frame,
        families=_read_entity(folder, "families", _families, rows=rows),
        categories=_read_entity(
            folder, "categories", lambda f, csv: _categories(f, csv, locales), rows=rows
        ),
        rejects=rejects,
        rows_read=rows,
    )


# --- files -----------------------------------------------------------------------------------


def _read_entity(
    folder: Path,
    entity: str,
    convert: Any,
    selection: ValueSelection | None = None,
    rows: dict[str, int] | None = None,
) -> pl.DataFrame:
    """``convert(raw_frame_or_None, is_csv)`` of whichever file the folder holds for ``entity``;
    ``rows`` gets the number of records read from it."""
    jsonl, csv = folder / f"{entity}.jsonl", folder / f"{entity}.csv"
    if jsonl.exists() and csv.exists():
        msg = f"{folder}: both {jsonl.name} and {csv.name} exist; keep one"
        raise PimFileError(msg)
    for path, is_csv in ((jsonl, False), (csv, True)):
        if path.exists():
            raw = read_csv(path) if is_csv else read_jsonl(path, selection)
            if rows is not None:
                rows[path.name] = raw.height
            return convert(raw, is_csv)
    if entity == "products":
        msg = f"{folder}: no products.jsonl or products.csv in the PIM export"
        raise PimFileError(msg)
    return convert(None, False)


def read_jsonl(path: Path, selection: ValueSelection | None = None) -> pl.DataFrame:
    """All lines of a JSON Lines file as one frame, plus ``pim_source`` ("name:line").

    With a ``selection``, only product/model fields and the wanted attributes are converted."""
    if path.stat().st_size == 0:
        return pl.DataFrame({"pim_source": []}, schema={"pim_source": pl.String})
    scan_text(path)
    try:
        table = pa_json.read_json(path, read_options=pa_json.ReadOptions(block_size=BLOCK_SIZE))
        lines = _line_numbers(path, table.num_rows)
    except pa.ArrowInvalid:
        table, lines = _read_jsonl_slowly(path, selection)
    frame = pl.from_arrow(table if selection is None else _pruned(table, selection))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(_source(path, pl.Series(LINE, lines, pl.Int64)))


def _pruned(table: pa.Table, selection: ValueSelection) -> pa.Table:
    """Drop what the frames never use (links, associations, unwanted attributes) before polars."""
    table = table.select([n for n in table.column_names if n in _ITEM_FIELDS])
    if "values" not in table.column_names or not pa.types.is_struct(table["values"].type):
        return table
    kind = table["values"].type
    keep = [
        i
        for i in range(kind.num_fields)
        if selection.wants(kind.field(i).name) or kind.field(i).name == selection.identifier
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


def _line_numbers(path: Path, rows: int) -> list[int] | range:
    """Line of each parsed row; pyarrow skips blank lines, so map them only when there are any."""
    newlines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if newlines + (last != b"\n") == rows:
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
        item = {key: value for key, value in item.items() if key in _ITEM_FIELDS}
    if isinstance(values, dict) and selection is not None:
        wanted = {
            a: e for a, e in values.items() if selection.wants(a) or a == selection.identifier
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


# --- entities --------------------------------------------------------------------------------


def _column(frame: pl.DataFrame, name: str, dtype: Any) -> pl.Expr:
    if name in frame.columns and frame.schema[name] != pl.Null:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype)


def _flag(frame: pl.DataFrame, name: str, is_csv: bool) -> pl.Expr:
    if is_csv and name in frame.columns:
        return pl.col(name).str.strip_chars().is_in(["1", "true"])
    return _column(frame, name, pl.Boolean())


def _code_list(frame: pl.DataFrame, name: str, is_csv: bool) -> pl.Expr:
    if is_csv and name in frame.columns:
        return pl.col(name).str.split(",").fill_null(pl.lit([], pl.List(pl.String)))
    return _column(frame, name, pl.List(pl.String)).fill_null(pl.lit([], pl.List(pl.String)))


def _timestamp(frame: pl.DataFrame, name: str) -> pl.Expr:
    """An ISO 8601 timestamp as UTC; pyarrow already parsed it unless a line broke the pattern."""
    dtype = frame.schema.get(name)
    if isinstance(dtype, pl.Datetime):
        column = pl.col(name).cast(pl.Datetime("us"))
        return column.dt.replace_time_zone("UTC") if dtype.time_zone is None else column
    if dtype == pl.String:
        return pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    return pl.lit(None, pl.Datetime("us", "UTC"))


def _empty(columns: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=columns)


def _attributes(frame: pl.DataFrame | None, is_csv: bool) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return _empty(ATTRIBUTE_COLUMNS)
    return frame.select(
        _column(frame, "code", pl.String()).alias("code"),
        _column(frame, "type", pl.String()).alias("type"),
        _flag(frame, "localizable", is_csv).alias("localizable"),
        _flag(frame, "scopable", is_csv).alias("scopable"),
    )


def _identifier_attribute(attributes: pl.DataFrame) -> str:
    codes = attributes.filter(pl.col("type") == IDENTIFIER_TYPE)["code"]
    return codes[0] if len(codes) else DEFAULT_IDENTIFIER


def _families(frame: pl.DataFrame | None, is_csv: bool) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return _empty(FAMILY_COLUMNS)
    return frame.select(
        _column(frame, name, dtype).alias(name) for name, dtype in FAMILY_COLUMNS.items()
    )


def _categories(frame: pl.DataFrame | None, is_csv: bool, locales: tuple[str, ...]) -> pl.DataFrame:
    columns = {"code": pl.String, "parent": pl.String} | {
        f"label_{loc}": pl.String for loc in locales
    }
    if frame is None or frame.height == 0:
        return _empty(columns)
    labels = [_label(frame, locale, is_csv).alias(f"label_{locale}") for locale in locales]
    return frame.select(
        _column(frame, "code", pl.String()).alias("code"),
        _column(frame, "parent", pl.String()).alias("parent"),
        *labels,
    )


def _label(frame: pl.DataFrame, locale: str, is_csv: bool) -> pl.Expr:
    if is_csv:
        return _column(frame, f"label-{locale}", pl.String())
    dtype = frame.schema.get("labels")
    if isinstance(dtype, pl.Struct) and locale in {f.name for f in dtype.fields}:
        return pl.col("labels").struct.field(locale).cast(pl.String)
    return pl.lit(None, pl.String)


def _products(
    frame: pl.DataFrame | None,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return _empty(PRODUCT_COLUMNS)
    sku = _identifier(frame, selection.identifier, is_csv)
    properties = frame.select(
        sku.alias("sku"),
        *(
            _column(frame, name, dtype).alias(name)
            for name, dtype in PRODUCT_COLUMNS.items()
            if name not in ("sku", "enabled", "categories", "updated")
        ),
        _timestamp(frame, "updated").alias("updated"),
        _flag(frame, "enabled", is_csv).alias("enabled"),
        _code_list(frame, "categories", is_csv).alias("categories"),
    ).select(list(PRODUCT_COLUMNS))
    reserved = {*PRODUCT_COLUMNS, "groups", selection.identifier}
    return _with_values(properties, frame, is_csv, selection, known, reserved)


def _models(
    frame: pl.DataFrame | None,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return _empty(MODEL_COLUMNS)
    properties = frame.select(
        *(
            _column(frame, name, dtype).alias(name)
            for name, dtype in MODEL_COLUMNS.items()
            if name != "categories"
        ),
        _code_list(frame, "categories", is_csv).alias("categories"),
    ).select(list(MODEL_COLUMNS))
    return _with_values(properties, frame, is_csv, selection, known, set(MODEL_COLUMNS))


def _identifier(frame: pl.DataFrame, attribute: str, is_csv: bool) -> pl.Expr:
    """``identifier`` (REST) or the identifier attribute's value (CSV, uuid-keyed REST)."""
    if is_csv:
        return _column(frame, attribute, pl.String()).str.strip_chars()
    candidates = [_column(frame, "identifier", pl.String())]
    values = frame.schema.get("values")
    if isinstance(values, pl.Struct) and attribute in {f.name for f in values.fields}:
        entries = pl.col("values").struct.field(attribute)
        candidates.append(entries.list.first().struct.field("data").cast(pl.String))
    sku = pl.coalesce(candidates).str.strip_chars()
    return pl.when(sku != "").then(sku)


def _with_values(
    properties: pl.DataFrame,
    frame: pl.DataFrame,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
    reserved: set[str],
) -> pl.DataFrame:
    if is_csv:
        names = [c for c in frame.columns if c not in reserved and _csv_keeps(c, selection, known)]
        values = frame.select(names)
    elif isinstance(frame.schema.get("values"), pl.Struct):
        values = flatten_values(frame["values"], selection)
    else:
        values = pl.DataFrame()
    keep = [s for s in values.iter_columns() if s.null_count() < len(s)]
    return properties.hstack(keep)


def _csv_keeps(name: str, selection: ValueSelection, known: frozenset[str] | None) -> bool:
    """Whether a CSV header names a value of a wanted attribute, locale and scope."""
    attribute, *rest = name.split("-")
    if rest and _SUFFIX.match(rest[-1]):
        rest.pop()
    locales = [p for p in rest if _LOCALE.match(p)]
    scopes = [p for p in rest if not _LOCALE.match(p)]
    if len(locales) > 1 or len(scopes) > 1 or name == LINE or name == "pim_source":
        return False
    if known is not None and attribute not in known:
        return False
    if known is None and scopes and scopes[0] in _ASSOCIATION_SUFFIXES:
        return False
    locale_ok = not locales or locales[0] in selection.locales
    return selection.wants(attribute) and locale_ok and (not scopes or scopes[0] == selection.scope)


# --- value flattening ------------------------------------------------------------------------


def flatten_values(values: pl.Series, selection: ValueSelection) -> pl.DataFrame:
    """REST ``values`` (struct of attribute -> [{locale, scope, data}]) as CSV-named columns."""
    assert isinstance(values.dtype, pl.Struct)
    height = len(values)
    columns: dict[str, pl.Series] = {}
    for field in values.dtype.fields:
        if not selection.wants(field.name) or not isinstance(field.dtype, pl.List):
            continue
        long = _long_values(values.struct.field(field.name), field.name, selection)
        for (name,), part in long.partition_by("column", as_dict=True, maintain_order=True).items():
            empty = pl.repeat(None, height, dtype=pl.String, eager=True).alias(str(name))
            columns[str(name)] = empty.scatter(part["row"], part["value"])
    return pl.DataFrame(list(columns.values()))


def _long_values(entries: pl.Series, attribute: str, selection: ValueSelection) -> pl.DataFrame:
    """One row per kept value: ``row`` (position in the frame), ``column`` name, text ``value``."""
    frame = (
        pl.DataFrame({"entry": entries})
        .with_row_index("row")
        .explode("entry")
        .drop_nulls("entry")
        .unnest("entry")
    )
    for name in ("locale", "scope", "data"):
        if name not in frame.columns or frame.schema[name] == pl.Null:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    frame = frame.filter(
        pl.col("locale").is_null() | pl.col("locale").is_in(selection.locales),
        pl.col("scope").is_null() | (pl.col("scope") == selection.scope),
    ).with_columns(
        column=pl.concat_str(
            [pl.lit(attribute), pl.col("locale"), pl.col("scope")], separator="-", ignore_nulls=True
        )
    )
    return _data_as_text(frame.select("row", "column", "data"))


def _data_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Metrics split into amount + ``-unit``, prices into ``-<CUR>``, everything else as text."""
    dtype = frame.schema["data"]
    fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
    if {"amount", "unit"} <= fields.keys():
        data = pl.col("data")
        amount = frame.select(
            "row", "column", value=_text(data.struct.field("amount"), fields["amount"])
        )
        unit = frame.select(
            "row",
            pl.col("column") + "-unit",
            value=_text(data.struct.field("unit"), fields["unit"]),
        )
        return pl.concat([amount, unit])
    inner = dtype.inner if isinstance(dtype, pl.List) else None
    prices = {f.name: f.dtype for f in inner.fields} if isinstance(inner, pl.Struct) else {}
    if {"amount", "currency"} <= prices.keys():
        exploded = frame.explode("data").drop_nulls("data").unnest("data")
        return exploded.select(
            "row",
            pl.concat_str(pl.col("column"), pl.lit("-"), pl.col("currency")).alias("column"),
            value=_text(pl.col("amount"), prices["amount"]),
        )
    return frame.select("row", "column", value=_text(pl.col("data"), dtype))


def _text(expr: pl.Expr, dtype: Any) -> pl.Expr:
    """JSON data as the CSV export writes it: booleans "1"/"0", lists comma-joined."""
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("1")).when(expr.not_()).then(pl.lit("0"))
    if isinstance(dtype, pl.List):
        return expr.list.eval(_text(pl.element(), dtype.inner)).list.join(",")
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    return expr.cast(pl.String)


# --- rejects ---------------------------------------------------------------------------------


def _split_rejects(products: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Products without a sku, and every later occurrence of a sku or of an Akeneo uuid, leave
    the frame as rejects (the first occurrence is kept; the reject names the line of each
    later one)."""
    sku, uuid = pl.col("sku"), pl.col("uuid")
    missing = sku.is_null()
    duplicate = ~missing & ~sku.is_first_distinct()
    twin = ~missing & ~duplicate & uuid.is_not_null() & ~uuid.is_first_distinct()
    # Flags over the whole frame first: after filtering, a later duplicate would look first.
    flagged = products.with_columns(_missing=missing, _duplicate=duplicate, _twin=twin)
    failed = pl.col("_missing") | pl.col("_duplicate") | pl.col("_twin")
    rejects = flagged.filter(failed).select(
        "sku",
        field=pl.when("_twin").then(pl.lit("uuid")).otherwise(pl.lit("sku")),
        value=pl.when("_twin").then(uuid).otherwise(sku),
        reason=pl.when("_missing")
        .then(pl.lit("missing_identifier"))
        .when("_duplicate")
        .then(pl.lit("duplicate_sku"))
        .otherwise(pl.lit("duplicate_uuid")),
        source="pim_source",
    )
    kept = flagged.filter(~failed).drop("_missing", "_duplicate", "_twin")
    return kept, rejects.cast(REJECTS_SCHEMA)
