"""``prism run``: run the pipeline once, show it going, and say what happened.

Progress goes to stderr (a live table on a terminal, short lines otherwise), the outcome to
stdout; ``--json`` puts both on stdout as JSON lines. Every record of the run (Dagster's own
included) goes to the run's log file ``<publish.directory>/logs/<run id>.log``; ``--verbose``
streams them to stderr as well. A run that does not publish ends with one summary naming the
cause and what to do next, and exits with the code of that kind of cause (``ExitCode``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import click

from contracts.config import PrismConfig
from contracts.snapshots import new_snapshot_id
from pipelines import publishing
from pipelines.cli_options import CONFIG_OPTION, load
from pipelines.exit_codes import ExitCode
from pipelines.publishing import release_run_lock
from pipelines.run_display import Display, JsonDisplay, display_for

if TYPE_CHECKING:
    import dagster as dg

    from pipelines.run_failure import Failure

LOGS_FOLDER = "logs"
KEEP_LOGS = 50
"""run log files kept under <publish.directory>/logs/ (the newest)"""


class RunLog:
    """The run's log file, opened when the run's first record names the run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._file: IO[str] | None = None

    def write(self, run_id: str | None, line: str) -> None:
        if self._file is None:
            if run_id is None:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / f"{run_id}.log"
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(line + "\n")

    def __enter__(self) -> RunLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
        prune_logs(self.folder, KEEP_LOGS)


def prune_logs(folder: Path, keep: int) -> None:
    if not folder.is_dir():
        return
    logs = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)


def _instance() -> dg.DagsterInstance:
    """The persistent instance of ``dagster.yaml`` in the working directory, so `dagster dev`
    shows CLI runs; an ephemeral one when there is none."""
    import dagster as dg

    if "DAGSTER_HOME" not in os.environ and Path("dagster.yaml").is_file():
        os.environ["DAGSTER_HOME"] = str(Path.cwd())
    if "DAGSTER_HOME" in os.environ:
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


SHARDED_PARAMETER_STEPS = ("sharded_sources", "sharded_publish")
"""The sharded job's steps taking the run parameters and the gate's override
(``assets.shards``); the asset job's are ``source_snapshots`` and ``quality_report``."""


def run_config(
    as_of: dt.date | None, full_pull: bool, override_breakers: bool, sharded: bool = False
) -> dict[str, Any]:
    """The job's run config for the CLI's flags: the run parameters (the executor is the
    configuration's, ``execution:`` of prism.yaml); ``sharded``: for the sharded job's steps."""
    parameters = {"as_of": as_of.isoformat() if as_of else None, "full_pull": full_pull}
    sources, gate = SHARDED_PARAMETER_STEPS if sharded else ("source_snapshots", "quality_report")
    return {
        "ops": {
            sources: {"config": parameters},
            gate: {"config": {"override_breakers": override_breakers}},
        }
    }


@dataclasses.dataclass
class Outcome:
    run_id: str | None
    snapshot_id: str | None
    published: bool
    live: str
    report: str | None
    log_file: Path | None
    failure: Failure | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    """warnings that do not change the outcome (cleanup, a pending switch)"""

    @property
    def code(self) -> ExitCode:
        if self.published:
            return ExitCode.OK
        return self.failure.code if self.failure is not None else ExitCode.INTERNAL


