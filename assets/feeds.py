"""Channel feed assets: every channel written from the same golden records into one staged
snapshot; checks on each block the publish when a channel would be harmed."""

import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import dagster as dg
import polars as pl

from assets.channel_feeds import write_channel_feed, write_rows
from assets.channels import PimStructureFrames, compiled, erp_source_of, views
from assets.metadata import frame_metadata
from assets.quarantine import QUALITY_GROUP
from assets.resources import FeedStoreResource
from assets.sources import snapshot_field
from contracts.config import PrismConfig
from contracts.snapshots import FeedFile, new_snapshot_id
from quality.expectations import (
    FeedSuite,
    results_frame,
    save_results,
    validate_feeds,
    validation_frame,
)
from quality.quarantine import accounting, publishable
from quality.rules import references
from sinks.publish import recover

FEEDS_GROUP = "feeds"
ACCOUNTED = "accounted"
NOT_EMPTY = "not_empty"
EXPECTATIONS = "expectations"
WARNINGS = "warnings"
WRITERS = 2


GATE_KEY = dg.AssetKey("quality_report")
PUBLISH_KEY = dg.AssetKey("published_snapshot")


def feed_key(channel: str) -> dg.AssetKey:
    return dg.AssetKey(["feeds", channel])


def later_in_run(context: dg.AssetExecutionContext, *keys: dg.AssetKey) -> bool:
    """Whether this run also materializes any of ``keys`` (the whole job does), i.e. whether a
    later step of the run still needs the publish lock."""
    selection = context.run.asset_selection
    return selection is None or any(key in selection for key in keys)


def portals_of(config: PrismConfig) -> dict[str, str]:
    return config.portals()


def snapshot_id_of_run(context: dg.AssetExecutionContext) -> tuple[str, dt.datetime]:
    """One snapshot id per run, derived from the run's id and creation time."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    created = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return new_snapshot_id(created, context.run.run_id), created


FEED_CHECKS = (
    (ACCOUNTED, True, "products = published + quarantined + filtered + disabled"),
    (NOT_EMPTY, True, "an empty feed would wipe the channel"),
    (EXPECTATIONS, True, "the great-expectations suite's error rules pass on the feed (ERROR)"),
    (WARNINGS, False, "the suite's warn rules: products published but reported (WARN)"),
)
"""(check name, blocking, description) of every channel's feed."""


def _check_specs(channels: list[str]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(check, asset=feed_key(name), blocking=blocking, description=text)
        for name in channels
        for check, blocking, text in FEED_CHECKS
    ]


def expectation_checks(results: pl.DataFrame, name: str) -> Iterator[dg.AssetCheckResult]:
    """The suite's outcome on one feed as an ERROR check (blocks) and a WARN check (reports)."""
    own = results.filter(pl.col("channel") == name)
    for check, severity, level in (
        (EXPECTATIONS, "error", dg.AssetCheckSeverity.ERROR),
        (WARNINGS, "warn", dg.AssetCheckSeverity.WARN),
    ):
        failed = own.filter(pl.col("severity") == severity, ~pl.col("success"))
        yield dg.AssetCheckResult(
            asset_key=feed_key(name),
            check_name=check,
            passed=failed.height == 0,
            severity=level,
            metadata={
                "expectations": own.filter(pl.col("severity") == severity).height,
                "failed": failed.height,
                "unexpected_rows": int(failed["unexpected_count"].sum()),
                "failed_rules": sorted(set(failed["rule"])),
            },
        )


