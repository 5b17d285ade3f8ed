"""PIM products and product models rendered from the plan, a chunk of rows at a time:
Akeneo REST items for JSON lines, Akeneo CSV export cells for CSV."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from demo.catalog import (
    ADJECTIVES,
    ATTRIBUTES,
    BRANDS,
    DESCRIPTION_PREFIXES,
    FAMILIES,
    LOCALES,
    MODEL_ATTRIBUTES,
    NAME_PREFIXES,
    NOUNS,
    SCOPES,
    SENTENCES,
    SUFFIXES,
)
from demo.defects import SHORT_DESCRIPTIONS
from demo.expressions import decimal_text, lookup, percent_of


def _text_columns() -> list[pl.Expr]:
    """``name_<locale>`` and ``description_<locale>_<scope>`` rendered from the text seeds."""
    brand = lookup("brand_idx", [label for _, label in BRANDS])
    prefix = lookup("formula", NAME_PREFIXES, default="")
    suffix = lookup("suffix", SUFFIXES, default="")
    description_prefix = lookup("desc_formula", DESCRIPTION_PREFIXES, default="")
    exprs = []
    for i, locale in enumerate(LOCALES):
        noun = lookup("noun", [n[i] for n in NOUNS])
        adjective = lookup("adj", [a[i] for a in ADJECTIVES])
        sentence = lookup("sentence", [s[i] for s in SENTENCES])
        number = pl.col("num").cast(pl.String)
        words = pl.concat_str(brand, noun, adjective, number, separator=" ")
        name = pl.concat_str(prefix, words, suffix)
        missing_name = pl.col("defect") == f"missing_name_{locale}"
        exprs.append(pl.when(~missing_name).then(name).alias(f"name_{locale}"))
        ecommerce = pl.concat_str(description_prefix, name, pl.lit(". "), sentence)
        missing = (pl.col("defect") == "missing_ecommerce_description") & (pl.col("num") % 3 == i)
        short = pl.col("defect") == "short_ecommerce_description"
        ecommerce = pl.when(short).then(pl.lit(SHORT_DESCRIPTIONS[i])).otherwise(ecommerce)
        exprs.append(pl.when(~missing).then(ecommerce).alias(f"description_{locale}_ecommerce"))
        printed = pl.concat_str(noun, pl.lit(" "), adjective, pl.lit(" \u2013 "), brand)
        exprs.append(printed.alias(f"description_{locale}_print"))
    return exprs


def _measure_columns() -> list[pl.Expr]:
    """Weight (metric, 4 decimals) and the informative PIM price (EUR/USD, 2 decimals).

    The PIM price is deliberately 1.00 above the ERP list price: the ERP is authoritative.
    """
    unit = lookup("family_idx", [f.weight_unit for f in FAMILIES])
    grams = pl.col("weight_grams")
    scaled = pl.when(unit == "GRAM").then(grams * 10_000).otherwise(grams * 10)
    return [
        decimal_text(scaled, 4).alias("weight_amount"),
        unit.alias("weight_unit"),
        decimal_text(pl.col("list_cents") + 100, 2).alias("price_EUR"),
        decimal_text(percent_of(pl.col("list_cents"), 108) + 100, 2).alias("price_USD"),
    ]


def _single(data: pl.Expr) -> pl.Expr:
    """A non-localizable, non-scopable Akeneo value list ``[{"locale", "scope", "data"}]``."""
    entry = pl.struct(locale=pl.lit(None, pl.String), scope=pl.lit(None, pl.String), data=data)
    return pl.when(data.is_not_null()).then(pl.concat_list(entry))


def _grouped(
    frame: pl.DataFrame,
    data: Sequence[str],
    labels: Mapping[str, Sequence[str | None]],
    field: str,
    *,
    field_first: bool = False,
) -> pl.Series:
    """Per row, a list of structs ``{**labels[i], field: row[data[i]]}``, null entries dropped.

    Built long (explode) and grouped back, because ``concat_list`` of several struct columns
    is orders of magnitude slower in polars. A row without any entry gets null.
    """
    index = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    long = frame.select(
        index,
        pl.concat_list(data).alias(field),
        *(pl.lit(list(v), pl.List(pl.String)).alias(k) for k, v in labels.items()),
    )
    long = long.explode(field, *labels).drop_nulls(field)
    order = [field, *labels] if field_first else [*labels, field]
    entries = pl.struct(*order).alias(field)
    grouped = long.group_by("row", maintain_order=True).agg(entries)
    rows = frame.select(index).join(grouped, on="row", how="left", maintain_order="left")
    return rows[field]


def _localized_values(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """``name`` (per locale) and ``description`` (per locale and scope) value lists."""
    described = [(lo, sc) for lo in LOCALES for sc in SCOPES]
    return {
        "name": _grouped(
            frame,
            [f"name_{lo}" for lo in LOCALES],
            {"locale": LOCALES, "scope": [None] * len(LOCALES)},
            "data",
        ),
        "description": _grouped(
            frame,
            [f"description_{lo}_{sc}" for lo, sc in described],
            {"locale": [lo for lo, _ in described], "scope": [sc for _, sc in described]},
            "data",
        ),
    }


def _json_value(code: str) -> pl.Expr:
    """The value list of ``code`` from the rendered columns (name/description come grouped)."""
    if code in ("name", "description"):
        return pl.col(f"{code}_values")
    if code == "weight":
        weight = pl.struct(amount="weight_amount", unit="weight_unit")
        return _single(pl.when(pl.col("weight_amount").is_not_null()).then(weight))
    if code == "price":
        return _single(pl.col("price_data"))
    if code == "release_date":
        return _single(pl.col(code).dt.strftime("%Y-%m-%dT00:00:00+00:00"))
    return _single(pl.col(code))


def _with_json_values(chunk: pl.DataFrame, codes: Sequence[str]) -> pl.DataFrame:
    """``chunk`` plus a ``values`` struct column in the Akeneo REST shape."""
    rendered = chunk.with_columns(_text_columns())
    if "price" in codes:
        rendered = rendered.with_columns(_measure_columns())
        currencies = {"currency": ["EUR", "USD"]}
        prices = ["price_EUR", "price_USD"]
        price_data = _grouped(rendered, prices, currencies, "amount", field_first=True)
        rendered = rendered.with_columns(price_data.alias("price_data"))
    lists = _localized_values(rendered)
    rendered = rendered.with_columns(
        lists["name"].alias("name_values"), lists["description"].alias("description_values")
    )
    values = pl.struct(*(_json_value(code).alias(code) for code in codes)).alias("values")
    return rendered.with_columns(values)


def render_product_json(chunk: pl.DataFrame) -> pl.DataFrame:
    """Akeneo REST product items (``GET /api/rest/v1/products-uuid`` plus ``identifier``)."""
    return _with_json_values(chunk, [a.code for a in ATTRIBUTES]).select(
        "uuid",
        pl.col("sku").alias("identifier"),
        "enabled",
        "family",
        "categories",
        pl.lit([], pl.List(pl.String)).alias("groups"),
        "parent",
        "values",
        "updated",
    )


def render_model_json(chunk: pl.DataFrame) -> pl.DataFrame:
    """Akeneo REST product model items (``GET /api/rest/v1/product-models``)."""
    return _with_json_values(chunk, MODEL_ATTRIBUTES).select(
        "code", "family", "family_variant", "parent", "categories", "values", "updated"
    )


def _csv_value_columns(codes: Sequence[str]) -> list[pl.Expr]:
    """Akeneo CSV export cells: ``<code>[-<locale>][-<scope>]``, ``price-<CUR>``, ``weight``
    plus ``weight-unit``; lists comma-joined, booleans 1/0, dates ``YYYY-MM-DD``."""
    columns: list[pl.Expr] = []
    for code in codes:
        if code == "name":
            columns += [pl.col(f"name_{lo}").alias(f"name-{lo}") for lo in LOCALES]
        elif code == "description":
            columns += [
                pl.col(f"description_{lo}_{sc}").alias(f"description-{lo}-{sc}")
                for lo in LOCALES
                for sc in SCOPES
            ]
        elif code == "material":
            columns.append(pl.col(code).list.join(","))
        elif code == "eco_friendly":
            columns.append(pl.col(code).cast(pl.Int8))
        elif code == "release_date":
            columns.append(pl.col(code).dt.strftime("%Y-%m-%d"))
        elif code not in ("price", "weight"):
            columns.append(pl.col(code))
    if "price" in codes:
        columns += [pl.col(f"price_{c}").alias(f"price-{c}") for c in ("EUR", "USD")]
    if "weight" in codes:
        columns += [
            pl.col("weight_amount").alias("weight"),
            pl.col("weight_unit").alias("weight-unit"),
        ]
    return columns


def render_product_csv(chunk: pl.DataFrame) -> pl.DataFrame:
    codes = [a.code for a in ATTRIBUTES if a.code != "sku"]
    return chunk.with_columns(*_text_columns(), *_measure_columns()).select(
        "sku",
        pl.col("categories").list.join(","),
        pl.col("enabled").cast(pl.Int8),
        "family",
        "parent",
        pl.lit(None, pl.String).alias("groups"),
        *_csv_value_columns(codes),
    )


def render_model_csv(chunk: pl.DataFrame) -> pl.DataFrame:
    codes = [a.code for a in ATTRIBUTES if a.code in MODEL_ATTRIBUTES]
    return chunk.with_columns(_text_columns()).select(
        "code",
        "family_variant",
        "parent",
        pl.col("categories").list.join(","),
        *_csv_value_columns(codes),
    )
