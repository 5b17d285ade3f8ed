"""``prism run`` tells what happened: short progress lines, one failure summary naming the cause
and what to do next, and a documented exit code per kind of outcome (``ExitCode``).

The runs go through the installed ``prism`` command in child processes (as a scheduler would
run it), on one small published demo workspace per module; each test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest
from click.testing import CliRunner
from factories import workspace_config
from fault_drills import AS_OF, Workspace, copy_of

from contracts import clock
from demo import generate_demo_data
from pipelines.cli import main
from pipelines.exit_codes import ExitCode
from pipelines.run_failure import breaker_line, code_of
from sinks.publish_lock import PublishLock
from sources.drops import write_marker

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Published:
    workspace: Workspace
    first: Any
    """the first ``prism run --json`` (it published)"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Demo drops and a first snapshot published by ``prism run --json`` in a child process."""
    root = tmp_path_factory.mktemp("cli") / "template"
    root.mkdir()
    generate_demo_data(root / "data", products=150, seed=5, as_of=dt.date.fromisoformat(AS_OF))
    data = workspace_config(root)
    data["quality"] = {"freshness_hours": {"pim": None, "erp": None}}
    workspace = Workspace(root)
    workspace.write_settings(data)
    (root / "dagster").mkdir()
    return Published(workspace, workspace.prism("run", "--json"))


@pytest.fixture
def workspace(published: Published, tmp_path: Path) -> Workspace:
    return copy_of(published.workspace, tmp_path / "workspace")


def prism(workspace: Workspace, *args: str, fault: str | None = None) -> Any:
    """``prism run <args>`` in a child process, stderr not a terminal."""
    return workspace.prism("run", *args, fault=fault)


def keep_products(workspace: Workspace, share: float) -> None:
    folder = next((workspace.root / "data" / "pim").iterdir())
    path = folder / "products.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: int(len(lines) * share)]), encoding="utf-8")
    write_marker(folder, {})


def test_a_run_shows_stages_and_channel_writers_as_json_lines_and_publishes(
    published: Published,
) -> None:
    done, workspace = published.first, published.workspace
    assert done.returncode == ExitCode.OK, done.stdout[-3000:] + done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "starting"
    assert kinds[-1] == "run_finished"
    finished = events[-1]
    assert finished["published"] is True
    assert finished["exit_code"] == 0
    assert finished["snapshot_id"] == workspace.live()
    assert Path(finished["log_file"]).is_file()
    stages = [e["stage"] for e in events if e["event"] == "stage_finished"]
    assert stages[0] == "source_snapshots"
    assert stages[-1] == "published_snapshot"
    assert all(e["seconds"] >= 0 for e in events if e["event"] == "stage_finished")
    written = {e["channel"]: e for e in events if e["event"] == "channel_written"}
    assert set(written) == set(workspace.settings()["channels"])
    assert all(e["rows"] > 0 and e["seconds"] >= 0 for e in written.values())
    log = Path(finished["log_file"]).read_text(encoding="utf-8")
    assert "STEP_START" in log  # Dagster's own records go to the log file


def test_a_tripped_breaker_names_itself_its_figures_and_the_override(
    workspace: Workspace,
) -> None:
    before = workspace.live()
    keep_products(workspace, 0.5)
    blocked = prism(workspace)
    assert blocked.returncode == ExitCode.BREAKER, blocked.stderr[-3000:]
    assert workspace.live() == before
    err = blocked.stderr
    assert "Traceback" not in err
    assert f"did not publish; {before} stays live" in err
    assert "circuit breaker tripped" in err
    assert re.search(r"product_drop \(website\): \d+ -> \d+ products: [\d.]+ %, limit 20 %", err)
    assert "prism run --override-breakers" in err
    assert "price_change (None)" not in err
    # short lines: the run id once at the start and once in the summary, not on every line
    lines = err.splitlines()
    run_id = UUID.search(err)
    assert run_id is not None
    assert sum(run_id.group() in line for line in lines) <= 3  # start, summary, log path
    assert any(re.match(r"channel_feeds +website: \d+ products written in", ln) for ln in lines)
    assert any(re.match(r"golden +done in [\d.]+ s", line) for line in lines)
    assert max(len(line) for line in lines if line.startswith("channel_feeds")) < 100


