from __future__ import annotations

from decimal import Decimal

import polars as pl
from factories import default_config, golden_products, product

from contracts.config import parse_config
from contracts.golden import REJECTS_SCHEMA
from quality.quarantine import accounting, build_quarantine, publishable, unknown_sku_rows


def config():
    data = default_config()
    data["locales"] = ["de_DE", "en_US"]
    data["channels"]["portal"]["currencies"] = ["EUR"]  # the currencies of the factories
    return parse_config(data)


def no_rejects() -> pl.LazyFrame:
    return pl.LazyFrame(schema=REJECTS_SCHEMA)


def test_each_failed_rule_is_one_row_with_field_value_and_source() -> None:
    golden = golden_products(
        product("OK"),
        product("NONAME", name_de_DE="  ", pim_source="products.jsonl:7"),
        product("BADGTIN", gtin="4006381333932"),
        product("NOPRICE", list_price_EUR=None),
        product("NOIMAGE", image_url=None),
        product("OFF", enabled=False, name_de_DE=None),
    )
    q = build_quarantine(golden.lazy(), config().channels, no_rejects(), "ERP 1").collect()
    errors = q.filter(pl.col("severity") == "error")
    assert set(errors["sku"]) == {"NONAME", "BADGTIN", "NOPRICE", "NOIMAGE"}
    # the others only get warnings: too short a description for "NONAME" in public channels
    assert set(q.filter(pl.col("severity") == "warn")["rule"]) <= {"image_missing"}
    noname = q.filter(pl.col("sku") == "NONAME", pl.col("channel") == "shop").row(0, named=True)
    assert noname == {
        "sku": "NONAME",
        "channel": "shop",
        "rule": "name_missing",
        "field": "name_de_DE",
        "value": "  ",
        "source": "products.jsonl:7",
        "severity": "error",
    }
    noprice = q.filter(pl.col("sku") == "NOPRICE")
    assert set(noprice["channel"]) == set(config().channels)
    assert set(noprice["source"]) == {"ERP 1"}
    # only Google requires an image; the other channels publish it with a warning
    noimage = q.filter(pl.col("sku") == "NOIMAGE")
    assert noimage.filter(pl.col("severity") == "error")["channel"].to_list() == ["marketplace"]
    assert set(noimage.filter(pl.col("severity") == "warn")["channel"]) == {
        "website",
        "shop",
        "portal",
        "quoting",
    }


def test_products_add_up_per_channel() -> None:
    golden = golden_products(
        product("A"), product("B", gtin="1"), product("C", enabled=False), product("D")
    )
    q = build_quarantine(golden.lazy(), config().channels, no_rejects(), "ERP").collect()
    published = {
        name: publishable(golden.lazy(), q.lazy(), name).collect().height
        for name in config().channels
    }
    assert published == dict.fromkeys(config().channels, 2)
    balance = accounting(golden, q, published)
    assert balance["balanced"].all()
    assert balance.filter(pl.col("channel") == "shop").row(0, named=True)["quarantined"] == 1


def test_erp_rows_for_unknown_skus_are_quarantined_for_every_channel() -> None:
    golden = golden_products(product("A"))
    erp = pl.LazyFrame({"sku": ["A", "GHOST"], "erp_source": ["prices.csv:2", "stock.csv:9"]})
    rejects = unknown_sku_rows(erp, golden.lazy())
    q = build_quarantine(golden.lazy(), config().channels, rejects, "ERP").collect()
    assert q.rows() == [("GHOST", "*", "unknown_sku", "sku", "GHOST", "stock.csv:9", "error")]


def test_exact_price_boundary() -> None:
    golden = golden_products(product("ZERO", list_price_EUR=Decimal("0.000000")))
    q = build_quarantine(golden.lazy(), config().channels, no_rejects(), "ERP").collect()
    assert set(q["rule"]) == {"price_missing"}
