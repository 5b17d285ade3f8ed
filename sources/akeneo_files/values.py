"""Product values as one String column per value, named like Akeneo's CSV export header.

``name-en_US``, ``description-en_US-ecommerce``, ``price-EUR``, ``weight`` + ``weight-unit``:
multi-valued data is comma-joined, booleans are "1"/"0". Only the selected locales, scopes and
attributes are kept, in one spelling (``ValueSelection``), and value columns that are empty in
every row are left out, so a missing column means "no value anywhere".
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from sources.akeneo_files.files import LINE
from sources.akeneo_files.selection import ValueSelection

_SUFFIX = re.compile(r"^(unit|[A-Z]{3})$")
_ASSOCIATION_SUFFIXES = ("groups", "products", "product_models", "product_uuids")


def with_values(
    properties: pl.DataFrame,
    frame: pl.DataFrame,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
    reserved: set[str],
) -> pl.DataFrame:
    """``properties`` with the value columns of ``frame`` (REST ``values`` or CSV headers)."""
    if is_csv:
        renamed = {
            c: name
            for c in frame.columns
            if c not in reserved and (name := csv_value_name(c, selection, known)) is not None
        }
        values = _merge_duplicates(frame.select(list(renamed)), list(renamed.values()))
    elif isinstance(frame.schema.get("values"), pl.Struct):
        values = flatten_values(frame["values"], selection)
    else:
        values = pl.DataFrame()
    keep = [s for s in values.iter_columns() if s.null_count() < len(s)]
    return properties.hstack(keep)


def _merge_duplicates(values: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """``values`` renamed to ``names``, two headers naming the same value in different case
    (``Color`` and ``color``) merged into one column (the first header's value first)."""
    merged: dict[str, list[str]] = {}
    for header, name in zip(values.columns, names, strict=True):
        merged.setdefault(name, []).append(header)
    return values.select(
        pl.coalesce(*(pl.col(h) for h in headers)).alias(name) for name, headers in merged.items()
    )


def csv_value_name(
    name: str, selection: ValueSelection, known: frozenset[str] | None
) -> str | None:
    """The value column a CSV header stands for (one spelling), or None when it is not kept."""
    if name in (LINE, "pim_source"):
        return None
    attribute, *rest = name.split("-")
    suffix = rest.pop() if rest and _SUFFIX.match(rest[-1]) else None
    if known is not None and attribute.lower() not in known:
        return None
    if known is None and rest and rest[-1] in _ASSOCIATION_SUFFIXES:
        return None
    if not selection.wants(attribute):
        return None
    found = _locale_and_scope(rest, selection)
    if found is None:
        return None
    parts = [selection.name(attribute), *found, suffix]
    return "-".join(p for p in parts if p)


def _locale_and_scope(
    parts: list[str], selection: ValueSelection
) -> tuple[str | None, str | None] | None:
    """The header's locale and scope in the configured spelling, None when either is not read.

    Akeneo writes ``<attribute>-<locale>-<scope>``: of two parts the first is the locale. A
    single part is told by what the read is configured with, not by its shape: a channel
    ``web_shop`` looks like a locale, a locale ``EN_us`` like none (codes are
    case-insensitive)."""
    if not parts:
        return None, None
    if len(parts) == 2:
        locale, scope = selection.locale(parts[0]), selection.scope(parts[1])
        return (locale, scope) if locale and scope else None
    if len(parts) == 1:
        if locale := selection.locale(parts[0]):
            return locale, None
        if scope := selection.scope(parts[0]):
            return None, scope
    return None


def flatten_values(values: pl.Series, selection: ValueSelection) -> pl.DataFrame:
    """REST ``values`` (struct of attribute -> [{locale, scope, data}]) as CSV-named columns."""
    assert isinstance(values.dtype, pl.Struct)
    height = len(values)
    columns: dict[str, pl.Series] = {}
    for field in values.dtype.fields:
        if not selection.wants(field.name) or not isinstance(field.dtype, pl.List):
            continue
        long = _long_values(values.struct.field(field.name), selection.name(field.name), selection)
        for (name,), part in long.partition_by("column", as_dict=True, maintain_order=True).items():
            column = str(name)
            empty = pl.repeat(None, height, dtype=pl.String, eager=True).alias(column)
            filled = empty.scatter(part["row"], part["value"])
            if column in columns:  # the same attribute keyed twice in different case
                filled = columns[column].fill_null(filled)
            columns[column] = filled
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
    locales, scopes = selection.locale_map(), selection.scope_map()
    locale = pl.col("locale").str.to_lowercase().replace_strict(locales, default=None)
    scope = pl.col("scope").str.to_lowercase().replace_strict(scopes, default=None)
    frame = frame.with_columns(_locale=locale, _scope=scope).filter(
        pl.col("locale").is_null() | pl.col("_locale").is_not_null(),
        pl.col("scope").is_null() | pl.col("_scope").is_not_null(),
    )
    column = pl.concat_str(
        [pl.lit(attribute), pl.col("_locale"), pl.col("_scope")], separator="-", ignore_nulls=True
    )
    return _data_as_text(frame.select("row", column.alias("column"), "data"))


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
