"""Small golden-record frames for tests, built on the contract in ``contracts.golden``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from contracts.golden import PRICE_TIERS_SCHEMA, golden_products_schema

REPO = Path(__file__).parents[1]
LOCALES = ("de_DE", "en_US")
CURRENCIES = ("EUR",)


def product(sku: str, **overrides: Any) -> dict[str, Any]:
    """A complete, publishable product row; ``overrides`` replace single columns."""
    row: dict[str, Any] = {
        "sku": sku,
        "uuid": f"uuid-{sku}",
        "enabled": True,
        "family": "shirts",
        "parent": None,
        "item_group": None,
        "categories": ["tops"],
        "brand": "Acme",
        "gtin": "4006381333931",
        "image_url": f"https://media.example.com/{sku}.jpg",
        "color": "blue",
        "size": "m",
        "weight": Decimal("0.25"),
        "weight_unit": "KILOGRAM",
        "pim_source": "products.jsonl:1",
        "available_qty": 5,
        "availability": "in_stock",
        "availability_date": None,
        "availability_estimated": False,
        "lead_time_days": 3,
    }
    for locale in LOCALES:
        lang = locale[:2]
        row[f"name_{locale}"] = f"Shirt {sku} ({lang})"
        row[f"description_{locale}"] = f"A shirt called {sku} ({lang})"
        row[f"category_path_{locale}"] = f"Clothing ({lang}) > Tops ({lang})"
    for currency in CURRENCIES:
        row[f"list_price_{currency}"] = Decimal("19.99")
    row.update(overrides)
    return row


def golden_products(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=golden_products_schema(LOCALES, CURRENCIES))


def tier(sku: str, unit_price: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": sku,
        "price_type": "list",
        "customer_group": None,
        "customer_id": None,
        "currency": "EUR",
        "min_quantity": 1,
        "unit_price": Decimal(unit_price),
        "valid_from": dt.date(2026, 1, 1),
        "valid_to": None,
        "erp_source": "prices.csv:2",
    }
    row.update(overrides)
    return row


def price_tiers(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PRICE_TIERS_SCHEMA)


def default_config() -> dict[str, Any]:
    """The shipped prism.yaml as plain data, for tests that vary one key."""
    return yaml.safe_load((REPO / "prism.yaml").read_text(encoding="utf-8"))
