"""The code location: one Definitions object for `dagster dev` and the `prism` CLI.

The asset graph has one feed asset per configured channel, so the graph is built from the
configuration file (``PRISM_CONFIG``, default ``prism.yaml`` in the working directory), the
way Dagster components build definitions from YAML. Reading it is the only load-time work.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from assets.feeds import build_feed_assets
from assets.golden import build_golden_assets
from assets.publish import build_publish_assets
from assets.quality_report import build_quality_report_assets
from assets.quarantine import build_quarantine_assets
from assets.resources import (
    AkeneoResource,
    FeedStoreResource,
    FileDropResource,
    PolarsParquetIOManager,
    SapResource,
    SnapshotSource,
)
from assets.sources import build_source_assets
from contracts.config import FileSource, PrismConfig, load_config
from pipelines.sensors import build_source_sensor

JOB_NAME = "syndicate"


def build_definitions(config: PrismConfig, full_pull: bool = False) -> dg.Definitions:
    """``full_pull`` makes live sources pull everything (deletions included) in this run."""
    assets = [
        *build_source_assets(config),
        *build_golden_assets(config),
        *build_quarantine_assets(config),
        *build_feed_assets(config),
        *build_quality_report_assets(config),
        *build_publish_assets(config),
    ]
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Pull PIM + ERP, build golden records, validate, publish one snapshot.",
    )
    sources = {"pim": pim_resource(config, full_pull), "erp": erp_resource(config, full_pull)}
    drops = {k: v for k, v in sources.items() if isinstance(v, FileDropResource)}
    resources = {
        **sources,
        "feed_store": FeedStoreResource(
            directory=str(config.publish.directory), keep=config.publish.keep
        ),
        "io_manager": PolarsParquetIOManager(base_dir=str(config.publish.work_directory)),
    }
    return dg.Definitions(
        assets=assets,
        asset_checks=[],
        jobs=[job],
        schedules=[
            dg.ScheduleDefinition(name="daily_syndication", job=job, cron_schedule="0 6 * * *")
        ],
        sensors=[build_source_sensor(JOB_NAME, drops)] if drops else [],
        resources=resources,
    )


def pim_resource(config: PrismConfig, full_pull: bool = False) -> SnapshotSource:
    pim = config.pim
    if isinstance(pim, FileSource):
        return FileDropResource(path=str(pim.path), marker="products")
    return AkeneoResource(
        **pim.model_dump(exclude={"kind", "store"}),
        store=str(pim.store),
        locales=list(config.locales),
        scope=config.scope,
        full_pull=full_pull,
        client_id=dg.EnvVar("AKENEO_CLIENT_ID"),
        client_secret=dg.EnvVar("AKENEO_CLIENT_SECRET"),
        username=dg.EnvVar("AKENEO_USERNAME"),
        password=dg.EnvVar("AKENEO_PASSWORD"),
    )


def erp_resource(config: PrismConfig, full_pull: bool = False) -> SnapshotSource:
    erp = config.erp
    if isinstance(erp, FileSource):
        return FileDropResource(path=str(erp.path), marker="prices")
    secrets = (
        {"token": dg.EnvVar("SAP_TOKEN")}
        if erp.auth == "bearer"
        else {"user": dg.EnvVar("SAP_USER"), "password": dg.EnvVar("SAP_PASSWORD")}
    )
    return SapResource(
        **erp.model_dump(exclude={"kind", "root"}),
        root=str(erp.root),
        full_pull=full_pull,
        **secrets,
    )


def config_path() -> Path:
    return Path(os.environ.get("PRISM_CONFIG", "prism.yaml"))


def syndicate_job() -> dg.JobDefinition:
    """The job as `prism run` executes it, rebuilt from the environment (``PRISM_CONFIG``,
    ``PRISM_AS_OF``, ``PRISM_FULL_PULL``) so Dagster can reconstruct it: unlike
    ``execute_in_process``, ``execute_job`` keeps no step output in memory for the run."""
    config, full_pull = run_settings()
    return build_definitions(config, full_pull=full_pull).resolve_job_def(JOB_NAME)


def run_settings() -> tuple[PrismConfig, bool]:
    """The configuration with ``PRISM_AS_OF`` applied, and whether to pull everything."""
    config = load_config(config_path())
    if as_of := os.environ.get("PRISM_AS_OF"):
        config = config.model_copy(update={"as_of": dt.date.fromisoformat(as_of)})
    return config, os.environ.get("PRISM_FULL_PULL") == "1"


defs = build_definitions(load_config(config_path()))
