"""``prism preview``: what a channel would get from the current sources with the current
configuration, and how that differs from what is live — nothing is written or published.

The preview runs the same pure steps a run does (PIM structure, compiled mappings, golden
record, the channel's view, its quarantine) in-process on the sources a run would read now, and
compares the mapped rows with the rows the live snapshot sealed for the channel
(``_rows/<channel>.parquet``): products added and removed, and per target field how many
products' values change. A data engineer changes a mapping, previews, then runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from contracts import clock
from contracts.config import AkeneoSource, FileSource, PrismConfig, SapSource
from contracts.snapshots import SnapshotError
from golden.lineage import split_broken_lineage
from golden.master_data import golden_master_data
from golden.record import golden_price_tiers, golden_products
from mapping.compile import compile_channel
from mapping.plan import master_needs, pim_model
from mapping.view import FILTERED, channel_view
from quality.quarantine import build_quarantine, publishable
from quality.rules import references
from sinks.formats import FORMATS
from sinks.snapshot_store import SnapshotStore
from sources.akeneo_files import read_pim_export, read_pim_structure
from sources.drops import newest_drop, verify_drop
from sources.erp_files import read_erp_snapshot


class PreviewError(RuntimeError):
    """The preview cannot be made (unknown channel, no readable sources)."""


@dataclass(frozen=True)
class Preview:
    channel: str
    rows: pl.DataFrame
    """the mapped rows the channel would get (all of them; the CLI shows a part)"""
    counts: dict[str, int]
    """products, published, quarantined, filtered, disabled"""
    reasons: pl.DataFrame
    """rule, severity, products: why products are kept off or left out (error, filtered)"""
    live_snapshot: str | None
    """the snapshot compared with (None: nothing live, or it has no rows for the channel)"""
    added: int
    removed: int
    changed: int
    """products in both whose mapped values differ in any field"""
    fields: pl.DataFrame
    """field, changed: per target field, the products whose value would change (fields only
    one side has count every product of that side)"""


def source_folder(config: PrismConfig, side: Literal["pim", "erp"]) -> Path:
    """The folder a run would read now: the newest complete file drop; for a live source its
    last pull (a preview never pulls): Akeneo's ``store`` link, SAP's newest snapshot under
    ``root``."""
    source = config.pim if side == "pim" else config.erp
    if isinstance(source, FileSource):
        folder = newest_drop(source.path, side, source.ready_marker)
        verify_drop(folder, source.ready_marker)
        return folder
    if isinstance(source, AkeneoSource) and source.store.is_dir():
        return source.store.resolve()
    if isinstance(source, SapSource) and source.root.is_dir():
        pulled = sorted(p for p in source.root.iterdir() if p.is_dir())
        if pulled:
            return pulled[-1]
    msg = f"{side}: nothing pulled yet from the {source.kind} source; run `prism run` once"
    raise PreviewError(msg)


def preview_channel(config: PrismConfig, name: str, as_of: dt.date | None = None) -> Preview:
    """The channel ``name`` as a run would write it now, against the live snapshot."""
    if name not in config.channels:
        known = ", ".join(config.channels)
        msg = f"no channel {name!r} in the configuration (channels: {known})"
        raise PreviewError(msg)
    day = as_of or config.as_of or clock.utc_today()
    pim_folder, erp_folder = source_folder(config, "pim"), source_folder(config, "erp")
    structure = read_pim_structure(pim_folder, config.locales)
    model = pim_model(
        config,
        structure.attributes,
        structure.attribute_options,
        structure.channels,
        structure.families,
        structure.family_variants,
    )
    needs = master_needs(config, FORMATS, model)
    export = read_pim_export(
        pim_folder, config.locales, config.scopes, needs.attributes, structure=structure
    )
    export, lineage = split_broken_lineage(export)
    master = golden_master_data(export, needs)
    erp = read_erp_snapshot(erp_folder)
    tiers = golden_price_tiers(erp.prices.lazy(), master, day, config.currencies)
    golden = golden_products(
        master, tiers, erp.stock.lazy(), erp.supply.lazy(), day, config.currencies
    ).collect()
    channel = config.channels[name]
    compiled = compile_channel(
        name, config, FORMATS[channel.format], model, frozenset(golden.columns)
    )
    erp_source = f"ERP snapshot {erp_folder.name}, prices"
    view = channel_view(golden, compiled, erp_source)
    rejects = pl.concat([export.rejects, lineage]).lazy()
    findings = build_quarantine(
        {name: view}, config.channels, rejects, erp_source, references(export.families)
    ).collect()
    published = publishable(view, findings.lazy())
    own = findings.filter(pl.col("channel") == name)
    return _compared(config, name, golden, published.frame, own)


def _compared(
    config: PrismConfig,
    name: str,
    golden: pl.DataFrame,
    rows: pl.DataFrame,
    findings: pl.DataFrame,
) -> Preview:
    kept_off = findings.filter(pl.col("severity").is_in(["error", FILTERED]))
    reasons = (
        kept_off.group_by("rule", "severity")
        .agg(products=pl.col("sku").n_unique().cast(pl.Int64))
        .sort(["products", "rule"], descending=[True, False])
    )
    errors = set(kept_off.filter(pl.col("severity") == "error")["sku"].to_list())
    filtered = set(kept_off.filter(pl.col("severity") == FILTERED)["sku"].to_list()) - errors
    counts = {
        "products": golden.height,
        "published": rows.height,
        "quarantined": len(errors),
        "filtered": len(filtered),
        "disabled": golden.filter(~pl.col("enabled")).height,
    }
    live_id, live = _live_rows(config, name)
    added, removed, changed, fields = _diff(live, rows)
    return Preview(name, rows, counts, reasons, live_id, added, removed, changed, fields)


def _live_rows(config: PrismConfig, name: str) -> tuple[str | None, pl.DataFrame | None]:
    store = SnapshotStore(config.publish.directory)
    live = store.live_snapshot()
    if live is None:
        return None, None
    try:
        entry = store.manifest(live).rows(name)
    except (OSError, SnapshotError):
        return None, None
    if entry is None:
        return None, None
    return live, pl.read_parquet(store.snapshot_dir(live) / entry.path)


def _diff(live: pl.DataFrame | None, rows: pl.DataFrame) -> tuple[int, int, int, pl.DataFrame]:
    schema = {"field": pl.String, "changed": pl.Int64}
    if live is None:
        fields = [{"field": c, "changed": rows.height} for c in rows.columns if c != "sku"]
        return rows.height, 0, 0, pl.DataFrame(fields, schema=schema)
    added = rows.join(live.select("sku"), on="sku", how="anti").height
    removed = live.join(rows.select("sku"), on="sku", how="anti").height
    both = rows.join(live, on="sku", how="inner", suffix="__live")
    common = [c for c in rows.columns if c != "sku" and c in live.columns]
    flags = [_differs(c, rows.schema[c]).alias(c) for c in common]
    per_field = both.select(f.sum() for f in flags).row(0) if flags else ()
    only_new = [c for c in rows.columns if c != "sku" and c not in live.columns]
    only_live = [c for c in live.columns if c != "sku" and c not in rows.columns]
    fields = [{"field": c, "changed": int(n)} for c, n in zip(common, per_field, strict=True)]
    fields += [{"field": c, "changed": both.height} for c in only_new + only_live]
    if only_new or only_live:
        changed = both.height  # a field added or dropped changes every product in both
    elif flags:
        changed = int(both.select(pl.any_horizontal(flags).sum()).item())
    else:
        changed = 0
    return added, removed, changed, pl.DataFrame(fields, schema=schema)


def _differs(column: str, dtype: pl.DataType) -> pl.Expr:
    """Null-aware inequality of the new and the live value (text compared as written)."""
    new, old = pl.col(column), pl.col(f"{column}__live")
    if not isinstance(dtype, pl.List):
        new, old = new.cast(pl.String), old.cast(pl.String)
    return ~new.eq_missing(old)
