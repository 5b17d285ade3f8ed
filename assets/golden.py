"""The golden record assets: one product truth every channel is written from."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.catalog import COLUMN_SCHEMA, golden_schema, spec_args, table_schema
from assets.metadata import frame_metadata
from assets.sources import run_as_of
from contracts.config import PrismConfig
from contracts.golden import PRICE_TIERS_SCHEMA
from golden.record import golden_price_tiers, golden_products, sku_ordered

GOLDEN_GROUP = "golden"
SKU_UNIQUE = "sku_unique"


def build_golden_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        group_name=GOLDEN_GROUP,
        outs={
            "golden_products": dg.AssetOut(
                description="The golden record: one row per PIM product with its master data, "
                "list prices per currency and availability on the run's as-of date; every "
                "channel is written from it. The column schema lists the contract's columns; "
                "each materialization lists all, the PIM's `attr.*` columns included.",
                metadata={COLUMN_SCHEMA: golden_schema(config)},
                **spec_args(config, "golden", {"polars", "parquet"}),
            ),
            "price_tiers": dg.AssetOut(
                description="Every price valid on the as-of date: list, group and customer "
                "tiers per sku, currency and minimum quantity (exact decimals).",
                metadata={COLUMN_SCHEMA: table_schema(PRICE_TIERS_SCHEMA)},
                **spec_args(config, "golden", {"polars", "parquet"}),
            ),
        },
        check_specs=[
            dg.AssetCheckSpec(
                SKU_UNIQUE,
                asset="golden_products",
                blocking=True,
                description="every sku appears once; a duplicate would publish two truths",
            )
        ],
    )
    def golden(
        context: dg.AssetExecutionContext,
        source_snapshots: pl.DataFrame,
        pim_master_data: pl.DataFrame,
        erp_prices: pl.DataFrame,
        erp_stock: pl.DataFrame,
        erp_supply: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Prices and availability are taken on the run's as-of date (``source_snapshots``)."""
        as_of = run_as_of(source_snapshots)
        master = sku_ordered(pim_master_data)
        tiers = golden_price_tiers(erp_prices.lazy(), master, as_of, config.currencies).collect()
        products = golden_products(
            master,
            tiers.lazy(),
            erp_stock.lazy(),
            erp_supply.lazy(),
            as_of,
            config.currencies,
        ).collect()
        duplicates = products.height - products["sku"].n_unique()
        context.log.info("golden: %d products, %d price tiers", products.height, tiers.height)
        yield dg.Output(
            products,
            "golden_products",
            metadata=frame_metadata(
                products, as_of=str(as_of), **{COLUMN_SCHEMA: table_schema(products.schema)}
            ),
        )
        yield dg.Output(
            tiers,
            "price_tiers",
            metadata=frame_metadata(tiers, **{COLUMN_SCHEMA: table_schema(tiers.schema)}),
        )
        yield dg.AssetCheckResult(
            asset_key="golden_products",
            check_name=SKU_UNIQUE,
            passed=duplicates == 0,
            metadata={"duplicate_skus": duplicates},
        )

    return [golden]
