"""Steps executed by two Celery workers (`prism worker` on the local RabbitMQ, the run on the
production instance in PostgreSQL) publish what an in-process run of the same drops publishes,
compared file by file and portal table by table by ``bench/compare_snapshots.py``; so does a
run in 4 shards (``execution.shards``) whose shard steps the two workers share."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from production import (
    ASSEMBLED,
    PG_VARIABLE,
    compare_published,
    dagster_database,
    dagster_home,
    environment,
    log_tail,
    prism_command,
    prism_run,
    require_services,
    started,
    write_workspace,
)

from demo import generate_demo_data

pytestmark = pytest.mark.distributed
WORKER_START_SECONDS = 120.0


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    require_services()
    with dagster_database() as url:
        monkeypatch.setenv(PG_VARIABLE, url)
        yield url


def test_two_celery_workers_publish_what_an_in_process_run_publishes(
    tmp_path: Path, database: str
) -> None:
    drops = tmp_path / "drops"
    generate_demo_data(drops, products=300, seed=7, as_of=dt.date(2026, 11, 22))
    home = dagster_home(tmp_path / "dagster")
    queue = f"prism-test-{secrets.token_hex(4)}"  # this test's workers take only its steps
    celery = write_workspace(
        tmp_path / "celery", drops, {"executor": "celery", "queue": queue, "max_concurrent": 1}
    )
    local = write_workspace(tmp_path / "local", drops, {"executor": "in_process"})
    sharded = write_workspace(
        tmp_path / "sharded",
        drops,
        {"executor": "celery", "queue": queue, "max_concurrent": 1, "shards": 4},
    )
    env = environment(home, database, celery)
    logs = tmp_path / "logs"
    workers = [prism_command("worker", "--config", str(celery)) for _ in range(2)]
    with started(workers, env, tmp_path, logs) as processes:
        baseline = prism_run(local, env)
        _wait_until_ready(logs, len(processes))
        distributed = prism_run(celery, env)
        in_shards = prism_run(sharded, env)
    assert baseline["published"], log_tail(logs)
    assert distributed["published"], log_tail(logs)
    assert in_shards["published"], log_tail(logs)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ran_on = _workers_by_step(instance, str(distributed["run_id"]))
        steps = _steps(instance, str(baseline["run_id"]))
        shard_workers = _workers_by_step(instance, str(in_shards["run_id"]))
        accounted = _accounting(instance, str(in_shards["run_id"]))
        expected = _checked_accounting(instance, str(baseline["run_id"]))
    assert set(ran_on) == steps  # every step of the in-process run, on a worker
    assert {name.split("@")[0] for name in ran_on.values()} == {
        f"prism-{p.pid}" for p in processes
    }  # and both workers took steps
    compare = compare_published(local.parent, celery.parent)
    assert compare.returncode == 0, compare.stdout[-4000:]
    shard_steps = {f"shard_{kind}[shard_{i}]" for kind in ("master", "catalog") for i in range(4)}
    assert shard_steps <= set(shard_workers)  # every shard's steps, each on a worker
    assert len({name.split("@")[0] for name in shard_workers.values()}) == 2
    compare = compare_published(local.parent, sharded.parent, ASSEMBLED)
    assert compare.returncode == 0, compare.stdout[-4000:]
    # nothing lost across shards: per channel, every product of every shard is published,
    # quarantined, filtered or disabled
    assert set(accounted) == {"marketplace", "portal", "quoting", "shop", "social", "website"}
    assert accounted == expected  # the unsharded run's `accounted` checks, number for number
    for counts in accounted.values():
        parts = ("published", "quarantined", "filtered", "disabled")
        assert counts["products"] == sum(counts[k] for k in parts)


def _checked_accounting(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, int]]:
    """Channel -> the counts of the asset job's ``accounted`` check on its feed."""
    found = {}
    kind = dg.DagsterEventType.ASSET_CHECK_EVALUATION
    for entry in instance.all_logs(run_id, of_type=kind):
        event = entry.dagster_event
        evaluation = event.event_specific_data if event is not None else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation):
            continue
        if evaluation.check_name != "accounted":
            continue
        found[evaluation.asset_key.path[-1]] = {
            key: int(value.value)
            for key, value in evaluation.metadata.items()
            if key in ("products", "published", "quarantined", "filtered", "disabled")
        }
    return found


def _accounting(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, int]]:
    """Channel -> the accounting the sharded run's publish step recorded on its feed."""
    found = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        if materialization is None or materialization.asset_key.path[0] != "feeds":
            continue
        metadata = materialization.metadata
        counts = {
            key.removeprefix("accounted/"): int(value.value)
            for key, value in metadata.items()
            if key.startswith("accounted/") and key != "accounted/balanced"
        }
        found[materialization.asset_key.path[-1]] = counts
    return found


def _steps(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    found = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    return {entry.step_key for entry in found if entry.step_key is not None}


def _wait_until_ready(logs: Path, count: int) -> None:
    """Until ``count`` workers logged Celery's ``ready.``: a step sent to a queue nobody
    listens on would wait for ever."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        ready = [p for p in logs.glob("*.log") if " ready." in p.read_text(errors="replace")]
        if len(ready) >= count:
            return
        time.sleep(0.5)
    raise AssertionError("the workers did not start\n" + log_tail(logs))


def _workers_by_step(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Step key -> the Celery worker that executed it, from the run's engine events."""
    found = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        metadata = event.engine_event_data.metadata if event is not None else {}
        if "Celery worker" in metadata and entry.step_key is not None:
            found[entry.step_key] = str(metadata["Celery worker"].value)
    return found
