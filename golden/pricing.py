"""Price resolution: which ERP price rows hold on the as-of date, and who sees which price.

Input is the typed ``prices`` frame of ``sources.erp_files`` (amount Decimal(38, 6) > 0,
per_quantity and min_quantity >= 1, validity dates inclusive, null = open-ended). Pure polars;
no Dagster.

A *tier* is identified by sku, price_type, the field that names the audience (customer_group
for group rows, customer_id for customer rows; list rows have none), currency and
min_quantity. Stray audience fields (a customer_group on a list row, say) do not create a
separate tier, so the resolved tier set never holds two prices for one audience and quantity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import TypeVar

import polars as pl

from contracts.golden import MONEY, PRICE_TIERS_SCHEMA, list_price, list_price_valid_to

STATUSES = ("active", "expired", "not_yet_valid", "superseded", "unpublished_currency")
_MICRO = Decimal("0.000001")
_NO_START = -(2**30)  # sort key of an open-ended valid_from: before any real date
# Precedence of price types for one customer, most specific first (SAP access sequence).
_LEVELS = {"customer": 0, "group": 1, "list": 2}
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def classify_price_rows(
    prices: pl.LazyFrame, as_of: dt.date, currencies: Collection[str] | None = None
) -> pl.LazyFrame:
    """``erp_source, sku, status`` for every price row, ``status`` one of STATUSES.

    ``unpublished_currency``: a row in a currency no channel publishes (``currencies``; None =
    every currency is published) can never reach a channel, so it is counted apart instead of
    silently carried along. ``expired``: valid_to < as_of; ``not_yet_valid``: valid_from > as_of
    (both ends inclusive, null = open-ended). Among the remaining rows of one tier the latest
    valid_from wins (null = since ever, so any dated row beats it); on equal valid_from the row
    that comes later in the ERP file wins (greater erp_source line/row number, as a later
    correction in the same extract would), the others are ``superseded``.
    """
    return _with_status(prices, as_of, currencies).select("erp_source", "sku", "status")


def price_row_counts(
    prices: pl.LazyFrame, as_of: dt.date, currencies: Collection[str] | None = None
) -> dict[str, int]:
    """How many price rows have each status of ``classify_price_rows`` (statuses without rows
    left out), without ranking the rows: of the candidates of one tier exactly one is active,
    so the active rows are the candidates' distinct tiers and the others are superseded."""
    checks = _date_and_currency_checks(as_of, currencies)
    status = pl.lit(None, pl.String)
    for name, failed in reversed(checks):
        status = pl.when(failed).then(pl.lit(name)).otherwise(status)
    marked = prices.select(*_tier_key(), _status=status)
    dropped = marked.filter(pl.col("_status").is_not_null()).group_by("_status").len()
    candidates = marked.filter(pl.col("_status").is_null()).select(
        candidates=pl.len(),
        active=pl.struct(*(k.meta.output_name() for k in _tier_key())).n_unique(),
    )
    counts, tiers = pl.collect_all([dropped, candidates])
    found: dict[str, int] = dict(counts.iter_rows())
    total, active = tiers.row(0)
    if total:
        found |= {"active": active, "superseded": total - active}
    return {name: found[name] for name in STATUSES if found.get(name)}


def price_tiers(
    prices: pl.LazyFrame, as_of: dt.date, currencies: Collection[str] | None = None
) -> pl.LazyFrame:
    """The active rows as PRICE_TIERS_SCHEMA; unit_price = amount / per_quantity rounded half-up
    to 6 decimals (exact: no float)."""
    active = _with_status(prices, as_of, currencies).filter(pl.col("status") == "active")
    priced = active.with_columns(unit_price=unit_price(pl.col("amount"), pl.col("per_quantity")))
    return priced.select(list(PRICE_TIERS_SCHEMA)).cast(PRICE_TIERS_SCHEMA)


def unit_price(amount: pl.Expr, per_quantity: pl.Expr) -> pl.Expr:
    """``amount / per_quantity`` as Decimal(38, 6), rounded half-up (commercial rounding).

    polars' decimal division rounds half to even (0.000005 / 2 = 0.000002); a tie it rounded
    down is detected exactly from the remainder and bumped, so 0.000005 / 2 = 0.000003.
    Assumes amount > 0 and per_quantity >= 1, as the reader guarantees.
    """
    quotient = (amount / per_quantity).cast(MONEY)
    remainder = amount - quotient * per_quantity
    tie_rounded_down = remainder * 2 == per_quantity * pl.lit(_MICRO, MONEY)
    return (quotient + pl.when(tie_rounded_down).then(pl.lit(_MICRO, MONEY)).otherwise(0)).cast(
        MONEY
    )


