from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.golden import MONEY, PRICE_TIERS_SCHEMA
from golden.pricing import (
    classify_price_rows,
    effective_tiers,
    list_prices,
    price_row_counts,
    price_tiers,
)
from sources.erp_files import PRICES_SCHEMA

AS_OF = dt.date(2026, 6, 15)
D = dt.date


def price(sku: str, amount: str, line: int, **overrides: Any) -> dict[str, Any]:
    """A typed ERP price row as ``read_erp_snapshot`` returns it."""
    row: dict[str, Any] = {
        "sku": sku,
        "price_type": "list",
        "customer_group": None,
        "customer_id": None,
        "currency": "EUR",
        "amount": Decimal(amount),
        "per_quantity": 1,
        "min_quantity": 1,
        "valid_from": None,
        "valid_to": None,
        "erp_source": f"prices.csv:{line}",
    }
    row.update(overrides)
    return row


def prices(*rows: dict[str, Any]) -> pl.LazyFrame:
    return pl.LazyFrame(list(rows), schema=PRICES_SCHEMA)


def statuses(frame: pl.LazyFrame) -> dict[str, str]:
    result = classify_price_rows(frame, AS_OF).collect()
    return dict(result.select("erp_source", "status").iter_rows())


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "status"),
    [
        (None, None, "active"),
        (AS_OF, None, "active"),
        (None, AS_OF, "active"),
        (AS_OF, AS_OF, "active"),
        (D(2026, 1, 1), D(2026, 12, 31), "active"),
        (None, D(2026, 6, 14), "expired"),
        (D(2026, 1, 1), D(2026, 6, 14), "expired"),
        (D(2026, 6, 16), None, "not_yet_valid"),
        (D(2026, 6, 16), D(2026, 12, 31), "not_yet_valid"),
    ],
)
def test_validity_is_inclusive_and_open_ended(
    valid_from: dt.date | None, valid_to: dt.date | None, status: str
) -> None:
    frame = prices(price("A", "1", 2, valid_from=valid_from, valid_to=valid_to))
    assert statuses(frame) == {"prices.csv:2": status}
    assert price_tiers(frame, AS_OF).collect().height == (status == "active")


@pytest.mark.parametrize(
    ("rows", "winner"),
    [
        # the latest valid_from wins, wherever it sits in the file
        ([("1", D(2026, 6, 1), 2), ("2", D(2026, 1, 1), 3)], "prices.csv:2"),
        # an open-ended valid_from is the oldest
        ([("1", None, 2), ("2", D(2020, 1, 1), 3)], "prices.csv:3"),
        # equal valid_from: the later line wins (12 > 9 by number, not as text)
        ([("1", D(2026, 1, 1), 12), ("2", D(2026, 1, 1), 9)], "prices.csv:12"),
        ([("1", None, 9), ("2", None, 10)], "prices.csv:10"),
    ],
)
def test_duplicate_tiers_are_superseded(
    rows: list[tuple[str, dt.date | None, int]], winner: str
) -> None:
    frame = prices(*(price("A", a, line, valid_from=f) for a, f, line in rows))
    expected = {f"prices.csv:{line}": "superseded" for *_, line in rows} | {winner: "active"}
    assert statuses(frame) == expected
    assert price_tiers(frame, AS_OF).collect()["erp_source"].to_list() == [winner]


def test_an_expired_duplicate_does_not_supersede() -> None:
    frame = prices(
        price("A", "1", 2, valid_from=D(2026, 1, 1)),
        price("A", "2", 3, valid_from=D(2026, 5, 1), valid_to=D(2026, 5, 31)),
        price("A", "3", 4, valid_from=D(2026, 7, 1)),
    )
    assert statuses(frame) == {
        "prices.csv:2": "active",
        "prices.csv:3": "expired",
        "prices.csv:4": "not_yet_valid",
    }


@pytest.mark.parametrize(
    "other",
    [
        {"sku": "B"},
        {"currency": "USD"},
        {"min_quantity": 10},
        {"price_type": "group", "customer_group": "retail"},
        {"price_type": "customer", "customer_id": "C1"},
    ],
)
def test_rows_of_different_tiers_are_all_active(other: dict[str, Any]) -> None:
    frame = prices(price("A", "1", 2), price("A", "2", 3) | other)
    assert set(statuses(frame).values()) == {"active"}


def test_stray_audience_fields_do_not_make_a_separate_tier() -> None:
    frame = prices(
        price("A", "1", 2, price_type="group", customer_group="retail"),
        price("A", "2", 3, price_type="group", customer_group="retail", customer_id="C1"),
        price("A", "3", 4, customer_group="retail"),
        price("A", "4", 5),
    )
    assert statuses(frame) == {
        "prices.csv:2": "superseded",
        "prices.csv:3": "active",
        "prices.csv:4": "superseded",
        "prices.csv:5": "active",
    }


