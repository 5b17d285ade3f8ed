"""The catalog structure around the products: attributes, options, families, family variants,
channels and categories, from a JSON Lines (REST item shape) or CSV (Akeneo export) file.

Both file kinds give the same frames. Labels come as ``label_<locale>`` columns for the
configured locales (null where the PIM has none); code lists as ``List(String)``.

CSV headers follow Akeneo's export formats: ``attribute;code;sort_order;label-<locale>``
(options), ``code;family;variant-axes_1;variant-axes_2;variant-attributes_1;...``
(family variants), ``code;attributes;attribute_as_label;attribute_as_image;label-<locale>``
(families), ``code;tree;locales;currencies;label-<locale>`` (channels; ``category_tree`` is
accepted for ``tree``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

IDENTIFIER_TYPE = "pim_catalog_identifier"
SELECT_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})
IMAGE_TYPES = frozenset({"pim_catalog_image"})
_CODES = pl.List(pl.String)

ATTRIBUTE_COLUMNS = {
    "code": pl.String(),
    "type": pl.String(),
    "localizable": pl.Boolean(),
    "scopable": pl.Boolean(),
    "sort_order": pl.Int64(),
    "group": pl.String(),
    "metric_family": pl.String(),
    "default_metric_unit": pl.String(),
}
FAMILY_COLUMNS = {
    "code": pl.String(),
    "attribute_as_label": pl.String(),
    "attribute_as_image": pl.String(),
    "attributes": _CODES,
}
VARIANT_COLUMNS = {
    "code": pl.String(),
    "family": pl.String(),
    "level": pl.Int64(),
    "axes": _CODES,
    "attributes": _CODES,
}
OPTION_COLUMNS = {"attribute": pl.String(), "code": pl.String(), "sort_order": pl.Int64()}
CHANNEL_COLUMNS = {
    "code": pl.String(),
    "category_tree": pl.String(),
    "locales": _CODES,
    "currencies": _CODES,
}


def column(frame: pl.DataFrame, name: str, dtype: Any) -> pl.Expr:
    """``name`` cast to ``dtype``, or a null column when the file has none."""
    if name in frame.columns and frame.schema[name] != pl.Null:
        return pl.col(name).cast(dtype, strict=False)
    return pl.lit(None, dtype)


def flag(frame: pl.DataFrame, name: str, is_csv: bool) -> pl.Expr:
    if is_csv and name in frame.columns:
        return pl.col(name).str.strip_chars().str.to_lowercase().is_in(["1", "true"])
    return column(frame, name, pl.Boolean())


def code_list(frame: pl.DataFrame, name: str, is_csv: bool) -> pl.Expr:
    """A list of codes: comma-joined in CSV, a JSON array in JSON Lines; never null."""
    empty = pl.lit([], _CODES)
    if is_csv and name in frame.columns:
        parts = pl.col(name).str.split(",").list.eval(pl.element().str.strip_chars())
        return parts.list.eval(pl.element().filter(pl.element() != "")).fill_null(empty)
    return column(frame, name, _CODES).fill_null(empty)


def labels(frame: pl.DataFrame, locales: tuple[str, ...], is_csv: bool) -> list[pl.Expr]:
    """``label_<locale>`` per configured locale (CSV ``label-<locale>``; REST ``labels``),
    matched case-insensitively."""
    found = []
    for locale in locales:
        if is_csv:
            header = next((c for c in frame.columns if c.lower() == f"label-{locale}".lower()), "")
            found.append(column(frame, header, pl.String()).alias(f"label_{locale}"))
            continue
        dtype = frame.schema.get("labels")
        names = [f.name for f in dtype.fields] if isinstance(dtype, pl.Struct) else []
        key = next((n for n in names if n.lower() == locale.lower()), None)
        value = (
            pl.col("labels").struct.field(key).cast(pl.String) if key else pl.lit(None, pl.String)
        )
        found.append(value.alias(f"label_{locale}"))
    return found


def empty(columns: dict[str, Any], locales: tuple[str, ...] = ()) -> pl.DataFrame:
    return pl.DataFrame(schema=columns | {f"label_{loc}": pl.String() for loc in locales})


def attributes(frame: pl.DataFrame | None, is_csv: bool) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(ATTRIBUTE_COLUMNS)
    return frame.select(
        column(frame, "code", pl.String()).alias("code"),
        column(frame, "type", pl.String()).alias("type"),
        flag(frame, "localizable", is_csv).alias("localizable"),
        flag(frame, "scopable", is_csv).alias("scopable"),
        column(frame, "sort_order", pl.Int64()).alias("sort_order"),
        column(frame, "group", pl.String()).alias("group"),
        column(frame, "metric_family", pl.String()).alias("metric_family"),
        column(frame, "default_metric_unit", pl.String()).alias("default_metric_unit"),
    )


def identifier_attribute(attributes: pl.DataFrame, default: str) -> str:
    codes = attributes.filter(pl.col("type") == IDENTIFIER_TYPE)["code"]
    return codes[0] if len(codes) else default


def families(frame: pl.DataFrame | None, is_csv: bool, locales: tuple[str, ...]) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(FAMILY_COLUMNS, locales)
    return frame.select(
        column(frame, "code", pl.String()).alias("code"),
        column(frame, "attribute_as_label", pl.String()).alias("attribute_as_label"),
        column(frame, "attribute_as_image", pl.String()).alias("attribute_as_image"),
        code_list(frame, "attributes", is_csv).alias("attributes"),
        *labels(frame, locales, is_csv),
    )


def family_variants(frame: pl.DataFrame | None, is_csv: bool) -> pl.DataFrame:
    """One row per family variant and enrichment level (1: sub-model or variant product of a
    one-level variant, 2: variant product under a sub-model)."""
    if frame is None or frame.height == 0:
        return empty(VARIANT_COLUMNS)
    keys = [
        column(frame, "code", pl.String()).alias("code"),
        column(frame, "family", pl.String()).alias("family"),
    ]
    if is_csv:
        levels = [
            frame.select(
                *keys,
                level=pl.lit(level, pl.Int64()),
                axes=code_list(frame, f"variant-axes_{level}", True),
                attributes=code_list(frame, f"variant-attributes_{level}", True),
            )
            for level in (1, 2)
        ]
        return pl.concat(levels).filter(pl.col("axes").list.len() > 0)
    if "variant_attribute_sets" not in frame.columns:
        return empty(VARIANT_COLUMNS)
    sets = frame.select(*keys, pl.col("variant_attribute_sets")).explode("variant_attribute_sets")
    sets = sets.drop_nulls("variant_attribute_sets").unnest("variant_attribute_sets")
    return sets.select(
        "code",
        "family",
        column(sets, "level", pl.Int64()).alias("level"),
        code_list(sets, "axes", False).alias("axes"),
        code_list(sets, "attributes", False).alias("attributes"),
    )


def options(frame: pl.DataFrame | None, is_csv: bool, locales: tuple[str, ...]) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(OPTION_COLUMNS, locales)
    return frame.select(
        column(frame, "attribute", pl.String()).alias("attribute"),
        column(frame, "code", pl.String()).alias("code"),
        column(frame, "sort_order", pl.Int64()).alias("sort_order"),
        *labels(frame, locales, is_csv),
    )


def channels(frame: pl.DataFrame | None, is_csv: bool) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return empty(CHANNEL_COLUMNS)
    tree = "category_tree" if "category_tree" in frame.columns else "tree"
    return frame.select(
        column(frame, "code", pl.String()).alias("code"),
        column(frame, tree, pl.String()).alias("category_tree"),
        code_list(frame, "locales", is_csv).alias("locales"),
        code_list(frame, "currencies", is_csv).alias("currencies"),
    )


def categories(frame: pl.DataFrame | None, is_csv: bool, locales: tuple[str, ...]) -> pl.DataFrame:
    columns = {"code": pl.String(), "parent": pl.String()}
    if frame is None or frame.height == 0:
        return empty(columns, locales)
    return frame.select(
        column(frame, "code", pl.String()).alias("code"),
        column(frame, "parent", pl.String()).alias("parent"),
        *labels(frame, locales, is_csv),
    )
