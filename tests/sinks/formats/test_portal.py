"""The portal format's effective prices: the one rule, per customer, on the columns it needs."""

from __future__ import annotations

import polars as pl
import polars.testing
from factories import price_tiers, tier

from contracts.customers import Customer
from golden.pricing import effective_tiers
from sinks.formats.portal import EFFECTIVE_PRICE_INPUT, effective_prices

TIERS = price_tiers(
    tier("A1", "9.50"),
    tier("A1", "9.00", min_quantity=10),
    tier("A1", "8.00", price_type="group", customer_group="retail"),
    tier("A1", "7.00", price_type="customer", customer_id="C2000"),
    tier("B2", "19.99", currency="USD"),
    tier("B2", "18.00", currency="USD", price_type="group", customer_group="wholesale"),
)
CUSTOMERS = (
    Customer(id="C1000", group="retail", name="Baumarkt Nord GmbH"),
    Customer(id="C2000", group="wholesale", name="Industriebedarf Süd AG"),
    Customer(id="C3000", name="Ohne Gruppe KG"),
)


def test_each_customer_gets_what_the_rule_chooses_from_all_columns() -> None:
    """Narrowing the tiers before the rule changes no row: the same rows, customer after
    customer, as the rule over the whole tiers (``erp_source`` and all) gives."""
    found = effective_prices(TIERS, CUSTOMERS, effective_tiers)
    expected = pl.concat(
        effective_tiers(TIERS, c.id, c.group).with_columns(customer_id=pl.lit(c.id))
        for c in CUSTOMERS
    ).select(EFFECTIVE_PRICE_INPUT)
    assert "erp_source" not in found.columns
    polars.testing.assert_frame_equal(found.select(EFFECTIVE_PRICE_INPUT), expected)
    chosen = found.group_by("customer_id", maintain_order=True).agg(pl.col("unit_price").min())
    assert [str(p) for p in chosen["unit_price"]] == ["8.000000", "7.000000", "9.000000"]
