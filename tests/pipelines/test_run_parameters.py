"""Run parameters are run config, resolved once per run; the CLI runs from any folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml
from factories import workspace_config

from contracts import clock
from contracts.config import parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions

BEFORE_MIDNIGHT = dt.datetime(2026, 11, 22, 23, 59, 59, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    generate_demo_data(root, products=120, seed=3, as_of=dt.date(2026, 11, 22))
    return root


def config_data(demo: Path, root: Path) -> dict[str, object]:
    data = workspace_config(root, drops=demo)
    data["quality"] = {"freshness_hours": {"pim": None, "erp": None}}
    return data


def test_one_as_of_per_run_even_when_the_clock_passes_midnight(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read of the clock moves it on by an hour, starting a second before midnight: a
    run that read "today" in each asset would price, check and publish with different days."""
    readings = iter(BEFORE_MIDNIGHT + dt.timedelta(hours=n) for n in range(1_000))
    monkeypatch.setattr(clock, "utc_now", lambda: next(readings))
    config = parse_config(config_data(demo, tmp_path))
    job = build_definitions(config).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    assert next(readings) > BEFORE_MIDNIGHT + dt.timedelta(hours=2)  # the clock did move on
    work = tmp_path / "work" / result.run_id
    golden = pl.read_parquet(work / "golden_products.parquet")
    pinned = pl.read_parquet(work / "source_snapshots.parquet")
    manifest = json.loads((tmp_path / "feeds" / "current" / "manifest.json").read_text())
    assert set(pinned["as_of"]) == {dt.date(2026, 11, 22)}
    assert manifest["as_of"] == "2026-11-22"
    backorders = golden.filter(pl.col("availability") == "backorder")
    assert backorders.height
    assert (backorders["availability_date"] >= dt.date(2026, 11, 22)).all()
    (materialization,) = result.asset_materializations_for_node("quality_report")
    report = Path(str(materialization.metadata["report"].value)).parent
    summary = json.loads((report / "summary.json").read_text())
    assert summary["as_of"] == "2026-11-22"


def test_the_launch_parameter_wins_over_the_configuration(demo: Path, tmp_path: Path) -> None:
    data = config_data(demo, tmp_path)
    data["as_of"] = "2026-11-20"
    job = build_definitions(parse_config(data)).resolve_job_def(JOB_NAME)
    run_config = {"ops": {"source_snapshots": {"config": {"as_of": "2026-11-21"}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance)
    manifest = json.loads((tmp_path / "feeds" / "current" / "manifest.json").read_text())
    assert result.success
    assert manifest["as_of"] == "2026-11-21"


def test_prism_run_works_from_an_empty_folder(demo: Path, tmp_path: Path) -> None:
    """``--config`` names a file elsewhere whose relative paths are relative to it; the working
    directory holds nothing (no prism.yaml, no dagster.yaml)."""
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    data = config_data(demo, tmp_path)
    data["publish"] = {"directory": "feeds", "work_directory": "work"}  # relative to the file
    data["channels"]["portal"]["url"] = "sqlite:///portal.sqlite"  # type: ignore[index]
    (deploy / "X.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    environment = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "PRISM_CONFIG"}}
    prism = Path(sys.executable).parent / "prism"
    command = [str(prism), "run", "--config", str(deploy / "X.yaml"), "--as-of", "2026-11-22"]
    done = subprocess.run(command, cwd=empty, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "published" in done.stdout
    assert list(empty.iterdir()) == []
    manifest = json.loads((deploy / "feeds" / "current" / "manifest.json").read_text())
    assert manifest["as_of"] == "2026-11-22"
    assert (deploy / "portal.sqlite").is_file()
