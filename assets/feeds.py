"""Channel feed assets: every channel written from the same golden records into one staged
snapshot; checks on each block the publish when a channel would be harmed."""

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict
from typing import Any, NamedTuple

import dagster as dg
import polars as pl

from assets.catalog import (
    COLUMN_SCHEMA,
    ROW_COUNT,
    channel_schema,
    feed_description,
    feed_kinds,
    field_notes,
    link,
    spec_args,
    table_schema,
)
from assets.channel_feeds import price_channel, write_channel_feed, write_rows
from assets.channels import (
    PimStructureFrames,
    ViewStore,
    compiled,
    erp_source_of,
    view_cache,
    views,
)
from assets.metadata import frame_metadata, preview
from assets.quarantine import QUALITY_GROUP
from assets.resources import FeedStoreResource
from assets.sources import snapshot_field
from contracts.config import PrismConfig
from contracts.memory import release_free_memory
from contracts.snapshots import FeedFile, new_snapshot_id
from quality.expectations import (
    FeedSuite,
    results_frame,
    save_results,
    validate_feeds,
    validation_frame,
)
from quality.quarantine import accounting, publishable
from quality.rules import References, references
from sinks.publish import recover

FEEDS_GROUP = "feeds"
ACCOUNTED = "accounted"
NOT_EMPTY = "not_empty"
EXPECTATIONS = "expectations"
WARNINGS = "warnings"
WRITERS = 2
PROGRESS = "prism_progress"
"""Key of the ``extra`` a progress log record carries (``channel``, ``rows``, ``seconds``): what
`prism run` shows per channel writer while the step runs."""


GATE_KEY = dg.AssetKey("quality_report")
PUBLISH_KEY = dg.AssetKey("published_snapshot")
RESULTS_KEY = dg.AssetKey("expectation_results")


def feed_key(channel: str) -> dg.AssetKey:
    return dg.AssetKey(["feeds", channel])


def later_in_run(context: dg.AssetExecutionContext, *keys: dg.AssetKey) -> bool:
    """Whether this run also materializes any of ``keys`` (the whole job does), i.e. whether a
    later step of the run still needs the publish lock. A run of the whole job has no asset
    selection: None, or an empty set when executed in process."""
    selection = context.run.asset_selection
    return not selection or any(key in selection for key in keys)


def portals_of(config: PrismConfig) -> dict[str, str]:
    return config.portals()


def snapshot_id_of_run(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
) -> tuple[str, dt.datetime]:
    """One snapshot id per run, derived from the run's id and creation time."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    created = record.create_timestamp if record else dt.datetime.now(dt.UTC)
    return new_snapshot_id(created, context.run.run_id), created


FEED_CHECKS = (
    (ACCOUNTED, True, "products = published + quarantined + filtered + disabled"),
    (NOT_EMPTY, True, "an empty feed would wipe the channel"),
    (EXPECTATIONS, True, "the great-expectations suite's error rules pass on the feed (ERROR)"),
    (
        WARNINGS,
        False,
        "the suite's warn rules (products published but reported): WARN once a rule hits more "
        "than `quality.max_warning_share` of the feed's rows; fewer findings pass, listed in "
        "the metadata and the quality report",
    ),
)
"""(check name, blocking, description) of every channel's feed."""


def _check_specs(channels: list[str]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(check, asset=feed_key(name), blocking=blocking, description=text)
        for name in channels
        for check, blocking, text in FEED_CHECKS
    ]


def expectation_checks(
    results: pl.DataFrame, name: str, max_warning_share: float
) -> Iterator[dg.AssetCheckResult]:
    """The suite's outcome on one feed as an ERROR check (any failed error rule blocks) and a
    WARN check. Warn rules report products that are published anyway (a missing recommended
    value): a few are normal in a real catalog (the demo seeds some), so the check fails only
    when a rule hits more than ``max_warning_share`` of the rows it evaluated; a systematic
    problem, such as a mapping that loses a field, stands out instead of a check that is
    yellow on every run."""
    own = results.filter(pl.col("channel") == name)
    for check, severity, level, tolerated in (
        (EXPECTATIONS, "error", dg.AssetCheckSeverity.ERROR, 0.0),
        (WARNINGS, "warn", dg.AssetCheckSeverity.WARN, max_warning_share),
    ):
        failed = own.filter(pl.col("severity") == severity, ~pl.col("success"))
        shares = failed["unexpected_count"] / failed["evaluated"].clip(lower_bound=1)
        worst = max(shares.to_list(), default=0.0)
        yield dg.AssetCheckResult(
            asset_key=feed_key(name),
            check_name=check,
            passed=failed.height == 0 if severity == "error" else worst <= tolerated,
            severity=level,
            metadata={
                "expectations": own.filter(pl.col("severity") == severity).height,
                "failed": failed.height,
                "unexpected_rows": int(failed["unexpected_count"].sum()),
                "failed_rules": sorted(set(failed["rule"])),
                "worst_share": round(worst, 6),
                "tolerated_share": tolerated,
            },
        )


