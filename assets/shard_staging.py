"""Staging a sharded run's channels from its shards' parts (``assets.shards``): each file
spliced from the shards' records into this run's envelope (``sinks.assembly``), a database's
tables loaded from the shards' rows in one load (``FormatSpec.table_parts``), or, for a format
that can be neither, the channel written whole from the merged shards' views. The published
rows, the price API's data, the catalogs' accounting and the great-expectations sample are the
shards' put together, in the order an unsharded run gives them.
"""

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import polars as pl

from assets.channel_feeds import (
    catalog_rows,
    channel_context,
    channel_customers,
    resolved_options,
    rows_file,
    write_channel_feed,
    write_channel_prices,
    write_rows,
)
from assets.channels import ViewStore
from contracts.config import PrismConfig
from contracts.formats import Assembly
from contracts.golden import PRICE_TIERS_SCHEMA
from contracts.snapshots import FeedFile
from mapping import assortments
from mapping.compile import CompiledChannel
from mapping.view import ChannelView, channel_view
from quality.expectations import golden_columns, validation_frame
from quality.quarantine import catalog_accounting
from sinks.assembly import AssemblyError, assemble
from sinks.price_data import PRODUCTS as PRICE_PRODUCTS
from sinks.price_data import TIERS as PRICE_TIERS
from sinks.snapshot_store import SnapshotStore


def merged_view(
    name: str, parts: pl.DataFrame, channel: CompiledChannel, erp_source: str
) -> ChannelView:
    """One channel's view of the whole catalog from the shards' views, in sku order (the
    order of an unsharded view: the golden record's)."""
    found = []
    for row in parts.iter_rows(named=True):
        golden = pl.read_parquet(row["golden"])
        view = ViewStore(Path(row["views"])).load(name, golden)
        found.append(view if view is not None else channel_view(golden, channel, erp_source))
        del golden
    frame = pl.concat([v.frame for v in found], how="vertical_relaxed")
    findings = pl.concat([v.findings for v in found], how="vertical_relaxed")
    golden = pl.concat([v.golden for v in found], how="vertical_relaxed")
    return ChannelView(
        name,
        frame.sort("sku", maintain_order=True),
        findings,
        golden.sort("sku", maintain_order=True),
    )


NO_TIERS = pl.DataFrame(schema=PRICE_TIERS_SCHEMA)
FILE_SCHEMA = pl.Schema(
    {
        "channel": pl.String(),
        "path": pl.String(),
        "rows": pl.Int64(),
        "kind": pl.String(),
        "sha256": pl.String(),
        "bytes": pl.Int64(),
    }
)
"""A ``FeedFile`` as a row (the files a shard wrote)."""
LEFT_OUT = "_left_out"
"""In a shard's render folder: per channel, the products its customers' assortments leave out."""


def is_whole(channel: CompiledChannel) -> bool:
    """Whether the channel is written from the merged shards (no parts per shard)."""
    return assembly_of(channel) is None and channel.format.table_parts is None


def assembly_of(channel: CompiledChannel) -> Assembly | None:
    """How the channel's files are assembled from the shards' parts; None: written whole."""
    assembly = channel.format.assembly
    return assembly.for_options(channel.options) if assembly is not None else None


class Target(NamedTuple):
    """Where and as what a channel is staged."""

    store: SnapshotStore
    snapshot_id: str
    created: dt.datetime
    customers: pl.DataFrame


class Staged(NamedTuple):
    files: list[FeedFile]
    products: int
    catalogs: pl.DataFrame
    sample: pl.DataFrame
    """the rows the channel's great-expectations suite validates"""


def stage_whole(
    config: PrismConfig,
    view: ChannelView,
    channel: CompiledChannel,
    tiers: pl.DataFrame,
    target: Target,
    prices: bool,
) -> Staged:
    """A channel written from its merged view, as the asset job writes it (a workbook, a
    database load, a gzipped catalog)."""
    staging = target.store.staging_dir(target.snapshot_id)
    folder = target.store.channel_dir(target.snapshot_id, view.name)
    written = write_channel_feed(
        view,
        channel,
        tiers,
        folder,
        target.snapshot_id,
        target.created,
        target.customers,
        staging if prices else None,
    )
    if not any(folder.iterdir()):
        folder.rmdir()  # a SQL channel writes tables, no files
    written.files.append(write_rows(view, staging))
    fields = [f.spec for f in channel.fields.values()]
    rows = config.quality.expectations_sample_rows
    golden = view.golden_lazy()
    sample = validation_frame(view.frame, golden, config.channels[view.name], fields, rows)
    return Staged(written.files, view.frame.height, written.catalogs, sample)


