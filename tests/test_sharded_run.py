"""Sharded runs (``execution.shards``): the catalog split by family root, read, merged and
mapped in a step per shard, publishes what an unsharded run publishes, file by file and portal
table by table (``bench/compare_snapshots.py``); a shard step killed mid-run is redone alone
when the run is re-executed from its failure."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from factories import REPO
from lxml import etree
from production import ASSEMBLED, compare_published, prism_run, write_workspace

from demo import generate_demo_data

RUN_TIMEOUT_SECONDS = 300.0
"""The re-execution of a killed run, like a run (``production.prism_run``)."""


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drops")
    generate_demo_data(folder, products=300, seed=7, as_of=dt.date(2026, 11, 22))
    return folder


def _environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRISM_")}
    home.mkdir(parents=True, exist_ok=True)
    return env | {
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


def _succeeded(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    found = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    return {entry.step_key for entry in found if entry.step_key is not None}


def test_a_sharded_run_publishes_what_an_unsharded_run_publishes(
    tmp_path: Path, drops: Path
) -> None:
    local = write_workspace(tmp_path / "local", drops, {"executor": "in_process"})
    parts = tmp_path / "shared-storage"  # execution.shard_directory: where workers meet
    sharded = write_workspace(
        tmp_path / "sharded",
        drops,
        {"executor": "in_process", "shards": 3, "shard_directory": str(parts)},
    )
    home = tmp_path / "dagster"
    baseline = prism_run(local, _environment(home))
    split = prism_run(sharded, _environment(home))
    assert baseline["published"], baseline
    assert split["published"], split
    with dg.DagsterInstance.from_config(str(home)) as instance:
        steps = _succeeded(instance, str(split["run_id"]))
    assert {f"shard_catalog[shard_{i}]" for i in range(3)} <= steps
    assert {f"shard_master[shard_{i}]" for i in range(3)} <= steps
    run_parts = parts / str(split["run_id"]) / "shards"
    assert sorted(p.name for p in run_parts.glob("shard-*")) == ["shard-0", "shard-1", "shard-2"]
    assert not list((tmp_path / "sharded" / "work").glob("*/shards"))
    compare = compare_published(local.parent, sharded.parent, ASSEMBLED)
    assert compare.returncode == 0, compare.stdout[-4000:]


def test_a_killed_shard_step_is_redone_alone(tmp_path: Path, drops: Path) -> None:
    """kill -9 of one shard's step (as the OOM killer would) fails the run; re-executing it
    from the failure runs that shard's step and the steps after it, reading the other shard's
    parts from the failed run (two shards: each step process costs seconds of imports)."""
    config = write_workspace(
        tmp_path / "w", drops, {"executor": "multiprocess", "max_concurrent": 2, "shards": 2}
    )
    home = tmp_path / "dagster"
    killed = prism_run(config, _environment(home, PRISM_FAULT="shard.catalog.1:kill"))
    assert not killed["published"]
    first = str(killed["run_id"])
    env = _environment(home, PRISM_CONFIG=str(config))
    script = (
        "import sys, dagster as dg\n"
        "job = dg.build_reconstructable_job('pipelines.run_events', 'cli_job',"
        " reconstructable_args=(sys.argv[1],))\n"
        "with dg.DagsterInstance.get() as instance:\n"
        "    options = dg.ReexecutionOptions.from_failure(sys.argv[2], instance)\n"
        "    result = dg.execute_job(job, instance=instance, reexecution_options=options)\n"
        "    print('RUN', result.run_id, result.success)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(config), first],
        env=env,
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    runs = [line.split() for line in done.stdout.splitlines() if line.startswith("RUN ")]
    assert runs, done.stdout[-3000:] + done.stderr[-3000:]
    assert runs[-1][2] == "True", done.stdout[-3000:] + done.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        before = _succeeded(instance, first)
        again = _succeeded(instance, runs[-1][1])
    shard_steps = {s for s in again if s.startswith("shard_")}
    assert shard_steps == {"shard_catalog[shard_1]"}, again
    assert "sharded_publish" in again
    assert "shard_catalog[shard_0]" in before
    assert "shard_catalog[shard_1]" not in before
    live = (config.parent / "feeds" / "current").resolve()
    assert live.name.endswith(runs[-1][1].replace("-", "")[:8])
    _check_assembled(live)


def _check_assembled(snapshot: Path) -> None:
    """Every spliced document parses and holds the records its manifest counts: no part's
    own head (written by the killed run, with its time) was left inside a file."""
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    rows = {f["path"]: f["rows"] for f in manifest["files"] if f["kind"] == "file"}
    documents = {"quoting": "{*}PRODUCT", "marketplace": "item"}
    for channel, tag in documents.items():
        for path in sorted((snapshot / channel).glob("*.xml")):
            if path.name.startswith("delta") or path.name == "supplemental.xml":
                continue
            root = etree.parse(str(path)).getroot()
            assert len(root.findall(f".//{tag}")) == rows[f"{channel}/{path.name}"], path
            stamps = root.findall(".//{*}DATETIME[@type='generation_date']")
            assert len(stamps) <= 1, path
    shop = (snapshot / "shop" / "products.csv").read_text(encoding="utf-8-sig")
    assert sum(line.startswith("sku;") for line in shop.splitlines()) == 1  # one header


def test_shards_without_products_publish_nothing_of_their_own(tmp_path: Path) -> None:
    """More shards than family roots: the empty shards' steps run and add nothing; the
    publish is still the unsharded one."""
    drops = tmp_path / "drops"
    generate_demo_data(drops, products=24, seed=3, as_of=dt.date(2026, 11, 22))
    local = write_workspace(tmp_path / "local", drops, {"executor": "in_process"})
    # 16 shards for the 13 family roots of these 24 products
    sharded = write_workspace(tmp_path / "sharded", drops, {"executor": "in_process", "shards": 16})
    home = tmp_path / "dagster"
    assert prism_run(local, _environment(home))["published"]
    split = prism_run(sharded, _environment(home))
    assert split["published"], split
    folders = sorted((tmp_path / "sharded" / "work").glob("*/shards/pim/shard-*"))
    assert len(folders) == 16  # more shards than family roots: some are empty
    empty = [f for f in folders if not (f / "products.jsonl").read_text(encoding="utf-8").strip()]
    assert empty, "every shard got products; the test needs some without"
    compare = compare_published(local.parent, sharded.parent, ASSEMBLED)
    assert compare.returncode == 0, compare.stdout[-4000:]