class Staged(NamedTuple):
    """One channel's staged feed: products published, files written, the suite to run, the
    mapped rows' schema and, for a channel with customer catalogs, each catalog's accounting
    (``quality.quarantine.catalog_accounting``)."""

    products: int
    files: list[FeedFile]
    suite: FeedSuite
    schema: pl.Schema
    catalogs: pl.DataFrame


def feed_metadata(
    config: PrismConfig,
    name: str,
    staged: Staged,
    frame: pl.DataFrame,
) -> dict[str, Any]:
    """Row count = products on the channel (not files); the files (or tables) as their own
    metadata, the mapped fields as the column schema."""
    metadata = {
        ROW_COUNT: staged.products,
        "files": len(staged.files),
        "file_list": preview(frame.select("path", "kind", "rows", "bytes"), rows=20),
        COLUMN_SCHEMA: table_schema(staged.schema, field_notes(config, name)),
    }
    if staged.catalogs.height:
        metadata["catalogs"] = preview(staged.catalogs.drop("balanced"), rows=20)
    return metadata


def build_feed_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    names = list(config.channels)

    @dg.multi_asset(
        outs={
            **{
                f"feed_{n}": dg.AssetOut(
                    key=feed_key(n),
                    is_required=False,  # one channel can be staged alone
                    group_name=FEEDS_GROUP,
                    description=feed_description(config, n),
                    metadata=_schema_metadata(config, n),
                    **spec_args(config, "feeds", feed_kinds(config, n), channel=n),
                )
                for n in names
            },
            "expectation_results": dg.AssetOut(
                is_required=False,
                group_name=QUALITY_GROUP,
                description="great-expectations results of each channel's feed: one row per "
                "expectation with its rule, severity, unexpected and evaluated rows",
                **spec_args(config, "quality", {"greatexpectations", "polars"}),
            ),
        },
        check_specs=_check_specs(names),
        can_subset=True,
    )
    def channel_feeds(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        golden_products: pl.LazyFrame,
        price_tiers: pl.DataFrame,
        quarantine: pl.DataFrame,
        source_snapshots: pl.DataFrame,
        erp_customers: pl.DataFrame,
        pim_families: pl.DataFrame,
        pim_attributes: pl.DataFrame,
        pim_attribute_options: pl.DataFrame,
        pim_channels: pl.DataFrame,
        pim_family_variants: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Stages each selected channel's feed under `staging/<snapshot_id>/<channel>/` (not
        yet live) and validates it with the channel's great-expectations suite.

        Takes the publish lock for the run (kept until it published): staging, the gate and the
        switch of one run never interleave with another's. A switch a crash left pending is
        rolled back first. One channel can be materialized alone: it is staged and checked,
        never published (see the feed assets' descriptions)."""
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
                erp_customers,
            )

    def _stage_and_check(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        golden_products: pl.LazyFrame,
        price_tiers: pl.DataFrame,
        quarantine: pl.DataFrame,
        structure: PimStructureFrames,
        erp_source: str,
        erp_customers: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        store = feed_store.store()
        if done := recover(store, portals_of(config)):
            context.log.warning("%s", done)
        snapshot_id, created = snapshot_id_of_run(context)
        store.discard_staging()  # leftovers of runs that died: only the lock holder stages
        refs = references(structure.families)
        channels = compiled(config, structure, golden_products)
        mapped = views(
            golden_products,
            channels,
            erp_source,
            ViewStore.of_run(config.publish.work_directory, context.run.run_id),
            view_cache(config, structure, golden_products),
        )
        kept_off = quarantine.lazy()
        selected = [n for n in names if feed_key(n) in context.selected_asset_keys]
        prices_of = price_channel(config)

        def stage(name: str) -> Staged:
            view = publishable(mapped[name], kept_off)
            folder = store.channel_dir(snapshot_id, name)
            price_data = store.staging_dir(snapshot_id) if name == prices_of else None
            written = write_channel_feed(
                view,
                channels[name],
                price_tiers,
                folder,
                snapshot_id,
                created,
                erp_customers,
                price_data,
            )
            files = written.files
            if not any(folder.iterdir()):
                folder.rmdir()  # a SQL channel writes tables, no files
            files.append(write_rows(view, store.staging_dir(snapshot_id)))
            fields = [f.spec for f in channels[name].fields.values()]
            frame = validation_frame(
                view.frame,
                view.golden_lazy(),
                config.channels[name],
                fields,
                config.quality.expectations_sample_rows,
            )
            suite = FeedSuite(config.channels[name], fields, frame)
            return Staged(view.frame.height, files, suite, view.frame.schema, written.catalogs)

        def timed(name: str) -> tuple[Staged, float]:
            started = time.perf_counter()
            staged = stage(name)
            release_free_memory()  # the writer's frames are gone: the next one starts lean
            return staged, time.perf_counter() - started

        written: dict[str, Staged] = {}
        # Writers spend their time in polars / the database driver, which release the GIL.
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            futures = {pool.submit(timed, name): name for name in selected}
            # queued behind the writers: it starts once the last writer has a lane, and
            # validates the feeds written by then beside it, then the rest as they come
            validation = pool.submit(validated_as_written, futures, refs)
            for future in as_completed(futures):  # each channel told as soon as it is written
                name = futures[future]
                written[name], seconds = future.result()
                rows = written[name].products
                progress = {"channel": name, "rows": rows, "seconds": round(seconds, 2)}
                message = "%s: %d products written in %.1f s"
                context.log.info(message, name, rows, seconds, extra={PROGRESS: progress})
            by_channel, seconds = validation.result()
        staged = {name: written[name] for name in selected}
        validated = {name: by_channel[name] for name in selected}
        seconds = round(seconds, 2)
        context.log.info("great-expectations validated %d feeds in %.2f s", len(staged), seconds)
        results = results_frame(validated)
        if RESULTS_KEY in context.selected_asset_keys:
            save_results(feed_store.reports().fresh_folder(snapshot_id), validated)
            yield dg.Output(
                results,
                "expectation_results",
                metadata=frame_metadata(results, validation_seconds=seconds, **mapped.metadata()),
            )
        publishing = later_in_run(context, PUBLISH_KEY)
        for name, feed in staged.items():
            frame = pl.DataFrame([asdict(f) for f in feed.files]).with_columns(
                snapshot_id=pl.lit(snapshot_id), products=pl.lit(feed.products, pl.Int64)
            )
            context.log.info(
                "%s: %d products, %d files/tables", name, feed.products, len(feed.files)
            )
            metadata = feed_metadata(config, name, feed, frame)
            if (store.staging_dir(snapshot_id) / name).is_dir():  # SQL channels write tables
                # where the files are once published; a run that does not publish keeps them
                # staged (until the next run stages)
                folder = (store.snapshot_dir if publishing else store.staging_dir)(snapshot_id)
                metadata["folder"] = link(config, folder / name)
            yield dg.Output(frame, f"feed_{name}", metadata={**metadata, "published": publishing})
        published = {name: feed.products for name, feed in staged.items()}
        catalogs = {name: feed.catalogs for name, feed in staged.items()}
        yield from feed_checks(
            context.selected_asset_check_keys,
            accounting(golden_products.select("enabled").collect(), quarantine, published),
            results,
            config.quality.max_warning_share,
            catalogs,
        )

    return [channel_feeds]


def validated_as_written(
    writers: Mapping[Future[tuple[Staged, float]], str], references: References
) -> tuple[dict[str, dict[str, Any]], float]:
    """Each channel's great-expectations result (``validate_feeds``), validated as soon as its
    writer (``writers``: future -> channel) is done, and the seconds spent validating (not
    waiting for writers). A failed writer fails the validation too.

    In the step's lane behind the writers, the suites (mostly Python, one core) run while
    the last writer does, instead of after it; a third thread beside two writers gained
    nothing (README, "Performance")."""
    waited = 0.0

    def suites() -> Iterator[tuple[str, FeedSuite]]:
        nonlocal waited
        done = as_completed(writers)
        while True:
            started = time.perf_counter()
            future = next(done, None)
            waited += time.perf_counter() - started
            if future is None:
                return
            yield writers[future], future.result()[0].suite

    started = time.perf_counter()
    results = validate_feeds(suites(), references)
    return results, time.perf_counter() - started - waited


def _schema_metadata(config: PrismConfig, channel: str) -> dict[str, Any]:
    schema = channel_schema(config, channel)
    return {COLUMN_SCHEMA: schema} if schema is not None else {}


def feed_checks(
    selected: AbstractSet[dg.AssetCheckKey],
    balance: pl.DataFrame,
    results: pl.DataFrame,
    max_warning_share: float,
    catalogs: Mapping[str, pl.DataFrame],
) -> Iterator[dg.AssetCheckResult]:
    """Every selected check of the staged channels (all four of each, unless a run selected
    fewer). ``accounted`` also holds per customer catalog (``catalogs``: channel -> its
    catalogs' accounting): its products plus those left out, per reason, are the channel's."""
    for row in balance.iter_rows(named=True):
        key = feed_key(row["channel"])
        counts: dict[str, Any] = {k: v for k, v in row.items() if k not in ("channel", "balanced")}
        own = catalogs.get(row["channel"], pl.DataFrame())
        balanced = row["balanced"] and (own.is_empty() or bool(own["balanced"].all()))
        if own.height:
            counts["catalogs"] = dg.MetadataValue.json(own.to_dicts())
        found = [
            dg.AssetCheckResult(
                asset_key=key, check_name=ACCOUNTED, passed=balanced, metadata=counts
            ),
            dg.AssetCheckResult(
                asset_key=key,
                check_name=NOT_EMPTY,
                passed=row["published"] > 0,
                metadata={"published": row["published"]},
            ),
            *expectation_checks(results, row["channel"], max_warning_share),
        ]
        yield from (c for c in found if dg.AssetCheckKey(key, c.check_name or "") in selected)