def test_every_price_row_is_classified_once() -> None:
    rows = [price(f"S{i % 7}", "1", i, valid_from=D(2026, 1 + i % 12, 1)) for i in range(2, 60)]
    result = classify_price_rows(prices(*rows), AS_OF).collect()
    assert sorted(result["erp_source"]) == sorted(r["erp_source"] for r in rows)
    assert result.columns == ["erp_source", "sku", "status"]


def test_rows_in_a_currency_no_channel_publishes_are_counted_apart() -> None:
    rows = prices(
        price("A", "1", 2, currency="EUR"),
        price("A", "1", 3, currency="CHF"),
        price("A", "1", 4, currency="CHF", valid_to=D(2026, 1, 1)),
    )
    result = classify_price_rows(rows, AS_OF, currencies=("EUR", "USD")).collect()
    assert dict(result.select("erp_source", "status").iter_rows()) == {
        "prices.csv:2": "active",
        "prices.csv:3": "unpublished_currency",
        "prices.csv:4": "unpublished_currency",
    }
    assert price_tiers(rows, AS_OF, ("EUR",)).collect()["currency"].to_list() == ["EUR"]


@pytest.mark.parametrize(
    ("amount", "per_quantity", "unit_price"),
    [
        ("12.50", 100, "0.125000"),
        ("10.00", 3, "3.333333"),
        ("20.00", 3, "6.666667"),
        ("19.99", 1, "19.990000"),
        ("0.000005", 2, "0.000003"),  # half-up; polars alone rounds half-even to 0.000002
        ("0.000001", 2, "0.000001"),
        ("0.000003", 2, "0.000002"),
        ("1", 7, "0.142857"),
        ("99999999999.999000", 1000, "99999999.999999"),
        ("99999999999.999999", 1000, "100000000.000000"),
    ],
)
def test_unit_price_is_exact_and_rounded_half_up(
    amount: str, per_quantity: int, unit_price: str
) -> None:
    frame = prices(price("A", amount, 2, per_quantity=per_quantity))
    result = price_tiers(frame, AS_OF).collect()
    assert result.schema == PRICE_TIERS_SCHEMA
    assert str(result["unit_price"].item()) == unit_price


@settings(max_examples=100, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e9"), places=6),
    per_quantity=st.integers(min_value=1, max_value=100_000),
)
def test_unit_price_matches_python_decimal_half_up(amount: Decimal, per_quantity: int) -> None:
    frame = prices(price("A", str(amount), 2, per_quantity=per_quantity))
    expected = (amount / per_quantity).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    assert price_tiers(frame, AS_OF).collect()["unit_price"].item() == expected


def test_price_tiers_keep_min_quantities_and_the_tier_columns() -> None:
    frame = prices(
        price("A", "10", 2),
        price("A", "90", 3, min_quantity=10, per_quantity=10),
        price("A", "8", 4, min_quantity=100, valid_to=D(2026, 12, 31)),
    )
    result = price_tiers(frame, AS_OF).collect().sort("min_quantity")
    assert result.schema == PRICE_TIERS_SCHEMA
    assert not any(dtype.is_float() for dtype in result.dtypes)
    assert result.select("min_quantity", "unit_price", "valid_to").rows() == [
        (1, Decimal(10), None),
        (10, Decimal(9), None),
        (100, Decimal(8), D(2026, 12, 31)),
    ]


def tiers(*rows: dict[str, Any]) -> pl.LazyFrame:
    return price_tiers(prices(*rows), AS_OF)


def test_list_prices_per_currency_with_the_last_day_they_hold() -> None:
    frame = tiers(
        price("A", "10", 2, valid_to=D(2026, 12, 31)),
        price("A", "11", 3, currency="USD"),
        price("A", "9", 4, min_quantity=10, valid_to=D(2026, 7, 1)),
        price("A", "7", 5, price_type="group", customer_group="retail", valid_to=AS_OF),
        price("B", "5", 6, currency="USD", valid_to=AS_OF),
        price("C", "3", 7, currency="CHF"),
        price("D", "2", 8, price_type="customer", customer_id="C1"),
    )
    result = list_prices(frame, ("EUR", "USD")).collect().sort("sku")
    assert result.schema == pl.Schema(
        {
            "sku": pl.String,
            "list_price_EUR": MONEY,
            "list_price_valid_to_EUR": pl.Date,
            "list_price_USD": MONEY,
            "list_price_valid_to_USD": pl.Date,
        }
    )
    # The validity is the quantity-1 list tier's own: not another tier's, not another currency's.
    assert result.rows() == [
        ("A", Decimal(10), D(2026, 12, 31), Decimal(11), None),
        ("B", None, None, Decimal(5), AS_OF),
    ]


