"""Which customers a quoting channel writes for, selected from the ERP's customer master."""

from __future__ import annotations

import polars as pl
import pytest

from contracts.customers import CUSTOMERS_SCHEMA, Customer, ErpCustomers
from golden.customers import CustomerSelectionError, select_customers

MASTER = pl.DataFrame(
    [
        ("C1000", "retail", "Baumarkt Nord GmbH", "EUR", True, "customers.csv:2"),
        ("C2000", "wholesale", "Industriebedarf Süd AG", "EUR", True, "customers.csv:3"),
        ("C5000", "retail", "Alt OHG", "EUR", False, "customers.csv:4"),
        ("C6000", None, None, "EUR", True, "customers.csv:5"),
        ("0000100042", "Wholesale", "Export Ltd", "USD", True, "customers.csv:6"),
    ],
    schema=CUSTOMERS_SCHEMA,
    orient="row",
)


def ids(selection: dict[str, object]) -> list[str]:
    chosen = select_customers(MASTER, ErpCustomers.model_validate({"from": "erp", **selection}))
    return [c.id for c in chosen]


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ({}, ["C1000", "C2000", "C6000", "0000100042"]),
        ({"active_only": False}, ["C1000", "C2000", "C5000", "C6000", "0000100042"]),
        ({"groups": ["retail"]}, ["C1000"]),
        ({"groups": ["WHOLESALE"]}, ["C2000", "0000100042"]),
        ({"ids": ["c6000"]}, ["C6000"]),
        ({"groups": ["retail"], "ids": ["0000100042"]}, ["C1000", "0000100042"]),
        ({"ids": ["C5000"]}, []),
    ],
)
def test_groups_and_ids_add_up_case_insensitively(
    selection: dict[str, object], expected: list[str]
) -> None:
    assert ids(selection) == expected


def test_each_customer_keeps_its_erp_group_and_a_name() -> None:
    chosen = select_customers(MASTER, ErpCustomers.model_validate({"from": "erp"}))
    assert chosen[0] == Customer(id="C1000", name="Baumarkt Nord GmbH", group="retail")
    assert chosen[2] == Customer(id="C6000", name="C6000", group=None)


def test_leading_zeros_are_not_stripped() -> None:
    with pytest.raises(CustomerSelectionError, match=r"customers\.ids: \['100042'\]"):
        ids({"ids": ["100042"]})
