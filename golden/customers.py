"""Which customers a B2B channel writes for, out of the ERP's customer master.

A pure function of the master (``contracts.customers.CUSTOMERS_SCHEMA``) and the channel's
selection (``ErpCustomers``): each customer keeps the price group the ERP gives it, so its
group prices apply without typing the group into the configuration.
"""

from __future__ import annotations

import polars as pl

from contracts.customers import Customer, ErpCustomers
from contracts.mapping import Filters


class CustomerSelectionError(ValueError):
    """The selection names an id the customer master does not hold; the message names it."""


def select_customers(master: pl.DataFrame, selection: ErpCustomers) -> tuple[Customer, ...]:
    """The selected customers in the master's order: by group or id (case-insensitively; both
    empty = all), inactive ones left out when ``active_only``. A customer without a name is
    named by its id (a catalog needs a buyer name); its assortment is its group's
    (``group_filters``), else every product."""
    key = pl.col("customer_id").str.to_lowercase()
    wanted_ids = [i.casefold() for i in selection.ids]
    _check_ids(master, wanted_ids, selection.ids)
    chosen = master
    if selection.groups or selection.ids:
        groups = [g.casefold() for g in selection.groups]
        in_group = pl.col("customer_group").str.to_lowercase().is_in(groups).fill_null(False)
        chosen = chosen.filter(in_group | key.is_in(wanted_ids))
    if selection.active_only:
        chosen = chosen.filter(pl.col("active"))
    assortments = {group.casefold(): f for group, f in selection.group_filters.items()}
    return tuple(
        Customer(id=row["customer_id"], name=row["name"] or row["customer_id"],
                 group=row["customer_group"],
                 filters=assortments.get((row["customer_group"] or "").casefold(), Filters()))
        for row in chosen.iter_rows(named=True)
    )  # fmt: skip


def _check_ids(master: pl.DataFrame, wanted: list[str], given: tuple[str, ...]) -> None:
    known = set(master.get_column("customer_id").str.to_lowercase())
    unknown = [original for original, key in zip(given, wanted, strict=True) if key not in known]
    if unknown:
        msg = f"customers.ids: {unknown} not in the ERP customer master"
        raise CustomerSelectionError(msg)
