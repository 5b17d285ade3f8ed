"""A channel's ``customers: {from: erp}`` resolved against the ERP customer master before its
format writes: the writer sees the selected customers with their ERP groups, or the run fails
naming the channel's key."""

from __future__ import annotations

import polars as pl
import pytest

from assets.channel_feeds import ChannelCustomersError, resolved_options
from contracts.customers import CUSTOMERS_SCHEMA, Customer
from sinks.formats.bmecat import Options

MASTER = pl.DataFrame(
    [
        ("C1000", "retail", "Baumarkt Nord GmbH", "EUR", True, "customers.csv:2"),
        ("C5000", "retail", "Alt OHG", "EUR", False, "customers.csv:3"),
    ],
    schema=CUSTOMERS_SCHEMA,
    orient="row",
)
SUPPLIER = {"id": "EXAMPLE", "name": "Example GmbH"}


def options(customers: object) -> Options:
    return Options.model_validate({"supplier": SUPPLIER, "customers": customers})


def test_the_selection_becomes_the_customers_with_their_erp_group() -> None:
    resolved = resolved_options("quoting", options({"from": "erp"}), MASTER)
    assert isinstance(resolved, Options)
    assert resolved.customers == (Customer(id="C1000", name="Baumarkt Nord GmbH", group="retail"),)
    assert resolved.supplier.id == "EXAMPLE"


def test_a_hand_typed_list_and_other_formats_are_left_alone() -> None:
    typed = options([{"id": "C9", "name": "Typed", "group": "wholesale"}])
    assert resolved_options("quoting", typed, MASTER) is typed
    assert resolved_options("shop", None, MASTER) is None


@pytest.mark.parametrize(
    ("customers", "message"),
    [
        (
            {"from": "erp", "ids": ["C1000", "C7"]},
            r"channels\.quoting\.customers\.ids: \['C7'\] not in the ERP customer master",
        ),
        (
            {"from": "erp", "groups": ["wholesale"]},
            r"channels\.quoting\.customers: the selection .* matches no customer",
        ),
        ({"from": "erp", "ids": ["C5000"]}, "matches no customer"),  # inactive
    ],
)
def test_a_selection_that_names_nobody_fails_with_the_key(customers: object, message: str) -> None:
    with pytest.raises(ChannelCustomersError, match=message):
        resolved_options("quoting", options(customers), MASTER)
