"""How ``prism run`` shows a run while it goes: a live table of stages and channel writers on a
terminal (rich), plain short lines otherwise, JSON lines with ``--json``, nothing but the outcome
with ``--quiet``. Every display is fed the same ``RunEvent``s and times the stages itself."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from pipelines.run_events import RunEvent

STAGE_WIDTH = 20


@dataclass
class Stage:
    name: str
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    failed: bool = False
    skipped: bool = False
    last: str = ""
    channels: list[RunEvent] = field(default_factory=list)

    def elapsed(self) -> float:
        return self.seconds if self.seconds is not None else time.monotonic() - self.started

    def summary(self) -> str:
        """``done in 1.9 s``: the stage's own messages tell its rows."""
        verb = "failed after" if self.failed else "done in"
        return f"{verb} {self.elapsed():.1f} s"


class Display(Protocol):
    def start(self, text: str) -> None: ...

    def event(self, event: RunEvent) -> None: ...

    def close(self) -> None: ...


class Stages:
    """The stages seen so far, in the order they started."""

    def __init__(self) -> None:
        self.stages: dict[str, Stage] = {}

    def update(self, event: RunEvent) -> Stage | None:
        if event.stage is None:
            return None
        stage = self.stages.setdefault(event.stage, Stage(event.stage))
        if event.kind == "stage_started":
            stage.started = time.monotonic()
        elif event.kind in ("stage_finished", "stage_failed"):
            stage.seconds = time.monotonic() - stage.started
            stage.failed = event.kind == "stage_failed"
        elif event.kind == "stage_skipped":
            stage.seconds, stage.skipped = 0.0, True
            stage.last = f"skipped: {event.text}"
        elif event.kind == "channel_written":
            stage.channels.append(event)
        elif event.kind == "message":
            stage.last = event.text
        return stage


def channel_text(event: RunEvent) -> str:
    return f"{event.channel}: {event.rows or 0:,} products written in {event.seconds or 0:.1f} s"


class PlainDisplay:
    """One short line per message, channel writer and finished stage (no run id on each)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.stages = Stages()

    def _line(self, stage: str, text: str) -> None:
        print(f"{stage:<{STAGE_WIDTH}} {text}", file=self.stream, flush=True)

    def start(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def event(self, event: RunEvent) -> None:
        if event.kind == "run_started":
            print(f"run {event.run_id}; {event.text}", file=self.stream, flush=True)
        stage = self.stages.update(event)
        if stage is None:
            return
        if event.kind == "message":
            prefix = "" if event.level == "info" else f"{event.level}: "
            self._line(stage.name, prefix + event.text)
        elif event.kind == "channel_written":
            self._line(stage.name, channel_text(event))
        elif event.kind in ("stage_finished", "stage_failed"):
            self._line(stage.name, stage.summary())

    def close(self) -> None:
        return None


class QuietDisplay:
    """Warnings only: the outcome is printed by the command."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def start(self, text: str) -> None:
        return None

    def event(self, event: RunEvent) -> None:
        if event.kind == "message" and event.level != "info":
            print(f"{event.stage}: {event.level}: {event.text}", file=self.stream, flush=True)

    def close(self) -> None:
        return None


class JsonDisplay:
    """One JSON object per line on stdout, for schedulers and scripts."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.stages = Stages()

    def emit(self, kind: str, /, **values: Any) -> None:
        record = {"event": kind, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        record |= {k: v for k, v in values.items() if v is not None}
        print(json.dumps(record, ensure_ascii=False), file=self.stream, flush=True)

    def start(self, text: str) -> None:
        self.emit("starting", text=text)

    def event(self, event: RunEvent) -> None:
        stage = self.stages.update(event)
        values = {
            "run_id": event.run_id,
            "stage": event.stage,
            "channel": event.channel,
            "asset": event.asset,
            "rows": event.rows,
            "seconds": event.seconds,
        }
        if event.kind == "message":
            values |= {"level": event.level, "text": event.text}
        if stage is not None and event.kind in ("stage_finished", "stage_failed"):
            values["seconds"] = round(stage.elapsed(), 2)
        self.emit(event.kind, **values)

    def close(self) -> None:
        return None


class LiveDisplay:
    """A live table on the terminal: each stage with a spinner while it runs, its last
    message and elapsed time; the channel writers under ``channel_feeds``."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.stages = Stages()
        self.heading = ""
        self.live = Live(
            console=self.console, get_renderable=self.render, refresh_per_second=8, transient=False
        )

    def start(self, text: str) -> None:
        self.heading = text
        self.live.start()

    def event(self, event: RunEvent) -> None:
        if event.kind == "run_started":
            self.heading = f"run {event.run_id}"
        self.stages.update(event)
        self.live.refresh()

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=1)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        table.add_column(no_wrap=True, justify="right")
        if not self.stages.stages:
            table.add_row(Spinner("dots"), "starting", "loading Dagster and the job", "")
        for stage in self.stages.stages.values():
            elapsed = "" if stage.skipped else f"{stage.elapsed():.1f} s"
            table.add_row(_mark(stage), stage.name, stage.last, elapsed)
            for written in stage.channels:
                table.add_row("", "", f"↳ {channel_text(written)}", "")
        return Group(Text(self.heading, style="bold"), table)

    def close(self) -> None:
        self.live.stop()


def _mark(stage: Stage) -> RenderableType:
    if stage.seconds is None:
        return Spinner("dots")
    if stage.skipped:
        return Text("·", style="dim")
    return Text("✗", style="red") if stage.failed else Text("✓", style="green")


def display_for(
    *, quiet: bool, as_json: bool, verbose: bool, terminal: bool | None = None
) -> Display:
    """The display a run's flags and its stderr ask for."""
    if as_json:
        return JsonDisplay()
    if quiet:
        return QuietDisplay()
    is_terminal = sys.stderr.isatty() if terminal is None else terminal
    if is_terminal and not verbose:
        return LiveDisplay()
    return PlainDisplay()