def test_a_failed_publish_exits_publish(workspace: Workspace) -> None:
    failed = prism(workspace, fault="publish.journal_written:raise")
    assert failed.returncode == ExitCode.PUBLISH, failed.stderr[-3000:]
    assert "the publish failed: fault injected at publish.journal_written" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_held_publish_lock_exits_lock(workspace: Workspace) -> None:
    lock = PublishLock(workspace.feeds, "another-run")
    lock.acquire()
    try:
        refused = prism(workspace, "--quiet")
    finally:
        lock.release()
    assert refused.returncode == ExitCode.LOCK, refused.stderr[-3000:]
    assert not any(line.startswith("golden") for line in refused.stderr.splitlines())  # quiet
    assert "the publish lock is held: another run holds the publish lock since" in refused.stderr
    assert "another-run" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_missing_input_folder_names_it(workspace: Workspace) -> None:
    settings = workspace.settings()
    missing = workspace.root / "data" / "no-such-pim"
    settings["pim"]["path"] = str(missing)
    workspace.write_settings(settings)
    failed = prism(workspace)
    assert failed.returncode == ExitCode.INPUT, failed.stderr[-3000:]
    assert f"input error: PIM file drop {missing}: no such folder" in failed.stderr
    assert "check `pim.path` in" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert len(failed.stderr.splitlines()) < 20
    verbose = prism(workspace, "--verbose")
    assert verbose.returncode == ExitCode.INPUT
    assert "STEP_START" in verbose.stderr  # Dagster's full logs
    assert "Stack Trace:" in verbose.stderr  # and the failure's stack trace


def test_a_config_typo_exits_config_with_the_suggestion(workspace: Workspace) -> None:
    settings = workspace.settings()
    settings["chanels"] = settings.pop("channels")
    workspace.write_settings(settings)
    failed = prism(workspace)
    assert failed.returncode == ExitCode.CONFIG, failed.stderr[-3000:]
    assert str(workspace.config) in failed.stderr
    assert failed.stderr.count("did you mean 'channels'") == 1
    assert "Traceback" not in failed.stderr


