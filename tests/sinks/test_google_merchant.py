from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import golden_products, product
from lxml import etree

from contracts.config import MarketplaceChannel
from sinks.google_merchant import GOOGLE_NS, write_google_merchant
from sinks.xml_text import SinkInputError

G = f"{{{GOOGLE_NS}}}"
REQUIRED = ("id", "title", "description", "link", "availability", "price", "condition")
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(Z|[+-]\d{4})$")


def channel(**overrides: Any) -> MarketplaceChannel:
    values: dict[str, Any] = {
        "format": "google_merchant",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://www.example.com/de/p/{sku}?ref=feed&x=1",
        "title": "Example GmbH \u2013 Google Shopping & more",
        "site_url": "https://www.example.com/",
    }
    return MarketplaceChannel(**(values | overrides))


def write(tmp_path: Path, products: pl.DataFrame, **kwargs: Any) -> etree._Element:
    path = tmp_path / "feed.xml"
    assert write_google_merchant(products, channel(), path, **kwargs) == products.height
    return etree.parse(str(path)).getroot()


def items(root: etree._Element) -> dict[str, dict[str, str]]:
    """Item attributes by g:id, namespace prefix stripped."""
    found = {}
    for item in root.iter("item"):
        values = {child.tag.removeprefix(G): child.text for child in item}
        found[values["id"]] = values
    return found


def test_document_is_rss_2_with_google_namespace(tmp_path: Path) -> None:
    root = write(tmp_path, golden_products(product("A1")))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    assert root.nsmap == {"g": GOOGLE_NS}
    assert root.findtext("channel/title") == "Example GmbH \u2013 Google Shopping & more"
    assert root.findtext("channel/link") == "https://www.example.com/"
    assert root.findtext("channel/description")
    assert all(child.tag.startswith(G) for child in root.iter("item") for child in child)


def test_item_carries_every_attribute(tmp_path: Path) -> None:
    row = product("A1", item_group="SHIRT", list_price_EUR=Decimal("12.345"))
    item = items(write(tmp_path, golden_products(row)))["A1"]
    assert item == {
        "id": "A1",
        "title": "Shirt A1 (de)",
        "description": "A shirt called A1 (de)",
        "link": "https://www.example.com/de/p/A1?ref=feed&x=1",
        "image_link": "https://media.example.com/A1.jpg",
        "availability": "in_stock",
        "price": "12.35 EUR",
        "brand": "Acme",
        "gtin": "4006381333931",
        "item_group_id": "SHIRT",
        "product_type": "Clothing (de) > Tops (de)",
        "condition": "new",
        "color": "blue",
        "size": "m",
    }


@pytest.mark.parametrize(
    ("amount", "price"),
    [("19.99", "19.99 EUR"), ("0.125", "0.13 EUR"), ("0.124", "0.12 EUR"), ("7", "7.00 EUR")],
)
def test_price_has_two_decimals_rounded_half_up(tmp_path: Path, amount: str, price: str) -> None:
    root = write(tmp_path, golden_products(product("A1", list_price_EUR=Decimal(amount))))
    assert items(root)["A1"]["price"] == price
    assert re.fullmatch(r"\d+\.\d{2} [A-Z]{3}", price)


def test_availability_date_only_for_backorder(tmp_path: Path) -> None:
    date = dt.date(2026, 12, 24)
    products = golden_products(
        product("IN", availability="in_stock"),
        product("OUT", availability="out_of_stock", available_qty=0),
        product("BACK", availability="backorder", availability_date=date),
        product("ODD", availability="in_stock", availability_date=date),
    )
    found = items(write(tmp_path, products))
    assert found["BACK"]["availability"] == "backorder"
    assert found["BACK"]["availability_date"] == "2026-12-24T00:00Z"
    assert ISO_8601.match(found["BACK"]["availability_date"])
    assert found["OUT"]["availability"] == "out_of_stock"
    assert all("availability_date" not in found[sku] for sku in ("IN", "OUT", "ODD"))


def test_optional_elements_are_omitted_when_null(tmp_path: Path) -> None:
    optional = ("brand", "gtin", "color", "size", "item_group", "image_url", "category_path_de_DE")
    row = product("A1", **dict.fromkeys(optional))
    item = items(write(tmp_path, golden_products(row)))["A1"]
    assert set(item) == set(REQUIRED)


def test_text_is_escaped_and_stripped(tmp_path: Path) -> None:
    name = 'Müller & Söhne <Hemd> "XL" 😀\x00\x01\x0b\x1f\ufffe'
    products = golden_products(
        product("A&B", name_de_DE=name, description_de_DE="a < b & c > d\tok\n2nd line")
    )
    item = items(write(tmp_path, products))["A&B"]
    assert item["title"] == 'Müller & Söhne <Hemd> "XL" 😀'
    assert item["description"] == "a < b & c > d\tok\n2nd line"


@pytest.mark.parametrize(
    ("sku", "path"),
    [
        ("A1", "A1"),
        ("a-b_c.d~e", "a-b_c.d~e"),
        ("A/B 1", "A%2FB%201"),
        ("X&Y?#", "X%26Y%3F%23"),
        ("Größe", "Gr%C3%B6%C3%9Fe"),
    ],
)
def test_link_url_encodes_the_sku(tmp_path: Path, sku: str, path: str) -> None:
    item = items(write(tmp_path, golden_products(product(sku))))[sku]
    assert item["link"] == f"https://www.example.com/de/p/{path}?ref=feed&x=1"


def test_template_without_placeholder_is_rejected(tmp_path: Path) -> None:
    bad = channel(product_url="https://www.example.com/p")
    with pytest.raises(SinkInputError, match="placeholder"):
        write_google_merchant(golden_products(product("A1")), bad, tmp_path / "feed.xml")


@pytest.mark.parametrize("column", ["name_de_DE", "description_de_DE", "list_price_EUR"])
def test_missing_required_value_fails(tmp_path: Path, column: str) -> None:
    products = golden_products(product("A1"), product("B2", **{column: None}))
    with pytest.raises(SinkInputError, match=rf"without '{column}', e.g. skus \['B2'\]"):
        write_google_merchant(products, channel(), tmp_path / "feed.xml")


@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 10])
def test_chunk_boundaries_keep_every_item_once_in_order(tmp_path: Path, chunk_rows: int) -> None:
    skus = [f"S{i:02d}" for i in range(10)]
    rows = [product(sku, brand=None if i % 3 else "Acme") for i, sku in enumerate(skus)]
    root = write(tmp_path, golden_products(*rows), chunk_rows=chunk_rows)
    assert [item.findtext(f"{G}id") for item in root.iter("item")] == skus
    brands = [item.findtext(f"{G}brand") for item in root.iter("item")]
    assert brands == ["Acme" if i % 3 == 0 else None for i in range(10)]


def test_empty_frame_writes_an_empty_channel(tmp_path: Path) -> None:
    root = write(tmp_path, golden_products())
    assert root.find("channel/item") is None