@click.command()
@CONFIG_OPTION
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Price/stock date, YYYY-MM-DD (default: `as_of` of the config, else today UTC).",
)
@click.option(
    "--full-pull", is_flag=True, help="Live sources pull everything (picks up deletions)."
)
@click.option(
    "--override-breakers",
    is_flag=True,
    help="Publish even if circuit breakers trip (this run only; recorded in the report).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Stream Dagster's full logs to stderr and print the stack trace of a failure.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress display: only warnings and the outcome."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Progress and outcome as JSON lines on stdout (one object per line).",
)
def run(
    config_file: Path,
    as_of: dt.datetime | None,
    full_pull: bool,
    override_breakers: bool,
    verbose: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run the whole pipeline once and publish a snapshot.

    Shows each stage and channel writer with rows and elapsed time; the run's full log is
    written to <publish.directory>/logs/<run id>.log. Exits 0 when the snapshot was published,
    else with the code of the cause (see `prism --help`).
    """
    config = load(config_file)
    display = display_for(quiet=quiet, as_json=as_json, verbose=verbose)
    display.start(f"starting a run of {config_file} (loading Dagster and the job)")
    sharded = config.execution.shards > 1
    parameters = run_config(as_of.date() if as_of else None, full_pull, override_breakers, sharded)
    try:
        outcome = _execute(config, config_file, parameters, display, verbose, override_breakers)
    finally:
        display.close()
    _tell(outcome, display, verbose)
    click.get_current_context().exit(int(outcome.code))


def _execute(
    config: PrismConfig,
    config_file: Path,
    parameters: dict[str, Any],
    display: Display,
    verbose: bool,
    override_breakers: bool,
) -> Outcome:
    import dagster as dg  # only a run needs Dagster: status, recover and rollback start fast

    from pipelines.run_events import event_of, listening, log_line, run_id_of
    from pipelines.run_failure import Failure, explain, missing_variable

    log = RunLog(config.publish.directory / LOGS_FOLDER)

    def hear(record: logging.LogRecord) -> None:
        log.write(run_id_of(record), log_line(record))
        event = event_of(record)
        if event is not None and event.kind == "run_started":
            event = dataclasses.replace(event, text=f"full log: {log.path}")
        if event is not None:
            display.event(event)

    job = dg.build_reconstructable_job(
        "pipelines.run_events", "cli_job", reconstructable_args=(str(config_file.resolve()),)
    )
    with log, listening(hear) as loggers, _instance() as instance:
        if verbose:
            loggers["console"] = {"config": {"log_level": "DEBUG"}}
        try:
            result = dg.execute_job(
                job, instance=instance, run_config={**parameters, "loggers": loggers}
            )
        except Exception as error:  # the run could not start: no events to explain it
            failure = missing_variable(str(error)) or Failure(
                ExitCode.INTERNAL,
                f"the run could not start: {type(error).__name__}: {error}",
                next_step="run again with --verbose for the stack trace",
                error=type(error).__name__,
            )
            if verbose and failure.code == ExitCode.INTERNAL:
                raise
            return Outcome(None, None, False, _live(config), None, log.path, failure)
        snapshot_id = _snapshot_of(instance, result.run_id)
    release_run_lock(config, result.run_id)
    outcome = _outcome_of(config, result, snapshot_id, log.path)
    if not outcome.published:
        outcome.failure = explain(result, config_file, override_breakers)
    return outcome


def _snapshot_of(instance: dg.DagsterInstance, run_id: str) -> str | None:
    record = instance.get_run_record_by_id(run_id)
    return new_snapshot_id(record.create_timestamp, run_id) if record else None


def _live(config: PrismConfig) -> str:
    return publishing.status(config).state.files or "nothing"


def _outcome_of(
    config: PrismConfig, result: dg.ExecutionResult, snapshot_id: str | None, log: Path | None
) -> Outcome:
    """What is live now, from the publish directory itself, not from the run's status: a run
    can fail after its switch (the publish stands) or before it (the previous one stays)."""
    state = publishing.status(config).state
    published = snapshot_id is not None and state.files == snapshot_id
    notes = [f"cleanup failed: {error}" for error in _cleanup_errors(result)] if published else []
    if state.journal is not None:
        notes.append(f"a switch to {state.journal.target} is pending; run `prism recover`")
    return Outcome(
        result.run_id,
        snapshot_id,
        published,
        state.files or "nothing",
        _report_of(result),
        log,
        notes=notes,
    )


def _cleanup_errors(result: dg.ExecutionResult) -> list[str]:
    for materialization in _materializations(result, "published_snapshot"):
        value = materialization.metadata.get("cleanup_errors")
        return (
            [str(e) for e in value.value]
            if value is not None and isinstance(value.value, list)
            else []
        )
    return []


def _report_of(result: dg.ExecutionResult) -> str | None:
    """The report path from the quality_report materialization, if the run got that far."""
    for materialization in _materializations(result, "quality_report"):
        return str(materialization.metadata["report"].value)
    return None


def _materializations(result: dg.ExecutionResult, asset: str) -> list[dg.AssetMaterialization]:
    """The run's materializations of ``asset``, whichever step made them (the asset's own, or
    the sharded job's publish step)."""
    import dagster as dg

    key = dg.AssetKey(asset)
    return [
        event.step_materialization_data.materialization
        for event in result.all_events
        if event.is_step_materialization and event.asset_key == key
    ]


def _tell(outcome: Outcome, display: Display, verbose: bool) -> None:
    if isinstance(display, JsonDisplay):
        failure = outcome.failure.as_dict() if outcome.failure is not None else {}
        display.emit(
            "run_finished",
            **{
                "run_id": outcome.run_id,
                "published": outcome.published,
                "snapshot_id": outcome.snapshot_id if outcome.published else None,
                "live": outcome.live,
                "report": outcome.report,
                "log_file": str(outcome.log_file) if outcome.log_file else None,
                "notes": outcome.notes or None,
                **failure,
                "exit_code": int(outcome.code),
            },
        )
        return
    for note in outcome.notes:
        click.echo(note, err=True)
    if outcome.published:
        click.echo(f"published {outcome.snapshot_id} (run {outcome.run_id})")
        if outcome.report:
            click.echo(f"quality report: {outcome.report}")
        return
    _tell_failure(outcome, verbose)


def _tell_failure(outcome: Outcome, verbose: bool) -> None:
    failure = outcome.failure
    if verbose and failure is not None and failure.trace:
        click.echo(failure.trace, err=True)
    run = f"run {outcome.run_id}" if outcome.run_id else "the run"
    click.echo(f"{run} did not publish; {outcome.live} stays live", err=True)
    for line in failure.lines() if failure is not None else []:
        click.echo(line, err=True)
    if outcome.report and (failure is None or outcome.report not in " ".join(failure.details)):
        click.echo(f"quality report: {outcome.report}", err=True)
    if outcome.log_file is not None:
        click.echo(f"full log: {outcome.log_file}", err=True)
