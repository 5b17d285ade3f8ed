"""The quality gate: circuit breakers against the live snapshot, and the merchandisers' report.

Runs after every feed is staged and validated, before anything goes live. A tripped breaker
fails the blocking ``circuit_breakers`` check (ERROR), so ``published_snapshot`` does not run
and the live snapshot stays; the run tag ``prism/override_breakers=true`` turns that into a
WARN for one run. The report is written either way, with the verdict and its reasons.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from assets.catalog import link, spec_args
from assets.channels import PimStructureFrames
from assets.feeds import PUBLISH_KEY, later_in_run, snapshot_id_of_run
from assets.metadata import frame_metadata
from assets.quarantine import QUALITY_GROUP
from assets.resources import FeedStoreResource, cache_folder
from assets.sources import run_as_of
from contracts import clock
from contracts.config import PrismConfig
from contracts.snapshots import BASELINE
from golden.pricing import price_row_counts
from mapping.plan import compiled_per_locale, product_names
from quality.completeness import cached_completeness_scores
from quality.gate import Gate, GateInputs, evaluate_gate
from sinks.formats import FORMATS
from sinks.publish_lock import PublishLock

CIRCUIT_BREAKERS = "circuit_breakers"
OVERRIDE_TAG = "prism/override_breakers"


class GateParameters(dg.Config):
    """The one run parameter of the gate, given at launch."""

    override_breakers: bool = Field(
        default=False,
        description="publish even if circuit breakers trip (this run only; the report says so)",
    )


def overridden(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, parameters: GateParameters
) -> bool:
    """Run config ``override_breakers``, or the run tag ``prism/override_breakers=true``."""
    tagged = context.run.tags.get(OVERRIDE_TAG, "").lower() == "true"
    return parameters.override_breakers or tagged


def run_gate(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    prism: PrismConfig,
    feed_store: FeedStoreResource,
    inputs: GateInputs,
) -> Gate:
    """The breakers and the report of a run (``inputs``), the breakers' price baseline staged
    with the snapshot, each tripped breaker and the verdict logged."""
    store = feed_store.store()
    gate = evaluate_gate(prism, inputs, store, feed_store.reports())
    staging = store.staging_dir(inputs.snapshot_id)
    staging.mkdir(parents=True, exist_ok=True)
    gate.prices.write_parquet(staging / BASELINE)
    for row in gate.breakers.filter(pl.col("tripped")).iter_rows(named=True):
        context.log.warning(
            "circuit breaker %s (%s): %s", row["name"], row["channel"], row["detail"]
        )
    context.log.info("quality report %s: %s", gate.verdict, gate.report_path)
    return gate


def breaker_check(gate: Gate) -> dict[str, Any]:
    """The ``circuit_breakers`` check's outcome: failed when a breaker tripped, a warning when
    the run overrode them."""
    tripped = gate.breakers.filter(pl.col("tripped"))
    overridden = gate.verdict == "overridden"
    return {
        "passed": tripped.height == 0,
        "severity": dg.AssetCheckSeverity.WARN if overridden else dg.AssetCheckSeverity.ERROR,
        "metadata": {
            "tripped": [f"{r['name']}: {r['detail']}" for r in tripped.iter_rows(named=True)],
            "overridden": overridden,
        },
    }


def build_quality_report_assets(prism: PrismConfig) -> list[dg.AssetsDefinition]:
    @dg.asset(
        group_name=QUALITY_GROUP,
        **spec_args(prism, "quality", {"html", "polars"}),
        check_specs=[
            dg.AssetCheckSpec(
                CIRCUIT_BREAKERS,
                asset="quality_report",
                blocking=True,
                description="product drop, quarantine share, price changes, source freshness",
            )
        ],
    )
    def quality_report(
        context: dg.AssetExecutionContext,
        config: GateParameters,
        feed_store: FeedStoreResource,
        source_snapshots: pl.DataFrame,
        golden_products: pl.DataFrame,
        quarantine: pl.DataFrame,
        expectation_results: pl.DataFrame,
        erp_prices: pl.DataFrame,
        pim_families: pl.DataFrame,
        pim_attributes: pl.DataFrame,
        pim_attribute_options: pl.DataFrame,
        pim_channels: pl.DataFrame,
        pim_family_variants: pl.DataFrame,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """Compares this run with the live snapshot and writes the snapshot's HTML report.

        Holds the run's publish lock, so what is live cannot change between this comparison and
        the switch; a blocked run gives the lock up here (nothing will be published)."""
        lock = feed_store.lock(context.run.run_id)
        with lock.held(release=not later_in_run(context, PUBLISH_KEY)):
            yield from _gate(
                context,
                config,
                feed_store,
                source_snapshots,
                golden_products,
                quarantine,
                expectation_results,
                erp_prices,
                PimStructureFrames(
                    pim_attributes,
                    pim_attribute_options,
                    pim_channels,
                    pim_families,
                    pim_family_variants,
                ),
                lock,
            )

    def _gate(
        context: dg.AssetExecutionContext,
        config: GateParameters,
        feed_store: FeedStoreResource,
        source_snapshots: pl.DataFrame,
        golden_products: pl.DataFrame,
        quarantine: pl.DataFrame,
        expectation_results: pl.DataFrame,
        erp_prices: pl.DataFrame,
        structure: PimStructureFrames,
        lock: PublishLock,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        snapshot_id, created = snapshot_id_of_run(context)
        model = structure.model(prism)
        per_locale = compiled_per_locale(prism, FORMATS, model, golden_products.columns)
        cache = cache_folder(prism.publish.work_directory, "completeness")
        scores, reused = cached_completeness_scores(golden_products, per_locale, cache)
        context.log.info(
            "completeness: %s",
            "the PIM values are unchanged, scores reused" if reused else "scored",
        )
        as_of = run_as_of(source_snapshots)
        inputs = GateInputs(
            snapshot_id=snapshot_id,
            created=created,
            as_of=as_of,
            now=clock.utc_now(),
            override=overridden(context, config),
            sources=source_snapshots,
            golden=golden_products,
            quarantine=quarantine,
            expectations=expectation_results,
            names=product_names(prism, model, golden_products, prism.report_locale),
            scores=scores,
            score_keys=tuple(per_locale),
            price_rows=price_row_counts(erp_prices.lazy(), as_of, prism.currencies),
        )
        gate = run_gate(context, prism, feed_store, inputs)
        if gate.verdict == "blocked":
            lock.release()
        tripped = gate.breakers.filter(pl.col("tripped"))
        yield dg.Output(
            gate.breakers.with_columns(
                snapshot_id=pl.lit(snapshot_id), compared_with=pl.lit(gate.compared_with, pl.String)
            ),
            metadata={
                "compared_with": gate.compared_with or "nothing live",
                **frame_metadata(gate.breakers),
                "verdict": gate.verdict,
                "completeness_reused": reused,
                "tripped": tripped["name"].to_list(),
                "report": dg.MetadataValue.path(str(gate.report_path)),
                "report_link": link(prism, gate.report_path),
            },
        )
        yield dg.AssetCheckResult(check_name=CIRCUIT_BREAKERS, **breaker_check(gate))

    return [quality_report]
