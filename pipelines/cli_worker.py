"""``prism worker``: a Celery worker that executes the steps of runs whose executor is
``celery`` (``execution:`` of prism.yaml).

The worker takes the broker, backend and queue from the same configuration the runs are built
from, so a run and its workers cannot disagree on where steps go. A step arrives with the
reference of the run's Dagster instance (PostgreSQL in production) and the recipe of its job;
the worker rebuilds the job, executes the one step and writes its events to that instance.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from contracts.config import ConfigError
from pipelines.cli_options import CONFIG_OPTION, CONFIG_VARIABLE, load


@click.command()
@CONFIG_OPTION
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Steps this worker runs at once (default: execution.max_concurrent, else one per CPU).",
)
@click.option("--loglevel", default="INFO", show_default=True, help="Celery's log level.")
def worker(config_file: Path, concurrency: int | None, loglevel: str) -> None:
    """Execute the steps of celery-executed runs taken from the broker's queue.

    Start one or more on any machine that reaches the broker, the Dagster instance's database
    and the publish and work folders (same paths). Stop with Ctrl-C (a step in progress
    finishes first) or SIGTERM.
    """
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    config = load(config_file)
    execution = config.execution
    if execution.executor != "celery":
        msg = f"{config_file}: execution.executor is {execution.executor!r}; a worker serves "
        raise ConfigError(msg + "runs whose executor is 'celery'")
    broker, backend = _variable(config_file, execution.broker_env), None
    if execution.backend_env is not None:
        backend = _variable(config_file, execution.backend_env)
    # Runs launched from the code location rebuild their job from $PRISM_CONFIG: this file.
    os.environ[CONFIG_VARIABLE] = str(config_file.resolve())
    celery = CeleryExecutor.for_cli(
        broker=broker, backend=backend, config_source={"task_default_queue": execution.queue}
    )
    app = make_app(celery.app_args())
    create_task(app)
    processes = concurrency or execution.max_concurrent or os.cpu_count() or 1
    app.worker_main(
        [
            "worker",
            f"--queues={execution.queue}",
            f"--concurrency={processes}",
            "--prefetch-multiplier=1",  # a long step never holds a second one back
            f"--hostname=prism-{os.getpid()}@%h",
            f"--loglevel={loglevel}",
        ]
    )


def _variable(config_file: Path, name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        msg = f"{config_file}: execution: the broker settings are read from ${name}, which is "
        raise ConfigError(msg + "not set")
    return value
