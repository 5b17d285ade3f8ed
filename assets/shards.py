"""The sharded job: the catalog split into N shards by family root, each shard's products read,
merged and mapped in steps of their own, one snapshot published from all of them.

``execution.shards`` > 1 makes this the code location's job (``syndicate``). Its steps:

* ``sharded_sources`` pins the PIM and ERP folders and the as-of date, as ``source_snapshots``;
* ``sharded_erp`` types the ERP snapshot once (prices, stock, supply, customers) into Parquet
  the shard steps scan for their own skus;
* ``shard_plan`` splits the PIM export into one folder per shard by a stable hash of each
  product's family root (``sources.akeneo_files.shards``), so a model and all its variants are
  read by one step, and fans out one ``shard_master`` per shard (Dagster dynamic outputs: each
  is a step of its own on whichever worker the executor picks);
* ``shard_master``: the shard's master data (the PIM read, variant inheritance, categories)
  and its part of the families' lead-time sums;
* ``shard_reduce``: the figures that span shards: the families' average lead times and the
  union of the PIM's value columns (a shard whose products lack an attribute still has its
  column), then fans out again;
* ``shard_catalog``: the shard's golden records and price tiers, every channel's view
  (mapping, filters, rules), the shard's quarantine, completeness scores and report names, and
  each channel's files (or a database's rows) for the shard's products;
* ``sharded_publish`` takes the publish lock, merges the parts (quarantine in its total order,
  published rows in sku order), splices each channel's files from the shards' parts and loads
  the portal from them (``assets.shard_staging``), validates, evaluates the asset job's checks
  and gate and publishes one snapshot behind one switch, as the asset job's last steps do.

The parts live under ``execution.shard_directory`` (default ``publish.work_directory``), by
run: storage every worker reaches. A failed shard step is re-executed alone: Dagster's
re-execution from failure (and the daemon's run retries) redo that shard, the others' parts
are read from the run that wrote them.
"""

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.catalog import ROW_COUNT
from assets.channel_feeds import (
    channel_context,
    price_channel,
    write_channel_feed,
    write_channel_prices,
    write_rows,
)
from assets.channels import (
    ChannelViews,
    PimStructureFrames,
    ViewStore,
    compiled,
    erp_source_of,
    views,
)
from assets.feeds import FEED_CHECKS, feed_checks, feed_key, portals_of, snapshot_id_of_run
from assets.golden import SKU_UNIQUE
from assets.publish import publish_staged
from assets.quality_report import (
    CIRCUIT_BREAKERS,
    GateParameters,
    breaker_check,
    overridden,
    run_gate,
)
from assets.quarantine import ERP_ROWS_ACCOUNTED
from assets.resources import FeedStoreResource, SnapshotSource, cache_folder
from assets.shard_staging import (
    FILE_SCHEMA,
    LEFT_OUT,
    NO_TIERS,
    Target,
    assembly_of,
    is_whole,
    merged_view,
    stage_parts,
    stage_whole,
)
from assets.sources import (
    ERP_OUTPUTS,
    RunParameters,
    check_announced_rows,
    pin_sources,
    run_as_of,
    snapshot_field,
)
from contracts import clock
from contracts.config import PrismConfig
from contracts.faults import checkpoint
from contracts.golden import list_price_columns
from contracts.snapshots import FeedFile
from golden.availability import reduce_family_lead_times, shard_family_lead_sums
from golden.lineage import split_broken_lineage
from golden.master_data import catalog_columns, golden_master_data, with_catalog_columns
from golden.pricing import price_row_counts
from golden.record import golden_price_tiers, golden_products, sku_ordered
from mapping.compile import CompiledChannel
from mapping.plan import compiled_per_locale, erp_customer_channels, master_needs, product_names
from quality.completeness import cached_completeness_scores
from quality.expectations import (
    FeedSuite,
    results_frame,
    save_results,
    validate_feeds,
)
from quality.gate import GateInputs
from quality.quarantine import (
    QUARANTINE_ORDER,
    accounting,
    build_quarantine,
    publishable,
    unknown_sku_rows,
)
from quality.rules import references
from sinks.formats import FORMATS
from sinks.price_data import PRODUCT_COLUMNS as PRICE_PRODUCT_COLUMNS
from sinks.publish import recover
from sources.akeneo_files import read_pim_export, read_pim_structure
from sources.akeneo_files.entities import identifier_attribute
from sources.akeneo_files.files import PimFileError
from sources.akeneo_files.selection import DEFAULT_IDENTIFIER
from sources.akeneo_files.shards import split_export
from sources.erp_files import read_erp_snapshot

