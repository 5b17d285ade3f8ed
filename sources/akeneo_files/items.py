"""Products and product models: their properties, their values, and the rows that cannot be
products (no identifier, a repeated sku or uuid) as rejects."""

from __future__ import annotations

import polars as pl

from contracts.golden import REJECTS_SCHEMA
from sources.akeneo_files.entities import code_list, column, empty, flag
from sources.akeneo_files.selection import ValueSelection
from sources.akeneo_files.values import with_values

PRODUCT_COLUMNS = {
    "sku": pl.String(),
    "uuid": pl.String(),
    "enabled": pl.Boolean(),
    "family": pl.String(),
    "parent": pl.String(),
    "categories": pl.List(pl.String),
    "updated": pl.Datetime("us", "UTC"),
    "pim_source": pl.String(),
}
MODEL_COLUMNS = {
    "code": pl.String(),
    "family": pl.String(),
    "family_variant": pl.String(),
    "parent": pl.String(),
    "categories": pl.List(pl.String),
    "pim_source": pl.String(),
}


def products(
    frame: pl.DataFrame | None,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(PRODUCT_COLUMNS)
    sku = identifier(frame, selection, is_csv)
    properties = frame.select(
        sku.alias("sku"),
        *(
            column(frame, name, dtype).alias(name)
            for name, dtype in PRODUCT_COLUMNS.items()
            if name not in ("sku", "enabled", "categories", "updated")
        ),
        timestamp(frame, "updated").alias("updated"),
        flag(frame, "enabled", is_csv).alias("enabled"),
        code_list(frame, "categories", is_csv).alias("categories"),
    ).select(list(PRODUCT_COLUMNS))
    reserved = {*PRODUCT_COLUMNS, "groups", *_identifier_columns(frame, selection)}
    return with_values(properties, frame, is_csv, selection, known, reserved)


def models(
    frame: pl.DataFrame | None,
    is_csv: bool,
    selection: ValueSelection,
    known: frozenset[str] | None,
) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(MODEL_COLUMNS)
    properties = frame.select(
        *(
            column(frame, name, dtype).alias(name)
            for name, dtype in MODEL_COLUMNS.items()
            if name != "categories"
        ),
        code_list(frame, "categories", is_csv).alias("categories"),
    ).select(list(MODEL_COLUMNS))
    return with_values(properties, frame, is_csv, selection, known, set(MODEL_COLUMNS))


def _identifier_columns(frame: pl.DataFrame, selection: ValueSelection) -> list[str]:
    return [c for c in frame.columns if selection.is_identifier(c)]


def identifier(frame: pl.DataFrame, selection: ValueSelection, is_csv: bool) -> pl.Expr:
    """``identifier`` (REST) or the identifier attribute's value (CSV, uuid-keyed REST)."""
    if is_csv:
        header = next(iter(_identifier_columns(frame, selection)), selection.identifier)
        return column(frame, header, pl.String()).str.strip_chars()
    candidates = [column(frame, "identifier", pl.String())]
    values = frame.schema.get("values")
    if isinstance(values, pl.Struct):
        for name in (f.name for f in values.fields if selection.is_identifier(f.name)):
            entries = pl.col("values").struct.field(name)
            candidates.append(entries.list.first().struct.field("data").cast(pl.String))
    sku = pl.coalesce(candidates).str.strip_chars()
    return pl.when(sku != "").then(sku)


def timestamp(frame: pl.DataFrame, name: str) -> pl.Expr:
    """An ISO 8601 timestamp as UTC; pyarrow already parsed it unless a line broke the pattern."""
    dtype = frame.schema.get(name)
    if isinstance(dtype, pl.Datetime):
        value = pl.col(name).cast(pl.Datetime("us"))
        return value.dt.replace_time_zone("UTC") if dtype.time_zone is None else value
    if dtype == pl.String:
        return pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    return pl.lit(None, pl.Datetime("us", "UTC"))


def split_rejects(products: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
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
