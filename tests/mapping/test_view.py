"""A channel's view: filters first (counted), then every field checked against its spec —
field-level before product-level — and the accounting that adds up to every product."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from factories import ERP_SOURCE, config_with, golden_products, product, view_of

from mapping.golden_rows import GoldenRows
from mapping.view import FILTERED
from quality.quarantine import accounting, build_quarantine, publishable

SHOP = {
    "format": "csv",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://shop.example.com/p/{sku}",
}
GOOGLE = {
    "format": "google_merchant",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://www.example.com/p/{sku}",
}
NO_REJECTS = pl.LazyFrame(
    schema={"sku": pl.String, "field": pl.String, "value": pl.String}
    | {"reason": pl.String, "source": pl.String}
)


def findings(view: Any, sku: str) -> set[tuple[str, str]]:
    own = view.findings.filter(pl.col("sku") == sku)
    return {(r["rule"], r["severity"]) for r in own.iter_rows(named=True)}


def test_a_wrong_gtin_is_dropped_on_the_shop_but_refused_by_the_marketplace() -> None:
    config = config_with({"shop": SHOP, "marketplace": GOOGLE})
    golden = golden_products(product("A1"), product("B2", gtin="4006381333932"))
    shop = view_of(config, "shop", golden)
    assert findings(shop, "B2") == {("gtin_invalid", "warn")}
    assert shop.frame.filter(pl.col("sku") == "B2")["gtin"].to_list() == [None]
    assert shop.frame.filter(pl.col("sku") == "A1")["gtin"].to_list() == ["4006381333931"]
    marketplace = view_of(config, "marketplace", golden)
    assert findings(marketplace, "B2") == {("gtin_invalid", "error")}
    quarantine = build_quarantine(
        {"shop": shop, "marketplace": marketplace}, config.channels, NO_REJECTS, ERP_SOURCE
    )
    assert publishable(shop, quarantine).frame["sku"].to_list() == ["A1", "B2"]
    assert publishable(marketplace, quarantine).frame["sku"].to_list() == ["A1"]


def test_an_over_long_title_is_truncated_at_a_word_and_reported() -> None:
    config = config_with({"marketplace": GOOGLE})
    long_name = "Wanderschuh " * 20
    view = view_of(config, "marketplace", golden_products(product("A1", name_de_DE=long_name)))
    assert findings(view, "A1") == {("title_truncated", "warn")}
    title = view.frame["title"][0]
    assert len(title) <= 150
    assert title.endswith("Wanderschuh")


def test_required_fields_recommended_ones_and_conditional_requirements() -> None:
    config = config_with({"marketplace": GOOGLE})
    golden = golden_products(
        product("A1", brand=None),
        product("B2", availability="backorder", availability_date=None),
        product("C3", availability="backorder", availability_date=dt.date(2026, 12, 24)),
        product("D4", image_url=None),
    )
    view = view_of(config, "marketplace", golden)
    assert findings(view, "A1") == {("brand_missing", "warn")}
    assert findings(view, "B2") == {("availability_date_missing", "error")}
    assert findings(view, "C3") == set()
    assert findings(view, "D4") == {("image_link_missing", "error")}


def test_a_select_without_a_label_in_the_locale_is_shown_and_reported() -> None:
    config = config_with({"shop": SHOP})
    view = view_of(config, "shop", golden_products(product("A1", color="green")))
    assert view.frame["color"].to_list() == ["Green"]
    label = view.findings.filter(pl.col("rule") == "option_label_missing")
    assert label.select("severity", "value").row(0) == ("warn", "green")


def test_values_from_the_erp_name_the_erp_snapshot_as_their_source() -> None:
    config = config_with({"marketplace": GOOGLE})
    golden = golden_products(product("A1", availability="backorder"))
    row = view_of(config, "marketplace", golden).findings.row(0, named=True)
    assert (row["rule"], row["source"]) == ("availability_date_missing", ERP_SOURCE)


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({"include": {"categories": ["CLOTHING"]}}, ["A1", "B2"]),  # a subtree, any case
        ({"include": {"categories": ["shoes"]}}, ["C3"]),
        ({"exclude": {"families": ["Shoes"]}}, ["A1", "B2"]),
        ({"include": {"brands": ["MUELLER"]}}, ["B2"]),
        ({"include": {"availability": ["in_stock", "backorder"]}}, ["A1", "C3"]),
        ({"exclude": {"where": {"attribute": "color", "equals": "red"}}}, ["A1", "C3"]),
        ({"include": {"where": {"field": "available_qty", "at_least": 2}}}, ["A1", "C3"]),
        ({"completeness": 1.0}, ["A1", "C3"]),
    ],
)
def test_filters_keep_products_off_and_count_them(filters: dict[str, Any], kept: list[str]) -> None:
    config = config_with({"shop": SHOP | {"filters": filters}})
    golden = golden_products(
        product("A1"),
        product(
            "B2",
            brand="mueller",
            color="red",
            availability="out_of_stock",
            available_qty=0,
            description_de_DE=None,
        ),
        product(
            "C3",
            family="shoes",
            categories=["shoes"],
            category_lineage=["shoes"],
            availability="backorder",
            availability_date=dt.date(2026, 12, 24),
        ),
        product("D4", enabled=False),
    )
    view = view_of(config, "shop", golden)
    assert view.frame["sku"].to_list() == kept
    left_out = view.findings.filter(pl.col("severity") == FILTERED)
    assert sorted(left_out["sku"]) == sorted({"A1", "B2", "C3"} - set(kept))
    assert set(left_out["rule"]) <= {
        "filtered_by_include",
        "filtered_by_exclude",
        "filtered_by_completeness",
    }


def test_accounting_adds_up_with_filtered_quarantined_and_disabled_products() -> None:
    config = config_with(
        {
            "shop": SHOP | {"filters": {"exclude": {"families": ["shoes"]}}},
            "marketplace": GOOGLE,
        }
    )
    golden = golden_products(
        product("A1"),
        product("B2", family="shoes"),
        product("C3", list_price_EUR=None),
        product("D4", enabled=False),
        product("E5", gtin="4006381333932"),
    )
    views = {name: view_of(config, name, golden) for name in config.channels}
    quarantine = build_quarantine(views, config.channels, NO_REJECTS, ERP_SOURCE).collect()
    published = {n: publishable(v, quarantine.lazy()).frame.height for n, v in views.items()}
    balance = {r["channel"]: r for r in accounting(golden, quarantine, published).to_dicts()}
    assert balance["shop"] | {"channel": None} == {
        "channel": None,
        "products": 5,
        "published": 2,  # A1, E5 (without its GTIN)
        "quarantined": 1,  # C3: no price
        "filtered": 1,  # B2
        "disabled": 1,
        "balanced": True,
    }
    assert (balance["marketplace"]["published"], balance["marketplace"]["quarantined"]) == (2, 2)
    assert balance["marketplace"]["balanced"]
    price = quarantine.filter(pl.col("sku") == "C3", pl.col("channel") == "marketplace")
    assert price["rule"].to_list() == ["price_missing"]  # once, though golden rule and field both


def test_prices_are_money_in_the_view_and_lists_stay_lists() -> None:
    config = config_with({"marketplace": GOOGLE})
    images = [f"https://media.example.com/{i}.jpg" for i in range(12)]
    golden = golden_products(product("A1", list_price_EUR=Decimal("12.345"), images=images))
    view = view_of(config, "marketplace", golden)
    assert view.frame["price"].to_list() == [Decimal("12.345")]
    assert findings(view, "A1") == {("additional_image_link_too_many", "warn")}


def test_the_golden_rows_are_the_kept_enabled_products_with_url_and_completeness() -> None:
    social = {"format": "meta_catalog", "locale": "en_US", "currency": "USD",
              "product_url": "https://www.example.com/en/p/{sku}",
              "filters": {"exclude": {"brands": ["MUELLER"]}}}  # fmt: skip
    config = config_with({"social": social})
    golden = golden_products(
        product("A1"), product("B2", brand="mueller"), product("C3", enabled=False), product("D4")
    )
    view = view_of(config, "social", golden)
    assert isinstance(view.rows, GoldenRows)  # not copied until read
    assert view.golden_columns() == [*golden.columns, "_url", "_completeness"]
    assert view.golden.select(golden.columns).equals(
        golden.filter(pl.col("sku").is_in(["A1", "D4"]))
    )
    assert view.golden["_url"].to_list() == [
        f"https://www.example.com/en/p/{s}" for s in ("A1", "D4")
    ]
    assert view.golden_lazy().select("sku").collect()["sku"].equals(view.frame["sku"])