def list_prices(tiers: pl.LazyFrame, currencies: tuple[str, ...]) -> pl.LazyFrame:
    """``sku`` + ``list_price_<CUR>`` and ``list_price_valid_to_<CUR>`` per currency: the list
    tier for quantity 1 and the last day it is valid (null: open-ended), null when the sku has
    none in that currency; one row per sku with a list price in any of ``currencies``."""
    base = tiers.filter(
        pl.col("price_type") == "list",
        pl.col("min_quantity") == 1,
        pl.col("currency").is_in(currencies),
    )
    columns = []
    for currency in currencies:
        own = pl.col("currency") == currency
        columns.append(pl.col("unit_price").filter(own).min().alias(list_price(currency)))
        columns.append(pl.col("valid_to").filter(own).min().alias(list_price_valid_to(currency)))
    types: dict[str, pl.DataType] = {list_price(c): MONEY for c in currencies}
    types |= {list_price_valid_to(c): pl.Date() for c in currencies}
    return base.group_by("sku").agg(columns).cast(types)  # type: ignore[arg-type]


def effective_tiers(tiers: Frame, customer_id: str, customer_group: str | None) -> Frame:
    """The rows of ``tiers`` (``PRICE_TIERS_SCHEMA`` columns, any currencies; other columns
    ride along) that hold for one customer, sorted by sku, currency, min_quantity.

    The one precedence rule every channel and the price API use, customer > group > list: per
    sku and currency the whole tier set comes from the most specific level that has any tier for
    this customer — its own ``customer`` tiers, else its group's ``group`` tiers, else the
    ``list`` tiers. Levels are never mixed: a customer price for 1 piece does not inherit the
    list's 100-piece break, which could be dearer than the customer's own price. Other
    customers' and groups' tiers never count, nor do stray audience fields (a customer_id on a
    list row). Vectorized: one level column and a per-(sku, currency) minimum over it, so it
    serves a whole catalog (BMEcat, the portal) and a 5,000-sku request alike.
    """
    price_type = pl.col("price_type")
    own = (price_type == "customer") & (pl.col("customer_id") == customer_id)
    group = pl.lit(False)
    if customer_group is not None:
        group = (price_type == "group") & (pl.col("customer_group") == customer_group)
    level = (
        pl.when(own.fill_null(False))
        .then(_LEVELS["customer"])
        .when(group.fill_null(False))
        .then(_LEVELS["group"])
        .when(price_type == "list")
        .then(_LEVELS["list"])
    )
    leveled = tiers.with_columns(_level=level).filter(pl.col("_level").is_not_null())
    chosen = leveled.filter(pl.col("_level") == pl.col("_level").min().over("sku", "currency"))
    return chosen.drop("_level").sort("sku", "currency", "min_quantity")


def _tier_key() -> list[pl.Expr]:
    price_type = pl.col("price_type")
    return [
        pl.col("sku"),
        price_type,
        pl.when(price_type == "group").then(pl.col("customer_group")).alias("_group"),
        pl.when(price_type == "customer").then(pl.col("customer_id")).alias("_customer"),
        pl.col("currency"),
        pl.col("min_quantity"),
    ]


def _with_status(
    prices: pl.LazyFrame, as_of: dt.date, currencies: Collection[str] | None = None
) -> pl.LazyFrame:
    """``prices`` plus ``status``; see classify_price_rows. Row order is not kept.

    Rows are sorted by one Int64 (valid_from in days, null first, then the erp_source number),
    so the last row of each (tier, candidate) group is its winner.
    """
    (_, unpublished), (_, expired), (_, future) = _date_and_currency_checks(as_of, currencies)
    candidate = ~expired & ~future & ~unpublished
    ranked = prices.with_columns(_candidate=candidate, _order=_order()).sort("_order")
    winner = pl.struct(*_tier_key(), pl.col("_candidate")).is_last_distinct()
    status = (
        pl.when(unpublished)
        .then(pl.lit("unpublished_currency"))
        .when(expired)
        .then(pl.lit("expired"))
        .when(future)
        .then(pl.lit("not_yet_valid"))
        .when(winner)
        .then(pl.lit("active"))
        .otherwise(pl.lit("superseded"))
    )
    return ranked.with_columns(status=status).drop("_candidate", "_order")


def _date_and_currency_checks(
    as_of: dt.date, currencies: Collection[str] | None
) -> list[tuple[str, pl.Expr]]:
    """The statuses a row has on its own, each with its test, in precedence order."""
    unpublished = (
        ~pl.col("currency").is_in(sorted(currencies)) if currencies is not None else pl.lit(False)
    )
    return [
        ("unpublished_currency", unpublished),
        ("expired", (pl.col("valid_to") < as_of).fill_null(False)),
        ("not_yet_valid", (pl.col("valid_from") > as_of).fill_null(False)),
    ]


def _order() -> pl.Expr:
    """valid_from (days since 1970, null = earliest) * 2**32 + the line/row number of
    erp_source ("prices.csv:12" -> 12, "prices.parquet:row 11" -> 11)."""
    days = pl.col("valid_from").cast(pl.Int64).fill_null(_NO_START)
    number = pl.col("erp_source").str.extract(r"(\d+)$", 1).cast(pl.Int64, strict=False)
    return days * 2**32 + number.fill_null(0)
