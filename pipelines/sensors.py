"""Sensor: start a run when a new PIM export or ERP snapshot folder is dropped."""

from __future__ import annotations

import dagster as dg

from contracts.config import ErpSource, FileSource, PimSource, PrismConfig
from sources.drops import DropError, Side, newest_drop


def newest_drops(config: PrismConfig) -> str:
    """The run key of the newest drops: ``pim:<folder>|erp:<folder>`` over the file drops."""
    parts = []
    sides: tuple[tuple[Side, PimSource | ErpSource], ...] = (
        ("pim", config.pim),
        ("erp", config.erp),
    )
    for side, source in sides:
        if isinstance(source, FileSource):
            folder = newest_drop(source.path, side, source.ready_marker)
            parts.append(f"{side}:{folder.name}")
    return "|".join(parts)


def build_source_sensor(job_name: str, config: PrismConfig) -> dg.SensorDefinition:
    """Watches the file-drop sources only: live sources are pulled by scheduled runs."""

    @dg.sensor(job_name=job_name, minimum_interval_seconds=60)
    def new_source_snapshot(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        """The run key is the tuple of newest snapshot folders, so each drop runs once."""
        try:
            key = newest_drops(config)
        except DropError as error:
            return dg.SkipReason(str(error))
        if key == context.cursor:
            return dg.SkipReason(f"no new snapshot since {key}")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=key)

    return new_source_snapshot
