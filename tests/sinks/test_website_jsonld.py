from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import golden_products, product

from contracts.config import WebsiteChannel
from sinks.website_jsonld import write_website
from sinks.xml_text import SinkInputError

CHANNEL = WebsiteChannel(
    format="jsonld", locale="de_DE", currency="EUR", product_url="https://www.example.com/p/{sku}"
)


def written(products: pl.DataFrame, tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "products.jsonl"
    assert write_website(products, CHANNEL, path) == products.height
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_full_product_is_schema_org_json_ld(tmp_path: Path) -> None:
    [line] = written(golden_products(product("A1")), tmp_path)
    assert line == {
        "@context": "https://schema.org",
        "@type": "Product",
        "sku": "A1",
        "name": "Shirt A1 (de)",
        "description": "A shirt called A1 (de)",
        "image": "https://media.example.com/A1.jpg",
        "gtin": "4006381333931",
        "brand": {"@type": "Brand", "name": "Acme"},
        "color": "blue",
        "size": "m",
        "category": "Clothing (de) > Tops (de)",
        "weight": {"@type": "QuantitativeValue", "value": 0.25, "unitCode": "KGM"},
        "offers": {
            "@type": "Offer",
            "price": "19.99",
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
            "url": "https://www.example.com/p/A1",
        },
    }


def test_null_properties_are_left_out_not_written_as_null(tmp_path: Path) -> None:
    nulls = {c: None for c in ("description_de_DE", "image_url", "gtin", "brand", "color")}
    bare = product("B1", **nulls, size=None, category_path_de_DE=None, weight=None)
    [line] = written(golden_products(bare), tmp_path)
    assert set(line) == {"@context", "@type", "sku", "name", "offers"}
    assert "null" not in (tmp_path / "products.jsonl").read_text(encoding="utf-8")


def test_variant_backorder_and_unknown_weight_unit(tmp_path: Path) -> None:
    variant = product(
        "V1",
        item_group="TSHIRT",
        parent="TSHIRT-blue",
        availability="backorder",
        availability_date=dt.date(2026, 12, 24),
        weight_unit="GRAIN",
    )
    [line] = written(golden_products(variant), tmp_path)
    assert line["isVariantOf"] == {"@type": "ProductGroup", "productGroupID": "TSHIRT"}
    assert line["offers"]["availability"] == "https://schema.org/BackOrder"
    assert line["offers"]["availabilityStarts"] == "2026-12-24"
    assert line["weight"] == {"@type": "QuantitativeValue", "value": 0.25, "unitText": "GRAIN"}


@pytest.mark.parametrize(
    ("amount", "text"),
    [("12.345", "12.35"), ("12.344999", "12.34"), ("0.005", "0.01"), ("7", "7.00")],
)
def test_price_is_a_two_decimal_string_rounded_half_up(
    tmp_path: Path, amount: str, text: str
) -> None:
    [line] = written(golden_products(product("P", list_price_EUR=Decimal(amount))), tmp_path)
    assert line["offers"]["price"] == text


def test_text_is_escaped_and_sku_url_encoded(tmp_path: Path) -> None:
    tricky = 'He said "hi",\n\\ Größe\t\x01 ,"color":null'
    skus = ["A/1 ü", "B?x&y=1"]
    rows = [product(skus[0], description_de_DE=tricky, color=None), product(skus[1])]
    first, second = written(golden_products(*rows), tmp_path)
    assert first["description"] == tricky
    assert "color" not in first
    assert first["offers"]["url"] == "https://www.example.com/p/A%2F1%20%C3%BC"
    assert second["offers"]["url"] == "https://www.example.com/p/B%3Fx%26y%3D1"
    assert first["offers"]["availability"] == "https://schema.org/InStock"


def test_out_of_stock_has_no_start_date(tmp_path: Path) -> None:
    gone = product("O", availability="out_of_stock", availability_date=dt.date(2026, 1, 1))
    [line] = written(golden_products(gone), tmp_path)
    assert line["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert "availabilityStarts" not in line["offers"]


@pytest.mark.parametrize(
    ("column", "value"), [("list_price_EUR", None), ("availability", "discontinued")]
)
def test_broken_input_fails_naming_the_problem(tmp_path: Path, column: str, value: Any) -> None:
    products = golden_products(product("X1", **{column: value}))
    with pytest.raises(SinkInputError, match=r"X1|discontinued"):
        write_website(products, CHANNEL, tmp_path / "products.jsonl")


def test_a_name_cannot_break_out_of_a_script_element(tmp_path: Path) -> None:
    """The feed is embedded in ``<script type="application/ld+json">`` on product pages."""
    hostile = 'Shirt </script><script>alert("x")</script> & <!-- \u2028'
    products = golden_products(product("A1", name_de_DE=hostile))
    path = tmp_path / "products.jsonl"
    write_website(products, CHANNEL, path)
    text = path.read_text(encoding="utf-8")
    for raw in ("<", ">", "&", "\u2028"):
        assert raw not in text
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text)["name"] == hostile  # the same value for a JSON parser
