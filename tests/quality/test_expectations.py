"""The great-expectations suite of a channel checks what the polars engine checks (the format's
field specs and the golden rules) and gives the same verdicts: on every channel of a config
with several formats, the products the quarantine keeps off are exactly those the suite flags
with an error on the unpublished frame, rule by rule, on a hand-made catalog with every defect
and on generated ones; and the frame a run publishes passes every error expectation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from factories import compiled, config_with, golden_products, product, view_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.config import PrismConfig
from contracts.golden import REJECTS_SCHEMA
from quality.expectations import (
    GOLDEN,
    KEY,
    NAMED_ROWS,
    FeedSuite,
    blank_free_columns,
    channel_suite,
    results_file,
    results_frame,
    save_results,
    validate_feeds,
    validation_frame,
    validation_sample,
)
from quality.quarantine import build_quarantine
from quality.rules import NOT_SPACE, RULES, References

Engines = Callable[..., Any]
REFERENCES: References = {"families": ["shirts", "shoes"]}
CHANNELS: dict[str, dict[str, Any]] = {
    "marketplace": {
        "format": "google_merchant",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://www.example.com/de/p/{sku}",
        "filters": {"exclude": {"availability": ["out_of_stock"]}},
    },
    "shop": {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/de/p/{sku}",
    },
    "portal": {
        "format": "sql",
        "url": "sqlite:///var/portal.sqlite",
        "locale": "de_DE",
        "currencies": ["EUR", "USD"],
    },
    "social": {
        "format": "meta_catalog",
        "locale": "en_US",
        "currency": "USD",
        "product_url": "https://www.example.com/en/p/{sku}",
    },
}
CONFIG = config_with(CHANNELS)
GOLDEN_CODES = {r.code for r in RULES}
DOUBLED = "https://media.example.com/https://cdn.example.com/a.jpg"

DEFECTS = golden_products(
    product("OK"),
    product("BLANK", name_de_DE="  \t"),
    product("SEPARATORS", name_de_DE="\x1c\x1f"),
    product("NONAME", name_en_US=None),
    product("BADGTIN", gtin="4006381333932"),
    product("SHORTGTIN", gtin="123"),
    product("BLANKGTIN", gtin="  "),
    product("WIDEGTIN", gtin="".join(chr(0xFF10 + int(d)) for d in "4006381333931")),
    product("NOGTIN", gtin=None),
    product("NOPRICE", list_price_EUR=None),
    product("ZERO", list_price_EUR=Decimal("0")),
    product("NEGPRICE", list_price_EUR=Decimal("-0.01")),
    product("NOUSD", list_price_USD=None),
    product("HUGE", list_price_EUR=Decimal("2500000")),
    product("NOIMAGE", image_url=None),
    product("RELIMAGE", image_url="images/a.jpg"),
    product("DOUBLEIMAGE", image_url=DOUBLED),
    product("LONGIMAGE", image_url="https://m.example.com/" + "a" * 1979),
    product("LONG", name_de_DE="x" * 151),
    product("LONGEN", name_en_US="y" * 201),
    product("LONGDESC", description_de_DE="d" * 5001),
    product("NODESC", description_de_DE=None),
    product("S" * 51),
    product("FAMILY", family="ghosts"),
    product("NOBRAND", brand=None),
    product("BACKORDER", availability="backorder", availability_date=None),
    product("DATED", availability="backorder", availability_date=dt.date(2026, 12, 1)),
    product("ODD", availability="maybe"),
    product("NEGATIVE", available_qty=-1, availability="out_of_stock"),
    product("PROMISE", available_qty=0, availability="in_stock"),
    product("OFF", enabled=False, name_de_DE=None),
)


def by_rule(findings: Iterable[Any], channel: str) -> dict[str, set[str]]:
    """rule -> skus of one channel's findings."""
    found: dict[str, set[str]] = {}
    for f in findings:
        if f.channel == channel:
            found.setdefault(f.rule, set()).add(f.sku)
    return found


def errors(findings: Iterable[Any], channel: str) -> set[str]:
    return {f.sku for f in findings if f.channel == channel and f.severity == "error"}


