"""Completeness scores per channel and locale, as a PIM computes them (the required and
recommended target fields a channel fills from the PIM, compiled in each locale), their summary
and the worst groups."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import LOCALES, config_with, golden_products, pim, product
from polars.testing import assert_frame_equal

from mapping.plan import compiled_per_locale
from quality import completeness
from quality.completeness import (
    CACHED,
    WORST,
    by_channel_and_locale,
    cached_completeness_scores,
    completeness_scores,
    score_column,
    worst_groups,
)
from sinks.formats import FORMATS

WORST_COLUMNS = ["products", "quarantined", "quarantine_share", "completeness"]
CONFIG = config_with(
    {
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
        },
        "portal": {
            "format": "sql",
            "url": "sqlite:///var/portal.sqlite",
            "locale": "de_DE",
            "currencies": ["EUR"],
        },
        "social": {
            "format": "meta_catalog",
            "locale": "en_US",
            "currency": "USD",
            "product_url": "https://www.example.com/en/p/{sku}",
        },
    }
)
KEYS = [(n, loc) for n in CONFIG.channels for loc in LOCALES]
SCORE_COLUMNS = [score_column(n, loc) for n, loc in KEYS]
COMPILED = compiled_per_locale(CONFIG, FORMATS, pim(), list(golden_products(product("X")).columns))
COUNTED = {key: set(channel.required_pim_fields()) for key, channel in COMPILED.items()}
"""(channel, locale) -> the target fields completeness counts there"""
FILLS = {
    "name": {"title", "name"},
    "description": {"description"},
    "category_path": {"category_path", "product_type"},
    "gtin": {"gtin"},
    "brand": {"brand"},
    "image_url": {"image_link", "image_url"},
    "color": {"color"},
    "size": {"size"},
}
"""a test product attribute -> the target fields of the presets it fills"""


def complete(sku: str, **overrides: Any) -> dict[str, Any]:
    """A product with every attribute any preset maps, the backorder date included."""
    row = {"availability": "backorder", "availability_date": dt.date(2026, 12, 1)}
    return product(sku, **(row | overrides))


def scores_of(*rows: dict[str, Any]) -> pl.DataFrame:
    golden = golden_products(*rows)
    return completeness_scores(golden, COMPILED)


LOCALIZED = ("name", "description", "category_path")


def lacking(missing: set[str], locale: str) -> set[str]:
    """The target fields a product without the attributes ``missing`` (short names as
    ``product()`` takes them: ``name_en_US``, ``gtin``) lacks when compiled in ``locale``."""
    fields: set[str] = set()
    for attribute in missing:
        base = next((b for b in LOCALIZED if attribute.startswith(f"{b}_")), None)
        if base is None:
            fields |= FILLS.get(attribute, set())  # ERP values are not counted
        elif attribute == f"{base}_{locale}":
            fields |= FILLS[base]
    return fields


def expected_score(channel: str, locale: str, missing: set[str]) -> float:
    counted = COUNTED[(channel, locale)]
    return 1 - len(lacking(missing, locale) & counted) / len(counted)


def mean_score(missing: set[str]) -> float:
    """A product's completeness over every channel and locale (as ``worst_groups`` averages)."""
    found = [expected_score(n, loc, missing) for n, loc in KEYS]
    return sum(found) / len(found)


def test_the_counted_fields_are_the_required_and_recommended_pim_fields() -> None:
    """Written out: a format whose requirements change changes completeness."""
    assert COUNTED[("marketplace", "de_DE")] == {
        "title", "description", "image_link", "brand", "gtin"
    }  # fmt: skip
    assert COUNTED[("social", "en_US")] == {"title", "description", "image_link", "brand"}
    assert COUNTED[("portal", "de_DE")] == {"name", "description"}
    # a tabular feed requires nothing: every PIM field it maps counts
    assert COUNTED[("shop", "de_DE")] == {
        "name", "description", "brand", "gtin", "color", "size", "category_path", "image_url"
    }  # fmt: skip
    assert all(COUNTED[(n, "de_DE")] == COUNTED[(n, "en_US")] for n in CONFIG.channels)


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
        {"description_de_DE": "short"},
        {"weight": None},  # no preset maps it as a required or PIM text field
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
        {"category_path_de_DE"},  # the shop's column only (Google's product type is optional)
        {"color", "size"},  # the shop's columns only
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
    for name, locale in KEYS:
        column = score_column(name, locale)
        assert a[column] == pytest.approx(expected_score(name, locale, missing)), column
    assert scores.filter(pl.col("sku") == "B").select(SCORE_COLUMNS).row(0) == tuple(
        1.0 for _ in SCORE_COLUMNS
    )


