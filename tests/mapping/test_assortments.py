"""Customer assortments: a customer's ``filters`` in the channel filters' language, evaluated
on the channel's golden rows; what they leave out is counted per catalog and reason."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from factories import compiled, config_with, golden_products, product, view_of

from contracts.customers import Customer, ErpCustomers
from golden.customers import select_customers
from mapping.assortments import RULES, left_out
from mapping.expressions import MappingError
from quality.quarantine import catalog_accounting

NAMES = ("attr.name-de_DE", "attr.name-en_US")
QUOTING = {
    "format": "bmecat",
    "locale": "de_DE",
    "currency": "EUR",
    "supplier": {"id": "EXAMPLE", "name": "Example GmbH"},
}


def catalog() -> pl.DataFrame:
    return golden_products(
        product("A1"),
        product("B2", brand="mueller", **dict.fromkeys(NAMES)),  # not complete: no name
        product("C3", family="shoes", categories=["shoes"], category_lineage=["shoes"]),
    )


def quoting(customers: Any, golden: pl.DataFrame) -> tuple[Any, tuple[Customer, ...]]:
    config = config_with({"quoting": QUOTING | {"customers": customers}})
    channel = compiled(config, "quoting", golden)
    return channel, channel.options.customers  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"exclude": {"families": ["Shoes"]}}, {"C3": "filtered_by_exclude"}),
        ({"include": {"brands": ["MUELLER"]}},
         {"A1": "filtered_by_include", "C3": "filtered_by_include"}),
        ({"include": {"categories": ["clothing"]}, "completeness": 1.0},
         {"B2": "filtered_by_completeness", "C3": "filtered_by_include"}),
        ({}, {}),
    ],
)  # fmt: skip
def test_a_customers_filters_leave_products_out_with_the_channel_filters_reasons(
    filters: dict[str, Any], expected: dict[str, str]
) -> None:
    golden = catalog()
    customers = [
        {"id": "K1", "name": "Kunde Eins", "filters": filters},
        {"id": "K2", "name": "Kunde Zwei"},
    ]
    channel, buyers = quoting(customers, golden)
    config = config_with({"quoting": QUOTING | {"customers": customers}})
    view = view_of(config, "quoting", golden)
    found = left_out(view.golden, channel, buyers)
    assert set(found["customer_id"]) <= {"K1"}
    assert dict(found.select("sku", "rule").iter_rows()) == expected


def test_a_filter_naming_an_unknown_attribute_fails_at_its_key() -> None:
    customers = [
        {"id": "K1", "name": "Kunde Eins"},
        {"id": "K2", "name": "Kunde Zwei",
         "filters": {"exclude": {"where": {"attribute": "nope", "equals": 1}}}},
    ]  # fmt: skip
    with pytest.raises(MappingError, match=r"channels\.quoting\.customers\.1\.filters\.exclude"):
        quoting(customers, catalog())


def test_erp_customers_take_their_price_groups_assortment() -> None:
    master = pl.DataFrame(
        {
            "customer_id": ["K1", "K2", "K3"],
            "customer_group": ["retail", "wholesale", None],
            "name": ["Eins", "Zwei", "Drei"],
            "currency": ["EUR"] * 3,
            "active": [True] * 3,
            "erp_source": ["customers.csv:2", "customers.csv:3", "customers.csv:4"],
        }
    )
    shoes = {"exclude": {"families": ["shoes"]}}
    selection = ErpCustomers.model_validate({"from": "erp", "group_filters": {"RETAIL": shoes}})
    chosen = {c.id: c.filters for c in select_customers(master, selection)}
    assert chosen["K1"].active()
    assert not chosen["K2"].active()
    assert not chosen["K3"].active()


def test_catalog_accounting_counts_each_reason_and_the_unpriced_rest() -> None:
    left = pl.DataFrame(
        {
            "customer_id": ["K1", "K1", "K1"],
            "sku": ["A1", "B2", "A1"],  # one product, one row per reason at most
            "rule": ["filtered_by_exclude", "filtered_by_include", "filtered_by_exclude"],
        }
    )
    table = catalog_accounting(10, {"K1": 6, "K2": 9, "K3": 11}, left, RULES)
    rows = {r["customer"]: r for r in table.iter_rows(named=True)}
    assert rows["K1"] == {
        "customer": "K1", "published": 10, "written": 6, "filtered_by_include": 1,
        "filtered_by_exclude": 1, "filtered_by_completeness": 0, "no_price": 2, "balanced": True,
    }  # fmt: skip
    assert (rows["K2"]["no_price"], rows["K2"]["balanced"]) == (1, True)
    assert (rows["K3"]["no_price"], rows["K3"]["balanced"]) == (-1, False)  # wrote too many
