"""Writes one channel's feed for a snapshot: the channel's publishable view handed to its
format's writer, with only the prices the channel may carry (public formats never see group or
customer prices)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import polars as pl
from pydantic import BaseModel

from contracts.config import ChannelConfig, PrismConfig
from contracts.customers import Customer, ErpCustomers
from contracts.formats import FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from contracts.text import file_name_for
from golden.customers import CustomerSelectionError, select_customers
from golden.pricing import effective_tiers
from mapping import assortments
from mapping.compile import CompiledChannel
from mapping.view import ChannelView
from quality.quarantine import catalog_accounting
from sinks.formats.bmecat import SPEC as BMECAT
from sinks.price_data import PRODUCT_COLUMNS, write_price_data

ROWS_FOLDER = "_rows"
"""In every snapshot: each channel's mapped rows as Parquet (``kind="rows"``), what
``prism preview`` compares a changed mapping with (no channel name starts with ``_``)."""


def rows_file(channel: str) -> str:
    return f"{ROWS_FOLDER}/{channel}.parquet"


def write_rows(view: ChannelView, snapshot: Path) -> FeedFile:
    """The channel's published rows (``sku`` + target fields) into the snapshot."""
    path = snapshot / rows_file(view.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    # zstd at its fastest level: half the time of the default, about the same size
    view.frame.write_parquet(path, compression="zstd", compression_level=1, statistics=False)
    return FeedFile(view.name, rows_file(view.name), view.frame.height, kind="rows")


def channel_tiers(tiers: pl.DataFrame, channel: ChannelConfig, spec: FormatSpec) -> pl.DataFrame:
    """The tiers a channel may carry: its currencies; list prices only on a public format,
    else its ``price_types`` (default all)."""
    types = ("list",) if spec.public else (channel.price_types or ("list", "group", "customer"))
    return tiers.filter(
        pl.col("price_type").is_in(list(types)),
        pl.col("currency").is_in(list(channel.all_currencies)),
    )


class ChannelCustomersError(ValueError):
    """A channel's customers from the ERP cannot be resolved; the message names the channel's
    key and the reason."""


def resolved_options(
    name: str, options: BaseModel | None, customers: pl.DataFrame | None
) -> BaseModel | None:
    """The format's options with ``customers: {from: erp, ...}`` replaced by the customers it
    selects from the ERP's customer master ``customers`` (each with its ERP price group)."""
    selection = getattr(options, "customers", None)
    if options is None or not isinstance(selection, ErpCustomers):
        return options
    if customers is None:
        msg = f"channels.{name}.customers: the ERP snapshot has no customer master"
        raise ChannelCustomersError(msg)
    try:
        chosen = select_customers(customers, selection)
    except CustomerSelectionError as error:
        raise ChannelCustomersError(f"channels.{name}.{error}") from None
    if not chosen:
        msg = f"channels.{name}.customers: the selection {selection.model_dump(by_alias=True)}"
        msg += f" matches no customer of the ERP customer master ({customers.height} customers)"
        raise ChannelCustomersError(msg)
    return options.model_copy(update={"customers": chosen})


def price_channel(config: PrismConfig) -> str | None:
    """The channel the price API answers for: ``serve.prices.channel``, else the first
    BMEcat channel (the quoting catalogs), else none (no price API)."""
    if config.serve.prices.channel is not None:
        return config.serve.prices.channel
    quoting = (n for n, c in config.channels.items() if c.format == BMECAT.name)
    return next(quoting, None)


class WrittenFeed(NamedTuple):
    """A channel's files, and per customer the products its assortment left out of its
    catalog (``LEFT_OUT_SCHEMA``; no rows without customer assortments) with each catalog's
    accounting (``quality.quarantine.catalog_accounting``; no rows without customers)."""

    files: list[FeedFile]
    left_out: pl.DataFrame
    catalogs: pl.DataFrame


def write_channel_feed(
    view: ChannelView,
    compiled: CompiledChannel,
    tiers: pl.DataFrame,
    folder: Path,
    snapshot_id: str,
    created: dt.datetime,
    customers: pl.DataFrame | None = None,
    price_data: Path | None = None,
) -> WrittenFeed:
    """Write the channel's publishable ``view`` into ``folder`` (its staging folder); return
    its files (a SQL format's tables as ``kind="table"``). ``tiers`` are all valid tiers,
    ``customers`` the ERP's customer master (for ``customers: {from: erp}``). ``price_data``:
    the staged snapshot's folder when this is the price API's channel; its customers, products
    and the very tiers its writer priced from go there too (``sinks.price_data``)."""
    spec = compiled.format
    context, buyers, left_out = channel_context(
        view, compiled, tiers, folder, snapshot_id, created, customers
    )
    own = context.tiers
    files: list[FeedFile] = spec.writer(view.frame, context)
    if price_data is not None:
        products = view.golden_lazy().select(PRODUCT_COLUMNS).collect()
        files += write_channel_prices(price_data, view.name, compiled, buyers, products, own)
    catalogs = catalog_accounting(
        view.frame.height, catalog_rows(files, buyers), left_out, assortments.RULES
    )
    return WrittenFeed(files, left_out, catalogs)


def channel_context(
    view: ChannelView,
    compiled: CompiledChannel,
    tiers: pl.DataFrame,
    folder: Path,
    snapshot_id: str,
    created: dt.datetime,
    customers: pl.DataFrame | None = None,
) -> tuple[WriteContext, tuple[Customer, ...], pl.DataFrame]:
    """What the channel's writer gets for ``view`` (its tiers, resolved customers, the products
    their assortments leave out), the customers, and the products left out (no rows without
    customer assortments; the context then has None)."""
    own = channel_tiers(tiers, compiled.channel, compiled.format).join(
        view.frame.select("sku"), on="sku", how="semi"
    )
    options = resolved_options(view.name, compiled.options, customers)
    buyers = channel_customers(options)
    left_out = assortments.left_out(view.golden_lazy(), compiled, buyers)
    context = WriteContext(
        channel=view.name,
        settings=compiled.channel,
        options=options,
        folder=folder,
        snapshot_id=snapshot_id,
        created=created,
        tiers=own,
        golden=view.golden_lazy(),
        price_rule=effective_tiers if buyers else None,
        left_out=left_out if left_out.height else None,
    )
    return context, buyers, left_out


def write_channel_prices(
    snapshot: Path,
    name: str,
    compiled: CompiledChannel,
    buyers: tuple[Customer, ...],
    products: pl.DataFrame,
    tiers: pl.DataFrame,
) -> list[FeedFile]:
    """The price API's data of the channel ``name`` (``sinks.price_data``): its currencies, the
    main one first, its customers, ``products`` (``PRODUCT_COLUMNS``) and their ``tiers``."""
    settings = compiled.channel
    currencies = tuple(dict.fromkeys((settings.main_currency, *settings.all_currencies)))
    return write_price_data(snapshot, name, currencies, buyers, products, tiers)


def channel_customers(options: BaseModel | None) -> tuple[Customer, ...]:
    """The customers a channel's resolved options name (none: not priced per customer)."""
    customers = getattr(options, "customers", None)
    return customers if isinstance(customers, tuple) else ()


def catalog_rows(files: list[FeedFile], customers: tuple[Customer, ...]) -> dict[str, int]:
    """Customer id -> products in its catalog (the file named for it: ``<id>.xml[.gz]``); a
    format that writes no catalog per customer (the portal's tables) has none."""
    by_name = {Path(f.path).name.split(".xml")[0]: f.rows for f in files if f.kind == "file"}
    named = {c.id: file_name_for(c.id) for c in customers}
    return {customer: by_name[name] for customer, name in named.items() if name in by_name}
