"""The quarantine: per channel, the view's field findings and the golden rules' findings on
the products the filters let through, plus the input rows no channel got; what is publishable;
and the accounting that adds every product up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
from factories import ERP_SOURCE, config_with, golden_products, product, view_of

from contracts.config import PrismConfig
from contracts.golden import REJECTS_SCHEMA
from mapping.view import FILTERED, ChannelView
from quality.quarantine import (
    ALL_CHANNELS,
    QUARANTINE_SCHEMA,
    accounting,
    build_quarantine,
    channel_violations,
    input_rejects,
    publishable,
    quarantined,
    unknown_sku_rows,
)

CHANNELS: dict[str, dict[str, Any]] = {
    "marketplace": {
        "format": "google_merchant",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://www.example.com/p/{sku}",
    },
    "shop": {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/p/{sku}",
        "filters": {"exclude": {"families": ["shoes"]}},
    },
    "portal": {
        "format": "sql",
        "url": "sqlite:///var/portal.sqlite",
        "locale": "de_DE",
        "currencies": ["EUR", "USD"],
    },
}
CONFIG = config_with(CHANNELS)
REFERENCES = {"families": ["shirts", "shoes"]}


def no_rejects() -> pl.LazyFrame:
    return pl.LazyFrame(schema=REJECTS_SCHEMA)


def views_of(golden: pl.DataFrame, config: PrismConfig = CONFIG) -> dict[str, ChannelView]:
    return {name: view_of(config, name, golden) for name in config.channels}


def quarantine_of(
    golden: pl.DataFrame, rejects: pl.LazyFrame | None = None, config: PrismConfig = CONFIG
) -> pl.DataFrame:
    views = views_of(golden, config)
    inputs = no_rejects() if rejects is None else rejects
    return build_quarantine(views, config.channels, inputs, ERP_SOURCE, REFERENCES).collect()


def rows(frame: pl.DataFrame, *columns: str) -> set[tuple[Any, ...]]:
    return set(frame.select(columns).rows())


def test_each_finding_is_one_row_with_field_value_and_source() -> None:
    golden = golden_products(
        product("OK"),
        product("NONAME", name_de_DE="  ", pim_source="products.jsonl:7"),
        product("BADGTIN", gtin="4006381333932"),
        product("NOPRICE", list_price_EUR=None),
        product("NOIMAGE", image_url=None),
        product("OFF", enabled=False, name_de_DE=None),
    )
    q = quarantine_of(golden)
    assert q.schema == QUARANTINE_SCHEMA
    assert rows(q.filter(pl.col("severity") == "error"), "sku", "channel", "rule") == {
        ("NONAME", "marketplace", "title_missing"),  # Google's title is required
        ("NONAME", "portal", "name_missing"),  # so is the portal's name; the shop's is not
        ("BADGTIN", "marketplace", "gtin_invalid"),  # Google disapproves a wrong GTIN
        ("NOPRICE", "marketplace", "price_missing"),  # a golden rule: every channel
        ("NOPRICE", "shop", "price_missing"),
        ("NOPRICE", "portal", "price_missing"),
        ("NOIMAGE", "marketplace", "image_link_missing"),  # optional on the shop and portal
    }
    # the shop and portal drop the wrong GTIN and publish the product
    assert rows(q.filter(pl.col("severity") == "warn"), "sku", "channel", "rule") == {
        ("BADGTIN", "shop", "gtin_invalid"),
        ("BADGTIN", "portal", "gtin_invalid"),
    }
    noname = q.filter(pl.col("sku") == "NONAME", pl.col("channel") == "portal").row(0, named=True)
    assert noname == {
        "sku": "NONAME",
        "channel": "portal",
        "rule": "name_missing",
        "field": "name",  # the target field
        "value": "  ",  # the mapped value, as the channel would have got it
        "source": "products.jsonl:7",  # the PIM row to fix it in
        "severity": "error",
    }
    noprice = q.filter(pl.col("sku") == "NOPRICE")
    assert set(noprice["field"]) == {"list_price_EUR"}  # the golden column
    assert set(noprice["source"]) == {ERP_SOURCE}
    assert noprice["value"].to_list() == [None] * 3
    assert "OFF" not in set(q["sku"])  # disabled: meant for no channel


def test_rows_are_ordered_by_channel_sku_rule_and_field() -> None:
    golden = golden_products(
        product("B", list_price_EUR=None, list_price_USD=None, gtin="1"),
        product("A", family="ghosts", list_price_USD=Decimal(0)),
    )
    q = quarantine_of(golden)
    assert q.rows() == q.sort("channel", "sku", "rule", "field").rows()
    portal = q.filter(pl.col("channel") == "portal", pl.col("sku") == "B")
    assert portal.select("rule", "field").rows() == [
        ("gtin_invalid", "gtin"),
        ("price_missing", "list_price_EUR"),
        ("price_missing", "list_price_USD"),  # one row per currency the channel publishes
    ]


def test_a_rule_both_a_golden_rule_and_a_field_raise_is_kept_once() -> None:
    golden = golden_products(product("NOPRICE", list_price_EUR=None))
    views = views_of(golden)
    assert "price_missing" in set(views["marketplace"].findings["rule"])  # the field's own
    q = quarantine_of(golden).filter(pl.col("channel") == "marketplace")
    assert q.select("rule", "field").rows() == [("price_missing", "list_price_EUR")]


def test_exact_price_boundary() -> None:
    """Zero with six decimals is no price: the golden rule everywhere, and each format's
    money field by its requirement (Google refuses it, the shop drops it)."""
    golden = golden_products(product("ZERO", list_price_EUR=Decimal("0.000000")))
    q = quarantine_of(golden)
    assert rows(q, "channel", "rule", "field", "severity") == {
        ("marketplace", "price_missing", "list_price_EUR", "error"),
        ("marketplace", "price_invalid", "price", "error"),
        ("shop", "price_missing", "list_price_EUR", "error"),
        ("shop", "price_invalid", "price", "warn"),
        ("portal", "price_missing", "list_price_EUR", "error"),
    }


def test_golden_rules_run_only_on_the_products_the_filters_let_through() -> None:
    golden = golden_products(product("SHOE", family="shoes", list_price_EUR=None))
    q = quarantine_of(golden)
    shop = q.filter(pl.col("channel") == "shop")
    assert shop.select("sku", "rule", "field", "severity").rows() == [
        ("SHOE", "filtered_by_exclude", "filters", FILTERED)
    ]
    assert shop["source"].to_list() == ["products.jsonl:1"]
    assert set(q.filter(pl.col("channel") != "shop")["rule"]) == {"price_missing"}


def test_channel_violations_are_one_row_per_product_rule_and_column() -> None:
    golden = golden_products(
        product("A", list_price_EUR=None, list_price_USD=None), product("B", family="ghosts")
    )
    found = channel_violations(
        golden.lazy(), "portal", CONFIG.channels["portal"], "ERP 1", REFERENCES
    ).collect()
    assert found.select("sku", "rule", "field", "source").sort("sku", "field").rows() == [
        ("A", "price_missing", "list_price_EUR", "ERP 1"),
        ("A", "price_missing", "list_price_USD", "ERP 1"),
        ("B", "family_unknown", "family", "products.jsonl:1"),  # the PIM's row
    ]


def test_products_add_up_per_channel() -> None:
    golden = golden_products(
        product("A"),
        product("B", gtin="1"),
        product("C", enabled=False),
        product("D"),
        product("E", family="shoes"),
        product("F", family="shoes", list_price_EUR=None),
    )
    views = views_of(golden)
    q = quarantine_of(golden)
    published = {n: publishable(v, q.lazy()).frame.height for n, v in views.items()}
    assert published == {"marketplace": 3, "shop": 3, "portal": 4}
    balance = {r["channel"]: r for r in accounting(golden, q, published).to_dicts()}
    assert all(r["balanced"] for r in balance.values())
    assert balance["shop"] == {
        "channel": "shop",
        "products": 6,
        "published": 3,  # A, B (without its GTIN), D
        "quarantined": 0,
        "filtered": 2,  # E and F, whose missing price the shop never looks at
        "disabled": 1,
        "balanced": True,
    }
    assert (balance["marketplace"]["quarantined"], balance["marketplace"]["filtered"]) == (2, 0)


def test_accounting_notices_a_count_that_does_not_add_up() -> None:
    golden = golden_products(product("A"), product("B", list_price_EUR=None))
    q = quarantine_of(golden)
    balance = accounting(golden, q, {"shop": 2})  # B was kept off, yet counted as published
    assert balance.row(0, named=True)["balanced"] is False


def test_publishable_keeps_the_frame_and_its_golden_rows_aligned() -> None:
    golden = golden_products(
        product("A"), product("B", list_price_EUR=None), product("C", gtin="4006381333932")
    )
    views = views_of(golden)
    q = quarantine_of(golden).lazy()
    marketplace = publishable(views["marketplace"], q)
    assert marketplace.frame["sku"].to_list() == ["A"]
    assert marketplace.golden["sku"].to_list() == ["A"]
    assert marketplace.findings.equals(views["marketplace"].findings)
    shop = publishable(views["shop"], q)
    assert shop.frame["sku"].to_list() == shop.golden["sku"].to_list() == ["A", "C"]
    assert shop.frame.filter(pl.col("sku") == "C")["gtin"].to_list() == [None]  # dropped
    assert set(quarantined(q, "shop").collect()["sku"]) == {"B"}


def test_input_rejects_are_error_rows_for_every_channel() -> None:
    rejects = pl.LazyFrame(
        {
            "sku": ["A", None],
            "field": ["amount", "sku"],
            "value": ["32,90", None],
            "reason": ["invalid_amount", "missing_identifier"],
            "source": ["prices.csv:5", "products.jsonl:9"],
        }
    )
    assert input_rejects(rejects).collect().rows() == [
        ("A", ALL_CHANNELS, "invalid_amount", "amount", "32,90", "prices.csv:5", "error"),
        (None, ALL_CHANNELS, "missing_identifier", "sku", None, "products.jsonl:9", "error"),
    ]


def test_erp_rows_for_unknown_skus_are_quarantined_for_every_channel() -> None:
    golden = golden_products(product("A"))
    erp = pl.LazyFrame({"sku": ["A", "GHOST"], "erp_source": ["prices.csv:2", "stock.csv:9"]})
    rejects = unknown_sku_rows(erp, golden.lazy())
    q = quarantine_of(golden, rejects)
    assert q.rows() == [("GHOST", "*", "unknown_sku", "sku", "GHOST", "stock.csv:9", "error")]


def test_a_clean_catalog_is_an_empty_quarantine() -> None:
    q = quarantine_of(golden_products(product("A"), product("B", enabled=False)))
    assert q.is_empty()
    assert q.schema == QUARANTINE_SCHEMA
