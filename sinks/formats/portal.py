"""The B2B portal: the channel's products, prices and availability as SQL tables.

Format ``sql``. The products table holds ``sku``, every mapped field (the columns are the
mapping: ``extensible``) and the availability columns; ``prices`` every tier the portal may
carry (its ``price_types`` and ``currencies``: list, customer-group and customer prices with
their quantity breaks and validity); ``availability`` one row per product (a view of the
products table); ``customers`` the channel's ``customers`` option (typed, or from the ERP's
customer master) and ``effective_prices`` each customer's own tiers per sku and currency, as
``WriteContext.price_rule`` resolves them (customer > group > list, never mixed: what the
customer's BMEcat catalog and the price API say), so no portal re-implements the precedence.
Money and decimal fields are exact and numeric (``sinks.portal_sql``: NUMERIC on PostgreSQL,
integer micro-units plus a numeric view column on SQLite). Loading goes into the snapshot's own
tables; the publish switches the views to them in one transaction
(``sinks.portal_sql``), so readers never see a half load. List fields are stored as text joined
with ``" | "``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from contracts.customers import Customer, CustomersOption, ErpCustomers
from contracts.formats import FieldSpec, FormatSpec, PriceRule, TableParts, WriteContext
from contracts.snapshots import FeedFile
from sinks.portal_sql import AVAILABILITY_COLUMNS, Rows, load_portal_snapshot
from sinks.xml_text import SinkInputError

LIST_SEPARATOR = " | "

FIELDS = (
    FieldSpec("name", requirement="required", description="the product's name"),
    FieldSpec("description", requirement="recommended"),
    FieldSpec("brand"),
    FieldSpec("gtin", "gtin"),
    FieldSpec("image_url", "url"),
    FieldSpec("weight", "decimal", description="kilograms"),
)
PRESETS = {
    "portal": {
        "item_group": {"field": "item_group"},
        "parent": {"field": "parent"},
        "family": {"field": "family"},
        "name": {"field": "label"},
        "description": {"role": "description"},
        "brand": {"role": "brand"},
        "gtin": {"role": "gtin"},
        "color": {"role": "color"},
        "size": {"role": "size"},
        "category_path": {"field": "category_path"},
        "image_url": {"field": "image_url"},
        "weight": {"role": "weight", "unit": "KILOGRAM"},
    },
}


class Options(BaseModel):
    """Whose prices the portal resolves (none: its customers and effective prices are empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    customers: CustomersOption = Field(
        default=(),
        description="[{id, name, group}, ...] typed by hand, or {from: erp, groups, ids, "
        "active_only}: the customers whose effective prices the portal gets",
    )


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Load the snapshot's tables; report them as ``kind="table"`` files."""
    tables = _tables(frame, context)
    return _load(context, tables["products"], tables["prices"], tables.get("effective_prices"))


def write_part(frame: pl.DataFrame, context: WriteContext) -> None:
    """One shard's rows of the products, prices and effective prices, as Parquet."""
    _url(context)
    context.folder.mkdir(parents=True, exist_ok=True)
    for name, table in _tables(frame, context).items():
        table.write_parquet(context.folder / f"{name}.parquet")


def load_parts(folders: Sequence[Path], context: WriteContext) -> list[FeedFile]:
    """Every shard's rows (``write_part``) loaded as the snapshot's tables in one load, one
    part in memory at a time."""
    parts = {
        name: [f / f"{name}.parquet" for f in folders if (f / f"{name}.parquet").is_file()]
        for name in ("products", "prices", "effective_prices")
    }
    effective = parts["effective_prices"] or None
    return _load(context, parts["products"], parts["prices"], effective)


def _load(
    context: WriteContext, products: Rows, prices: Rows, effective_prices: Rows | None
) -> list[FeedFile]:
    counts = load_portal_snapshot(
        _url(context),
        products,
        prices,
        context.snapshot_id,
        customers=_customer_rows(_customers(context)),
        effective_prices=effective_prices,
    )
    return [FeedFile(context.channel, table, rows, kind="table") for table, rows in counts.items()]


def _url(context: WriteContext) -> str:
    url = context.settings.url
    if not url:
        msg = f"channels.{context.channel}.url: a sql channel needs a database URL"
        raise ValueError(msg)
    return str(url)


def _tables(frame: pl.DataFrame, context: WriteContext) -> dict[str, pl.DataFrame]:
    """The rows of the products (mapped fields, lists joined, availability), prices and, with
    customers, effective prices tables."""
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    products = frame.with_columns(pl.col(lists).list.join(LIST_SEPARATOR))
    own = [c for c in AVAILABILITY_COLUMNS if c not in products.columns]
    if own:
        availability = context.golden_columns(*own)
        if availability is None or availability.height != products.height:
            msg = f"portal: the products' golden rows ({', '.join(own)}) are needed, in order"
            raise SinkInputError(msg)
        products = pl.concat([products, availability], how="horizontal")
    tables = {"products": products, "prices": context.tiers}
    effective = _effective_prices(_customers(context), context)
    return tables if effective is None else tables | {"effective_prices": effective}


def _customers(context: WriteContext) -> tuple[Customer, ...]:
    options = context.options
    customers = options.customers if isinstance(options, Options) else ()
    if isinstance(customers, ErpCustomers):
        msg = "sql: the customers from the ERP were not resolved before writing"
        raise ValueError(msg)
    return customers


def _customer_rows(customers: tuple[Customer, ...]) -> pl.DataFrame:
    rows = [(c.id, c.group, c.name) for c in customers]
    schema = {"customer_id": pl.String, "customer_group": pl.String, "name": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _effective_prices(
    customers: tuple[Customer, ...], context: WriteContext
) -> pl.DataFrame | None:
    """Every customer's effective tiers, with its ``customer_id`` (None: no customers)."""
    if not customers:
        return None
    rule = context.price_rule
    if rule is None:
        msg = "sql: no price resolution for the customers was given to the writer"
        raise ValueError(msg)
    return effective_prices(context.tiers, customers, rule)


def effective_prices(
    tiers: pl.DataFrame, customers: Sequence[Customer], rule: PriceRule
) -> pl.DataFrame:
    """The ``effective_prices`` table's rows: each customer's tiers as ``rule`` chooses them,
    customer after customer, with its ``customer_id``. The rule sees only the columns it and the
    table need (no ``erp_source``), so it filters and sorts narrower rows."""
    needed = tiers.select(c for c in tiers.columns if c in EFFECTIVE_PRICE_INPUT)
    return pl.concat(
        rule(needed, c.id, c.group).with_columns(customer_id=pl.lit(c.id)) for c in customers
    )


EFFECTIVE_PRICE_INPUT = (
    "sku",
    "price_type",
    "customer_group",
    "customer_id",
    "currency",
    "min_quantity",
    "unit_price",
    "valid_from",
    "valid_to",
)
"""The tiers' columns ``effective_prices`` reads: what the rule decides by and what the table
keeps (its columns: ``sinks.portal_sql``)."""


SPEC = FormatSpec(
    name="sql",
    description="B2B portal: products, prices (every tier) and availability in a SQL database",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=False,
    options=Options,
    target="sql",
    extensible=True,
    notes=("customers (optional, as in bmecat): the customers and effective_prices tables",),
    table_parts=TableParts(write=write_part, load=load_parts),
)
