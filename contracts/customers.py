"""Customers: the ERP's customer master (schema) and who a B2B channel writes catalogs for.

A channel's ``customers:`` is either a hand-typed list (``Customer``: id, name, price group)
or a selection from the ERP's customer master (``ErpCustomers``: ``{from: erp, groups: [...],
ids: [...], active_only: true}``), resolved when the channel is written, so each customer's
price group comes from the ERP instead of being typed twice. A customer's assortment is a
``filters:`` of its own (typed customers) or of its price group (``group_filters:``), in the
language of the channel filters.

Customer ids and groups are text exactly as the ERP writes them: leading zeros are kept
(SAP's ``0000100042`` stays that), nothing is trimmed or padded. Selections and duplicate checks
compare them case-insensitively (``casefold``); price rows match a customer's id and group as
the ERP writes them (both come from the same ERP).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from contracts.mapping import Filters

CUSTOMERS_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "customer_group": pl.String(),
        "name": pl.String(),
        "currency": pl.String(),
        "active": pl.Boolean(),
        "erp_source": pl.String(),
    }
)
"""The ERP customer master, typed: ``customer_id`` unique (case-insensitively) and never null;
``customer_group`` the price group its ``group`` prices are keyed by (null: none); ``name``
(null: not maintained); ``currency`` an ISO 4217 code or null; ``erp_source`` "file:line"."""
CUSTOMER_COLUMNS = tuple(c for c in CUSTOMERS_SCHEMA if c != "erp_source")
"""The columns of ``customers.csv|parquet`` in an ERP drop, in order."""
MAX_CUSTOMER_ID = 20
"""BMEcat's ``CATALOG_ID`` limit, the tightest place a customer id goes."""


class Customer(BaseModel):
    """One customer a B2B channel writes for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=MAX_CUSTOMER_ID)
    """the ERP's customer id; its ``customer`` prices are the rows with this ``customer_id``"""
    name: str = Field(min_length=1)
    group: str | None = None
    """the customer's price group: its ``group`` prices apply where the customer has none"""
    filters: Filters = Filters()
    """the customer's assortment within the channel, in the channel filters' language: its
    catalog leaves out the products these filters would (each counted with its reason)"""


class ErpCustomers(BaseModel):
    """The channel's customers from the ERP customer master (``customers.csv|parquet`` of the
    ERP drop, or the SAP pull's). ``groups`` and ``ids`` add up: a customer is taken when its
    group is in ``groups`` or its id in ``ids`` (both compared case-insensitively); neither
    given = every customer. ``active_only`` (default) leaves inactive customers out: they get
    no catalog. An id in ``ids`` the master does not hold fails the run (a typo would else go
    unnoticed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    source: Literal["erp"] = Field(alias="from")
    groups: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    active_only: bool = True
    group_filters: dict[str, Filters] = Field(default_factory=dict)
    """price group -> the assortment of that group's customers (``Customer.filters``);
    groups are matched case-insensitively, a customer of another group gets every product"""


CustomerList = tuple[Customer, ...] | ErpCustomers
"""A channel's ``customers:`` option: a hand-typed list or a selection from the ERP."""


def _customers_kind(value: object) -> str | None:
    """``customers:`` is a list (typed by hand) or a mapping (a selection from the ERP)."""
    if isinstance(value, dict | ErpCustomers):
        return "erp"
    return "list" if isinstance(value, list | tuple) else None


def _distinct_ids(customers: tuple[Customer, ...]) -> tuple[Customer, ...]:
    """No customer id (matched case-insensitively, as ERPs often do) stands for two."""
    ids: dict[str, str] = {}
    for customer in customers:
        key = customer.id.casefold()
        if key in ids:
            msg = f"customers {ids[key]!r} and {customer.id!r}: the ids differ only in"
            msg += " letter case or repeat"
            raise ValueError(msg)
        ids[key] = customer.id
    return customers


CustomersOption = Annotated[
    Annotated[tuple[Customer, ...], AfterValidator(_distinct_ids), Tag("list")]
    | Annotated[ErpCustomers, Tag("erp")],
    Discriminator(
        _customers_kind,
        custom_error_type="customers",
        custom_error_message="give a list of customers ({id, name, group}) or a selection "
        "from the ERP ({from: erp, groups: [...], ids: [...], active_only: true})",
    ),
]
"""The ``customers:`` option of a format priced per customer (BMEcat, the portal): a
hand-typed list (ids distinct, case-insensitively) or ``{from: erp, ...}``, resolved when the
channel is written (``golden.customers.select_customers``)."""


def from_erp(options: Mapping[str, Any]) -> bool:
    """Whether a channel's format options (as written) take its customers from the ERP."""
    customers = options.get("customers")
    return isinstance(customers, Mapping) and customers.get("from") == "erp"
