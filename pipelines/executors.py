"""The code location's executor, chosen by ``execution:`` of prism.yaml.

Every run of the code location (the job, its schedule and sensor, a launch from the UI, an
asset materialized from the graph, `prism run`) executes its steps the way the configuration
says, so a deployment changes where steps run without touching an asset:

* ``in_process`` (default): Dagster's ``multi_or_in_process_executor`` defaulting to
  ``in_process``. A process per step (Dagster's own default) imports polars, great-expectations
  and the code location again and re-reads every input from Parquet, and the steps form a chain
  (only the PIM and ERP reads could overlap), so on one machine that buys no parallelism
  (README, "Dagster UI", has the measurements).
* ``multiprocess``: the same executor defaulting to ``multiprocess`` with ``max_concurrent``.
* ``celery``: dagster-celery's executor; each step becomes a task on the broker's ``queue``,
  executed by a `prism worker` (``pipelines.cli_worker``) on any machine that reaches the broker,
  the Dagster instance's PostgreSQL and the shared ``publish`` folders.

Each is the executor with the configured choice as its *default* run config, so a launchpad can
still override it for one run (``execution: {config: {multiprocess: {}}}``).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_celery import celery_executor

from contracts.execution_config import ExecutionConfig

RPC_BACKEND = "rpc://"
"""Celery's result backend when ``backend_env`` is null: results return over the broker."""


def executor_for(execution: ExecutionConfig) -> dg.ExecutorDefinition:
    """The executor of ``execution`` with that choice as its default config."""
    if execution.executor == "celery":
        return _defaulting(celery_executor, "celery_by_default", celery_config(execution))
    if execution.executor == "multiprocess":
        default = {"multiprocess": {"max_concurrent": execution.max_concurrent or 0}}
        return _defaulting(dg.multi_or_in_process_executor, "multiprocess_by_default", default)
    return _defaulting(dg.multi_or_in_process_executor, "in_process_by_default", {"in_process": {}})


def celery_config(execution: ExecutionConfig) -> dict[str, Any]:
    """dagster-celery's executor config: broker and backend read from the environment where
    the run starts and where each step runs (``{env: NAME}``: the URL, which may hold a
    password, is never stored with the run), steps sent to ``queue``."""
    backend = {"env": execution.backend_env} if execution.backend_env else RPC_BACKEND
    return {
        "broker": {"env": execution.broker_env},
        "backend": backend,
        "config_source": {"task_default_queue": execution.queue},
    }


def _defaulting(
    executor: dg.ExecutorDefinition, name: str, default: dict[str, Any]
) -> dg.ExecutorDefinition:
    """``executor`` under ``name`` whose run config, when a run gives none, is ``default``."""
    return executor.configured(
        lambda config: config,
        name=name,
        config_schema=dg.Field(
            executor.config_schema.as_field().config_type, default_value=default
        ),
    )
