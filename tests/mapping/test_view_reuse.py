"""A view built from the previous run's view and the golden rows that changed is the view
mapped whole: the same rows in the same order, the same findings (the new ERP source named),
the same golden rows and added columns."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from factories import ERP_SOURCE, FILTERED_SHOP, compiled, config_with, golden_products, product
from polars.testing import assert_frame_equal

from mapping.view import ChannelView, channel_view
from mapping.view_reuse import PreviousView, RowChanges, row_changes, row_hashes, spliced_view

NEW_ERP = "ERP snapshot 20261123T060000Z-new, prices"


def _rows(count: int) -> list[dict[str, object]]:
    """Products of mixed fates: kept, filtered out by brand, disabled, with findings (an
    invalid GTIN; a negative price: an ERP finding), a sku the URL encodes."""
    rows = []
    for i in range(count):
        sku = f"P-{i:03d}" if i % 7 else f"P {i:03d}"
        overrides: dict[str, object] = {"brand": "mueller" if i % 5 else "acme"}
        if i % 11 == 0:
            overrides["gtin"] = "123"
        if i % 13 == 0:
            overrides["list_price_EUR"] = Decimal("-1.00")
        if i % 17 == 0:
            overrides["enabled"] = False
        rows.append(product(sku, **overrides))
    return rows


def _previous(view: ChannelView, golden: pl.DataFrame, erp_source: str) -> PreviousView:
    added = view.golden_lazy().select(view.golden_columns()[golden.width :]).collect()
    rows = golden["sku"].is_in(view.frame["sku"].implode())
    return PreviousView(view.frame, view.findings, added, rows, erp_source)


def _changes(before: pl.DataFrame, now: pl.DataFrame) -> RowChanges:
    earlier, hashes = row_hashes(before), row_hashes(now)
    assert earlier is not None
    assert hashes is not None
    return row_changes(hashes, earlier)


def _assert_same(spliced: ChannelView, whole: ChannelView) -> None:
    assert_frame_equal(spliced.frame, whole.frame)
    order = ["sku", "rule", "field", "value", "source", "severity"]
    assert_frame_equal(spliced.findings.sort(order), whole.findings.sort(order))
    assert_frame_equal(spliced.golden, whole.golden)


def _changed(golden: pl.DataFrame) -> pl.DataFrame:
    """A new price for some, a brand that moves a product in or out of the filter, a product
    enabled and one disabled, a new name; one product gone, two new."""
    sku = pl.col("sku")
    changed = golden.with_columns(
        list_price_EUR=pl.when(sku == "P-001")
        .then(pl.lit(Decimal("5.00")))
        .otherwise(pl.col("list_price_EUR")),
        **{
            "attr.brand": pl.when(sku.is_in(["P-002", "P-011"]))
            .then(pl.lit("acme"))
            .when(sku == "P-020")
            .then(pl.lit("mueller"))
            .otherwise(pl.col("attr.brand")),
            "attr.name-de_DE": pl.when(sku == "P-003")
            .then(pl.lit("Neu"))
            .otherwise(pl.col("attr.name-de_DE")),
        },
        enabled=pl.when(sku == "P-017")
        .then(pl.lit(True))
        .when(sku == "P-004")
        .then(pl.lit(False))
        .otherwise(pl.col("enabled")),
    ).filter(sku != "P-006")
    added = golden_products(product("P-998", brand="mueller"), product("A 999", gtin="1"))
    return pl.concat([changed, added.select(changed.columns)]).sort("sku")


def test_a_view_built_from_the_previous_one_is_the_view_mapped_whole() -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = golden_products(*_rows(60))
    channel = compiled(config, "shop", golden)
    before = channel_view(golden, channel, ERP_SOURCE)
    now = _changed(golden)
    changes = _changes(golden, now)
    # P-001..004, P-011, P-017, P-020 and the two new; P-006 is gone
    assert changes.remapped == 9
    assert sorted(changes.dropped) == [
        "P-001",
        "P-002",
        "P-003",
        "P-004",
        "P-006",
        "P-011",
        "P-017",
        "P-020",
    ]
    view = spliced_view(now, changes, channel, NEW_ERP, _previous(before, golden, ERP_SOURCE))
    assert view is not None
    whole = channel_view(now, channel, NEW_ERP)
    _assert_same(view, whole)
    assert ERP_SOURCE not in view.findings["source"].to_list()
    assert NEW_ERP in view.findings["source"].to_list()


def test_nothing_changed_maps_nothing() -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = golden_products(*_rows(30))
    channel = compiled(config, "shop", golden)
    before = channel_view(golden, channel, ERP_SOURCE)
    changes = _changes(golden, golden)
    assert changes.remapped == 0
    assert changes.dropped.is_empty()
    view = spliced_view(golden, changes, channel, ERP_SOURCE, _previous(before, golden, ERP_SOURCE))
    assert view is not None
    _assert_same(view, before)


def test_most_rows_changed_maps_whole() -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = golden_products(*_rows(30))
    channel = compiled(config, "shop", golden)
    before = channel_view(golden, channel, ERP_SOURCE)
    now = golden.with_columns(available_qty=pl.lit(99))
    previous = _previous(before, golden, ERP_SOURCE)
    assert spliced_view(now, _changes(golden, now), channel, NEW_ERP, previous) is None


def _unfit(case: str, previous: PreviousView) -> PreviousView:
    """``previous`` damaged as ``case`` says."""
    frame, rows = previous.frame, previous.rows
    if case == "another shape":
        frame = frame.rename({"name": "title"})
    elif case == "flags not its rows":
        rows = rows.not_()
    elif case == "flags of a shorter golden record":
        rows = rows.head(10)
    return PreviousView(frame, previous.findings, previous.added, rows, ERP_SOURCE)


@pytest.mark.parametrize(
    "case",
    [
        "another shape",
        "flags not its rows",
        "flags of a shorter golden record",
        "golden rows out of sku order",
    ],
)
def test_a_previous_view_that_does_not_fit_is_not_used(case: str) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = golden_products(*_rows(30))
    channel = compiled(config, "shop", golden)
    previous = _unfit(
        case, _previous(channel_view(golden, channel, ERP_SOURCE), golden, ERP_SOURCE)
    )
    now = golden.reverse() if case == "golden rows out of sku order" else _changed(golden)
    assert spliced_view(now, _changes(golden, now), channel, NEW_ERP, previous) is None


@pytest.mark.parametrize("column", ["categories", "attr.ean", "list_price_EUR", "enabled"])
def test_row_hashes_see_a_change_in_any_column(column: str) -> None:
    golden = golden_products(product("A-1"), product("B-2"))
    values = {
        "categories": pl.lit(["tops", "sale"]),
        "attr.ean": pl.lit(None, pl.String),
        "list_price_EUR": pl.lit(Decimal("19.98")),
        "enabled": pl.lit(False),
    }
    sku = pl.col("sku")
    other = golden.with_columns(
        pl.when(sku == "B-2").then(values[column]).otherwise(pl.col(column)).alias(column)
    )
    before, after = row_hashes(golden), row_hashes(other)
    assert before is not None
    assert after is not None
    assert_frame_equal(before.head(1), after.head(1))
    assert before.row(1)[1:] != after.row(1)[1:]


def test_a_repeated_sku_has_no_row_hashes() -> None:
    golden = golden_products(product("A-1"), product("A-1"))
    assert row_hashes(golden) is None
