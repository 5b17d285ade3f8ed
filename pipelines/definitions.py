"""The code location: one Definitions object for `dagster dev`, and the job `prism run` runs.

The asset graph has one feed asset per configured channel, so the graph is built from a
configuration file, the way Dagster components build definitions from YAML. Importing this
module reads nothing: `dagster dev` loads ``defs`` (the configuration of ``$PRISM_CONFIG``,
default ``prism.yaml`` in the working directory) when it loads the code location, and
`prism run --config PATH` rebuilds the job from PATH through ``job_for``.

Run parameters (as-of date, full pull, breaker override) are run config, set at launch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from assets.delivery import build_delivery_assets, delivery_variables
from assets.feeds import build_feed_assets
from assets.golden import build_golden_assets
from assets.publish import build_publish_assets
from assets.quality_report import build_quality_report_assets
from assets.quarantine import build_quarantine_assets
from assets.resources import (
    AkeneoResource,
    DeliveryResource,
    FeedStoreResource,
    FileDropResource,
    PolarsParquetIOManager,
    SapResource,
    SnapshotSource,
)
from assets.shards import build_sharded_job
from assets.sources import build_source_assets
from contracts.config import FileSource, PrismConfig, load_config
from pipelines.executors import executor_for
from pipelines.sensors import build_source_sensor

JOB_NAME = "syndicate"
CONFIG_VARIABLE = "PRISM_CONFIG"
QUEUE_TAG = "prism/queue"
"""Every run of the job carries ``prism/queue: publish``; ``dagster.yaml`` lets one such run
run at a time (``concurrency.runs.tag_concurrency_limits``), so a second launch, schedule tick
or sensor request queues instead of failing on the publish lock."""


def build_definitions(config: PrismConfig) -> dg.Definitions:
    assets = [
        *build_source_assets(config),
        *build_golden_assets(config),
        *build_quarantine_assets(config),
        *build_feed_assets(config),
        *build_quality_report_assets(config),
        *build_publish_assets(config),
        *build_delivery_assets(config),
    ]
    job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition
    if config.execution.shards > 1:
        job = build_sharded_job(config, JOB_NAME, {QUEUE_TAG: "publish"})
    else:
        job = dg.define_asset_job(
            JOB_NAME,
            selection=dg.AssetSelection.all(),
            description="Pull PIM + ERP, build golden records, validate, publish one snapshot.",
            tags={QUEUE_TAG: "publish"},
        )
    resources: dict[str, Any] = {
        "pim": pim_resource(config),
        "erp": erp_resource(config),
        "feed_store": FeedStoreResource(
            directory=str(config.publish.directory),
            keep=config.publish.keep,
            lock_wait_seconds=config.publish.lock_wait_seconds,
            lock_lease_seconds=config.publish.lock_lease_seconds,
        ),
        "io_manager": PolarsParquetIOManager(base_dir=str(config.publish.work_directory)),
    }
    if config.deliveries():
        resources["delivery"] = DeliveryResource(variables=delivery_variables(config))
    return dg.Definitions(
        assets=assets,
        jobs=[job],
        schedules=[
            dg.ScheduleDefinition(
                name="daily_syndication",
                job=job,
                cron_schedule=config.schedule.cron,
                execution_timezone=config.schedule.timezone,
                description=f"`{config.schedule.cron}` in {config.schedule.timezone} "
                "(`schedule:` in prism.yaml)",
            )
        ],
        sensors=[build_source_sensor(JOB_NAME, config)] if _drops(config) else [],
        resources=resources,
        executor=executor_for(config.execution),
    )


def _drops(config: PrismConfig) -> bool:
    return isinstance(config.pim, FileSource) or isinstance(config.erp, FileSource)


def pim_resource(config: PrismConfig) -> SnapshotSource:
    if isinstance(config.pim, FileSource):
        return FileDropResource(side="pim")
    return AkeneoResource(**_from_environment(config.pim.credential_variables()))


def erp_resource(config: PrismConfig) -> SnapshotSource:
    if isinstance(config.erp, FileSource):
        return FileDropResource(side="erp")
    return SapResource(**_from_environment(config.erp.credential_variables()))


def _from_environment(variables: dict[str, str]) -> dict[str, Any]:
    """Each credential bound to its environment variable (the names: ``contracts.config``,
    which ``prism validate-config`` checks too)."""
    return {credential: dg.EnvVar(name) for credential, name in variables.items()}


def default_config_path() -> Path:
    """The code location's configuration: ``$PRISM_CONFIG``, else ``prism.yaml``."""
    return Path(os.environ.get(CONFIG_VARIABLE, "prism.yaml"))


def job_for(config_path: str) -> dg.JobDefinition:
    """The job built from ``config_path``: what `prism run` executes (Dagster rebuilds it from
    this function and its argument, so no step output is kept in memory for the run)."""
    return build_definitions(load_config(Path(config_path))).resolve_job_def(JOB_NAME)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_config(default_config_path()))