def test_list_prices_of_no_currency_have_only_the_sku() -> None:
    result = list_prices(tiers(price("A", "10", 2)), ()).collect()
    assert result.schema == pl.Schema({"sku": pl.String})
    assert result.height == 0


CUSTOMER = {"price_type": "customer", "customer_id": "C1"}
GROUP = {"price_type": "group", "customer_group": "retail"}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # customer beats group beats list, and the levels are never mixed
        (
            [("9", 1, CUSTOMER), ("8", 1, GROUP), ("7", 100, GROUP), ("10", 1, {}),
             ("6", 50, {})],
            [(1, "9", "customer")],
        ),
        ([("8", 1, GROUP), ("7", 100, GROUP), ("10", 1, {})],
         [(1, "8", "group"), (100, "7", "group")]),
        ([("10", 1, {}), ("6", 50, {})], [(1, "10", "list"), (50, "6", "list")]),
        # another customer's or group's tiers do not count
        ([("1", 1, {**CUSTOMER, "customer_id": "C2"}), ("2", 1, {**GROUP, "customer_group": "x"}),
          ("10", 1, {})], [(1, "10", "list")]),
        # a stray audience field on a list tier changes nothing
        ([("10", 1, {"customer_id": "C1"})], [(1, "10", "list")]),
        ([], []),
    ],
)  # fmt: skip
def test_effective_tiers_take_the_most_specific_level(
    rows: list[tuple[str, int, dict[str, Any]]], expected: list[tuple[int, str, str]]
) -> None:
    frame = tiers(*(price("A", a, i, min_quantity=q, **o) for i, (a, q, o) in enumerate(rows)))
    result = effective_tiers(frame, "C1", "retail").collect()
    assert result.columns == list(PRICE_TIERS_SCHEMA)
    assert result.select("min_quantity", "unit_price", "price_type").rows() == [
        (q, Decimal(p), t) for q, p, t in expected
    ]


def test_effective_tiers_are_chosen_per_currency() -> None:
    frame = tiers(
        price("A", "9", 2, **{**CUSTOMER, "currency": "USD"}),
        price("A", "8", 3, **GROUP),
        price("A", "10", 4),
        price("A", "11", 5, currency="USD"),
        price("B", "12", 6, currency="USD"),
    )
    result = effective_tiers(frame, "C1", "retail").collect()
    assert result.select("sku", "currency", "unit_price", "price_type").rows() == [
        ("A", "EUR", Decimal(8), "group"),
        ("A", "USD", Decimal(9), "customer"),
        ("B", "USD", Decimal(12), "list"),
    ]


def test_effective_tiers_are_chosen_per_sku_and_sorted() -> None:
    frame = tiers(
        price("B", "10", 2),
        price("B", "9", 3, min_quantity=10),
        price("A", "8", 4, **GROUP),
        price("A", "10", 5),
        price("C", "5", 6, **CUSTOMER),
        price("C", "6", 7, **GROUP),
    )
    result = effective_tiers(frame.collect(), "C1", "retail")
    assert result.select("sku", "min_quantity", "unit_price", "price_type").rows() == [
        ("A", 1, Decimal(8), "group"),
        ("B", 1, Decimal(10), "list"),
        ("B", 10, Decimal(9), "list"),
        ("C", 1, Decimal(5), "customer"),
    ]


def test_a_customer_without_group_falls_back_to_list() -> None:
    frame = tiers(price("A", "8", 2, **GROUP), price("A", "10", 3), price("B", "6", 4, **GROUP))
    result = effective_tiers(frame, "C1", None).collect()
    assert result.select("sku", "unit_price", "price_type").rows() == [("A", Decimal(10), "list")]


def test_the_counts_of_statuses_are_those_of_the_classified_rows() -> None:
    rows = [
        price(f"S{i % 5}", "1", i, currency=("EUR", "USD", "CHF")[i % 3],
              price_type=("list", "group", "customer")[i % 4 % 3],
              customer_group="retail" if i % 4 == 1 else None,
              customer_id=f"C{i % 2}" if i % 4 == 2 else None,
              min_quantity=1 + i % 2 * 9,
              valid_from=None if i % 6 == 0 else D(2026, 1 + i % 12, 1),
              valid_to=None if i % 5 else D(2026, 1 + i % 12, 28))
        for i in range(2, 200)
    ]  # fmt: skip
    for currencies in (None, ("EUR", "USD")):
        classified = classify_price_rows(prices(*rows), AS_OF, currencies).collect()
        expected = dict(classified.group_by("status").len().iter_rows())
        assert price_row_counts(prices(*rows), AS_OF, currencies) == expected
        assert set(expected) >= {"active", "superseded", "expired", "not_yet_valid"}


def test_no_price_rows_count_nothing() -> None:
    assert price_row_counts(prices(), AS_OF, ("EUR",)) == {}
