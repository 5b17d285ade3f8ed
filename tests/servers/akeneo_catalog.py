"""A synthetic Akeneo catalog for the local server, in the REST item shapes of the swagger.

``make_catalog(n)``: n products (three locales, two scopes), four product models of family_0's
``by_size`` variant, 18 attributes (13 text, 4 selects of which ``season`` has no options, one
image), 40 options (labels in de_DE/en_US/fr_FR, some missing in a locale), three families
(``attribute_as_image`` set on two, null on one), three family variants with one or two levels
of axes, 23 categories in two trees and two channels, one per tree. Large enough that the
default test page size (10) splits every big list into several pages.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

Item = dict[str, Any]
T0 = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
SELECTS = {
    "color": "pim_catalog_simpleselect",
    "material": "pim_catalog_multiselect",
    "season": "pim_catalog_simpleselect",  # a select attribute without options
    "size": "pim_catalog_simpleselect",
}
MATERIALS = (
    "cotton",
    "linen",
    "wool",
    "silk",
    "leather",
    "denim",
    "polyester",
    "nylon",
    "viscose",
    "cashmere",
    "hemp",
    "bamboo",
)
SIZES = ("xs", "s", "m", "l", "xl")


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def product(i: int, updated: datetime) -> Item:
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"prism-product-{i}")),
        "enabled": i % 7 != 0,
        "family": f"family_{i % 3}",
        "categories": [f"category_{i % 5}"],
        "groups": [],
        "parent": f"model-{i % 4}" if i % 2 else None,
        "values": {
            "sku": [{"locale": None, "scope": None, "data": f"SKU-{i:05d}"}],
            "name": [
                {"locale": "de_DE", "scope": None, "data": f"Artikel {i}"},
                {"locale": "en_US", "scope": None, "data": f"Item {i}"},
                {"locale": "fr_FR", "scope": None, "data": f"Article {i}"},
            ],
            "description": [
                {"locale": "en_US", "scope": "ecommerce", "data": f"Ünïcode item {i}"},
                {"locale": "en_US", "scope": "print", "data": f"Print {i}"},
            ],
        },
        "created": stamp(T0 - timedelta(days=30)),
        "updated": stamp(updated),
    }


def model(i: int) -> Item:
    name = [{"locale": "de_DE", "scope": None, "data": f"Modell {i}"}]
    return {
        "code": f"model-{i}",
        "family": "family_0",
        "family_variant": "by_size",
        "parent": None,
        "categories": [],
        "values": {"name": name},
        "created": stamp(T0 - timedelta(days=30)),
        "updated": stamp(T0 - timedelta(days=2)),
    }


def attributes() -> list[Item]:
    text = [{"code": f"attr_{i:02d}", "type": "pim_catalog_text"} for i in range(13)]
    selects = [{"code": code, "type": kind} for code, kind in SELECTS.items()]
    return [*text, *selects, {"code": "picture", "type": "pim_catalog_image"}]


def option(attribute: str, code: str, order: int, labels: dict[str, str]) -> Item:
    return {"code": code, "attribute": attribute, "sort_order": order, "labels": labels}


def _labels(i: int, de: str, en: str, fr: str) -> dict[str, str]:
    """Three labels; fr_FR missing for every 4th, de_DE for every 7th (from the 6th)."""
    labels = {"de_DE": de, "en_US": en, "fr_FR": fr}
    if i % 4 == 3:
        del labels["fr_FR"]
    if i % 7 == 5:
        del labels["de_DE"]
    return labels


def options() -> list[Item]:
    colors = [
        option("color", f"color_{i:02d}", i + 1, _labels(i, f"Farbe {i}", f"Color {i}", f"Ton {i}"))
        for i in range(23)
    ]
    materials = [
        option("material", code, i + 1, _labels(i, code.title(), code, f"{code} (fr)"))
        for i, code in enumerate(MATERIALS)
    ]
    sizes = [
        option("size", code, i + 1, _labels(i, code.upper(), code.upper(), code.upper()))
        for i, code in enumerate(SIZES)
    ]
    return [*colors, *materials, *sizes]


def families() -> list[Item]:
    labels = {"de_DE": "x", "en_US": "x"}
    return [
        {
            "code": f"family_{i}",
            "attributes": ["attr_00", "attr_01", "color", "material", "picture", "size"],
            "attribute_as_label": "attr_00",
            "attribute_as_image": None if i == 1 else "picture",
            "attribute_requirements": {"ecommerce": ["attr_00", "picture"], "print": ["attr_00"]},
            "labels": labels,
        }
        for i in range(3)
    ]


def variant_set(level: int, axes: list[str], attributes: list[str]) -> Item:
    return {"level": level, "axes": axes, "attributes": attributes}


def family_variants() -> list[Item]:
    """As the catalog keeps them: with their ``family`` (which the API does not return)."""
    by_size = [variant_set(1, ["size"], ["size", "attr_01"])]
    by_color_size = [
        variant_set(1, ["color"], ["color", "picture"]),
        variant_set(2, ["size"], ["size", "attr_01"]),
    ]
    return [
        _variant("by_size", "family_0", by_size, {"en_US": "By size", "de_DE": "Nach Größe"}),
        _variant("by_color_size", "family_0", by_color_size, {"en_US": "By color and size"}),
        _variant("by_color", "family_1", [variant_set(1, ["color"], ["color"])], {}),
    ]


def _variant(code: str, family: str, sets: list[Item], labels: dict[str, str]) -> Item:
    return {
        "code": code,
        "family": family,
        "labels": labels,
        "common_attributes": ["attr_00"],
        "variant_attribute_sets": sets,
    }


def categories() -> list[Item]:
    """Two trees: category_00 and category_01 are roots, the others hang below one of them."""
    return [
        {"code": f"category_{i:02d}", "parent": None if i < 2 else f"category_{i % 2:02d}"}
        for i in range(23)
    ]


def channels() -> list[Item]:
    return [
        {
            "code": "ecommerce",
            "currencies": ["EUR", "USD"],
            "locales": ["de_DE", "en_US", "fr_FR"],
            "category_tree": "category_00",
            "conversion_units": {"weight": "KILOGRAM"},
            "labels": {"de_DE": "Onlineshop", "en_US": "Ecommerce", "fr_FR": "E-commerce"},
        },
        {
            "code": "print",
            "currencies": ["EUR"],
            "locales": ["de_DE"],
            "category_tree": "category_01",
            "conversion_units": {},
            "labels": {"de_DE": "Druck", "en_US": "Print"},
        },
    ]


def make_catalog(products: int) -> dict[str, list[Item]]:
    return {
        "products": [product(i, T0 - timedelta(days=1, seconds=i)) for i in range(products)],
        "product_models": [model(i) for i in range(4)],
        "attributes": attributes(),
        "attribute_options": options(),
        "families": families(),
        "family_variants": family_variants(),
        "categories": categories(),
        "channels": channels(),
    }
