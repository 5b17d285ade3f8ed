"""One Akeneo export folder read whole: products, product models and the catalog structure."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sources.akeneo_files import entities, items
from sources.akeneo_files.files import PimFileError, read_csv, read_jsonl
from sources.akeneo_files.selection import DEFAULT_IDENTIFIER, ValueSelection

ENTITY_FILES = (
    "products",
    "product_models",
    "attributes",
    "attribute_options",
    "families",
    "family_variants",
    "channels",
    "categories",
)
"""The export's files (``<name>.jsonl`` or ``<name>.csv``); only ``products`` is required."""
UNIQUE_CODES = {
    "product_models": ("code",),
    "attributes": ("code",),
    "attribute_options": ("attribute", "code"),
    "families": ("code",),
    "family_variants": ("code",),
    "channels": ("code",),
    "categories": ("code",),
}
"""What names one item of each catalog entity, compared case-insensitively as Akeneo does."""


@dataclass(frozen=True)
class PimStructure:
    """The catalog's structure, read before the products: what the channel mappings are
    checked against and which attributes the products must be read with."""

    attributes: pl.DataFrame
    families: pl.DataFrame
    family_variants: pl.DataFrame
    attribute_options: pl.DataFrame
    channels: pl.DataFrame
    categories: pl.DataFrame
    rows_read: dict[str, int]


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
    attribute_options: pl.DataFrame
    family_variants: pl.DataFrame
    channels: pl.DataFrame


def read_pim_structure(folder: Path, locales: tuple[str, ...]) -> PimStructure:
    """Attributes, families, family variants, options, channels and categories of one export
    folder (each may be absent: an empty frame of its columns)."""
    rows: dict[str, int] = {}

    def read(
        entity: str, convert: Callable[[pl.DataFrame | None, bool], pl.DataFrame]
    ) -> pl.DataFrame:
        return _read_entity(folder, entity, convert, None, rows)

    return PimStructure(
        attributes=read("attributes", entities.attributes),
        families=read("families", lambda f, c: entities.families(f, c, locales)),
        family_variants=read("family_variants", entities.family_variants),
        attribute_options=read("attribute_options", lambda f, c: entities.options(f, c, locales)),
        channels=read("channels", entities.channels),
        categories=read("categories", lambda f, c: entities.categories(f, c, locales)),
        rows_read=rows,
    )


def read_pim_export(
    folder: Path,
    locales: tuple[str, ...],
    scopes: str | Sequence[str],
    attributes: Collection[str] | None = None,
    structure: PimStructure | None = None,
) -> PimExport:
    """Read every entity of one export folder; products are required, the rest may be absent.

    ``scopes``: the Akeneo channels whose scopable values are kept; ``attributes``: the
    attribute codes whose values are kept (None: all), compared case-insensitively;
    ``structure``: the folder's structure if already read."""
    found = structure or read_pim_structure(folder, locales)
    rows: dict[str, int] = dict(found.rows_read)
    attribute_frame, families, variants = found.attributes, found.families, found.family_variants
    spelling = {c.lower(): c for c in attribute_frame["code"].drop_nulls().to_list()}
    wanted = (
        None
        if attributes is None
        else {*attributes, *structural_attributes(attribute_frame, families, variants)}
    )
    typed = attribute_frame.select("code", "type").drop_nulls().iter_rows()
    selection = ValueSelection.of(
        locales,
        (scopes,) if isinstance(scopes, str) else tuple(scopes),
        wanted,
        entities.identifier_attribute(attribute_frame, DEFAULT_IDENTIFIER),
        spelling,
        {str(code).lower(): str(kind) for code, kind in typed},
    )
    known = frozenset(spelling) or None

    def read(
        entity: str, convert: Callable[[pl.DataFrame | None, bool], pl.DataFrame]
    ) -> pl.DataFrame:
        return _read_entity(folder, entity, convert, selection, rows)

    products = read("products", lambda f, c: items.products(f, c, selection, known))
    if products.height == 0:
        name = next(n for n in rows if n.startswith("products."))
        msg = f"{folder / name}: no products in the file (an empty export would unpublish all)"
        raise PimFileError(msg)
    products, rejects = items.split_rejects(products)
    models = read("product_models", lambda f, c: items.models(f, c, selection, known))
    return PimExport(
        export_id=folder.name,
        products=products,
        product_models=models,
        attributes=attribute_frame,
        families=families,
        categories=found.categories,
        rejects=rejects,
        rows_read=rows,
        attribute_options=found.attribute_options,
        family_variants=variants,
        channels=found.channels,
    )


def structural_attributes(
    attributes: pl.DataFrame, families: pl.DataFrame, variants: pl.DataFrame
) -> set[str]:
    """Attributes every read keeps besides the ones asked for: image attributes, the families'
    label and image attributes, and the variant axes (variant titles need their values)."""
    images = attributes.filter(pl.col("type").is_in(sorted(entities.IMAGE_TYPES)))["code"]
    named = pl.concat(
        [families["attribute_as_label"], families["attribute_as_image"]], how="vertical"
    )
    axes = variants["axes"].explode() if variants.height else pl.Series([], dtype=pl.String)
    return {str(c) for c in (*images.to_list(), *named.drop_nulls().to_list(), *axes.drop_nulls())}


def _read_entity(
    folder: Path,
    entity: str,
    convert: Callable[[pl.DataFrame | None, bool], pl.DataFrame],
    selection: ValueSelection | None,
    rows: dict[str, int],
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
            rows[path.name] = raw.height
            _refuse_repeated_codes(raw, UNIQUE_CODES.get(entity, ()), path.name)
            return convert(raw, is_csv)
    if entity == "products":
        msg = f"{folder}: no products.jsonl or products.csv in the PIM export"
        raise PimFileError(msg)
    return convert(None, False)


def _refuse_repeated_codes(raw: pl.DataFrame, keys: tuple[str, ...], name: str) -> None:
    """Fail on two items with one code (in any case): every join on the code would repeat the
    products of that family, model or category, and which item the PIM meant is unknowable."""
    if not keys or raw.height == 0 or any(k not in raw.columns for k in keys):
        return
    codes = raw.select(
        *(pl.col(k).cast(pl.String) for k in keys),
        "pim_source",
        _key=pl.concat_str(
            [pl.col(k).cast(pl.String).str.to_lowercase() for k in keys], separator="\x00"
        ),
    ).drop_nulls("_key")
    repeated = codes.filter(pl.col("_key").is_duplicated())
    if repeated.height == 0:
        return
    first, second = (
        repeated.filter(pl.col("_key") == repeated["_key"][0]).head(2).iter_rows(named=True)
    )
    spelled = [".".join(str(row[k]) for k in keys) for row in (first, second)]
    msg = (
        f"{name}: {spelled[0]!r} ({first['pim_source']}) and {spelled[1]!r} "
        f"({second['pim_source']}) are one code (Akeneo compares codes case-insensitively); "
        "keep one"
    )
    raise PimFileError(msg)
