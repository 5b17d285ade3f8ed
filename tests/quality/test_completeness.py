"""Completeness scores per channel and locale, their summary and the worst groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from factories import LOCALES, default_config, golden_products, product
from polars.testing import assert_frame_equal

from contracts.config import PrismConfig, parse_config
from quality.completeness import (
    WORST,
    by_channel_and_locale,
    completeness_scores,
    score_column,
    worst_groups,
)
from quality.rules import required_columns

WORST_COLUMNS = ["products", "quarantined", "quarantine_share", "completeness"]


def config() -> PrismConfig:
    data = default_config()
    data["locales"] = list(LOCALES)
    data["channels"]["portal"]["currencies"] = ["EUR"]  # the currencies of the factories
    return parse_config(data)


CONFIG = config()
SCORE_COLUMNS = [score_column(n, loc) for n in CONFIG.channels for loc in CONFIG.locales]


def complete(sku: str, **overrides: Any) -> dict[str, Any]:
    """A product with every attribute any rule can require, the backorder date included."""
    row = {"availability": "backorder", "availability_date": dt.date(2026, 12, 1)}
    return product(sku, **(row | overrides))


def scores_of(*rows: dict[str, Any]) -> pl.DataFrame:
    golden = golden_products(*rows).lazy()
    return completeness_scores(golden, CONFIG.channels, CONFIG.locales).collect()


def expected_score(channel: str, locale: str, missing: set[str]) -> float:
    required = required_columns(CONFIG.channels[channel], locale)
    return 1 - len(missing.intersection(required)) / len(required)


def mean_score(missing: set[str]) -> float:
    """A product's completeness over every channel and locale (as ``worst_groups`` averages)."""
    found = [expected_score(n, loc, missing) for n in CONFIG.channels for loc in CONFIG.locales]
    return sum(found) / len(found)


# --- completeness_scores ------------------------------------------------------------------


def test_scores_have_one_float32_column_per_channel_and_locale() -> None:
    scores = scores_of(complete("A"))
    assert scores.columns == ["sku", "family", "categories", *SCORE_COLUMNS]
    assert {scores.schema[c] for c in SCORE_COLUMNS} == {pl.Float32}
    assert scores.select("sku", "family", "categories").row(0) == ("A", "shirts", ["tops"])


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"gtin": "4006381333932"},  # an invalid GTIN is present: completeness counts presence
        {"description_de_DE": "short"},  # too short for the shop, but present
        {"color": None, "size": None, "weight": None},  # no rule requires these
    ],
)
def test_a_complete_product_scores_one_everywhere(overrides: dict[str, Any]) -> None:
    scores = scores_of(complete("A", **overrides))
    assert scores.select(SCORE_COLUMNS).row(0) == tuple(1.0 for _ in SCORE_COLUMNS)


def test_a_complete_in_stock_product_scores_one_everywhere() -> None:
    scores = scores_of(product("A", availability="in_stock", availability_date=None))
    assert scores.select(SCORE_COLUMNS).row(0) == tuple(1.0 for _ in SCORE_COLUMNS)


@pytest.mark.parametrize(
    "missing",
    [
        {"name_en_US"},
        {"name_en_US", "description_en_US"},
        {"category_path_de_DE"},
        {"gtin"},
        {"brand"},
        {"image_url"},
        {"availability_date"},  # a backorder product without its date
        {"name_de_DE", "name_en_US", "gtin", "brand"},
    ],
    ids=lambda m: "+".join(sorted(m)),
)
def test_a_missing_attribute_lowers_only_the_channels_and_locales_that_require_it(
    missing: set[str],
) -> None:
    scores = scores_of(complete("A", **dict.fromkeys(missing)), complete("B"))
    a = scores.filter(pl.col("sku") == "A").row(0, named=True)
    for name in CONFIG.channels:
        for locale in CONFIG.locales:
            column = score_column(name, locale)
            assert a[column] == pytest.approx(expected_score(name, locale, missing)), column
    assert scores.filter(pl.col("sku") == "B").select(SCORE_COLUMNS).row(0) == tuple(
        1.0 for _ in SCORE_COLUMNS
    )


def test_a_missing_en_us_name_lowers_only_the_en_us_columns() -> None:
    scores = scores_of(complete("A", name_en_US=None)).row(0, named=True)
    for name, channel in CONFIG.channels.items():
        required = len(required_columns(channel, "en_US"))
        assert scores[score_column(name, "en_US")] == pytest.approx((required - 1) / required)
        assert scores[score_column(name, "de_DE")] == 1.0


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n"])
def test_blank_text_counts_as_missing(blank: str | None) -> None:
    scores = scores_of(complete("A", name_en_US=blank)).row(0, named=True)
    assert scores["website/en_US"] < 1.0
    assert scores["website/de_DE"] == 1.0


def test_hand_computed_marketplace_score() -> None:
    # marketplace (google_merchant) requires in de_DE: name, description, gtin, category path,
    # brand and image: 6 PIM attributes, 4 of them present (ERP values are not counted).
    scores = scores_of(complete("A", gtin=None, brand=None)).row(0, named=True)
    assert scores["marketplace/de_DE"] == pytest.approx(4 / 6)
    # the portal (sql) requires neither gtin nor brand
    assert scores["portal/de_DE"] == 1.0


def test_disabled_products_are_left_out() -> None:
    scores = scores_of(
        complete("A"), complete("OFF", enabled=False, name_de_DE=None), complete("B")
    )
    assert scores["sku"].to_list() == ["A", "B"]


