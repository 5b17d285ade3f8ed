"""The publish asset: the one step that changes what channels see."""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.catalog import link, publish_kinds, spec_args
from assets.feeds import feed_key, portals_of, snapshot_id_of_run
from assets.metadata import frame_metadata
from assets.resources import FeedStoreResource, cache_folder, prune_run_folders
from assets.sources import run_as_of, snapshot_field
from contracts.config import PrismConfig
from contracts.snapshots import BASELINE, FeedFile, Manifest, SnapshotError
from sinks.deltas import Deltas, write_deltas
from sinks.deltas.record_index import IndexFolder
from sinks.publish import publish_snapshot
from sinks.snapshot_store import SnapshotStore

PUBLISH_GROUP = "publish"
PUBLISH_POOL = "prism_publish"
DELTA_INDEX = "delta_index"
"""the cache folder of the feed files' record indexes (``sinks.deltas.record_index``)"""


def build_publish_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    ins = {f"feed_{n}": dg.AssetIn(key=feed_key(n)) for n in config.channels}
    ins["source_snapshots"] = dg.AssetIn()
    ins["quality_report"] = dg.AssetIn()

    @dg.asset(
        group_name=PUBLISH_GROUP,
        ins=ins,
        pool=PUBLISH_POOL,
        **spec_args(config, "publish", publish_kinds(config)),
    )
    def published_snapshot(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        **inputs: pl.DataFrame,
    ) -> dg.MaterializeResult:
        """Seals this run's staged feeds into a snapshot with a manifest and makes it live on
        every channel at once (files and portals, through the publish journal), if what is live
        is still what the breakers compared against. Cleanup failures after the switch are
        reported in the metadata, never as a failed publish."""
        lock = feed_store.lock(context.run.run_id)
        with lock.held(release=True):
            sources = inputs.pop("source_snapshots")
            gate = inputs.pop("quality_report")  # runs only when the gate let the run pass
            feeds = pl.concat(inputs.values())
            files, metadata = publish_staged(context, feed_store, config, sources, gate, feeds)
            return dg.MaterializeResult(value=files, metadata=metadata)

    return [published_snapshot]


Context = dg.AssetExecutionContext | dg.OpExecutionContext
"""The asset job's publish step or the sharded job's: both log, name their run and reach the
instance the same way."""