SHARD_RETRIES = 1
"""A shard step that raises is tried once more (a worker lost, a full disk freed); a crashed
one is redone by re-executing the run from failure."""


class ShardFailure(dg.Failure):
    """A sharded run cannot publish: a blocking check failed; the description names it."""


def _folder(config: PrismConfig, run_id: str) -> Path:
    base = config.execution.shard_directory or config.publish.work_directory
    return Path(base, run_id, "shards")


def _write(frame: pl.DataFrame, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp, compression="lz4", statistics=False)
    tmp.replace(path)
    return str(path)


def _structure(export: Any) -> PimStructureFrames:
    return PimStructureFrames(
        export.attributes,
        export.attribute_options,
        export.channels,
        export.families,
        export.family_variants,
    )


def build_sharded_job(config: PrismConfig, name: str, tags: dict[str, str]) -> dg.JobDefinition:
    prism, shards = config, config.execution.shards

    @dg.op(out=dg.Out(pl.DataFrame))
    def sharded_sources(
        context: dg.OpExecutionContext,
        config: RunParameters,
        pim: SnapshotSource,
        erp: SnapshotSource,
    ) -> dg.Output[pl.DataFrame]:
        """The PIM export and ERP snapshot folders and the as-of date, for the whole run."""
        frame, metadata = pin_sources(prism, config, pim, erp)
        context.log.info(
            "reading PIM export %s and ERP snapshot %s as of %s in %d shards",
            *frame["snapshot_id"],
            run_as_of(frame),
            shards,
        )
        return dg.Output(frame, metadata=metadata)

    @dg.op
    def sharded_erp(context: dg.OpExecutionContext, sources: pl.DataFrame) -> pl.DataFrame:
        """The ERP snapshot typed once, each frame as Parquet the shard steps scan for their
        own skus (``name, path, rows``)."""
        folder = Path(snapshot_field(sources, "erp"))
        snapshot = read_erp_snapshot(folder, erp_customer_channels(prism, FORMATS))
        check_announced_rows(prism.erp, folder, snapshot.rows_read)
        target = _folder(prism, context.run.run_id) / "erp"
        rows = []
        for output in ERP_OUTPUTS:
            frame = getattr(snapshot, output.removeprefix("erp_"))
            rows.append(
                {
                    "name": output,
                    "path": _write(frame, target / f"{output}.parquet"),
                    "rows": frame.height,
                }
            )
            context.log.info("ERP %s: %d rows", output, frame.height)
        return pl.DataFrame(rows)

    @dg.op(out=dg.DynamicOut(pl.DataFrame))
    def shard_plan(
        context: dg.OpExecutionContext, sources: pl.DataFrame
    ) -> Iterator[dg.DynamicOutput[pl.DataFrame]]:
        """The PIM export split into one folder per shard (each product's line kept at its
        line number, so a reject still names the export's file and line)."""
        folder = Path(snapshot_field(sources, "pim"))
        structure = read_pim_structure(folder, prism.locales)
        split = split_export(
            folder,
            shards,
            _folder(prism, context.run.run_id) / "pim",
            identifier_attribute(structure.attributes, DEFAULT_IDENTIFIER),
        )
        check_announced_rows(prism.pim, folder, {**structure.rows_read, **split.rows_read})
        if not sum(split.products):
            msg = f"{folder / 'products.jsonl'}: no products in the file (an empty export would "
            msg += "unpublish all)"
            raise PimFileError(msg)
        context.log.info("shards of %s: %s products", folder.name, list(split.products))
        for index, (path, products) in enumerate(zip(split.folders, split.products, strict=True)):
            part = pl.DataFrame({"shard": [index], "folder": [str(path)], "products": [products]})
            yield dg.DynamicOutput(part, mapping_key=f"shard_{index}")

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=SHARD_RETRIES))
    def shard_master(
        context: dg.OpExecutionContext, sources: pl.DataFrame, erp: pl.DataFrame, part: pl.DataFrame
    ) -> pl.DataFrame:
        """One shard's master data, its rejects and its families' lead-time sums."""
        index, folder = part.item(0, "shard"), Path(part.item(0, "folder"))
        checkpoint(f"shard.master.{index}")
        target = _folder(prism, context.run.run_id) / f"shard-{index}"
        row: dict[str, Any] = {"shard": index, "master": None, "rejects": None, "leads": None}
        if part.item(0, "products"):
            structure = read_pim_structure(folder, prism.locales)
            model = _structure(structure).model(prism)
            needs = master_needs(prism, FORMATS, model)
            export = read_pim_export(
                folder, prism.locales, prism.scopes, needs.attributes, structure=structure
            )
            export, lineage = split_broken_lineage(export)
            master = golden_master_data(export, needs).collect()
            supply = _scan(erp, "erp_supply").join(
                master.lazy().select("sku"), on="sku", how="semi"
            )
            leads = shard_family_lead_sums(master.lazy(), supply, run_as_of(sources)).collect()
            row |= {
                "master": _write(master, target / "master.parquet"),
                "rejects": _write(pl.concat([export.rejects, lineage]), target / "rejects.parquet"),
                "leads": _write(leads, target / "leads.parquet"),
            }
            context.log.info("shard %d: %d products", index, master.height)
        return pl.DataFrame([row], schema=_MASTER_PART)

    @dg.op(out=dg.DynamicOut(pl.DataFrame))
    def shard_reduce(
        context: dg.OpExecutionContext, parts: list[pl.DataFrame]
    ) -> Iterator[dg.DynamicOutput[pl.DataFrame]]:
        """What spans shards: the families' average lead times (from every shard's sums) and
        the golden record's columns (a value column any shard has, every shard has)."""
        merged = pl.concat(parts).sort("shard")
        target = _folder(prism, context.run.run_id)
        leads = [p for p in merged["leads"].to_list() if p]
        family = (
            reduce_family_lead_times(pl.scan_parquet(leads)).collect()
            if leads
            else pl.DataFrame(schema={"family": pl.String, "family_lead_time": pl.Int64})
        )
        families = _write(family, target / "family_lead_times.parquet")
        schemas = [pl.read_parquet(p, n_rows=0).schema for p in merged["master"].to_list() if p]
        columns = _write(catalog_columns(schemas), target / "golden_columns.parquet")
        context.log.info("%d families with an average lead time", family.height)
        for row in merged.iter_rows(named=True):
            part = pl.DataFrame(
                [row | {"families": families, "columns": columns}], schema=_REDUCED_PART
            )
            yield dg.DynamicOutput(part, mapping_key=f"shard_{row['shard']}")

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=SHARD_RETRIES))
    def shard_catalog(
        context: dg.OpExecutionContext, sources: pl.DataFrame, erp: pl.DataFrame, part: pl.DataFrame
    ) -> pl.DataFrame:
        """One shard's golden records, price tiers, channel views, quarantine, completeness
        scores and report names, as Parquet parts."""
        index = part.item(0, "shard")
        checkpoint(f"shard.catalog.{index}")
        row: dict[str, Any] = {"shard": index}
        if part.item(0, "master") is not None:
            row |= _shard_catalog(context, sources, erp, part.row(0, named=True))
        return pl.DataFrame([row], schema=_CATALOG_PART)

    def _shard_catalog(
        context: dg.OpExecutionContext,
        sources: pl.DataFrame,
        erp: pl.DataFrame,
        part: dict[str, Any],
    ) -> dict[str, Any]:
        index, as_of = part["shard"], run_as_of(sources)
        target = _folder(prism, context.run.run_id) / f"shard-{index}"
        master = with_catalog_columns(
            pl.read_parquet(part["master"]), pl.read_parquet(part["columns"])
        )
        skus = master.lazy().select("sku")
        own = {n: _scan(erp, n).join(skus, on="sku", how="semi") for n in ERP_OUTPUTS}
        tiers = golden_price_tiers(own["erp_prices"], master.lazy(), as_of, prism.currencies)
        tiers_frame = tiers.collect()
        golden = golden_products(
            sku_ordered(master),
            tiers_frame.lazy(),
            own["erp_stock"],
            own["erp_supply"],
            as_of,
            prism.currencies,
            pl.scan_parquet(part["families"]),
        ).collect()
        del master
        structure = _structure_frames(sources)
        erp_id = snapshot_field(sources, "erp", "snapshot_id")
        store = ViewStore(target / "views")
        channels = compiled(prism, structure, golden)
        mapped = views(golden, channels, erp_source_of(erp_id), store)
        quarantine = build_quarantine(
            mapped,
            prism.channels,
            pl.scan_parquet(part["rejects"]),
            erp_source=erp_source_of(erp_id),
            references=references(structure.families),
        ).collect()
        rendered = _render(
            context, target / "render", mapped, channels, quarantine, tiers_frame, erp
        )
        model = structure.model(prism)
        per_locale = compiled_per_locale(prism, FORMATS, model, golden.columns)
        cache = cache_folder(prism.publish.work_directory, "completeness") / f"{index}-of-{shards}"
        scores, reused = cached_completeness_scores(golden, per_locale, cache)
        names = _names(prism, model, golden)
        context.log.info(
            "shard %d: %d golden records, %d quarantine rows, completeness %s",
            index,
            golden.height,
            quarantine.height,
            "reused" if reused else "scored",
        )
        return {
            "golden": _write(golden, target / "golden.parquet"),
            "tiers": _write(tiers_frame, target / "tiers.parquet"),
            "quarantine": _write(quarantine, target / "quarantine.parquet"),
            "scores": _write(scores, target / "scores.parquet"),
            "names": _write(names, target / "names.parquet"),
            "views": str(store.folder),
            "render": str(target / "render"),
            "files": _write(rendered, target / "files.parquet"),
            "products": golden.height,
            "mapping_seconds": round(sum(mapped.seconds.values()), 2),
        }

    def _render(
        context: dg.OpExecutionContext,
        folder: Path,
        mapped: ChannelViews,
        channels: dict[str, CompiledChannel],
        quarantine: pl.DataFrame,
        tiers: pl.DataFrame,
        erp: pl.DataFrame,
    ) -> pl.DataFrame:
        """Each channel's published rows (``_rows``) and, for a format assembled from parts,
        its files with this shard's products; the files written, as FeedFile rows."""
        shutil.rmtree(folder, ignore_errors=True)  # a step retried starts clean
        snapshot_id, created = snapshot_id_of_run(context)
        customers = pl.read_parquet(_path(erp, "erp_customers"))
        prices_of = price_channel(prism)
        files: list[dict[str, Any]] = []
        for name, channel in channels.items():
            view = publishable(mapped[name], quarantine.lazy())
            write_rows(view, folder)
            tables = channel.format.table_parts
            if tables is not None:  # a database's tables: loaded from the parts in one load
                write, buyers, left_out = channel_context(
                    view, channel, tiers, folder / name, snapshot_id, created, customers
                )
                tables.write(view.frame, write)
                if name == prices_of:
                    products = view.golden_lazy().select(PRICE_PRODUCT_COLUMNS).collect()
                    write_channel_prices(folder, name, channel, buyers, products, write.tiers)
                _write(left_out, folder / LEFT_OUT / f"{name}.parquet")
                continue
            if assembly_of(channel) is None:
                continue  # written whole from the merged shards
            (folder / name).mkdir(parents=True, exist_ok=True)
            written = write_channel_feed(
                view,
                channel,
                tiers,
                folder / name,
                snapshot_id,
                created,
                customers,
                folder if name == prices_of else None,
            )
            files += [asdict(f) for f in written.files]
            _write(written.left_out, folder / LEFT_OUT / f"{name}.parquet")
        return pl.DataFrame(files, schema=FILE_SCHEMA)

    def _structure_frames(sources: pl.DataFrame) -> PimStructureFrames:
        structure = read_pim_structure(Path(snapshot_field(sources, "pim")), prism.locales)
        return _structure(structure)

    @dg.op(out=dg.Out(pl.DataFrame))
    def sharded_publish(
        context: dg.OpExecutionContext,
        config: GateParameters,
        feed_store: FeedStoreResource,
        sources: pl.DataFrame,
        erp: pl.DataFrame,
        parts: list[pl.DataFrame],
    ) -> Iterator[Any]:
        """Merges the shards' parts, writes every channel's feed into one staged snapshot,
        validates it, runs the gate and publishes, holding the publish lock throughout. The
        checks and materializations are yielded as they are known, so a refused publish
        still records the check that refused it."""
        lock = feed_store.lock(context.run.run_id)
        with lock.held(release=True):
            merged = pl.concat(parts).sort("shard")
            yield from _assemble(context, config, feed_store, sources, erp, merged)

    def _assemble(
        context: dg.OpExecutionContext,
        parameters: GateParameters,
        feed_store: FeedStoreResource,
        sources: pl.DataFrame,
        erp: pl.DataFrame,
        merged: pl.DataFrame,
    ) -> Iterator[Any]:
        store = feed_store.store()
        if done := recover(store, portals_of(prism)):
            context.log.warning("%s", done)
        snapshot_id, created = snapshot_id_of_run(context)
        store.discard_staging()
        filled = merged.filter(pl.col("golden").is_not_null())
        structure = _structure_frames(sources)
        erp_id = snapshot_field(sources, "erp", "snapshot_id")
        golden_parts = filled["golden"].to_list()
        narrow = _narrow_golden(golden_parts)
        quarantine = _merged_quarantine(
            prism, filled["quarantine"].to_list(), erp, narrow, erp_source_of(erp_id)
        )
        customers = pl.read_parquet(_path(erp, "erp_customers"))
        prices_of = price_channel(prism)
        refs = references(structure.families)
        channels = compiled(prism, structure, pl.read_parquet(golden_parts[0], n_rows=0))
        whole = [n for n, c in channels.items() if is_whole(c)]
        # every tier, for the channels written whole from the merged shards
        tiers = pl.read_parquet(filled["tiers"].to_list()) if whole else NO_TIERS
        suites: dict[str, FeedSuite] = {}
        files: dict[str, list[FeedFile]] = {}
        published: dict[str, int] = {}
        catalogs: dict[str, pl.DataFrame] = {}
        target = Target(store, snapshot_id, created, customers)
        for name, channel in channels.items():
            started = time.perf_counter()
            if is_whole(channel):
                view = publishable(
                    merged_view(name, filled, channel, erp_source_of(erp_id)), quarantine.lazy()
                )
                staged = stage_whole(prism, view, channel, tiers, target, name == prices_of)
                del view
            else:
                staged = stage_parts(prism, name, channel, filled, target, name == prices_of)
            fields = [f.spec for f in channel.fields.values()]
            suites[name] = FeedSuite(prism.channels[name], fields, staged.sample)
            files[name], published[name] = staged.files, staged.products
            catalogs[name] = staged.catalogs
            context.log.info(
                "%s: %d products %s in %.1f s",
                name,
                staged.products,
                "written" if is_whole(channel) else "assembled from the shards' parts",
                time.perf_counter() - started,
            )
        validated = validate_feeds(suites, refs)
        results = results_frame(validated)
        save_results(feed_store.reports().fresh_folder(snapshot_id), validated)
        balance = accounting(narrow, quarantine, published)
        as_of = run_as_of(sources)
        price_rows = price_row_counts(_scan(erp, "erp_prices"), as_of, prism.currencies)
        typed = _rows_of(erp, "erp_prices")
        checks = _checks(
            prism, narrow, (typed, sum(price_rows.values())), balance, results, catalogs
        )
        yield from checks
        failed = _failed(checks)
        for row in balance.iter_rows(named=True):
            # the feeds in the catalog, with the nothing-lost accounting of the merged shards
            counts = {k: v for k, v in row.items() if k != "channel"}
            yield dg.AssetMaterialization(
                feed_key(row["channel"]),
                metadata={ROW_COUNT: row["published"], "files": len(files[row["channel"]])}
                | {f"accounted/{k}": v for k, v in counts.items()},
            )
        if failed:
            raise ShardFailure(
                description="not published: " + "; ".join(failed),
                metadata={"failed_checks": failed},
            )
        gate, events = _gate(
            context,
            parameters,
            feed_store,
            sources,
            price_rows,
            filled,
            (narrow, quarantine, results),
            structure,
            (snapshot_id, created),
        )
        yield from events
        if gate is None:
            raise ShardFailure(description="not published: circuit breakers tripped")
        feeds = pl.concat(
            pl.DataFrame([asdict(f) for f in files[name]]).with_columns(
                snapshot_id=pl.lit(snapshot_id), products=pl.lit(published[name], pl.Int64)
            )
            for name in prism.channels
        )
        files_frame, metadata = publish_staged(context, feed_store, prism, sources, gate, feeds)
        yield dg.AssetMaterialization("published_snapshot", metadata=metadata)
        yield dg.Output(files_frame)

    def _gate(
        context: dg.OpExecutionContext,
        parameters: GateParameters,
        feed_store: FeedStoreResource,
        sources: pl.DataFrame,
        price_rows: dict[str, int],
        filled: pl.DataFrame,
        frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
        structure: PimStructureFrames,
        snapshot: tuple[str, dt.datetime],
    ) -> tuple[pl.DataFrame | None, list[Any]]:
        """The quality gate and report on the merged shards (``frames``: the narrow golden
        record, the quarantine, the suites' results): the breakers (None when one blocks the
        run) and the report's materialization and breaker check."""
        (narrow, quarantine, results), (snapshot_id, created) = frames, snapshot
        model = structure.model(prism)
        columns = pl.read_parquet(filled["golden"][0], n_rows=0).columns
        per_locale = compiled_per_locale(prism, FORMATS, model, columns)
        inputs = GateInputs(
            snapshot_id=snapshot_id,
            created=created,
            as_of=run_as_of(sources),
            now=clock.utc_now(),
            override=overridden(context, parameters),
            sources=sources,
            golden=narrow,
            quarantine=quarantine,
            expectations=results,
            names=pl.read_parquet(filled["names"].to_list()).sort("sku"),
            scores=pl.read_parquet(filled["scores"].to_list()).sort("sku"),
            score_keys=tuple(per_locale),
            price_rows=price_rows,
        )
        gate = run_gate(context, prism, feed_store, inputs)
        report = dg.AssetMaterialization(
            "quality_report",
            metadata={
                "verdict": gate.verdict,
                "report": dg.MetadataValue.path(str(gate.report_path)),
            },
        )
        breakers = dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("quality_report"),
            check_name=CIRCUIT_BREAKERS,
            **breaker_check(gate),
        )
        if gate.verdict == "blocked":
            return None, [report, breakers]
        frame = gate.breakers.with_columns(
            snapshot_id=pl.lit(snapshot_id), compared_with=pl.lit(gate.compared_with, pl.String)
        )
        return frame, [report, breakers]

    @dg.graph
    def sharded() -> None:
        sources = sharded_sources()
        erp = sharded_erp(sources)
        masters = shard_plan(sources).map(lambda part: shard_master(sources, erp, part))
        catalogs = shard_reduce(masters.collect()).map(
            lambda part: shard_catalog(sources, erp, part)
        )
        sharded_publish(sources, erp, catalogs.collect())

    return sharded.to_job(
        name=name,
        description=f"The job in {shards} shards by family root: read, merge and map per "
        "shard, publish one snapshot.",
        tags=tags,
    )


