"""The publish asset: the one step that changes what channels see."""

import dagster as dg
import polars as pl

from assets.feeds import feed_key, snapshot_id_of_run
from assets.metadata import frame_metadata
from assets.resources import FeedStoreResource
from assets.sources import run_as_of, snapshot_field
from contracts.config import PortalChannel, PrismConfig
from contracts.snapshots import FeedFile, Manifest
from sinks.publish import publish_snapshot

PUBLISH_GROUP = "publish"


def build_publish_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    ins = {f"feed_{n}": dg.AssetIn(key=feed_key(n)) for n in config.channels}
    ins["source_snapshots"] = dg.AssetIn()
    ins["quality_report"] = dg.AssetIn()

    @dg.asset(group_name=PUBLISH_GROUP, ins=ins)
    def published_snapshot(
        context: dg.AssetExecutionContext, feed_store: FeedStoreResource, **inputs: pl.DataFrame
    ) -> dg.MaterializeResult:
        """Seals this run's staged feeds into a snapshot with a manifest and makes it live."""
        sources = inputs.pop("source_snapshots")
        inputs.pop("quality_report")  # the gate: this asset runs only when it let the run pass
        snapshot_id, created = snapshot_id_of_run(context)
        feeds = pl.concat(inputs.values())
        stale = feeds.filter(pl.col("snapshot_id") != snapshot_id)
        if stale.height:
            msg = (
                f"feeds of snapshot {stale['snapshot_id'][0]} were staged by another run; "
                "publish together with the feeds (materialize the whole job)"
            )
            raise dg.Failure(msg)
        manifest = Manifest(
            snapshot_id=snapshot_id,
            as_of=run_as_of(sources).isoformat(),
            created_at=created.isoformat(),
            sources={
                s: snapshot_field(sources, s, "snapshot_id") for s in sources["source"].to_list()
            },
            files=[FeedFile(**r) for r in feeds.drop("snapshot_id").iter_rows(named=True)],
        )
        portals = [c for c in config.channels.values() if isinstance(c, PortalChannel)]
        store = feed_store.store()
        sealed = publish_snapshot(store, manifest, portals, feed_store.keep)
        context.log.info("snapshot %s is live at %s", snapshot_id, store.current_link)
        files = pl.DataFrame([vars(f) for f in sealed.files])
        return dg.MaterializeResult(
            value=files,
            metadata={
                **frame_metadata(files),
                "snapshot_id": snapshot_id,
                "manifest": dg.MetadataValue.path(
                    str(store.snapshot_dir(snapshot_id) / "manifest.json")
                ),
                "report": dg.MetadataValue.path(
                    str(feed_store.reports().folder(snapshot_id) / "index.html")
                ),
            },
        )

    return [published_snapshot]