def test_no_enabled_product_gives_no_rows() -> None:
    scores = scores_of(complete("OFF", enabled=False))
    assert scores.height == 0
    assert scores.columns == ["sku", "family", "categories", *SCORE_COLUMNS]


# --- by_channel_and_locale ----------------------------------------------------------------


def test_by_channel_and_locale_mean_and_complete_share() -> None:
    missing = [set(), {"name_en_US"}, {"name_en_US", "description_en_US"}, {"gtin"}]
    rows = [complete(f"S{i}", **dict.fromkeys(m)) for i, m in enumerate(missing)]
    summary = by_channel_and_locale(scores_of(*rows), CONFIG.channels, CONFIG.locales)
    expected = []
    for name in CONFIG.channels:
        for locale in CONFIG.locales:
            found = [expected_score(name, locale, m) for m in missing]
            expected.append(
                {
                    "channel": name,
                    "locale": locale,
                    "mean": sum(found) / len(found),
                    "complete_share": sum(s == 1.0 for s in found) / len(found),
                }
            )
    assert_frame_equal(summary, pl.DataFrame(expected), check_exact=False, rel_tol=1e-6)


def test_by_channel_and_locale_hand_computed_row() -> None:
    rows = [complete("A"), complete("B", gtin=None)]
    summary = by_channel_and_locale(scores_of(*rows), CONFIG.channels, CONFIG.locales)
    row = summary.filter(pl.col("channel") == "marketplace", pl.col("locale") == "de_DE")
    assert row["mean"].item() == pytest.approx((1 + 5 / 6) / 2)
    assert row["complete_share"].item() == 0.5


def test_by_channel_and_locale_without_products_is_zero() -> None:
    summary = by_channel_and_locale(
        scores_of(complete("OFF", enabled=False)), CONFIG.channels, CONFIG.locales
    )
    assert summary.height == len(CONFIG.channels) * len(CONFIG.locales)
    assert summary.schema == pl.Schema(
        {
            "channel": pl.String,
            "locale": pl.String,
            "mean": pl.Float64,
            "complete_share": pl.Float64,
        }
    )
    assert set(summary["mean"]) == {0.0}
    assert set(summary["complete_share"]) == {0.0}


# --- worst_groups -------------------------------------------------------------------------


def kept_off(*skus: str) -> pl.DataFrame:
    return pl.DataFrame({"sku": list(skus)}, schema={"sku": pl.String})


def test_worst_families_sorted_by_quarantine_share_then_completeness() -> None:
    scores = scores_of(
        complete("A", family="shirts"),
        complete("B", family="shirts"),
        complete("C", family="shoes", name_en_US=None),
        complete("D", family="hats"),
        complete("E", family="caps"),
        complete("F", family="bags", gtin=None),
    )
    worst = worst_groups(scores, kept_off("B", "F", "GHOST"), "family")
    assert worst.columns == ["family", *WORST_COLUMNS]
    assert worst.schema["products"] == pl.Int64
    assert worst.schema["quarantined"] == pl.Int64
    assert worst.select("family", "products", "quarantined", "quarantine_share").rows() == [
        ("bags", 1, 1, 1.0),
        ("shirts", 2, 1, 0.5),
        ("shoes", 1, 0, 0.0),  # same share as caps and hats, lower completeness
        ("caps", 1, 0, 0.0),  # caps and hats tie: by name
        ("hats", 1, 0, 0.0),
    ]
    completeness = dict(worst.select("family", "completeness").rows())
    assert completeness["bags"] == pytest.approx(mean_score({"gtin"}))
    assert completeness["shoes"] == pytest.approx(mean_score({"name_en_US"}))
    assert completeness["shirts"] == pytest.approx(1.0)


def test_worst_families_average_completeness_over_products() -> None:
    scores = scores_of(
        complete("A", family="shirts", name_en_US=None),
        complete("B", family="shirts", brand=None, image_url=None),
    )
    worst = worst_groups(scores, kept_off(), "family")
    expected = (mean_score({"name_en_US"}) + mean_score({"brand", "image_url"})) / 2
    assert worst.row(0, named=True) == {
        "family": "shirts",
        "products": 2,
        "quarantined": 0,
        "quarantine_share": 0.0,
        "completeness": pytest.approx(expected),
    }


def test_worst_categories_explode_the_category_list() -> None:
    scores = scores_of(
        complete("A", categories=["tops", "sale"]),
        complete("B", categories=["tops"]),
        complete("C", categories=["sale"], name_de_DE=None),
        complete("D", categories=["shoes"]),
    )
    worst = worst_groups(scores, kept_off("A", "C"), "categories")
    assert worst.columns == ["category", *WORST_COLUMNS]
    assert worst.select("category", "products", "quarantined", "quarantine_share").rows() == [
        ("sale", 2, 2, 1.0),
        ("tops", 2, 1, 0.5),
        ("shoes", 1, 0, 0.0),
    ]
    sale = worst.filter(pl.col("category") == "sale")["completeness"].item()
    assert sale == pytest.approx((1.0 + mean_score({"name_de_DE"})) / 2)


@pytest.mark.parametrize(("by", "key"), [("family", "family"), ("categories", "category")])
def test_worst_groups_keep_the_worst_fifteen(by: str, key: str) -> None:
    rows = [complete(f"S{i:02}", family=f"f{i:02}", categories=[f"c{i:02}"]) for i in range(20)]
    worst = worst_groups(scores_of(*rows), kept_off("S19", "S07"), by)
    assert worst.height == WORST
    prefix = key[0]
    assert worst[key].to_list()[:3] == [f"{prefix}07", f"{prefix}19", f"{prefix}00"]
