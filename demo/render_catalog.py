"""The PIM's catalog structure (attributes, attribute options, families, family variants,
channels, categories) as Akeneo REST items and as Akeneo CSV export rows.

The REST items are the shapes ``GET /api/rest/v1/<entity>`` returns (labels only for the
locales that have one; options and family variants, which the API nests under their attribute or
family, carry ``attribute`` / ``family`` so a flat file can name it); the CSV rows are what
Akeneo's CSV export writes for the same items, so both formats read back to the same frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from demo.catalog import (
    ATTRIBUTES,
    CATEGORIES,
    CHANNELS,
    FAMILIES,
    FAMILY_IMAGE,
    FAMILY_VARIANT,
    LOCALES,
    OPTIONS,
    Option,
    variant_levels,
)

Items = dict[str, list[dict[str, Any]]]
_VARIANT_LABELS = {
    "one": ("{} nach Größe", "{} by size", "{} par taille"),
    "two": ("{} nach Farbe und Größe", "{} by color and size", "{} par couleur et taille"),
}


def catalog_items() -> Items:
    """Every structure entity as Akeneo REST items, keyed by its file name."""
    return {
        "attributes": _attributes(),
        "attribute_options": [
            {
                "code": o.code,
                "attribute": o.attribute,
                "sort_order": order,
                "labels": _labels(o.labels),
            }
            for order, o in _numbered(OPTIONS)
        ],
        "families": [
            {
                "code": f.code,
                "labels": _labels(f.labels),
                "attributes": [a.code for a in ATTRIBUTES if a.code in f.attributes],
                "attribute_as_label": "name",
                "attribute_as_image": FAMILY_IMAGE.get(f.code, "image"),
            }
            for f in FAMILIES
        ],
        "family_variants": _family_variants(),
        "channels": [
            {
                "code": c.code,
                "currencies": list(c.currencies),
                "locales": list(c.locales),
                "category_tree": c.category_tree,
                "labels": _labels(c.labels),
            }
            for c in CHANNELS
        ],
        "categories": [
            {"code": code, "parent": parent, "labels": _labels(labels)}
            for code, parent, *labels in CATEGORIES
        ],
    }


def _attributes() -> list[dict[str, Any]]:
    return [
        {
            "code": a.code,
            "type": a.type,
            "group": "marketing" if a.localizable else "technical",
            "sort_order": order,
            "unique": a.code in ("sku", "ean"),
            "localizable": a.localizable,
            "scopable": a.scopable,
            "labels": _labels(a.labels),
            "metric_family": "Weight" if a.code == "weight" else None,
            "default_metric_unit": "KILOGRAM" if a.code == "weight" else None,
            "decimals_allowed": a.code in ("weight", "price"),
        }
        for order, a in enumerate(ATTRIBUTES)
    ]


def _family_variants() -> list[dict[str, Any]]:
    """One item per family with variants (``demo.catalog.variant_levels``); the attributes no
    level holds are the root model's (``common_attributes``, as the API reads them)."""
    items = []
    for family in FAMILIES:
        levels = variant_levels(family)
        if not levels:
            continue
        held = {a for level in levels for a in level.attributes}
        common = [a.code for a in ATTRIBUTES if a.code in family.attributes and a.code not in held]
        forms = _VARIANT_LABELS[family.variant]
        labels = [form.format(label) for form, label in zip(forms, family.labels, strict=True)]
        items.append(
            {
                "code": FAMILY_VARIANT[family.code],
                "family": family.code,
                "labels": _labels(labels),
                "common_attributes": common,
                "variant_attribute_sets": [
                    {"level": v.level, "axes": list(v.axes), "attributes": list(v.attributes)}
                    for v in levels
                ],
            }
        )
    return items


def catalog_csv_frames(items: Items) -> dict[str, pl.DataFrame]:
    """The same items as Akeneo CSV export rows: booleans 1/0, lists comma-joined, one
    ``label-<locale>`` column per locale (empty where there is no label), family variant levels
    as ``variant-axes_<n>`` / ``variant-attributes_<n>``, a channel's tree as ``tree``."""
    flat = {
        "attributes": [
            {"code": a["code"], "type": a["type"], "localizable": int(a["localizable"]),
             "scopable": int(a["scopable"]), **_label_cells(a["labels"]), "group": a["group"],
             "sort_order": a["sort_order"], "unique": int(a["unique"]),
             "metric_family": a["metric_family"],
             "default_metric_unit": a["default_metric_unit"],
             "decimals_allowed": int(a["decimals_allowed"])}
            for a in items["attributes"]
        ],
        "attribute_options": [
            {"attribute": o["attribute"], "code": o["code"], "sort_order": o["sort_order"],
             **_label_cells(o["labels"])}
            for o in items["attribute_options"]
        ],
        "families": [
            {"code": f["code"], **_label_cells(f["labels"]),
             "attributes": ",".join(f["attributes"]),
             "attribute_as_label": f["attribute_as_label"],
             "attribute_as_image": f["attribute_as_image"]}
            for f in items["families"]
        ],
        "family_variants": [
            {"code": v["code"], "family": v["family"], **_label_cells(v["labels"]),
             **_level_cells(v["variant_attribute_sets"])}
            for v in items["family_variants"]
        ],
        "channels": [
            {"code": c["code"], **_label_cells(c["labels"]), "tree": c["category_tree"],
             "locales": ",".join(c["locales"]), "currencies": ",".join(c["currencies"])}
            for c in items["channels"]
        ],
        "categories": [
            {"code": c["code"], "parent": c["parent"], **_label_cells(c["labels"])}
            for c in items["categories"]
        ],
    }  # fmt: skip
    return {name: pl.DataFrame(rows, infer_schema_length=None) for name, rows in flat.items()}


def _level_cells(levels: Sequence[dict[str, Any]]) -> dict[str, str | None]:
    """Both levels' cells, empty for a level the variant does not have (one-level variants)."""
    cells: dict[str, str | None] = {}
    by_level = {level["level"]: level for level in levels}
    for n in (1, 2):
        level = by_level.get(n)
        cells[f"variant-axes_{n}"] = ",".join(level["axes"]) if level else None
        cells[f"variant-attributes_{n}"] = ",".join(level["attributes"]) if level else None
    return cells


def _label_cells(labels: dict[str, str]) -> dict[str, str | None]:
    return {f"label-{locale}": labels.get(locale) for locale in LOCALES}


def _labels(labels: Sequence[str | None]) -> dict[str, str]:
    """REST ``labels``: the locales that have a label (Akeneo leaves the others out)."""
    return {
        locale: label for locale, label in zip(LOCALES, labels, strict=True) if label is not None
    }


def _numbered(options: Sequence[Option]) -> list[tuple[int, Option]]:
    """Each option with its ``sort_order``: its place among its attribute's options, from 1."""
    seen: dict[str, int] = {}
    numbered = []
    for option in options:
        seen[option.attribute] = seen.get(option.attribute, 0) + 1
        numbered.append((seen[option.attribute], option))
    return numbered