def failed_errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule, column) of the error expectations that failed."""
    return [
        (i["expectation_config"]["meta"]["rule"], i["expectation_config"]["kwargs"]["column"])
        for i in result["results"]
        if i["expectation_config"]["meta"]["severity"] == "error" and not i["success"]
    ]


def assert_same_verdicts(verdicts: Any, config: PrismConfig) -> None:
    for name in config.channels:
        assert by_rule(verdicts.expectations, name) == by_rule(verdicts.polars, name), name
        assert errors(verdicts.expectations, name) == verdicts.quarantined[name], name
        assert errors(verdicts.polars, name) == verdicts.quarantined[name], name
    assert verdicts.expectations == verdicts.polars  # fields and severities alike


def test_both_engines_flag_the_same_products_for_the_same_rules(engines: Engines) -> None:
    """One test, so the slow suites run once (a module fixture would run once per worker)."""
    defects = engines(CONFIG, DEFECTS, REFERENCES)
    assert_same_verdicts(defects, CONFIG)
    assert_defects_found(defects)
    assert_severities(defects)
    for name, result in defects.published_results.items():
        assert failed_errors(result) == [], name  # what a run publishes passes every error


def assert_defects_found(defects: Any) -> None:
    """The defects really are found, per channel format."""
    google, shop = by_rule(defects.polars, "marketplace"), by_rule(defects.polars, "shop")
    portal, meta = by_rule(defects.polars, "portal"), by_rule(defects.polars, "social")
    assert google["title_missing"] == {"BLANK", "SEPARATORS"}
    assert google["title_truncated"] == {"LONG"}  # Google's limit; cut, published, reported
    assert google["description_truncated"] == {"LONGDESC"}
    assert google["description_missing"] == {"NODESC"}
    assert google["id_too_long"] == {"S" * 51}
    assert google["image_link_missing"] == {"NOIMAGE"}
    assert google["image_link_invalid"] == {"RELIMAGE", "DOUBLEIMAGE"}
    assert google["image_link_too_long"] == {"LONGIMAGE"}
    assert google["gtin_invalid"] == {"BADGTIN", "SHORTGTIN", "WIDEGTIN"}
    assert google["gtin_missing"] == {"BLANKGTIN", "NOGTIN"}  # blank is missing, not invalid
    assert google["price_missing"] == {"NOPRICE", "ZERO", "NEGPRICE"}  # the golden rule
    assert google["price_invalid"] == {"ZERO", "NEGPRICE"}  # and the field's own check
    assert google["availability_date_missing"] == {"BACKORDER"}
    assert google["brand_missing"] == {"NOBRAND"}
    assert "NEGATIVE" not in {s for skus in google.values() for s in skus}  # filtered out
    assert shop["gtin_invalid"] == {"BADGTIN", "SHORTGTIN", "WIDEGTIN"}  # dropped, published
    assert shop["image_url_invalid"] == {"RELIMAGE", "DOUBLEIMAGE"}
    assert shop["stock_negative"] == {"NEGATIVE"}
    assert shop["in_stock_without_stock"] == {"PROMISE"}
    assert "title_truncated" not in shop
    assert "gtin_missing" not in shop
    assert portal["name_missing"] == {"BLANK", "SEPARATORS"}
    assert portal["description_missing"] == {"NODESC"}  # recommended: a warning
    assert portal["price_missing"] == {"NOPRICE", "ZERO", "NEGPRICE", "NOUSD"}  # both currencies
    assert meta["title_missing"] == {"NONAME"}  # the channel's locale is en_US
    assert meta["title_truncated"] == {"LONGEN"}
    assert meta["price_missing"] == {"NOUSD"}  # it publishes USD only
    for rules in (google, shop, portal, meta):
        assert rules["family_unknown"] == {"FAMILY"}
        assert rules["availability_invalid"] == {"ODD"}


def assert_severities(defects: Any) -> None:
    """Quarantine and suite agree on the severity of each finding, as each format says."""
    severities = {(f.channel, f.rule): f.severity for f in defects.polars}
    assert severities[("marketplace", "gtin_invalid")] == "error"  # Google disapproves it
    assert severities[("shop", "gtin_invalid")] == "warn"  # an optional field: dropped
    assert severities[("marketplace", "title_truncated")] == "warn"
    assert severities[("social", "brand_missing")] == "warn"  # a GTIN may stand in for it
    assert severities[("portal", "description_missing")] == "warn"
    assert severities[("marketplace", "price_implausible")] == "warn"
    assert {(f.channel, f.rule): f.severity for f in defects.expectations} == severities


TEXT = st.one_of(st.none(), st.sampled_from(["", " ", "\x1c", "Hemd", "x" * 151, "=1+1", "ü" * 20]))
GTINS = st.one_of(
    st.none(),
    st.sampled_from(["4006381333931", "4006381333932", "96385074", "12345670", "abc", " "]),
)
PRICES = st.one_of(st.none(), st.decimals(min_value=-1, max_value=2_000_000, places=2))
IMAGES = st.sampled_from(
    [None, "https://m.example.com/a.jpg", "a.jpg", "https://", DOUBLED, "http://m/a b.jpg"]
)


@st.composite
def products(draw: Any, index: int) -> dict[str, Any]:
    return product(
        f"P{index}",
        enabled=draw(st.booleans()),
        family=draw(st.sampled_from(["shirts", "shoes", "aliens", None])),
        name_de_DE=draw(TEXT),
        description_de_DE=draw(TEXT),
        name_en_US=draw(TEXT),
        gtin=draw(GTINS),
        brand=draw(st.sampled_from([None, "acme", "mueller"])),
        image_url=draw(IMAGES),
        list_price_EUR=draw(PRICES),
        list_price_USD=draw(PRICES),
        availability=draw(st.sampled_from(["in_stock", "backorder", "out_of_stock", "gone"])),
        availability_date=draw(st.sampled_from([None, dt.date(2026, 12, 24)])),
        available_qty=draw(st.integers(min_value=-2, max_value=3)),
    )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=1, max_value=30).flatmap(lambda n: st.tuples(*map(products, range(n))))
)
def test_generated_catalogs_get_the_same_verdicts(
    engines: Engines, rows: tuple[dict[str, Any], ...]
) -> None:
    """Great-expectations spends its time per expectation, not per row: few, large catalogs."""
    assert_same_verdicts(engines(CONFIG, golden_products(*rows), REFERENCES, False), CONFIG)


# --- the suite ---------------------------------------------------------------------------------


def feed_suite(name: str, golden: pl.DataFrame, config: PrismConfig = CONFIG) -> FeedSuite:
    """Channel ``name``'s suite input as a run builds it, from the whole view."""
    view = view_of(config, name, golden)
    fields = [f.spec for f in compiled(config, name, golden).fields.values()]
    channel = config.channels[name]
    return FeedSuite(
        channel, fields, validation_frame(view.frame, view.golden, channel, fields, None)
    )


