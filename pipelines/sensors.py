"""Sensor: start a run when a new PIM export or ERP snapshot folder is dropped."""

from collections.abc import Mapping

import dagster as dg

from assets.resources import FileDropResource


def build_source_sensor(
    job_name: str, drops: Mapping[str, FileDropResource]
) -> dg.SensorDefinition:
    """Watches the file-drop sources only: live sources are pulled by scheduled runs."""

    @dg.sensor(job_name=job_name, minimum_interval_seconds=60)
    def new_source_snapshot(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        """The run key is the tuple of newest snapshot folders, so each drop runs once."""
        try:
            key = "|".join(f"{name}:{drop.snapshot()[0].name}" for name, drop in drops.items())
        except FileNotFoundError as error:
            return dg.SkipReason(str(error))
        if key == context.cursor:
            return dg.SkipReason(f"no new snapshot since {key}")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=key)

    return new_source_snapshot
