"""The great-expectations suites come from the same rule declarations as the quarantine, and
give the same verdicts on the same data (products, rules), including generated data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import polars as pl
from factories import default_config, golden_products, product
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.config import PrismConfig, parse_config
from contracts.golden import REJECTS_SCHEMA
from quality.expectations import (
    KEY,
    channel_suite,
    results_frame,
    validate_feeds,
    validation_columns,
    validation_sample,
)
from quality.quarantine import build_quarantine
from quality.rules import rules_for

REFERENCES = {"families": ["shirts", "shoes"]}


def unexpected_skus(result: Mapping[str, Any]) -> dict[str, set[str]]:
    """Rule code -> skus of unexpected rows, from a COMPLETE result."""
    found: dict[str, set[str]] = {}
    for item in result["results"]:
        rule = item["expectation_config"]["meta"]["rule"]
        rows = item["result"].get("unexpected_index_list") or []
        found.setdefault(rule, set()).update(row[KEY] for row in rows)
    return found


def config() -> PrismConfig:
    data = default_config()
    data["locales"] = ["de_DE", "en_US"]
    data["channels"]["portal"]["currencies"] = ["EUR"]  # the currencies of the factories
    return parse_config(data)


def polars_verdicts(golden: pl.DataFrame, cfg: PrismConfig) -> dict[str, dict[str, set[str]]]:
    """channel -> rule -> skus the vectorized quarantine flags (errors and warnings)."""
    rejects = pl.LazyFrame(schema=REJECTS_SCHEMA)
    found = build_quarantine(golden.lazy(), cfg.channels, rejects, "ERP", REFERENCES).collect()
    verdicts: dict[str, dict[str, set[str]]] = {name: {} for name in cfg.channels}
    for row in found.iter_rows(named=True):
        verdicts[row["channel"]].setdefault(row["rule"], set()).add(row["sku"])
    return verdicts


def ge_verdicts(golden: pl.DataFrame, cfg: PrismConfig) -> dict[str, dict[str, set[str]]]:
    """channel -> rule -> skus great-expectations reports as unexpected."""
    enabled = golden.filter(pl.col("enabled"))
    feeds = {name: (channel, enabled) for name, channel in cfg.channels.items()}
    results = validate_feeds(feeds, REFERENCES, result_format="COMPLETE")
    return {
        name: {rule: skus for rule, skus in unexpected_skus(result).items() if skus}
        for name, result in results.items()
    }


DEFECTS = golden_products(
    product("OK"),
    product("BLANK", name_de_DE="  \t"),
    product("NONAME", name_en_US=None),
    product("BADGTIN", gtin="4006381333932"),
    product("SHORTGTIN", gtin="123"),
    product("NOPRICE", list_price_EUR=None),
    product("ZERO", list_price_EUR=Decimal("0")),
    product("HUGE", list_price_EUR=Decimal("2500000")),
    product("NOIMAGE", image_url=None),
    product("RELIMAGE", image_url="images/a.jpg"),
    product("LONG", name_de_DE="x" * 151),
    product("SHORTDESC", description_de_DE="tiny"),
    product("FAMILY", family="ghosts"),
    product("NOBRAND", brand=None),
    product("NOCAT", category_path_de_DE=None),
    product("BACKORDER", availability="backorder", availability_date=None),
    product("DATED", availability="backorder", availability_date=dt.date(2026, 12, 1)),
    product("ODD", availability="maybe"),
    product("NEGATIVE", available_qty=-1, availability="out_of_stock"),
    product("PROMISE", available_qty=0, availability="in_stock"),
    product("OFF", enabled=False, name_de_DE=None),
)


def test_both_engines_flag_the_same_products_for_the_same_rules() -> None:
    cfg = config()
    expected = polars_verdicts(DEFECTS, cfg)
    assert ge_verdicts(DEFECTS, cfg) == expected
    # the defects really are found, per channel format
    assert expected["marketplace"]["title_too_long"] == {"LONG"}
    assert expected["marketplace"]["image_missing"] == {"NOIMAGE"}
    assert expected["website"]["image_missing"] == {"NOIMAGE"}
    assert expected["shop"]["gtin_invalid"] == {"BADGTIN", "SHORTGTIN"}
    assert expected["portal"]["price_missing"] == {"NOPRICE", "ZERO"}
    assert expected["quoting"]["availability_date_missing"] == {"BACKORDER"}
    assert expected["website"]["family_unknown"] == {"FAMILY"}
    assert expected["shop"]["in_stock_without_stock"] == {"PROMISE"}
    assert expected["shop"]["stock_negative"] == {"NEGATIVE"}
    assert "title_too_long" not in expected["website"]  # Google's limit only


TEXT = st.one_of(st.none(), st.sampled_from(["", " ", "Hemd", "x" * 151, "=1+1", "ü" * 20]))
GTINS = st.one_of(st.none(), st.sampled_from(["4006381333931", "4006381333932", "12345670", "abc"]))
PRICES = st.one_of(st.none(), st.decimals(min_value=-1, max_value=2_000_000, places=2))


@st.composite
def products(draw: Any, index: int) -> dict[str, Any]:
    availability = draw(st.sampled_from(["in_stock", "backorder", "out_of_stock", "gone"]))
    return product(
        f"P{index}",
        enabled=draw(st.booleans()),
        family=draw(st.sampled_from(["shirts", "shoes", "aliens", None])),
        name_de_DE=draw(TEXT),
        description_de_DE=draw(TEXT),
        name_en_US=draw(TEXT),
        gtin=draw(GTINS),
        brand=draw(st.sampled_from([None, "Acme"])),
        image_url=draw(st.sampled_from([None, "https://m.example.com/a.jpg", "a.jpg"])),
        list_price_EUR=draw(PRICES),
        availability=availability,
        availability_date=draw(st.sampled_from([None, dt.date(2026, 12, 24)])),
        available_qty=draw(st.integers(min_value=-2, max_value=3)),
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(), min_size=1, max_size=12).flatmap(
        lambda xs: st.tuples(*(products(i) for i in range(len(xs))))
    )
)
def test_generated_catalogs_get_the_same_verdicts(rows: tuple[dict[str, Any], ...]) -> None:
    cfg = config()
    golden = golden_products(*rows)
    assert ge_verdicts(golden, cfg) == polars_verdicts(golden, cfg)


def test_each_rule_becomes_expectations_with_its_code_and_severity() -> None:
    cfg = config()
    channel = cfg.channels["marketplace"]
    suite = channel_suite("marketplace", channel, DEFECTS.schema, REFERENCES)
    by_rule: dict[str, set[str]] = {}
    for expectation in suite.expectations:
        by_rule.setdefault(expectation.meta["rule"], set()).add(expectation.meta["severity"])
    assert set(by_rule) == {r.code for r in rules_for(channel)}
    assert by_rule["brand_missing"] == {"warn"}
    assert by_rule["gtin_invalid"] == {"error"}
    severities = {e.meta["severity"]: e.severity.value for e in suite.expectations}
    assert severities == {"error": "critical", "warn": "warning"}
    conditional = [e for e in suite.expectations if e.row_condition is not None]
    assert [e.meta["rule"] for e in conditional] == [
        "availability_date_missing",
        "in_stock_without_stock",
    ]


def test_a_reference_rule_without_its_table_is_not_applied() -> None:
    cfg = config()
    suite = channel_suite("shop", cfg.channels["shop"], DEFECTS.schema, {})
    assert "family_unknown" not in {e.meta["rule"] for e in suite.expectations}
    rejects = pl.LazyFrame(schema=REJECTS_SCHEMA)
    found = build_quarantine(DEFECTS.lazy(), cfg.channels, rejects, "ERP").collect()
    assert "family_unknown" not in set(found["rule"])


def test_results_are_one_row_per_channel_and_expectation() -> None:
    cfg = config()
    channel = cfg.channels["shop"]
    columns = validation_columns("shop", channel, DEFECTS.schema, REFERENCES)
    assert "sku" in columns
    assert "pim_source" not in columns  # only what the suite reads is kept for validation
    feed = DEFECTS.filter(pl.col("sku").is_in(["OK", "BADGTIN"])).select(columns)
    results = results_frame(validate_feeds({"shop": (channel, feed)}, REFERENCES))
    failed = results.filter(~pl.col("success"))
    assert failed.select("rule", "severity", "unexpected_count").rows() == [
        ("gtin_invalid", "error", 1)
    ]
    assert results["evaluated"].max() == 2
    assert results.height == len(
        channel_suite("shop", channel, DEFECTS.schema, REFERENCES).expectations
    )


def test_large_feeds_are_sampled_the_same_way_every_time() -> None:
    feed = pl.DataFrame({"sku": [f"S{i:05}" for i in range(1000)], "x": range(1000)})
    assert validation_sample(feed, None) is feed
    assert validation_sample(feed, 1000) is feed
    sample = validation_sample(feed, 100)
    assert sample.height == 100
    assert sample.equals(validation_sample(feed, 100))
    assert sample["sku"].is_sorted()
    assert sample["sku"].n_unique() == 100