def build_feed_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    names = list(config.channels)

    @dg.multi_asset(
        outs={
            **{f"feed_{n}": dg.AssetOut(key=feed_key(n), group_name=FEEDS_GROUP) for n in names},
            "expectation_results": dg.AssetOut(
                group_name=QUALITY_GROUP,
                description="great-expectations results of each channel's feed",
            ),
        },
        check_specs=_check_specs(names),
        can_subset=False,
    )
    def channel_feeds(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        golden_products: pl.DataFrame,
        price_tiers: pl.DataFrame,
        quarantine: pl.DataFrame,
        source_snapshots: pl.DataFrame,
        pim_families: pl.DataFrame,
        pim_attributes: pl.DataFrame,
        pim_attribute_options: pl.DataFrame,
        pim_channels: pl.DataFrame,
        pim_family_variants: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Stages each channel's feed under staging/<snapshot_id>/<channel>/ (not yet live)
        and validates it with the channel's great-expectations suite.

        Takes the publish lock for the run (kept until it published): staging, the gate and the
        switch of one run never interleave with another's. A switch a crash left pending is
        rolled back first."""
        lock = feed_store.lock(context.run.run_id)
        with lock.held(release=not later_in_run(context, GATE_KEY, PUBLISH_KEY)):
            structure = PimStructureFrames(
                pim_attributes,
                pim_attribute_options,
                pim_channels,
                pim_families,
                pim_family_variants,
            )
            erp_id = snapshot_field(source_snapshots, "erp", "snapshot_id")
            yield from _stage_and_check(
                context,
                feed_store,
                golden_products,
                price_tiers,
                quarantine,
                structure,
                erp_source_of(erp_id),
            )

    def _stage_and_check(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        golden_products: pl.DataFrame,
        price_tiers: pl.DataFrame,
        quarantine: pl.DataFrame,
        structure: PimStructureFrames,
        erp_source: str,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        store = feed_store.store()
        if done := recover(store, portals_of(config)):
            context.log.warning("%s", done)
        snapshot_id, created = snapshot_id_of_run(context)
        store.discard_staging()  # leftovers of runs that died: only the lock holder stages
        refs = references(structure.families)
        channels = compiled(config, structure, golden_products)
        mapped = views(golden_products, channels, erp_source)
        kept_off = quarantine.lazy()

        def stage(name: str) -> tuple[int, list[FeedFile], FeedSuite]:
            view = publishable(mapped[name], kept_off)
            folder = store.channel_dir(snapshot_id, name)
            files = write_channel_feed(
                view, channels[name], price_tiers, folder, snapshot_id, created
            )
            if not any(folder.iterdir()):
                folder.rmdir()  # a SQL channel writes tables, no files
            files.append(write_rows(view, store.staging_dir(snapshot_id)))
            fields = [f.spec for f in channels[name].fields.values()]
            frame = validation_frame(
                view.frame,
                view.golden,
                config.channels[name],
                fields,
                config.quality.expectations_sample_rows,
            )
            return view.frame.height, files, FeedSuite(config.channels[name], fields, frame)

        # Writers spend their time in polars / the database driver, which release the GIL.
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            staged = dict(zip(names, pool.map(stage, names), strict=True))
        started = time.perf_counter()
        validated = validate_feeds({name: suite for name, (_, _, suite) in staged.items()}, refs)
        seconds = round(time.perf_counter() - started, 2)
        context.log.info("great-expectations validated %d feeds in %.2f s", len(names), seconds)
        results = results_frame(validated)
        save_results(feed_store.reports().fresh_folder(snapshot_id), validated)
        yield dg.Output(
            results,
            "expectation_results",
            metadata=frame_metadata(results, validation_seconds=seconds, **mapped.metadata()),
        )
        published = {name: rows for name, (rows, _, _) in staged.items()}
        for name, (rows, files, _) in staged.items():
            frame = pl.DataFrame([asdict(f) for f in files]).with_columns(
                snapshot_id=pl.lit(snapshot_id), products=pl.lit(rows, pl.Int64)
            )
            context.log.info("%s: %d products, %d files/tables", name, rows, len(files))
            yield dg.Output(frame, f"feed_{name}", metadata=frame_metadata(frame, products=rows))
        balance = accounting(golden_products, quarantine, published)
        for row in balance.iter_rows(named=True):
            key = feed_key(row["channel"])
            counts = {k: v for k, v in row.items() if k not in ("channel", "balanced")}
            yield dg.AssetCheckResult(
                asset_key=key, check_name=ACCOUNTED, passed=row["balanced"], metadata=counts
            )
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=NOT_EMPTY,
                passed=row["published"] > 0,
                metadata={"published": row["published"]},
            )
            yield from expectation_checks(results, row["channel"])

    return [channel_feeds]