def test_each_rule_becomes_expectations_with_its_code_and_severity() -> None:
    suite = channel_suite("marketplace", feed_suite("marketplace", DEFECTS), REFERENCES)
    severities: dict[str, set[str]] = {}
    for expectation in suite.expectations:
        severities.setdefault(expectation.meta["rule"], set()).add(expectation.meta["severity"])
    assert set(severities) >= GOLDEN_CODES
    fields = {rule: s for rule, s in severities.items() if rule not in GOLDEN_CODES}
    assert fields == {
        "id_missing": {"error"},
        "id_too_long": {"error"},
        "title_missing": {"error"},
        "title_truncated": {"warn"},
        "description_missing": {"error"},
        "description_truncated": {"warn"},
        "link_missing": {"error"},
        "link_invalid": {"error"},
        "link_too_long": {"error"},
        "image_link_missing": {"error"},
        "image_link_invalid": {"error"},
        "image_link_too_long": {"error"},
        "availability_missing": {"error"},
        # availability_invalid (the enum) and availability_date_missing (a backorder's date)
        # share the golden rules' codes
        "price_invalid": {"error"},
        "brand_missing": {"warn"},
        "brand_too_long": {"warn"},
        "gtin_missing": {"warn"},
        "gtin_invalid": {"error"},
        "item_group_id_too_long": {"warn"},
        "product_type_truncated": {"warn"},
        "condition_invalid": {"warn"},
        "color_truncated": {"warn"},
        "size_too_long": {"warn"},
    }
    assert severities["price_missing"] == {"error"}
    assert severities["price_implausible"] == {"warn"}
    levels = {e.meta["severity"]: e.severity.value for e in suite.expectations}
    assert levels == {"error": "critical", "warn": "warning"}
    conditional = {
        (e.meta["rule"], str(e.row_condition.column.name), repr(e.row_condition.parameter))
        for e in suite.expectations
        if e.row_condition is not None
    }
    assert conditional == {
        ("availability_date_missing", "golden__availability", "'backorder'"),
        ("availability_date_missing", "golden__availability", "['backorder', 'preorder']"),
        ("in_stock_without_stock", "golden__availability", "'in_stock'"),
    }


