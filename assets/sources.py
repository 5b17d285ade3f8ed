"""Source assets: which PIM export and ERP snapshot a run reads, and their parsed contents.

``source_snapshots`` is the run's first asset: it pins both source folders and resolves the
run's parameters once (``RunParameters``, set at launch); every later asset takes the as-of date
from its output, so one run prices, checks and publishes with one date even across midnight.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field, field_validator

from assets.catalog import source_kinds, spec_args
from assets.metadata import frame_metadata
from assets.resources import SnapshotSource, cache_folder
from contracts import clock
from contracts.config import ErpSource, FileSource, PimSource, PrismConfig
from golden.lineage import split_broken_lineage
from golden.master_data import MasterNeeds, golden_master_data
from golden.pim_state import pim_state_key
from mapping.plan import erp_customer_channels, master_needs, pim_model
from sinks.formats import FORMATS
from sources.akeneo_files import PimStructure, read_pim_export, read_pim_structure
from sources.drops import announced_rows, check_rows, read_marker
from sources.erp_files import erp_state_key, read_erp_snapshot
from sources.source_state import SourceState, load_state, save_state

SOURCES_GROUP = "sources"
ERP_OUTPUTS = {
    "erp_prices": "ERP price rows, typed: sku, price type (list, group, customer), currency, "
    "exact decimal amount per quantity, validity dates",
    "erp_stock": "ERP stock per sku and warehouse: quantity on hand",
    "erp_supply": "ERP supply per sku: expected receipts and lead times (availability dates)",
    "erp_customers": "The ERP's customer master: customer id, price group, name, currency, "
    "active (empty when the drop has none); a quoting channel can take its customers from it",
    "erp_rejects": "ERP rows that could not be typed (bad amount, currency, quantity, dates, "
    "customer rows), each with its file, line and reason; they reach the quarantine",
}
PIM_OUTPUTS = {
    "pim_master_data": "The PIM's products with the attributes the mappings use, flattened per "
    "locale and scope (`attr.<code>-<locale>-<scope>`), variant values inherited",
    "pim_rejects": "PIM rows that could not be read or whose variant lineage is broken, each "
    "with its source and reason; they reach the quarantine",
}
PIM_STRUCTURE = {
    "pim_families": "families: label and image attributes, labels (the family_unknown reference)",
    "pim_attributes": "attributes: code, type, localizable, scopable",
    "pim_attribute_options": "options of select attributes with their labels per locale",
    "pim_channels": "Akeneo channels: category tree, locales, currencies",
    "pim_family_variants": "family variants: the variant axes per level",
}


class RunParameters(dg.Config):
    """Parameters of one run, given at launch (``prism run`` flags or the launchpad)."""

    as_of: str | None = Field(
        default=None,
        description="YYYY-MM-DD date prices must be valid on and availability is computed "
        "for; default: as_of of prism.yaml, else today (UTC), resolved once per run",
    )
    full_pull: bool = Field(
        default=False, description="live sources pull everything (picks up deletions)"
    )

    @field_validator("as_of")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)
        return value


def resolved_as_of(parameters: RunParameters, config: PrismConfig) -> dt.date:
    """The run's as-of date: the launch parameter, else the configuration, else today (UTC)."""
    if parameters.as_of:
        return dt.date.fromisoformat(parameters.as_of)
    return config.as_of or clock.utc_today()


def snapshot_field(snapshots: pl.DataFrame, source: str, column: str = "path") -> str:
    """A pinned source's folder path or snapshot id, from the ``source_snapshots`` frame."""
    return snapshots.filter(pl.col("source") == source).item(0, column)


def run_as_of(snapshots: pl.DataFrame) -> dt.date:
    """The as-of date ``source_snapshots`` resolved for this run."""
    return snapshots.item(0, "as_of")


def check_announced_rows(
    source: PimSource | ErpSource, folder: Path, rows_read: dict[str, int]
) -> None:
    """A file drop's files hold the rows its ready marker announced (nothing lost in transit)."""
    if isinstance(source, FileSource):
        check_rows(folder, announced_rows(folder, source.ready_marker), rows_read)