_MASTER_PART = {
    "shard": pl.Int64,
    "master": pl.String,
    "rejects": pl.String,
    "leads": pl.String,
}
_REDUCED_PART = {**_MASTER_PART, "families": pl.String, "columns": pl.String}
_CATALOG_PART = {
    "shard": pl.Int64,
    "golden": pl.String,
    "tiers": pl.String,
    "quarantine": pl.String,
    "scores": pl.String,
    "names": pl.String,
    "views": pl.String,
    "render": pl.String,
    "files": pl.String,
    "products": pl.Int64,
    "mapping_seconds": pl.Float64,
}


def _path(erp: pl.DataFrame, name: str) -> str:
    return erp.filter(pl.col("name") == name).item(0, "path")


def _scan(erp: pl.DataFrame, name: str) -> pl.LazyFrame:
    """One of the ERP frames ``sharded_erp`` wrote, scanned (a shard filters it by sku)."""
    return pl.scan_parquet(_path(erp, name))


def _names(config: PrismConfig, model: Any, golden: pl.DataFrame) -> pl.DataFrame:
    return product_names(config, model, golden, config.report_locale)


def _narrow_golden(parts: list[str]) -> pl.DataFrame:
    """The golden columns the accounting and the gate read, of every shard, by sku."""
    columns = pl.read_parquet(parts[0], n_rows=0).columns
    keep = ["sku", "uuid", "enabled", *list_price_columns(columns)]
    return pl.scan_parquet(parts).select(keep).collect().sort("sku", maintain_order=True)