def test_a_suite_checks_only_the_fields_the_channel_maps() -> None:
    shop = {
        e.meta["rule"] for e in channel_suite("shop", feed_suite("shop", DEFECTS), {}).expectations
    }
    assert shop - GOLDEN_CODES == {
        "price_invalid",
        "url_invalid",
        "image_url_invalid",
        "gtin_invalid",
    }
    assert "family_unknown" not in shop  # no families table


def test_a_reference_rule_without_its_table_is_not_applied(engines: Engines) -> None:
    golden = golden_products(product("GHOST", family="ghosts"))
    config = config_with({"shop": CHANNELS["shop"]})
    verdicts = engines(config, golden, {}, False)
    assert verdicts.polars == verdicts.expectations == frozenset()
    rejects = pl.LazyFrame(schema=REJECTS_SCHEMA)
    view = view_of(config, "shop", golden)
    found = build_quarantine({"shop": view}, config.channels, rejects, "ERP").collect()
    assert "family_unknown" not in set(found["rule"])


def test_the_validation_frame_holds_the_targets_and_the_golden_columns_the_rules_read() -> None:
    golden = golden_products(product("A", gtin=" "), product("B"))
    frame = feed_suite("marketplace", golden).frame
    view = view_of(CONFIG, "marketplace", golden)
    lists = [n for n, t in view.frame.schema.items() if isinstance(t, pl.List)]
    assert lists == ["additional_image_link"]
    assert frame.columns == [
        *(c for c in view.frame.columns if c not in lists),
        f"{GOLDEN}list_price_EUR",
        f"{GOLDEN}family",
        f"{GOLDEN}availability",
        f"{GOLDEN}availability_date",
        f"{GOLDEN}available_qty",
    ]
    assert "pim_source" not in frame.columns  # only what the suite reads
    assert view.frame["gtin"].to_list() == [" ", "4006381333931"]
    assert frame["gtin"].to_list() == [None, "4006381333931"]  # blank is no value
    portal = feed_suite("portal", golden).frame
    assert [c for c in portal.columns if c.startswith(f"{GOLDEN}list_price")] == [
        f"{GOLDEN}list_price_EUR",
        f"{GOLDEN}list_price_USD",
    ]


def test_results_are_one_row_per_channel_and_expectation() -> None:
    golden = golden_products(product("OK"), product("BADGTIN", gtin="4006381333932"))
    suite = feed_suite("shop", golden)
    results = results_frame(validate_feeds({"shop": suite}, REFERENCES))
    failed = results.filter(~pl.col("success"))
    # the view dropped the wrong GTIN (an optional field): the published frame has none
    assert failed.height == 0
    wrong = suite.frame.with_columns(gtin=pl.lit("4006381333932"))  # as a writer bug would
    raw = dataclasses.replace(suite, frame=wrong)
    results = results_frame(validate_feeds({"shop": raw}, REFERENCES))
    failed = results.filter(~pl.col("success"))
    assert failed.select("rule", "column", "severity", "unexpected_count").rows() == [
        ("gtin_invalid", "gtin", "warn", 2)
    ]
    assert results["evaluated"].max() == 2  # a conditional one counts the rows it applies to
    assert results.height == len(channel_suite("shop", suite, REFERENCES).expectations)
    assert set(results["channel"]) == {"shop"}


def test_complete_results_name_the_sku_of_every_unexpected_row() -> None:
    golden = golden_products(product("A"), product("B", brand=None), product("C", brand=None))
    result = validate_feeds({"m": feed_suite("marketplace", golden)}, REFERENCES, "COMPLETE")["m"]
    rows = [
        row[KEY]
        for item in result["results"]
        if item["expectation_config"]["type"] == "expect_column_values_to_not_be_null"
        and item["expectation_config"]["kwargs"]["column"] == "brand"
        for row in item["result"]["unexpected_index_list"]
    ]
    assert rows == ["B", "C"]