def test_an_unexpected_error_exits_internal(
    published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (the in-process executor runs the steps here): a broken clock fails the
    first step with an error no input or configuration explains."""

    def broken() -> None:
        msg = "the clock is broken"
        raise RuntimeError(msg)

    workspace = copy_of(published.workspace, tmp_path / "workspace")
    monkeypatch.setattr(clock, "utc_now", broken)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--config", str(workspace.config)])
    assert result.exit_code == ExitCode.INTERNAL, result.output
    assert "internal error: RuntimeError: the clock is broken" in result.output
    assert "Traceback" not in result.output
    assert "--verbose" in result.output


def test_usage_errors_exit_usage() -> None:
    result = CliRunner().invoke(main, ["run", "--no-such-option"])
    assert result.exit_code == ExitCode.USAGE


def test_help_documents_every_exit_code_and_version() -> None:
    runner = CliRunner()
    short = runner.invoke(main, ["-h"])
    assert short.exit_code == 0
    assert short.output == runner.invoke(main, ["--help"]).output
    for code in ExitCode:
        assert re.search(rf"^\s+{code.value}\s+{code.name}\s", short.output, re.M), code
    version = runner.invoke(main, ["--version"])
    assert version.exit_code == 0
    assert re.fullmatch(r"prism \d+\.\d+\.\d+\S*\n", version.output)


def test_every_command_has_h_and_help_for_every_option() -> None:
    runner = CliRunner()
    for name, command in main.commands.items():
        assert runner.invoke(main, [name, "-h"]).exit_code == 0, name
        assert command.help, name
        options = [p for p in command.params if isinstance(p, click.Option)]
        assert all(o.help for o in options), (name, [o.name for o in options if not o.help])


@pytest.mark.parametrize(
    ("classes", "step", "code"),
    [
        (["DagsterExecutionStepExecutionError", "DropError"], "source_snapshots", ExitCode.INPUT),
        (["DagsterExecutionStepExecutionError", "ErpFileError"], "erp_snapshot", ExitCode.INPUT),
        (["DagsterExecutionStepExecutionError", "SourceError"], "pim_master_data", ExitCode.INPUT),
        (["DagsterExecutionStepExecutionError", "MappingError"], "channel_feeds", ExitCode.CONFIG),
        (["DagsterExecutionStepExecutionError", "PublishLockHeld"], "golden", ExitCode.LOCK),
        (["LiveSnapshotChanged"], "published_snapshot", ExitCode.PUBLISH),
        (["PortalError"], "published_snapshot", ExitCode.PUBLISH),
        (["OSError"], "published_snapshot", ExitCode.PUBLISH),
        (["KeyError"], "golden", ExitCode.INTERNAL),
    ],
)
def test_a_failed_steps_error_class_gives_the_exit_code(
    classes: list[str], step: str, code: ExitCode
) -> None:
    chain = [SimpleNamespace(cls_name=name) for name in classes]
    assert code_of(chain, step) == code


def test_breaker_figures_read_as_shares_or_hours() -> None:
    drop = {"name": "product_drop", "channel": "shop", "value": 0.502, "limit": 0.2}
    assert breaker_line(drop | {"detail": "271 -> 135 products"}) == (
        "product_drop (shop): 271 -> 135 products: 50.2 %, limit 20 %"
    )
    price = {"name": "price_change", "channel": None, "value": 0.5, "limit": 0.05}
    line = breaker_line(price | {"detail": "150 of 300 prices changed by more than x3"})
    assert line == "price_change: 150 of 300 prices changed by more than x3: 50 %, limit 5 %"
    fresh = {"name": "freshness", "channel": None, "value": 72.0, "limit": 48.0}
    assert breaker_line(fresh | {"detail": "erp snapshot is 72.0 h old"}) == (
        "freshness: erp snapshot is 72.0 h old: limit 48 h"
    )


def test_every_command_gives_config_and_lock_problems_their_codes(
    published: Published, tmp_path: Path
) -> None:
    runner = CliRunner()
    for command in ("status", "recover", "rollback", "validate-config"):
        missing = runner.invoke(main, [command, "--config", str(tmp_path / "none.yaml")])
        assert missing.exit_code == ExitCode.CONFIG, (command, missing.output)
        assert "none.yaml" in missing.output
    workspace = copy_of(published.workspace, tmp_path / "workspace")
    lock = PublishLock(workspace.feeds, "another-run")
    lock.acquire()
    try:
        refused = runner.invoke(main, ["rollback", "--config", str(workspace.config)])
    finally:
        lock.release()
    assert refused.exit_code == ExitCode.LOCK, refused.output
    assert "another run holds the publish lock" in refused.output


def test_a_missing_credential_exits_config(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AKENEO_CLIENT_ID", "AKENEO_CLIENT_SECRET", "AKENEO_USERNAME", "AKENEO_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    settings = workspace.settings()
    store = str(workspace.root / "akeneo")
    settings["pim"] = {"kind": "akeneo", "base_url": "http://127.0.0.1:9", "store": store}
    workspace.write_settings(settings)
    failed = prism(workspace)
    assert failed.returncode == ExitCode.CONFIG, failed.stderr[-3000:]
    assert "the environment variable AKENEO_" in failed.stderr
    assert "is not set" in failed.stderr
