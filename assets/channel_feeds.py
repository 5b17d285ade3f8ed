"""Writes one channel's feed for a snapshot: the channel's publishable view handed to its
format's writer, with only the prices the channel may carry (public formats never see group or
customer prices)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from contracts.config import ChannelConfig
from contracts.formats import FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from mapping.compile import CompiledChannel
from mapping.view import ChannelView

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


def write_channel_feed(
    view: ChannelView,
    compiled: CompiledChannel,
    tiers: pl.DataFrame,
    folder: Path,
    snapshot_id: str,
    created: dt.datetime,
) -> list[FeedFile]:
    """Write the channel's publishable ``view`` into ``folder`` (its staging folder); return
    its files (a SQL format's tables as ``kind="table"``). ``tiers`` are all valid tiers."""
    spec = compiled.format
    own = channel_tiers(tiers, compiled.channel, spec).join(
        view.frame.select("sku"), on="sku", how="semi"
    )
    context = WriteContext(
        channel=view.name,
        settings=compiled.channel,
        options=compiled.options,
        folder=folder,
        snapshot_id=snapshot_id,
        created=created,
        tiers=own,
        golden=view.golden,
    )
    return spec.writer(view.frame, context)
