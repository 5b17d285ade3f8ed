"""The production setup for tests: the Dagster instance of ``deploy/postgres`` on a fresh
database of the local PostgreSQL, the local RabbitMQ as Celery broker, and the processes a
deployment runs (Celery workers, the daemon) started by a test and killed after it.

Tests using it are marked ``distributed``. Without PostgreSQL or RabbitMQ on 127.0.0.1 they
are skipped, naming what is missing; under CI (``CI`` set) that is a failure instead, because
``.ci/services`` starts both.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import yaml
from factories import REPO, workspace_config
from portals import POSTGRES

BROKER = os.environ.get("PRISM_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG_VARIABLE = "PRISM_DAGSTER_PG_URL"
BROKER_VARIABLE = "PRISM_CELERY_BROKER_URL"
PRODUCTION_YAML = REPO / "deploy" / "postgres" / "dagster.yaml"
AS_OF = "2026-11-22"


def require_services() -> None:
    """Skip (fail under CI) unless PostgreSQL and the broker answer on this machine."""
    missing = []
    try:
        engine = sa.create_engine(POSTGRES)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError as error:
        missing.append(f"PostgreSQL at {POSTGRES} ({type(error.orig).__name__})")
    broker = urlsplit(BROKER)
    address = (broker.hostname or "127.0.0.1", broker.port or 5672)
    try:
        socket.create_connection(address, timeout=3).close()
    except OSError as error:
        missing.append(f"RabbitMQ at {address[0]}:{address[1]} ({error})")
    if not missing:
        return
    reason = "needs " + " and ".join(missing) + "; `bash .ci/services` starts them"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def dagster_database() -> Iterator[str]:
    """A new empty database for one Dagster instance, dropped afterwards with whatever
    connections its processes left open; yields the URL dagster-postgres takes."""
    name = f"prism_dagster_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)  # a generated name, not data
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
    try:
        url = sa.make_url(POSTGRES).set(drivername="postgresql+psycopg2", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


def dagster_home(folder: Path) -> Path:
    """A DAGSTER_HOME holding the shipped production ``dagster.yaml``, unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(PRODUCTION_YAML, folder / "dagster.yaml")
    return folder


def write_workspace(root: Path, drops: Path, execution: Mapping[str, Any]) -> Path:
    """``root/prism.yaml``: the shipped configuration on the demo ``drops``, publishing under
    ``root``, with ``execution``; returns its path."""
    data = workspace_config(root, drops)
    data["as_of"] = AS_OF
    data["execution"] = dict(execution)
    root.mkdir(parents=True, exist_ok=True)
    config = root / "prism.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def environment(home: Path, database: str, config: Path) -> dict[str, str]:
    """What every process of the deployment shares: the instance, its database, the broker,
    the configuration, and this checkout first on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRISM_")}
    return env | {
        "DAGSTER_HOME": str(home),
        PG_VARIABLE: database,
        BROKER_VARIABLE: BROKER,
        "PRISM_CONFIG": str(config),
        "PYTHONPATH": str(REPO),
        "PYTHONWARNINGS": "ignore",
    }


def prism_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from pipelines.cli import main; main()", *args]


def dagster_command(program: str, *args: str) -> list[str]:
    return [str(Path(sys.executable).with_name(program)), *args]


@contextmanager
def started(
    commands: list[list[str]], env: Mapping[str, str], cwd: Path, logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``commands`` running in the background, each in a process group of its own (a worker's
    pool, the daemon's code server and run processes), all ended when the block exits."""
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for index, command in enumerate(commands):
            with (logs / f"{Path(command[0]).name}-{index}.log").open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        command,
                        env=dict(env),
                        cwd=cwd,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield processes
    finally:
        for process in processes:
            _end(process)


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group (Celery and the daemon stop their children), then
    SIGKILL to whatever of the group outlived its leader (the group id is the leader's pid)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


ASSEMBLED = ("*/*.csv", "*/*.xml", "*/*.jsonl")
"""A sharded run's feed files: its shards' records one shard after the other (the rows are
compared as multisets; ``_rows`` and the price data stay in sku order and are compared so)."""
RUN_TIMEOUT_SECONDS = 300.0


def prism_run(config: Path, env: Mapping[str, str]) -> dict[str, object]:
    """`prism run --json` of ``config`` in a child process; its closing ``run_finished`` line."""
    done = subprocess.run(
        [*prism_command("run", "--config", str(config), "--json")],
        env={**env, "PRISM_CONFIG": str(config)},
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    finished = [line for line in lines if line.get("event") == "run_finished"]
    assert finished, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(finished[-1])


def compare_published(
    left: Path, right: Path, unordered: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``bench/compare_snapshots.py`` on two workspaces' live snapshots and portals (the HTML
    report stamps its creation time, so it is left out)."""
    command = [sys.executable, str(REPO / "bench" / "compare_snapshots.py")]
    command += [str(left / "feeds" / "current"), str(right / "feeds" / "current")]
    command += ["--portal", str(left / "portal.sqlite"), str(right / "portal.sqlite")]
    command += ["--skip", "*.html"]
    for pattern in unordered:
        command += ["--unordered", pattern]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def log_tail(logs: Path, lines: int = 40) -> str:
    """The end of every process log under ``logs``, for an assertion message."""
    parts = []
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(text))
    return "\n".join(parts)