def publish_staged(
    context: Context,
    feed_store: FeedStoreResource,
    config: PrismConfig,
    sources: pl.DataFrame,
    gate: pl.DataFrame,
    feeds: pl.DataFrame,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Seal the run's staged ``feeds`` (one row per file or table, from the feed step) into a
    snapshot with a manifest and deltas, and switch every channel to it; the sealed files and
    the materialization's metadata. ``gate``: the quality report's breakers of this run (it
    names the live snapshot they were compared with); the caller holds the publish lock."""
    snapshot_id, created = snapshot_id_of_run(context)
    stale = feeds.filter(pl.col("snapshot_id") != snapshot_id)
    if stale.height or gate["snapshot_id"][0] != snapshot_id:
        msg = (
            f"feeds or gate of snapshot {stale['snapshot_id'][0] if stale.height else '?'} "
            "were staged by another run; publish together with the feeds (materialize the "
            "whole job)"
        )
        raise dg.Failure(msg)
    channels = dict(feeds.group_by("channel").agg(pl.col("products").first()).iter_rows())
    baseline = FeedFile("*", BASELINE, _rows(feed_store, snapshot_id), kind="baseline")
    manifest = Manifest(
        snapshot_id=snapshot_id,
        as_of=run_as_of(sources).isoformat(),
        created_at=created.isoformat(),
        sources={s: snapshot_field(sources, s, "snapshot_id") for s in sources["source"].to_list()},
        files=[
            *(FeedFile(**r) for r in feeds.drop("snapshot_id", "products").iter_rows(named=True)),
            baseline,
        ],
        channels=channels,
    )
    store = feed_store.store()
    formats = {name: channel.format for name, channel in config.channels.items()}
    live = gate["compared_with"][0]
    index = cache_folder(config.publish.work_directory, DELTA_INDEX)
    manifest, deltas = _with_deltas(
        context, store, manifest, live, DeltaSettings(formats, portals_of(config), index)
    )
    sealed, outcome = publish_snapshot(
        store,
        manifest,
        portals_of(config),
        feed_store.keep,
        expected_live=live,  # what the deltas were computed against
        run_id=context.run.run_id,
        digests=deltas.digests,
    )
    context.log.info("snapshot %s is live at %s", snapshot_id, store.current_link)
    errors = outcome.cleanup_errors
    errors += _prune_work(context, config.publish.work_directory)
    for error in errors:
        context.log.warning("published %s; cleanup failed: %s", snapshot_id, error)
    files = pl.DataFrame([vars(f) for f in sealed.files])
    manifest_path = store.snapshot_dir(snapshot_id) / "manifest.json"
    report_path = feed_store.reports().folder(snapshot_id) / "index.html"
    return files, {
        **frame_metadata(files),
        "snapshot_id": snapshot_id,
        "previous_snapshot": outcome.previous or "nothing live",
        "delta_of": sealed.delta_of or "none (no deltas)",
        "delta_index_reused": deltas.reused,
        "cleanup_errors": errors,
        "manifest": dg.MetadataValue.path(str(manifest_path)),
        "report": dg.MetadataValue.path(str(report_path)),
        "manifest_link": link(config, manifest_path),
        "report_link": link(config, report_path),
    }


@dataclass(frozen=True)
class DeltaSettings:
    """What the deltas need of the configuration: channel -> format, SQL channel -> database
    URL, and the record index folder."""

    formats: dict[str, str]
    portals: dict[str, str]
    index: Path


def _with_deltas(
    context: Context,
    store: SnapshotStore,
    manifest: Manifest,
    live: str | None,
    settings: DeltaSettings,
) -> tuple[Manifest, Deltas]:
    """The manifest with each channel's delta from ``live`` (the snapshot the breakers compared
    with, which the switch replaces or refuses to: ``delta_of`` is always what it replaces),
    and the files of ``live`` read from their record index.

    Without deltas (nothing live, or unreadable) no file is indexed and the kept indexes are
    dropped: an index costs a split of its file, which the next publish's delta makes anyway
    when it finds none (at 1M products indexing a first publish took ~20 s, and would have
    saved the next publish ~12 s); from the first delta on, the delta's own split of the new
    side is kept for the next publish."""
    staging = store.staging_dir(manifest.snapshot_id)
    try:
        previous = None if live is None else store.manifest(live)
    except (OSError, SnapshotError) as error:
        context.log.warning("no deltas: the live snapshot %s is unreadable (%s)", live, error)
        previous = None
    if live is None or previous is None:
        IndexFolder(settings.index).prune(())
        return manifest, Deltas([], {})
    deltas = write_deltas(
        previous,
        store.snapshot_dir(live),
        manifest,
        staging,
        settings.formats,
        settings.portals,
        settings.index,
    )
    context.log.info(
        "deltas against %s: %d files; the previous side of %d read from its record index",
        live,
        len(deltas.files),
        len(deltas.reused),
    )
    manifest = replace(
        manifest, files=[*manifest.files, *deltas.files], delta_of=live, delta_notes=deltas.notes
    )
    return manifest, deltas


def _file_rows(feeds: pl.DataFrame) -> list[dict[str, object]]:
    return feeds.drop("snapshot_id", "products").to_dicts()


def _rows(feed_store: FeedStoreResource, snapshot_id: str) -> int:
    path = feed_store.store().staging_dir(snapshot_id) / BASELINE
    return pl.scan_parquet(path).select(pl.len()).collect().item()


def _prune_work(context: Context, work: Path) -> list[str]:
    """Drop the work folders of finished runs other than this one (a later partial run reads
    this run's intermediates); a running run's folder is never touched."""

    def keep(run_id: str) -> bool:
        if run_id == context.run.run_id:
            return True
        run = context.instance.get_run_by_id(run_id)
        return run is not None and not run.is_finished

    try:
        prune_run_folders(work, keep)
    except OSError as error:
        return [f"pruning work folders: {error}"]
    return []
