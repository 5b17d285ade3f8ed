"""Product values as one String column per value, named like Akeneo's CSV export header.

``name-en_US``, ``description-en_US-ecommerce``, ``price-EUR``, ``weight`` + ``weight-unit``:
multi-valued data is comma-joined, booleans are "1"/"0". Only the selected locales, scopes and
attributes are kept, in one spelling (``ValueSelection``), and value columns that are empty in
every row are left out, so a missing column means "no value anywhere".
"""

from __future__ import annotations

import re
from operator import attrgetter
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
    # By name: the order must not depend on which reader read the file or on its first lines.
    keep = [s for s in values.iter_columns() if s.null_count() < len(s)]
    return properties.hstack(sorted(keep, key=attrgetter("name")))


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
    """REST ``values`` (struct of attribute -> [{locale, scope, data}]) as CSV-named columns.

    Within one attribute the last entry for a column wins; an attribute keyed twice in
    different case fills the first key's gaps with the second's values."""
    assert isinstance(values.dtype, pl.Struct)
    height = len(values)
    columns: dict[str, pl.Series] = {}
    for field in values.dtype.fields:
        if not selection.wants(field.name) or not _holds_entries(field.dtype):
            continue
        attribute = selection.name(field.name)
        found = _attribute_columns(values.struct.field(field.name), attribute, selection, height)
        for column, filled in found.items():
            columns[column] = columns[column].fill_null(filled) if column in columns else filled
    return pl.DataFrame(list(columns.values()))


def _holds_entries(dtype: object) -> bool:
    """Whether an attribute's values are a list of entries; a list that is empty in every item
    (``List(Null)``) holds no value."""
    return isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)


def _attribute_columns(
    entries: pl.Series, attribute: str, selection: ValueSelection, height: int
) -> dict[str, pl.Series]:
    """One attribute's value columns, in the order their first value comes in the entries.

    The entries are grouped by their raw (locale, scope, suffix) and only those few groups are
    named, so no string is built per value; groups that one name joins (``EN_us`` and
    ``en_US``) are put back in entry order, so the last entry still wins."""
    texts = _data_as_text(_entries(entries))
    if selection.is_boolean(attribute):
        # JSON true/false read as text (``typed``) are "1"/"0", as Akeneo's CSV export has them.
        texts = texts.with_columns(pl.col("value").replace({"true": "1", "false": "0"}))
    texts = texts.with_row_index("_at")
    named: dict[str, list[pl.DataFrame]] = {}
    for key, part in texts.partition_by(_KEYS, maintain_order=True, as_dict=True).items():
        column = _column_name(attribute, key, selection)
        if column is not None:
            named.setdefault(column, []).append(part)
    return {column: _spread(parts, height).alias(column) for column, parts in named.items()}


_KEYS = ["locale", "scope", "_suffix"]


def _entries(entries: pl.Series) -> pl.DataFrame:
    """One row per entry: ``row`` (position in the frame), ``locale``, ``scope``, ``data``."""
    frame = (
        pl.DataFrame({"entry": entries})
        .with_row_index("row")
        .explode("entry")
        .drop_nulls("entry")
        .unnest("entry")
    )
    missing = [
        pl.lit(None, pl.String).alias(name)
        for name in ("locale", "scope", "data")
        if name not in frame.columns or frame.schema[name] == pl.Null
    ]
    return frame.with_columns(missing).select("row", "locale", "scope", "data")


def _column_name(attribute: str, key: tuple[object, ...], selection: ValueSelection) -> str | None:
    """The value column of a raw (locale, scope, suffix), None when its locale or scope is
    not read; codes are compared case-insensitively and spelled as configured."""
    raw_locale, raw_scope, suffix = (None if part is None else str(part) for part in key)
    locale = None if raw_locale is None else selection.locale_map().get(raw_locale.lower())
    scope = None if raw_scope is None else selection.scope_map().get(raw_scope.lower())
    if (raw_locale is not None and locale is None) or (raw_scope is not None and scope is None):
        return None
    name = "-".join(part for part in (attribute, locale, scope) if part)
    return name if suffix is None else f"{name}-{suffix}"


def _spread(parts: list[pl.DataFrame], height: int) -> pl.Series:
    """``height`` rows, each the value of its last entry in ``parts`` (null without one)."""
    values = parts[0] if len(parts) == 1 else pl.concat(parts).sort("_at")
    empty = pl.repeat(None, height, dtype=pl.String, eager=True)
    return empty.scatter(values["row"], values["value"])


def _data_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``row``, ``locale``, ``scope``, ``_suffix`` and the text ``value`` of each entry:
    metrics split into amount + ``unit``, prices into one value per currency (the suffix),
    everything else as text with no suffix. Rows are in the order the columns come first:
    amounts before units, prices by entry then currency."""
    dtype = frame.schema["data"]
    keys = ("row", "locale", "scope")
    fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
    if {"amount", "unit"} <= fields.keys():
        data = pl.col("data")
        amount = frame.select(
            *keys,
            _suffix=pl.lit(None, pl.String),
            value=_text(data.struct.field("amount"), fields["amount"]),
        )
        unit = frame.select(
            *keys,
            _suffix=pl.lit("unit"),
            value=_text(data.struct.field("unit"), fields["unit"]),
        )
        return pl.concat([amount, unit])
    inner = dtype.inner if isinstance(dtype, pl.List) else None
    prices = {f.name: f.dtype for f in inner.fields} if isinstance(inner, pl.Struct) else {}
    if {"amount", "currency"} <= prices.keys():
        exploded = frame.explode("data").drop_nulls("data").unnest("data")
        # A price without its currency names no column.
        return exploded.drop_nulls("currency").select(
            *keys,
            _suffix=pl.col("currency").cast(pl.String),
            value=_text(pl.col("amount"), prices["amount"]),
        )
    return frame.select(*keys, _suffix=pl.lit(None, pl.String), value=_text(pl.col("data"), dtype))


def _text(expr: pl.Expr, dtype: Any) -> pl.Expr:
    """JSON data as the CSV export writes it: booleans "1"/"0", lists comma-joined."""
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit("1")).when(expr.not_()).then(pl.lit("0"))
    if isinstance(dtype, pl.List):
        return expr.list.eval(_text(pl.element(), dtype.inner)).list.join(",")
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    return expr.cast(pl.String)