def modified_at(folder: Path) -> dt.datetime:
    """When the snapshot's newest file was written (UTC): its age feeds the freshness breaker."""
    stamps = [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
    return dt.datetime.fromtimestamp(max(stamps, default=0), dt.UTC)


def pin_sources(
    prism: PrismConfig, parameters: RunParameters, pim: SnapshotSource, erp: SnapshotSource
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The run's pinned PIM and ERP folders (a live source pulled into a new snapshot folder
    first) with the run's as-of date, and their metadata: what a run's first step records."""
    as_of = resolved_as_of(parameters, prism)
    metadata: dict[str, Any] = {"as_of": as_of.isoformat()}
    rows = []
    for name, source in (("pim", pim), ("erp", erp)):
        pinned = source.snapshot(prism, parameters.full_pull)
        rows.append(
            {
                "source": name,
                "snapshot_id": pinned.folder.name,
                "path": str(pinned.folder),
                "modified_at": modified_at(pinned.folder),
                "as_of": as_of,
            }
        )
        metadata[f"{name}_snapshot"] = pinned.folder.name
        metadata |= {f"{name}_{key}": value for key, value in pinned.details.items()}
    return pl.DataFrame(rows), metadata


def verified_digests(source: PimSource | ErpSource, folder: Path) -> dict[str, str] | None:
    """SHA-256 per file of a file drop's JSON ready marker: ``source_snapshots`` verified the
    files against it when it pinned the drop (``sources.drops.verify_drop``)."""
    if not isinstance(source, FileSource):
        return None
    listed = read_marker(folder, source.ready_marker)
    return None if listed is None else {name: f.sha256 for name, f in listed.items()}


PIM_STATE_CACHE = "pim"
"""``<work>/cache/pim/``: the PIM step's results per PIM state (``golden.pim_state``)."""
ERP_STATE_CACHE = "erp"
"""``<work>/cache/erp/``: the ERP step's results per ERP state (``sources.source_state``)."""


def read_pim_state(
    prism: PrismConfig, folder: Path, structure: PimStructure, needs: MasterNeeds
) -> SourceState:
    """Read and flatten the export in ``folder``: the PIM step's outputs by asset name (a drop
    whose files hold fewer or more rows than its ready marker announced stops here)."""
    export = read_pim_export(
        folder, prism.locales, prism.scopes, needs.attributes, structure=structure
    )
    rows_read = export.rows_read
    check_announced_rows(prism.pim, folder, rows_read)
    export, lineage = split_broken_lineage(export)
    frames = {
        "pim_master_data": golden_master_data(export, needs).collect(),
        "pim_rejects": pl.concat([export.rejects, lineage]),
    }
    frames |= {name: getattr(export, name.removeprefix("pim_")) for name in PIM_STRUCTURE}
    return SourceState(frames, rows_read)


def build_source_assets(prism: PrismConfig) -> list[dg.AssetsDefinition]:
    pim_kinds, erp_kinds = source_kinds(prism, "pim"), source_kinds(prism, "erp")

    @dg.asset(group_name=SOURCES_GROUP, **spec_args(prism, "sources", pim_kinds | erp_kinds))
    def source_snapshots(
        context: dg.AssetExecutionContext,
        config: RunParameters,
        pim: SnapshotSource,
        erp: SnapshotSource,
    ) -> dg.MaterializeResult:
        """Pins the PIM export and ERP snapshot folders for the whole run (a live source is
        pulled into a new snapshot folder first) and the run's as-of date."""
        frame, metadata = pin_sources(prism, config, pim, erp)
        context.log.info(
            "reading PIM export %s and ERP snapshot %s as of %s",
            *frame["snapshot_id"],
            run_as_of(frame),
        )
        return dg.MaterializeResult(value=frame, metadata=metadata)

    @dg.multi_asset(
        group_name=SOURCES_GROUP,
        outs={
            name: dg.AssetOut(
                description=text,
                **spec_args(prism, "sources", {"polars", *pim_kinds}, sides=("pim",)),
            )
            for name, text in (PIM_OUTPUTS | PIM_STRUCTURE).items()
        },
    )
    def pim_master_data(
        context: dg.AssetExecutionContext, source_snapshots: pl.DataFrame
    ) -> Iterator[dg.Output]:
        """The PIM's structure first (attributes, options, channels, families), against which
        every channel's mapping is compiled — a configuration error stops the run here, before
        any product is read —, then the products with the attributes the mappings use,
        flattened per locale and scope, variant values inherited. When the export's files, what
        the channels need of them and the code are those of a state stored by an earlier run
        (``<work>/cache/pim/``, ``golden.pim_state``), that state is read instead: the same
        outputs in a fraction of the time (metadata ``pim_state_reused``)."""
        folder = Path(snapshot_field(source_snapshots, "pim"))
        structure = read_pim_structure(folder, prism.locales)
        model = pim_model(
            prism,
            structure.attributes,
            structure.attribute_options,
            structure.channels,
            structure.families,
            structure.family_variants,
        )
        needs = master_needs(prism, FORMATS, model)
        cache = cache_folder(prism.publish.work_directory, PIM_STATE_CACHE)
        key = pim_state_key(folder, prism.scopes, needs, verified_digests(prism.pim, folder))
        state = load_state(cache, key)
        reused = state is not None
        if state is None:
            state = read_pim_state(prism, folder, structure, needs)
            save_state(cache, key, state.frames, state.rows_read)
        else:
            check_announced_rows(prism.pim, folder, state.rows_read)
        master, rejects = state.frames["pim_master_data"], state.frames["pim_rejects"]
        context.log.info(
            "PIM: %d products, %d rejected rows (%s)",
            master.height,
            rejects.height,
            f"state {key[:12]} reused: the export did not change" if reused else "read",
        )
        for name in (*PIM_OUTPUTS, *PIM_STRUCTURE):
            frame = state.frames[name]
            extra = {"pim_state": key, "pim_state_reused": reused} if name in PIM_OUTPUTS else {}
            yield dg.Output(frame, name, metadata=frame_metadata(frame, **extra))

    @dg.multi_asset(
        group_name=SOURCES_GROUP,
        outs={
            name: dg.AssetOut(
                description=text,
                **spec_args(prism, "sources", {"polars", *erp_kinds}, sides=("erp",)),
            )
            for name, text in ERP_OUTPUTS.items()
        },
    )
    def erp_snapshot(
        context: dg.AssetExecutionContext, source_snapshots: pl.DataFrame
    ) -> Iterator[dg.Output]:
        """ERP prices, stock, supply and customers, typed; unparseable rows go to
        `erp_rejects`. When the snapshot's files are those of a state stored by an earlier run
        (``<work>/cache/erp/``: a run after a PIM change), that state is read instead
        (metadata ``erp_state_reused``)."""
        folder = Path(snapshot_field(source_snapshots, "erp"))
        customers_for = erp_customer_channels(prism, FORMATS)
        cache = cache_folder(prism.publish.work_directory, ERP_STATE_CACHE)
        key = erp_state_key(folder, customers_for, verified_digests(prism.erp, folder))
        state = load_state(cache, key)
        reused = state is not None
        if state is None:
            snapshot = read_erp_snapshot(folder, customers_for)
            check_announced_rows(prism.erp, folder, snapshot.rows_read)
            frames = {name: getattr(snapshot, name.removeprefix("erp_")) for name in ERP_OUTPUTS}
            state = SourceState(frames, snapshot.rows_read)
            save_state(cache, key, state.frames, state.rows_read)
        else:
            check_announced_rows(prism.erp, folder, state.rows_read)
            context.log.info("ERP: state %s reused: the snapshot did not change", key[:12])
        for name in ERP_OUTPUTS:
            frame = state.frames[name]
            context.log.info("ERP %s: %d rows", name, frame.height)
            extra = {"erp_state": key, "erp_state_reused": reused}
            yield dg.Output(frame, name, metadata=frame_metadata(frame, **extra))

    return [source_snapshots, pim_master_data, erp_snapshot]
