"""What a ``prism run`` hears from its Dagster run while it goes: a job logger that hands every
log record of the in-process run to the CLI, and the records read as short progress events.

The CLI runs the job with this logger instead of Dagster's console logger (which prints every
line with the job name and the run's UUID): the display shows stages and channel writers as
they start and end, and the full records go to the run's log file. ``--verbose`` adds the
console logger back. A run launched from the Dagster UI does not use this logger.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from assets.feeds import PROGRESS
from contracts.config import load_config
from pipelines.definitions import JOB_NAME, build_definitions

LOGGER = "prism_progress"
Listener = Callable[[logging.LogRecord], None]
_LISTENERS: dict[str, Listener] = {}
"""The CLI's listeners by token: the job runs in this process, so the logger finds its own."""


@dataclass(frozen=True)
class RunEvent:
    """One thing worth telling about a run, in the order it happened."""

    kind: str
    """run_started | stage_started | stage_rows | stage_finished | stage_failed | stage_skipped
    | channel_written | message"""
    run_id: str
    stage: str | None = None
    text: str = ""
    level: str = "info"
    """info | warning | error (messages)"""
    rows: int | None = None
    channel: str | None = None
    asset: str | None = None
    """the asset whose rows a ``stage_rows`` event counts"""
    seconds: float | None = None
    """what the step measured (channel writers); the display times stages itself"""


class _Forward(logging.Handler):
    def __init__(self, listener: Listener) -> None:
        super().__init__(logging.DEBUG)
        self.listener = listener

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.listener(record)
        except Exception:  # a display problem must never fail the run
            self.handleError(record)


@dg.logger(
    config_schema={"listener": dg.Field(str, description="token of the CLI's listener")},
    description="Hands every record of an in-process run to the `prism run` display.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger(LOGGER, logging.DEBUG)
    listener = _LISTENERS.get(init_context.logger_config["listener"])
    if listener is not None:
        logger.addHandler(_Forward(listener))
    return logger


def cli_job(config_path: str) -> dg.JobDefinition:
    """The job of ``config_path`` with the CLI's loggers (progress, and the console one for
    ``--verbose``); run config picks which of them a run uses."""
    loggers = {LOGGER: progress_logger, "console": dg.colored_console_logger}
    definitions = dg.Definitions.merge(
        build_definitions(load_config(Path(config_path))), dg.Definitions(loggers=loggers)
    )
    return definitions.resolve_job_def(JOB_NAME)


@contextmanager
def listening(listener: Listener) -> Iterator[dict[str, Any]]:
    """Register ``listener`` for the runs started inside; yields the logger's run config."""
    token = uuid.uuid4().hex
    _LISTENERS[token] = listener
    try:
        yield {LOGGER: {"config": {"listener": token}}}
    finally:
        _LISTENERS.pop(token, None)


def _meta(record: logging.LogRecord) -> dict[str, Any]:
    meta = getattr(record, "dagster_meta", None)
    return meta if isinstance(meta, dict) else {}


def run_id_of(record: logging.LogRecord) -> str | None:
    run_id = _meta(record).get("run_id")
    return run_id if isinstance(run_id, str) else None


_STEP_EVENTS = {
    "STEP_START": "stage_started",
    "STEP_SUCCESS": "stage_finished",
    "STEP_FAILURE": "stage_failed",
}
_LEVELS = {logging.WARNING: "warning", logging.ERROR: "error", logging.CRITICAL: "error"}


def event_of(record: logging.LogRecord) -> RunEvent | None:
    """The progress event a record tells, or None (Dagster's bookkeeping: inputs, outputs)."""
    meta = _meta(record)
    run_id, step = str(meta.get("run_id", "")), meta.get("step_key")
    event = meta.get("dagster_event")
    if event is not None:
        kind = event.event_type_value
        if kind in ("RUN_START", "PIPELINE_START"):
            return RunEvent("run_started", run_id)
        if kind in _STEP_EVENTS and step:
            return RunEvent(_STEP_EVENTS[kind], run_id, stage=step)
        if kind == "ASSET_MATERIALIZATION" and step:
            return _rows_event(event, run_id, step)
        return None
    if not step or record.levelno < logging.INFO:
        return None
    progress = getattr(record, PROGRESS, None)
    if isinstance(progress, dict):
        return RunEvent(
            "channel_written",
            run_id,
            stage=step,
            channel=str(progress["channel"]),
            rows=int(progress["rows"]),
            seconds=float(progress["seconds"]),
        )
    text = str(meta.get("orig_message", record.getMessage()))
    if text.startswith(f"Dependencies for step {step} failed"):
        return RunEvent("stage_skipped", run_id, stage=step, text="an earlier step failed")
    level = _LEVELS.get(record.levelno, "info")
    return RunEvent("message", run_id, stage=step, text=text, level=level)


def _rows_event(event: Any, run_id: str, step: str) -> RunEvent | None:
    """A step's materialization with a row count (``dagster/row_count``): the stage's rows."""
    metadata = event.step_materialization_data.materialization.metadata
    count = metadata.get("dagster/row_count")
    if count is None:
        return None
    asset = event.asset_key.to_user_string() if event.asset_key else None
    return RunEvent("stage_rows", run_id, stage=step, rows=int(count.value), asset=asset)


def log_line(record: logging.LogRecord) -> str:
    """A record as one line (or more, for a failure's error) of the run's log file."""
    meta = _meta(record)
    event = meta.get("dagster_event")
    when = logging.Formatter().formatTime(record, "%Y-%m-%d %H:%M:%S")
    kind = event.event_type_value if event is not None else record.levelname
    step = meta.get("step_key") or "-"
    text = str(meta.get("orig_message", record.getMessage()))
    line = f"{when} {record.levelname:<7} {step} {kind}: {text}"
    error = getattr(event.event_specific_data, "error", None) if event is not None else None
    if error is not None:
        line += "\n" + error.to_string()
    return line
