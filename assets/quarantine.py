"""The quarantine asset: everything kept off a channel, and why (see quality/)."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.catalog import spec_args
from assets.channels import (
    PimStructureFrames,
    ViewStore,
    compiled,
    erp_source_of,
    view_cache,
    views,
)
from assets.metadata import frame_metadata
from assets.sources import run_as_of, snapshot_field
from contracts.config import PrismConfig
from golden.pricing import price_row_counts
from quality.quarantine import build_quarantine, unknown_sku_rows
from quality.rules import references

QUALITY_GROUP = "quality"
ERP_ROWS_ACCOUNTED = "erp_rows_accounted"


def build_quarantine_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    @dg.asset(
        group_name=QUALITY_GROUP,
        **spec_args(config, "quality", {"polars", "parquet"}),
        check_specs=[
            dg.AssetCheckSpec(
                ERP_ROWS_ACCOUNTED,
                asset="quarantine",
                blocking=True,
                description="each ERP price row is active, expired, not yet valid or superseded",
            )
        ],
    )
    def quarantine(
        context: dg.AssetExecutionContext,
        source_snapshots: pl.DataFrame,
        golden_products: pl.DataFrame,
        pim_rejects: pl.DataFrame,
        pim_families: pl.DataFrame,
        pim_attributes: pl.DataFrame,
        pim_attribute_options: pl.DataFrame,
        pim_channels: pl.DataFrame,
        pim_family_variants: pl.DataFrame,
        erp_rejects: pl.DataFrame,
        erp_prices: pl.DataFrame,
        erp_stock: pl.DataFrame,
        erp_supply: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Rows that fail a channel's rules or field specs, products its filters leave out,
        unparseable input rows and ERP rows for unknown skus; each with rule, field, offending
        value, the source to fix it in and severity (error: kept off the channel; warn:
        published and reported; filtered: left out by the channel's filters)."""
        golden = golden_products.lazy()
        erp_id = snapshot_field(source_snapshots, "erp", "snapshot_id")
        structure = PimStructureFrames(
            pim_attributes, pim_attribute_options, pim_channels, pim_families, pim_family_variants
        )
        mapped = views(
            golden_products,
            compiled(config, structure, golden_products),
            erp_source_of(erp_id),
            ViewStore.of_run(config.publish.work_directory, context.run.run_id),
            view_cache(config, structure, golden_products),
        )
        erp_rows = pl.concat(
            [f.lazy().select("sku", "erp_source") for f in (erp_prices, erp_stock, erp_supply)]
        )
        rejects = pl.concat(
            [pim_rejects.lazy(), erp_rejects.lazy(), unknown_sku_rows(erp_rows, golden)]
        )
        frame = build_quarantine(
            mapped,
            config.channels,
            rejects,
            erp_source=erp_source_of(erp_id),
            references=references(pim_families),
        ).collect()
        counts = price_row_counts(erp_prices.lazy(), run_as_of(source_snapshots), config.currencies)
        errors = frame.filter(pl.col("severity") == "error")
        by_rule = dict(errors.group_by("rule").len().sort("rule").iter_rows())
        severities = dict(frame.group_by("severity").len().iter_rows())
        context.log.info(
            "quarantine: %d rows %s, %d warnings, %d filtered; ERP price rows %s",
            errors.height,
            by_rule,
            severities.get("warn", 0),
            severities.get("filtered", 0),
            counts,
        )
        yield dg.Output(
            frame,
            metadata=frame_metadata(
                frame, rows_by_rule=by_rule, erp_price_rows=counts, **mapped.metadata()
            ),
        )
        yield dg.AssetCheckResult(
            check_name=ERP_ROWS_ACCOUNTED,
            passed=sum(counts.values()) == erp_prices.height,
            metadata={"typed_price_rows": erp_prices.height, "classified": sum(counts.values())},
        )

    return [quarantine]
