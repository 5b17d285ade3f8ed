from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from factories import golden_products, product

from contracts.config import ShopChannel
from sinks.shop_csv import COLUMNS, write_shop_csv

CHANNEL = ShopChannel(
    format="csv", locale="de_DE", currency="EUR", product_url="https://shop.example.com/p/{sku}"
)


def written(products: pl.DataFrame, tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "products.csv"
    assert write_shop_csv(products, CHANNEL, path) == products.height
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def test_rows_with_variants_prices_and_availability(tmp_path: Path) -> None:
    rows = [
        product("A1"),
        product(
            "V1",
            item_group="TSHIRT",
            parent="TSHIRT-blue",
            brand=None,
            list_price_EUR=Decimal("12.345"),
            availability="backorder",
            availability_date=dt.date(2026, 12, 24),
            available_qty=0,
        ),
    ]
    simple, variant = written(golden_products(*rows), tmp_path)
    assert simple == {
        "sku": "A1",
        "item_group": "",
        "parent": "",
        "name": "Shirt A1 (de)",
        "description": "A shirt called A1 (de)",
        "brand": "Acme",
        "gtin": "4006381333931",
        "color": "blue",
        "size": "m",
        "category_path": "Clothing (de) > Tops (de)",
        "price": "19.99",
        "currency": "EUR",
        "availability": "in_stock",
        "availability_date": "",
        "available_qty": "5",
        "image_url": "https://media.example.com/A1.jpg",
        "url": "https://shop.example.com/p/A1",
    }
    assert (variant["item_group"], variant["parent"], variant["brand"]) == (
        "TSHIRT",
        "TSHIRT-blue",
        "",
    )
    assert (variant["price"], variant["availability_date"]) == ("12.35", "2026-12-24")
    assert variant["available_qty"] == "0"


def test_quotes_commas_line_breaks_and_umlauts_round_trip(tmp_path: Path) -> None:
    text = 'Größe "XL", weiß\nzweite Zeile\r\nmit CR\rin der Mitte; Ärmel'
    rows = [product("Ü-1", description_de_DE=text, color="rot\rblau", size="")]
    [row] = written(golden_products(*rows), tmp_path)
    assert row["description"] == text
    assert (row["color"], row["size"]) == ("rot\rblau", "")
    assert row["sku"] == "Ü-1"
    assert row["url"] == "https://shop.example.com/p/%C3%9C-1"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "{", "\uff1d", "\uff20"])
def test_formula_cells_get_a_leading_apostrophe(tmp_path: Path, prefix: str) -> None:
    value = f'{prefix}HYPERLINK("http://evil","x")'
    cells = {"name_de_DE": value, "brand": value, "color": value, "size": value}
    [row] = written(golden_products(product(f"{prefix}SKU", **cells)), tmp_path)
    for column in ("name", "brand", "color", "size", "sku"):
        assert row[column].startswith("'"), column
    assert row["name"] == f"'{value}"
    assert row["sku"] == f"'{prefix}SKU"


def test_numbers_and_harmless_text_are_not_touched(tmp_path: Path) -> None:
    harmless = product("N1", name_de_DE="1+1=2 @home", color="a-b", list_price_EUR=Decimal("5"))
    [row] = written(golden_products(harmless), tmp_path)
    assert (row["name"], row["color"], row["price"], row["available_qty"]) == (
        "1+1=2 @home",
        "a-b",
        "5.00",
        "5",
    )
