"""Sensor: start a run when a new PIM export or ERP snapshot folder is dropped."""

import dagster as dg

from pipelines.resources import FileDropResource


def build_source_sensor(job_name: str) -> dg.SensorDefinition:
    @dg.sensor(job_name=job_name, minimum_interval_seconds=60)
    def new_source_snapshot(
        context: dg.SensorEvaluationContext, pim: FileDropResource, erp: FileDropResource
    ) -> dg.SensorResult | dg.SkipReason:
        """The run key is the pair of newest snapshot folders, so each drop runs once."""
        try:
            key = f"{pim.latest('products').name}|{erp.latest('prices').name}"
        except FileNotFoundError as error:
            return dg.SkipReason(str(error))
        if key == context.cursor:
            return dg.SkipReason(f"no new snapshot since {key}")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=key)

    return new_source_snapshot