def stage_parts(
    config: PrismConfig,
    name: str,
    channel: CompiledChannel,
    parts: pl.DataFrame,
    target: Target,
    prices: bool,
) -> Staged:
    """A channel whose files the shards wrote: each file is this run's envelope (the writer
    on no rows) around the shards' records (``sinks.assembly``); the published rows, the
    price API's data and the catalogs' accounting are the shards' put together."""
    renders = [Path(r) for r in parts["render"].to_list()]
    frame = pl.concat(
        [pl.read_parquet(r / rows_file(name)) for r in renders], how="vertical_relaxed"
    ).sort("sku", maintain_order=True)
    staging = target.store.staging_dir(target.snapshot_id)
    folder = target.store.channel_dir(target.snapshot_id, name)
    empty = ChannelView(name, frame.head(0), pl.DataFrame(), _view_golden_schema(parts, name))
    if channel.format.table_parts is not None:
        context, _, _ = channel_context(
            empty, channel, NO_TIERS, folder, target.snapshot_id, target.created, target.customers
        )
        files = channel.format.table_parts.load([r / name for r in renders], context)
        if not any(folder.iterdir()):
            folder.rmdir()
    else:
        files = _spliced(channel, parts, renders, empty, target)
    buyers = channel_customers(resolved_options(name, channel.options, target.customers))
    if prices:
        products, tiers = (
            pl.concat([pl.read_parquet(r / path) for r in renders])
            for path in (PRICE_PRODUCTS, PRICE_TIERS)
        )
        files += write_channel_prices(staging, name, channel, buyers, products, tiers)
    left_out = pl.concat(
        [pl.read_parquet(r / LEFT_OUT / f"{name}.parquet") for r in renders], how="vertical_relaxed"
    )
    catalogs = catalog_accounting(
        frame.height, catalog_rows(files, buyers), left_out, assortments.RULES
    )
    fields = [f.spec for f in channel.fields.values()]
    settings = config.channels[name]
    golden = _sample_golden(parts, name, frame, golden_columns(settings, fields))
    files.append(write_rows(ChannelView(name, frame, pl.DataFrame(), golden), staging))
    sample = validation_frame(
        frame, golden, settings, fields, config.quality.expectations_sample_rows
    )
    return Staged(files, frame.height, catalogs, sample)


def _spliced(
    channel: CompiledChannel,
    parts: pl.DataFrame,
    renders: list[Path],
    empty: ChannelView,
    target: Target,
) -> list[FeedFile]:
    """The channel's files: each the envelope (the writer on ``empty``, with this run's
    snapshot id and time) around the shards' records, with the shards' row counts."""
    assembly = assembly_of(channel)
    assert assembly is not None
    name = empty.name
    staging = target.store.staging_dir(target.snapshot_id)
    folder = target.store.channel_dir(target.snapshot_id, name)
    envelope = write_channel_feed(
        empty, channel, NO_TIERS, folder, target.snapshot_id, target.created, target.customers
    )
    written = pl.concat([pl.read_parquet(p) for p in parts["files"].to_list()])
    own = written.filter(pl.col("channel") == name, pl.col("kind") == "file")
    rows = dict(own.group_by("path").agg(pl.col("rows").sum()).iter_rows())
    unknown = sorted(set(rows) - {f.path for f in envelope.files})
    if unknown:
        msg = f"{name}: the shards wrote {unknown}, which the channel's empty feed has not"
        raise AssemblyError(msg)
    files = []
    for file in envelope.files:
        pieces = [r / file.path for r in renders if (r / file.path).is_file()]
        assemble(staging / file.path, pieces, assembly, staging / file.path)
        files.append(replace(file, rows=rows.get(file.path, 0)))
    return files


def _view_golden_schema(parts: pl.DataFrame, name: str) -> pl.DataFrame:
    """No rows, the columns of a channel view's golden rows (the golden record's and the ones
    its mapping adds)."""
    golden = pl.read_parquet(parts["golden"][0], n_rows=0)
    added = Path(parts["views"][0]) / f"{name}.added.parquet"
    if not added.is_file():
        return golden
    return pl.concat([golden, pl.read_parquet(added, n_rows=0)], how="horizontal")


def _sample_golden(
    parts: pl.DataFrame, name: str, frame: pl.DataFrame, wanted: list[str]
) -> pl.DataFrame:
    """The golden columns the channel's suite reads (``wanted``), of the published rows of
    ``frame`` in its order: the shards' view rows, without the columns no suite reads."""
    found = []
    for row in parts.iter_rows(named=True):
        columns = pl.read_parquet(row["golden"], n_rows=0).columns
        keep = list(dict.fromkeys(["sku", "enabled", *(c for c in wanted if c in columns)]))
        golden = pl.read_parquet(row["golden"], columns=keep)
        view = ViewStore(Path(row["views"])).load(name, golden)
        rows = view.golden if view is not None else golden.filter(pl.col("enabled"))
        found.append(rows.select(c for c in ["sku", *wanted] if c in rows.columns))
    merged = pl.concat(found, how="vertical_relaxed")
    kept = merged.join(frame.select("sku"), on="sku", how="semi")
    return kept.sort("sku", maintain_order=True)