def _merged_quarantine(
    config: PrismConfig, parts: list[str], erp: pl.DataFrame, golden: pl.DataFrame, erp_source: str
) -> pl.DataFrame:
    """Every shard's quarantine with the rows no shard sees (ERP rejects, ERP rows of skus no
    shard has), in the total order an unsharded run writes."""
    erp_rows = pl.concat(
        [
            _scan(erp, n).select("sku", "erp_source")
            for n in ("erp_prices", "erp_stock", "erp_supply")
        ]
    )
    rejects = pl.concat([_scan(erp, "erp_rejects"), unknown_sku_rows(erp_rows, golden.lazy())])
    outside = build_quarantine({}, config.channels, rejects, erp_source)
    merged = pl.concat([outside, *(pl.scan_parquet(p) for p in parts)])
    return merged.sort(list(QUARANTINE_ORDER), nulls_last=True).collect()


def _checks(
    config: PrismConfig,
    golden: pl.DataFrame,
    price_rows: tuple[int, int],
    balance: pl.DataFrame,
    results: pl.DataFrame,
    catalogs: dict[str, pl.DataFrame],
) -> list[dg.AssetCheckEvaluation]:
    """The asset job's checks of the golden record, the quarantine and every feed, evaluated
    on the merged shards (logged by the publish step, so the catalog and `prism run` see them
    as they see the asset job's)."""
    duplicates = golden.height - golden["sku"].n_unique()
    typed, classified = price_rows
    found = [
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("golden_products"),
            check_name=SKU_UNIQUE,
            passed=duplicates == 0,
            metadata={"duplicate_skus": duplicates},
        ),
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("quarantine"),
            check_name=ERP_ROWS_ACCOUNTED,
            passed=typed == classified,
            metadata={"typed_price_rows": typed, "classified": classified},
        ),
    ]
    keys = {
        dg.AssetCheckKey(feed_key(name), check)
        for name in config.channels
        for check, _, _ in FEED_CHECKS
    }
    share = config.quality.max_warning_share
    for result in feed_checks(keys, balance, results, share, catalogs):
        assert result.asset_key is not None
        assert result.check_name is not None
        found.append(
            dg.AssetCheckEvaluation(
                asset_key=result.asset_key,
                check_name=result.check_name,
                passed=result.passed,
                metadata=result.metadata,
                severity=result.severity,
            )
        )
    return found


def _failed(checks: list[dg.AssetCheckEvaluation]) -> list[str]:
    """The blocking checks that failed, named."""
    return [
        f"{c.asset_key.to_user_string()} {c.check_name}"
        for c in checks
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]


def _rows_of(erp: pl.DataFrame, name: str) -> int:
    return erp.filter(pl.col("name") == name).item(0, "rows")