def test_a_missing_en_us_name_lowers_only_the_en_us_columns() -> None:
    scores = scores_of(complete("A", name_en_US=None)).row(0, named=True)
    for name in CONFIG.channels:
        counted = len(COUNTED[(name, "en_US")])
        assert scores[score_column(name, "en_US")] == pytest.approx((counted - 1) / counted)
        assert scores[score_column(name, "de_DE")] == 1.0


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", "\x1c"])
def test_blank_text_counts_as_missing(blank: str | None) -> None:
    scores = scores_of(complete("A", name_en_US=blank)).row(0, named=True)
    assert scores["social/en_US"] == pytest.approx(3 / 4)
    assert scores["social/de_DE"] == 1.0


def test_hand_computed_scores() -> None:
    # marketplace (google_merchant) counts in de_DE: title, description, image link, brand
    # and GTIN, 3 of 5 present (the id, link, price and availability are not the PIM's)
    scores = scores_of(complete("A", gtin=None, brand=None)).row(0, named=True)
    assert scores["marketplace/de_DE"] == pytest.approx(3 / 5)
    # Meta requires a brand, not a GTIN
    assert scores["social/en_US"] == pytest.approx(3 / 4)
    # the portal (sql) counts its name and description only
    assert scores["portal/de_DE"] == 1.0
    # the shop (csv) requires nothing and counts each of its 8 PIM columns
    assert scores["shop/de_DE"] == pytest.approx(6 / 8)


def test_completeness_counts_presence_not_validity() -> None:
    """A wrong GTIN or an over-long title is there: the quarantine judges it, not the score."""
    scores = scores_of(complete("A", gtin="1", name_de_DE="x" * 500)).row(0, named=True)
    assert scores["marketplace/de_DE"] == 1.0


def test_flags_computed_per_distinct_value_score_as_on_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 products over three brands (one blank, one missing) and two colours: the flags on
    those columns are computed once per distinct value and joined back, in product order."""
    brands = ["acme", "  ", None]
    rows = [
        complete(f"S{i:02}", brand=brands[i % 3], color=["red", None][i % 2], gtin=None)
        for i in reversed(range(40))
    ]
    by_distinct = scores_of(*rows)
    monkeypatch.setattr(completeness, "FEW_DISTINCT", 0.0)
    assert_frame_equal(by_distinct, scores_of(*rows))
    assert by_distinct["sku"].to_list() == golden_products(*rows)["sku"].to_list()
    assert by_distinct["social/en_US"].n_unique() > 1


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
    summary = by_channel_and_locale(scores_of(*rows), KEYS)
    expected = []
    for name, locale in KEYS:
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
    summary = by_channel_and_locale(scores_of(*rows), KEYS)
    row = summary.filter(pl.col("channel") == "marketplace", pl.col("locale") == "de_DE")
    assert row["mean"].item() == pytest.approx((1 + 4 / 5) / 2)
    assert row["complete_share"].item() == 0.5


def test_by_channel_and_locale_without_products_is_zero() -> None:
    summary = by_channel_and_locale(scores_of(complete("OFF", enabled=False)), KEYS)
    assert summary.height == len(KEYS)
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


def test_by_channel_and_locale_follows_the_keys_it_is_given() -> None:
    scores = scores_of(complete("A", name_en_US=None))
    keys = [("social", "en_US"), ("marketplace", "de_DE")]
    summary = by_channel_and_locale(scores, keys)
    assert summary.select("channel", "locale").rows() == keys
    assert summary["mean"].to_list() == pytest.approx([3 / 4, 1.0])


# --- the scores kept per PIM state ----------------------------------------------------------


def test_scores_are_reused_while_the_counted_values_stay_and_scored_again_when_they_change(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    golden = golden_products(complete("A"), complete("B", gtin=None), complete("C", brand=None))
    first, reused = cached_completeness_scores(golden, COMPILED, cache)
    assert not reused
    assert_frame_equal(first, completeness_scores(golden, COMPILED))

    # prices and stock are no counted field: the next run reads the kept scores
    repriced = golden.with_columns(available_qty=pl.col("available_qty") + 7)
    again, reused = cached_completeness_scores(repriced, COMPILED, cache)
    assert reused
    assert_frame_equal(again, first)

    # a counted value changes: scored again, and the new scores are right
    branded = golden.with_columns(pl.col("attr.brand").fill_null("Acme"))
    changed, reused = cached_completeness_scores(branded, COMPILED, cache)
    assert not reused
    assert_frame_equal(changed, completeness_scores(branded, COMPILED))
    assert not changed.equals(first)


def test_a_damaged_kept_file_is_scored_again_and_few_files_are_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    golden = golden_products(complete("A"), complete("B", gtin=None))
    first, _ = cached_completeness_scores(golden, COMPILED, cache)
    (kept,) = cache.glob("*.parquet")
    kept.write_bytes(b"PAR1 cut off")
    again, reused = cached_completeness_scores(golden, COMPILED, cache)
    assert not reused
    assert_frame_equal(again, first)
    for index in range(CACHED + 2):
        other = golden.with_columns(pl.col("family") + f"-{index}")
        cached_completeness_scores(other, COMPILED, cache)
    assert len(list(cache.glob("*.parquet"))) == CACHED
