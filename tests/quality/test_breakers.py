"""Circuit breakers: pure comparisons of a run with the live snapshot."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts.config import Freshness, QualityConfig
from contracts.golden import MONEY
from quality.breakers import (
    BREAKERS_SCHEMA,
    breakers_frame,
    compared_prices,
    freshness,
    price_change_breaker,
    product_drop,
    quarantine_share,
)

CHANGES_SCHEMA = pl.Schema(
    {
        "sku": pl.String,
        "currency": pl.String,
        "previous": MONEY,
        "current": MONEY,
        "factor": pl.Float64,
    }
)


def prices(rows: list[dict[str, Any]], currencies: tuple[str, ...] = ("EUR",)) -> pl.LazyFrame:
    """A published-products frame: sku and one Decimal(38, 6) list price per currency."""
    schema = {"sku": pl.String} | {f"list_price_{c}": MONEY for c in currencies}
    return pl.LazyFrame(rows, schema=schema)


def eur(**by_sku: str | None) -> pl.LazyFrame:
    return prices(
        [
            {"sku": sku, "list_price_EUR": None if p is None else Decimal(p)}
            for sku, p in by_sku.items()
        ]
    )


# --- product_drop -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now", "limit", "value", "tripped"),
    [
        (100, 100, 0.2, 0.0, False),
        (100, 81, 0.2, 0.19, False),
        (100, 80, 0.2, 0.2, False),  # exactly at the limit: trips only above it
        (100, 79, 0.2, 0.21, True),
        (10, 0, 0.2, 1.0, True),
        (100, 150, 0.0, 0.0, False),  # growth never trips, even with no drop allowed
        (3, 2, 0.2, 0.333333, True),  # the value is rounded to 6 places for display
        (100, 99, 0.0, 0.01, True),
    ],
)
def test_product_drop_compares_the_drop_share_with_the_limit(
    before: int, now: int, limit: float, value: float, tripped: bool
) -> None:
    config = QualityConfig(max_product_drop=limit)
    rows = product_drop({"shop": before}, {"shop": now}, config)
    assert rows == [
        {
            "name": "product_drop",
            "channel": "shop",
            "tripped": tripped,
            "value": value,
            "limit": limit,
            "detail": f"{before} -> {now} products",
        }
    ]


@pytest.mark.parametrize(
    ("channel", "limit", "tripped"),
    [
        ("marketplace", 0.05, True),  # its own, stricter limit
        ("shop", 0.2, False),  # the default limit
    ],
)
def test_product_drop_uses_the_per_channel_override(
    channel: str, limit: float, tripped: bool
) -> None:
    config = QualityConfig(max_product_drop=0.2, max_product_drop_by_channel={"marketplace": 0.05})
    rows = product_drop({channel: 100}, {channel: 90}, config)
    assert [(r["channel"], r["limit"], r["tripped"]) for r in rows] == [(channel, limit, tripped)]


@pytest.mark.parametrize(
    "previous",
    [
        {},  # no live snapshot yet
        {"shop": 100},  # the channel is new
        {"shop": 100, "website": 0},  # the live snapshot published nothing to it
    ],
)
def test_product_drop_skips_a_channel_without_live_products(previous: dict[str, int]) -> None:
    rows = product_drop(previous, {"shop": 100, "website": 0}, QualityConfig())
    assert [r["channel"] for r in rows] == (["shop"] if "shop" in previous else [])


def test_product_drop_has_one_row_per_current_channel_in_order() -> None:
    rows = product_drop(
        {"shop": 10, "website": 10, "gone": 10},
        {"website": 5, "shop": 10},
        QualityConfig(),
    )
    assert [(r["channel"], r["tripped"]) for r in rows] == [("website", True), ("shop", False)]


# --- quarantine_share ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "enabled", "value", "tripped"),
    [
        (0, 100, 0.0, False),
        (10, 100, 0.1, False),  # exactly at the limit
        (11, 100, 0.11, True),
        (1, 3, 0.333333, True),
        (0, 0, 0.0, False),  # no enabled products: nothing to share
    ],
)
def test_quarantine_share_against_the_limit(
    count: int, enabled: int, value: float, tripped: bool
) -> None:
    config = QualityConfig(max_quarantine_share=0.1)
    assert quarantine_share({"portal": count}, enabled, config) == [
        {
            "name": "quarantine_share",
            "channel": "portal",
            "tripped": tripped,
            "value": value,
            "limit": 0.1,
            "detail": f"{count} of {enabled} enabled products quarantined",
        }
    ]


def test_quarantine_share_has_one_row_per_channel() -> None:
    rows = quarantine_share({"shop": 1, "marketplace": 30}, 100, QualityConfig())
    assert [(r["channel"], r["tripped"]) for r in rows] == [
        ("shop", False),
        ("marketplace", True),
    ]


# --- compared_prices ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "factor"),
    [
        ("10", "40", 4.0),
        ("40", "10", 4.0),  # symmetric: a drop to a quarter is as big as a rise to four times
        ("19.99", "20.99", 20.99 / 19.99),
        ("0.000001", "0.000002", 2.0),  # the sixth decimal place of Decimal(38, 6) counts
    ],
)
def test_compared_prices_factor_is_at_least_one_and_symmetric(
    before: str, after: str, factor: float
) -> None:
    changes = compared_prices(eur(A=before), eur(A=after)).collect()
    expected = pl.DataFrame(
        [
            {
                "sku": "A",
                "currency": "EUR",
                "previous": Decimal(before),
                "current": Decimal(after),
                "factor": factor,
            }
        ],
        schema=CHANGES_SCHEMA,
    )
    assert_frame_equal(changes, expected)


@pytest.mark.parametrize(
    ("previous", "current"),
    [
        ({"A": "19.99"}, {"B": "5"}),  # the sku is only in one frame
        ({"A": "19.99", "B": "1"}, {"C": "2", "D": "1"}),
        ({"A": None}, {"A": "19.99"}),  # no price before: not compared
        ({"A": "19.99"}, {"A": None}),  # no price now: not compared (the quarantine's job)
    ],
)
def test_compared_prices_leave_out_what_cannot_be_compared(
    previous: dict[str, str | None], current: dict[str, str | None]
) -> None:
    changes = compared_prices(eur(**previous), eur(**current)).collect()
    assert changes.height == 0
    assert changes.schema == CHANGES_SCHEMA


def test_an_unchanged_price_is_compared_with_factor_one() -> None:
    compared = compared_prices(eur(A="19.99"), eur(A="19.990000")).collect()
    assert compared.select("sku", "currency", "factor").rows() == [("A", "EUR", 1.0)]


def test_compared_prices_unpivot_every_currency_column() -> None:
    both = ("EUR", "USD")
    previous = prices(
        [
            {"sku": "A", "list_price_EUR": Decimal("10"), "list_price_USD": Decimal("12")},
            {"sku": "B", "list_price_EUR": Decimal("5"), "list_price_USD": None},
            {"sku": "C", "list_price_EUR": Decimal("7"), "list_price_USD": Decimal("8")},
        ],
        both,
    )
    current = prices(
        [
            {"sku": "A", "list_price_EUR": Decimal("10"), "list_price_USD": Decimal("6")},
            {"sku": "B", "list_price_EUR": Decimal("15"), "list_price_USD": Decimal("3")},
            {"sku": "D", "list_price_EUR": Decimal("1"), "list_price_USD": Decimal("1")},
        ],
        both,
    )
    changes = compared_prices(previous, current).sort("sku", "currency").collect()
    assert changes.select("sku", "currency", "factor").rows() == [
        ("A", "EUR", 1.0),
        ("A", "USD", 2.0),
        ("B", "EUR", 3.0),
    ]


def test_compared_prices_compare_only_currencies_both_frames_have() -> None:
    previous = prices([{"sku": "A", "list_price_EUR": Decimal("1")}])
    current = prices(
        [{"sku": "A", "list_price_EUR": Decimal("2"), "list_price_USD": Decimal("9")}],
        ("EUR", "USD"),
    )
    changes = compared_prices(previous, current).collect()
    assert changes.select("sku", "currency", "factor").rows() == [("A", "EUR", 2.0)]


def test_compared_prices_ignore_other_columns() -> None:
    previous = eur(A="10").with_columns(name=pl.lit("Shirt"), available_qty=pl.lit(3))
    current = eur(A="30").with_columns(name=pl.lit("Hemd"), available_qty=pl.lit(0))
    changes = compared_prices(previous, current).collect()
    assert changes.columns == list(CHANGES_SCHEMA)
    assert changes["factor"].to_list() == [3.0]


# --- price_change_breaker -----------------------------------------------------------------


def changes_frame(*factors: float) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "sku": f"S{i}",
                "currency": "EUR",
                "previous": Decimal("1"),
                "current": Decimal("2"),
                "factor": f,
            }
            for i, f in enumerate(factors)
        ],
        schema=CHANGES_SCHEMA,
    )


@pytest.mark.parametrize(
    ("factors", "compared", "value", "tripped", "big"),
    [
        ((), 100, 0.0, False, 0),
        ((3.0, 2.0, 1.5), 10, 0.0, False, 0),  # exactly the factor is not "more than"
        ((3.01,), 100, 0.01, False, 1),
        ((4.0, 5.0, 3.5, 10.0, 100.0), 100, 0.05, False, 5),  # exactly at the share limit
        ((4.0, 5.0, 3.5, 10.0, 100.0, 3.1), 100, 0.06, True, 6),
        ((4.0, 2.0), 3, 0.333333, True, 1),
        ((), 0, 0.0, False, 0),  # nothing compared
    ],
)
def test_price_change_breaker_share_of_big_changes_among_compared(
    factors: tuple[float, ...], compared: int, value: float, tripped: bool, big: int
) -> None:
    config = QualityConfig(price_change_factor=3.0, max_price_change_share=0.05)
    row = price_change_breaker(changes_frame(*factors), compared, config)
    assert row == {
        "name": "price_change",
        "channel": None,
        "tripped": tripped,
        "value": value,
        "limit": 0.05,
        "detail": f"{big} of {compared} prices changed by more than x3",
    }


def test_price_change_breaker_on_compared_prices() -> None:
    previous = eur(A="10", B="10", C="10", D="10")
    current = eur(A="40", B="2", C="11", D="10")
    changes = compared_prices(previous, current).collect()
    config = QualityConfig(price_change_factor=2.5, max_price_change_share=0.25)
    row = price_change_breaker(changes, 4, config)
    assert (row["value"], row["tripped"]) == (0.5, True)
    assert row["detail"] == "2 of 4 prices changed by more than x2.5"


# --- freshness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ages", "tripped"),
    [
        ({"pim": 1.0, "erp": 1.0}, [("pim", False), ("erp", False)]),
        ({"pim": 168.0, "erp": 48.0}, [("pim", False), ("erp", False)]),  # at the limits
        ({"pim": 168.5, "erp": 12.0}, [("pim", True), ("erp", False)]),
        ({"pim": 2.0, "erp": 49.0}, [("pim", False), ("erp", True)]),
    ],
)
def test_freshness_compares_each_source_with_its_limit(
    ages: dict[str, float], tripped: list[tuple[str, bool]]
) -> None:
    rows = freshness(ages, QualityConfig(freshness_hours=Freshness(pim=168.0, erp=48.0)))
    assert [(r["detail"].split()[0], r["tripped"]) for r in rows] == tripped
    assert [r["limit"] for r in rows] == [168.0, 48.0]
    assert {r["name"] for r in rows} == {"freshness"}
    assert {r["channel"] for r in rows} == {None}


def test_freshness_detail_and_value() -> None:
    rows = freshness({"erp": 50.04}, QualityConfig(freshness_hours=Freshness(erp=48.0)))
    assert rows == [
        {
            "name": "freshness",
            "channel": None,
            "tripped": True,
            "value": 50.04,
            "limit": 48.0,
            "detail": "erp snapshot is 50.0 h old",
        }
    ]


@pytest.mark.parametrize(
    ("limits", "sources"),
    [
        (Freshness(pim=None, erp=48.0), ["erp"]),
        (Freshness(pim=168.0, erp=None), ["pim"]),
        (Freshness(pim=None, erp=None), []),
    ],
)
def test_freshness_null_limit_disables_the_source(limits: Freshness, sources: list[str]) -> None:
    ages = {"pim": 10_000.0, "erp": 10_000.0}
    rows = freshness(ages, QualityConfig(freshness_hours=limits))
    assert [r["detail"].split()[0] for r in rows] == sources
    assert all(r["tripped"] for r in rows)


def test_freshness_ignores_sources_without_a_limit_setting() -> None:
    assert freshness({"other": 1e9}, QualityConfig()) == []


# --- breakers_frame -----------------------------------------------------------------------


def test_breakers_frame_holds_every_kind_of_row() -> None:
    config = QualityConfig()
    rows = [
        *product_drop({"shop": 10}, {"shop": 5}, config),
        *quarantine_share({"shop": 1}, 10, config),
        price_change_breaker(changes_frame(4.0), 10, config),
        *freshness({"pim": 1.0}, config),
    ]
    frame = breakers_frame(rows)
    assert frame.schema == BREAKERS_SCHEMA
    assert frame.select("name", "channel", "tripped").rows() == [
        ("product_drop", "shop", True),
        ("quarantine_share", "shop", False),
        ("price_change", None, True),
        ("freshness", None, False),
    ]


def test_breakers_frame_without_rows_is_empty_with_the_schema() -> None:
    frame = breakers_frame([])
    assert frame.height == 0
    assert frame.schema == BREAKERS_SCHEMA
