"""Writes one channel's feed for a snapshot: the channel's publishable view handed to its
format's writer, with only the prices the channel may carry (public formats never see group or
customer prices)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import polars as pl
from pydantic import BaseModel

from contracts.config import ChannelConfig
from contracts.customers import Customer, ErpCustomers
from contracts.formats import FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from contracts.text import file_name_for
from golden.customers import CustomerSelectionError, select_customers
from mapping import assortments
from mapping.compile import CompiledChannel
from mapping.view import ChannelView
from quality.quarantine import catalog_accounting

ROWS_FOLDER = "_rows"
"""In every snapshot: each channel's mapped rows as Parquet (``kind="rows"``), what
``prism preview`` compares a changed mapping with (no channel name starts with ``_``)."""


def rows_file(channel: str) -> str:
    return f"{ROWS_FOLDER}/{channel}.parquet"


def write_rows(view: ChannelView, snapshot: Path) -> FeedFile:
    """The channel's published rows (``sku`` + target fields) into the snapshot."""
    path = snapshot / rows_file(view.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    view.frame.write_parquet(path)
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
) -> WrittenFeed:
    """Write the channel's publishable ``view`` into ``folder`` (its staging folder); return
    its files (a SQL format's tables as ``kind="table"``). ``tiers`` are all valid tiers,
    ``customers`` the ERP's customer master (for ``customers: {from: erp}``)."""
    spec = compiled.format
    own = channel_tiers(tiers, compiled.channel, spec).join(
        view.frame.select("sku"), on="sku", how="semi"
    )
    options = resolved_options(view.name, compiled.options, customers)
    chosen = getattr(options, "customers", None)
    buyers: tuple[Customer, ...] = chosen if isinstance(chosen, tuple) else ()
    left_out = assortments.left_out(view.golden, compiled, buyers)
    context = WriteContext(
        channel=view.name,
        settings=compiled.channel,
        options=options,
        folder=folder,
        snapshot_id=snapshot_id,
        created=created,
        tiers=own,
        golden=view.golden,
        left_out=left_out if left_out.height else None,
    )
    files = spec.writer(view.frame, context)
    catalogs = catalog_accounting(
        view.frame.height, _catalog_rows(files, buyers), left_out, assortments.RULES
    )
    return WrittenFeed(files, left_out, catalogs)


def _catalog_rows(files: list[FeedFile], customers: tuple[Customer, ...]) -> dict[str, int]:
    """Customer id -> products in its catalog (the file named for it: ``<id>.xml[.gz]``)."""
    by_name = {Path(f.path).name.split(".xml")[0]: f.rows for f in files if f.kind == "file"}
    return {c.id: by_name[file_name_for(c.id)] for c in customers}
