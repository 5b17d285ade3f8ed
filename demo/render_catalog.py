"""The PIM's attributes, families and categories as Akeneo REST items and CSV export rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from demo.catalog import ATTRIBUTES, CATEGORIES, FAMILIES, LOCALES


def catalog_items() -> dict[str, list[dict[str, Any]]]:
    """Attributes, families and categories as Akeneo REST items."""
    attributes = [
        {
            "code": a.code,
            "type": a.type,
            "group": "marketing" if a.localizable else "technical",
            "unique": a.code in ("sku", "ean"),
            "localizable": a.localizable,
            "scopable": a.scopable,
            "labels": _labels(a.labels),
            "metric_family": "Weight" if a.code == "weight" else None,
            "default_metric_unit": "KILOGRAM" if a.code == "weight" else None,
            "decimals_allowed": a.code in ("weight", "price"),
        }
        for a in ATTRIBUTES
    ]
    families = [
        {
            "code": f.code,
            "labels": _labels(f.labels),
            "attributes": [a.code for a in ATTRIBUTES if a.code in f.attributes],
            "attribute_as_label": "name",
            "attribute_as_image": "image",
        }
        for f in FAMILIES
    ]
    categories = [
        {"code": code, "parent": parent, "labels": _labels(labels)}
        for code, parent, *labels in CATEGORIES
    ]
    return {"attributes": attributes, "families": families, "categories": categories}


def catalog_csv_frames(items: dict[str, list[dict[str, Any]]]) -> dict[str, pl.DataFrame]:
    """The same attributes, families and categories as Akeneo CSV export rows (booleans 1/0,
    lists comma-joined, one ``label-<locale>`` column per locale)."""
    flat = {
        "attributes": [
            {"code": a["code"], "type": a["type"], "localizable": int(a["localizable"]),
             "scopable": int(a["scopable"]), **_label_cells(a["labels"]), "group": a["group"],
             "unique": int(a["unique"]), "metric_family": a["metric_family"],
             "default_metric_unit": a["default_metric_unit"],
             "decimals_allowed": int(a["decimals_allowed"])}
            for a in items["attributes"]
        ],
        "families": [
            {"code": f["code"], **_label_cells(f["labels"]),
             "attributes": ",".join(f["attributes"]),
             "attribute_as_label": f["attribute_as_label"],
             "attribute_as_image": f["attribute_as_image"]}
            for f in items["families"]
        ],
        "categories": [
            {"code": c["code"], "parent": c["parent"], **_label_cells(c["labels"])}
            for c in items["categories"]
        ],
    }  # fmt: skip
    return {name: pl.DataFrame(rows, infer_schema_length=None) for name, rows in flat.items()}


def _label_cells(labels: dict[str, str]) -> dict[str, str]:
    return {f"label-{locale}": label for locale, label in labels.items()}


def _labels(labels: Sequence[str]) -> dict[str, str]:
    return dict(zip(LOCALES, labels, strict=True))
