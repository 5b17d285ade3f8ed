"""The Google Merchant Center feed through its mapping: the shipped preset over golden rows,
checked field by field, written as RSS 2.0 with the g: namespace."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from factories import config_with, golden_products, product, staged_feed
from lxml import etree

from sinks.formats.google_merchant import GOOGLE_NS

G = f"{{{GOOGLE_NS}}}"
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(Z|[+-]\d{4})$")
CHANNEL = {
    "format": "google_merchant",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://www.example.com/de/p/{sku}?ref=feed&x=1",
    "title": "Example GmbH \u2013 Google Shopping & more",
    "site_url": "https://www.example.com/",
}


def feed(tmp_path: Path, *rows: dict[str, Any], **channel: Any) -> etree._Element:
    config = config_with({"marketplace": CHANNEL | channel})
    _, files = staged_feed(config, "marketplace", golden_products(*rows), tmp_path)
    assert [f.path for f in files] == ["marketplace/google_merchant.xml"]
    return etree.parse(str(tmp_path / "marketplace" / "google_merchant.xml")).getroot()


def items(root: etree._Element) -> dict[str, dict[str, Any]]:
    """Item elements by g:id, prefix stripped; repeated elements as lists."""
    found = {}
    for item in root.iter("item"):
        values: dict[str, Any] = {}
        for child in item:
            tag = child.tag.removeprefix(G)
            if tag in values:
                values[tag] = [*([values[tag]] if isinstance(values[tag], str) else values[tag]),
                               child.text]  # fmt: skip
            else:
                values[tag] = child.text
        found[values["id"]] = values
    return found


def test_document_is_rss_2_with_the_google_namespace(tmp_path: Path) -> None:
    root = feed(tmp_path, product("A1"))
    assert (root.tag, root.get("version"), root.nsmap) == ("rss", "2.0", {"g": GOOGLE_NS})
    assert root.findtext("channel/title") == "Example GmbH \u2013 Google Shopping & more"
    assert root.findtext("channel/link") == "https://www.example.com/"
    assert all(child.tag.startswith(G) for item in root.iter("item") for child in item)


def test_an_item_carries_the_presets_fields_with_labels(tmp_path: Path) -> None:
    row = product("A1", item_group="SHIRT", list_price_EUR=Decimal("12.345"), brand="mueller")
    assert items(feed(tmp_path, row))["A1"] == {
        "id": "A1",
        "title": "Shirt A1 (de)",
        "description": "A shirt called A1 (de)",
        "link": "https://www.example.com/de/p/A1?ref=feed&amp;x=1".replace("&amp;", "&"),
        "image_link": "https://media.example.com/A1.jpg",
        "availability": "in_stock",
        "price": "12.35 EUR",
        "brand": "Müller & Söhne",
        "gtin": "4006381333931",
        "item_group_id": "SHIRT",
        "product_type": "Clothing (de) > Tops (de)",
        "condition": "new",
        "color": "Blau",
        "size": "M",
    }


@pytest.mark.parametrize(
    ("amount", "price"),
    [("19.99", "19.99 EUR"), ("0.125", "0.13 EUR"), ("0.124", "0.12 EUR"), ("7", "7.00 EUR")],
)
def test_price_has_two_decimals_rounded_half_up(tmp_path: Path, amount: str, price: str) -> None:
    assert items(feed(tmp_path, product("A1", list_price_EUR=Decimal(amount))))["A1"]["price"] == (
        price
    )


def test_availability_date_only_for_backorders(tmp_path: Path) -> None:
    date = dt.date(2026, 12, 24)
    found = items(
        feed(
            tmp_path,
            product("IN"),
            product("BACK", availability="backorder", availability_date=date),
            product("ODD", availability="in_stock", availability_date=date),
        )
    )
    assert found["BACK"]["availability_date"] == "2026-12-24T00:00Z"
    assert ISO_8601.match(found["BACK"]["availability_date"])
    assert "availability_date" not in found["IN"]


def test_variant_titles_are_distinct_and_apparel_fields_come_through_the_mapping(
    tmp_path: Path,
) -> None:
    variants = [
        product(sku, item_group="SHIRT", variant_axes=["color"], color=color, name_de_DE="Hemd")
        for sku, color in (("V1", "blue"), ("V2", "red"))
    ]
    fields = {
        "gender": {"role": "gender", "label": False, "map": {"female": "female"}, "strict": True},
        "age_group": {"constant": "adult"},
        "google_product_category": {"field": "category_code", "map": {"tops": "212"}},
        "custom_label_0": {"template": "{family}-{field.availability}"},
    }
    roles = {"gender": "gender"}
    config = config_with({"marketplace": CHANNEL | {"fields": fields}}, attributes=roles)
    golden = golden_products(*variants, product("S1", gender="female"))
    _, _ = staged_feed(config, "marketplace", golden, tmp_path)
    found = items(etree.parse(str(tmp_path / "marketplace" / "google_merchant.xml")).getroot())
    assert (found["V1"]["title"], found["V2"]["title"]) == ("Hemd Blau", "Hemd Rot")
    assert found["S1"]["gender"] == "female"
    assert found["S1"]["age_group"] == "adult"
    assert found["S1"]["google_product_category"] == "212"
    assert found["S1"]["custom_label_0"] == "shirts-in_stock"
    assert "gender" not in found["V1"]


def test_additional_images_are_one_element_each(tmp_path: Path) -> None:
    images = [f"https://media.example.com/{i}.jpg" for i in range(3)]
    item = items(feed(tmp_path, product("A1", images=images)))["A1"]
    assert item["additional_image_link"] == images[1:]


def test_text_is_escaped_and_control_characters_never_reach_the_feed(tmp_path: Path) -> None:
    name = 'Müller & Söhne <Hemd> "XL" </script> 😀'
    row = product("A&B", name_de_DE=name, description_de_DE="a < b & c > d\tok\n2nd line")
    item = items(feed(tmp_path, row))["A&B"]
    assert item["title"] == name
    assert item["description"] == "a < b & c > d ok 2nd line"  # the preset strips HTML


@pytest.mark.parametrize(
    ("sku", "path"),
    [("A1", "A1"), ("A/B 1", "A%2FB%201"), ("X&Y?#", "X%26Y%3F%23"), ("Größe", "Gr%C3%B6%C3%9Fe")],
)
def test_the_link_url_encodes_the_sku(tmp_path: Path, sku: str, path: str) -> None:
    row = product(sku, image_url="https://media.example.com/p.jpg")
    item = items(feed(tmp_path, row))[sku]
    assert item["link"] == f"https://www.example.com/de/p/{path}?ref=feed&x=1"


def test_products_an_error_keeps_off_are_not_written(tmp_path: Path) -> None:
    found = items(feed(tmp_path, product("A1"), product("B2", gtin="4006381333932")))
    assert list(found) == ["A1"]