def test_results_are_kept_per_channel_next_to_the_report(tmp_path: Path) -> None:
    suite = feed_suite("shop", golden_products(product("A")))
    results = validate_feeds({"shop": suite}, REFERENCES)
    save_results(tmp_path, results)
    assert results_file("shop") == "expectations/shop.json"
    kept = json.loads((tmp_path / results_file("shop")).read_text(encoding="utf-8"))
    assert kept["success"] is True
    assert len(kept["results"]) == len(results["shop"]["results"])


def test_large_feeds_are_sampled_the_same_way_every_time() -> None:
    feed = pl.DataFrame({"sku": [f"S{i:05}" for i in range(1000)], "x": range(1000)})
    assert validation_sample(feed, None) is feed
    assert validation_sample(feed, 1000) is feed
    sample = validation_sample(feed, 100)
    assert sample.height == 100
    assert sample.equals(validation_sample(feed, 100))
    assert sample["sku"].is_sorted()
    assert sample["sku"].n_unique() == 100


def test_a_sampled_validation_frame_is_the_sample_of_the_whole_one() -> None:
    """The sample's rows are picked before the columns are cleaned and joined: the same
    frame as cleaning every row and sampling afterwards."""
    skus = [f"S{i:03}" for i in range(60)]
    golden = golden_products(
        *(product(s, gtin=" " if i % 7 == 0 else None) for i, s in enumerate(skus))
    )
    view = view_of(CONFIG, "marketplace", golden)
    fields = [f.spec for f in compiled(CONFIG, "marketplace", golden).fields.values()]
    channel = CONFIG.channels["marketplace"]
    whole = validation_frame(view.frame, view.golden, channel, fields, None)
    sampled = validation_frame(view.frame, view.golden, channel, fields, 25)
    assert sampled.height == 25
    assert sampled.equals(validation_sample(whole, 25))


def test_a_run_counts_every_expectation_and_names_the_rows_of_the_failed_ones() -> None:
    """Naming unexpected rows costs as much again per expectation: a run's result names them
    (by sku, at most ``NAMED_ROWS``) only where an expectation failed."""
    skus = [f"N{i:02}" for i in range(NAMED_ROWS + 5)]
    golden = golden_products(product("A"), *(product(s, brand=None) for s in skus))
    result = validate_feeds({"m": feed_suite("marketplace", golden)}, REFERENCES)["m"]
    complete = validate_feeds({"m": feed_suite("marketplace", golden)}, REFERENCES, "COMPLETE")
    assert result["statistics"] == complete["m"]["statistics"]
    for item, audit in zip(result["results"], complete["m"]["results"], strict=True):
        config = item["expectation_config"]
        assert {**config, "id": None} == {**audit["expectation_config"], "id": None}
        assert item["success"] == audit["success"]
        outcome = item["result"]
        for count in ("element_count", "unexpected_count"):
            assert outcome[count] == audit["result"][count]
        if item["success"]:
            assert "partial_unexpected_index_list" not in outcome
            continue
        assert (config["meta"]["rule"], config["kwargs"]["column"]) == ("brand_missing", "brand")
        named = [row[KEY] for row in outcome["partial_unexpected_index_list"]]
        assert named == skus[:NAMED_ROWS]
    assert result["success"] is False
    assert result["statistics"]["unsuccessful_expectations"] == 1


def test_a_blank_value_is_missing_by_the_null_check_alone() -> None:
    """The validation frame has made every blank text value null: a "has a non-blank
    character" regex could never fail there, and each expectation costs great-expectations
    the same time whatever the rows."""
    golden = golden_products(product("A"), product("BLANK", name_de_DE=" \x1c"))
    feed = feed_suite("marketplace", golden)
    blank_free = blank_free_columns(feed.fields, feed.frame.schema)
    assert {"title", "brand", "gtin", "link"} <= set(blank_free)
    assert KEY not in blank_free
    suite = channel_suite("marketplace", feed, REFERENCES)
    regexes = {e.column for e in suite.expectations if getattr(e, "regex", "") == NOT_SPACE}
    assert regexes.isdisjoint(blank_free)
    results = results_frame(validate_feeds({"marketplace": feed}, REFERENCES))
    failed = results.filter(~pl.col("success")).select("rule", "column", "unexpected_count")
    assert failed.rows() == [("title_missing", "title", 1)]
