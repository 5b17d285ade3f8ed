"""What the Dagster UI shows about each asset: kinds, owners, tags, freshness, column schemas
and links, derived from the configuration alone (loading the definitions reads no data).

Descriptions are Markdown in the UI: a placeholder is written in backticks (`` `<channel>` ``),
never bare, or the browser takes it for an HTML tag and shows nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import polars as pl

from contracts.config import ChannelConfig, FileSource, PrismConfig, SapSource
from contracts.golden import AVAILABILITY_SCHEMA, MASTER_SCHEMA, list_price
from mapping.compile import merged_fields
from mapping.expressions import MappingError
from sinks.formats import FORMATS

LAYER_TAG = "prism/layer"
CHANNEL_TAG = "prism/channel"
FORMAT_TAG = "prism/format"
COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"

Side = Literal["pim", "erp"]

FILE_KINDS = {
    "jsonld": "json",
    "jsonl": "json",
    "csv": "csv",
    "tsv": "csv",
    "meta_catalog": "csv",
    "xlsx": "excel",
    "google_merchant": "xml",
    "bmecat": "xml",
}
"""The file type each file format writes (a Dagster kind with an icon in the UI)."""


def spec_args(
    config: PrismConfig,
    layer: str,
    kinds: set[str],
    sides: tuple[Side, ...] = ("pim", "erp"),
    channel: str | None = None,
) -> dict[str, Any]:
    """``kinds``, ``owners``, ``tags`` and ``freshness_policy`` for a ``dg.asset`` or
    ``dg.AssetOut`` of ``layer`` built from the sources in ``sides``."""
    tags = {LAYER_TAG: layer}
    owners = list(config.owners)
    if channel is not None:
        settings = config.channels[channel]
        tags |= {CHANNEL_TAG: channel, FORMAT_TAG: settings.format}
        owners += [o for o in settings.owners if o not in owners]
    return {
        "kinds": kinds,
        "owners": owners,
        "tags": tags,
        "freshness_policy": freshness(config, sides),
    }


def freshness(config: PrismConfig, sides: tuple[Side, ...]) -> dg.FreshnessPolicy | None:
    """Stale once not materialized for as long as the oldest acceptable snapshot of its
    sources (``quality.freshness_hours``): data older than that would trip the freshness
    breaker of the next run anyway. None when no side has a limit."""
    limits = config.quality.freshness_hours
    hours = [h for h in (getattr(limits, side) for side in sides) if h is not None]
    if not hours:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=min(hours)))


def source_kinds(config: PrismConfig, side: Side) -> set[str]:
    """How a side is read: the Akeneo PIM (its REST API or export files), the ERP's SAP OData
    API or its CSV/Parquet drop (CSV structure checked with DuckDB)."""
    if side == "pim":
        return {"akeneo", "json"} if isinstance(config.pim, FileSource) else {"akeneo"}
    return {"sap"} if isinstance(config.erp, SapSource) else {"csv", "duckdb"}


def target_kind(channel: ChannelConfig) -> str:
    """The channel's target as a Dagster kind: its file type or its database."""
    if channel.url is not None:
        return next((k for k in ("postgres", "duckdb") if channel.url.startswith(k)), "sqlite")
    return FILE_KINDS.get(channel.format, "file")


def feed_kinds(config: PrismConfig, channel: str) -> set[str]:
    return {"polars", target_kind(config.channels[channel])}


def publish_kinds(config: PrismConfig) -> set[str]:
    return {"json", *(target_kind(config.channels[n]) for n in config.portals())}


def table_schema(
    schema: pl.Schema | Mapping[str, pl.DataType], descriptions: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """A polars schema as Dagster's ``dagster/column_schema`` (types as polars names them)."""
    notes = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(dtype), description=notes.get(name))
            for name, dtype in schema.items()
        ]
    )


GOLDEN_NOTES = {
    "sku": "the product's identifier in the PIM, unique (check sku_unique)",
}


def golden_schema(config: PrismConfig) -> dg.TableSchema:
    """The golden record's contract columns (``contracts.golden``); the ``attr.*`` and
    category columns follow the PIM's model and are listed with each materialization."""
    prices = {list_price(c): pl.Decimal(38, 6) for c in config.currencies}
    return table_schema({**MASTER_SCHEMA, **AVAILABILITY_SCHEMA, **prices}, GOLDEN_NOTES)


def field_notes(config: PrismConfig, channel: str) -> dict[str, str]:
    """Each target field's description and requirement, as the channel's format declares it."""
    spec = FORMATS.get(config.channels[channel].format)
    if spec is None:
        return {}
    return {
        f.name: f"{f.requirement}: {f.description}" if f.description else f.requirement
        for f in spec.fields
    }


def channel_schema(config: PrismConfig, channel: str) -> dg.TableSchema | None:
    """The channel's mapped fields (``sku`` + the preset's fields with the channel's ``fields:``
    over them), typed as the format declares them; None when the mapping does not resolve
    (``prism validate-config`` names the error, and a run stops on it)."""
    settings = config.channels[channel]
    spec = FORMATS.get(settings.format)
    if spec is None:
        return None
    try:
        fields = merged_fields(channel, settings, spec)
    except MappingError:
        return None
    notes = field_notes(config, channel)
    kinds = {f.name: f.kind for f in spec.fields}
    columns = [dg.TableColumn("sku", "text", description="the golden record's sku")]
    columns += [
        dg.TableColumn(name, kinds.get(name, "text"), description=notes.get(name))
        for name in fields
    ]
    return dg.TableSchema(columns=columns)


def feed_description(config: PrismConfig, channel: str) -> str:
    settings = config.channels[channel]
    currencies = ", ".join(settings.all_currencies)
    target = (
        "its database tables (switched with the snapshot)"
        if settings.url is not None
        else f"`snapshots/<snapshot_id>/{channel}/`"
    )
    return (
        f"The **{channel}** channel's feed: format `{settings.format}`, locale "
        f"`{settings.locale}`, {currencies}. The golden records this channel's mapping and "
        f"filters select, without the products quarantined for it, written to {target}. "
        "Row count = products published on the channel; `files` = files or tables written.\n\n"
        f"{SUBSET_NOTE}"
    )


SUBSET_NOTE = (
    "**Materializing one channel alone** (select just this asset) re-stages only this channel "
    "from the latest golden records into the run's own staging folder "
    "(`staging/<snapshot_id>/`) and runs its checks; it is not published. A published "
    "snapshot always holds every channel, built from one golden record and gated together "
    "(the quality report compares all channels with the live snapshot before the atomic "
    "switch), so `published_snapshot` refuses feeds staged by another run: publish by "
    "materializing the whole `syndicate` job."
)


def link(config: PrismConfig, path: Path) -> dg.MetadataValue:
    """A clickable link to a file or folder under the publish directory: on the feed server
    (``publish.base_url``) when there is one, else a ``file://`` URL."""
    base = config.publish.base_url
    if base is None:
        return dg.MetadataValue.url(path.resolve().as_uri())
    relative = path.resolve().relative_to(Path(config.publish.directory).resolve())
    return dg.MetadataValue.url(f"{base}/{relative.as_posix()}")
