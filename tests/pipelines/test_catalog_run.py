"""What the Dagster UI shows after a run of the demo catalog, materialized in process: product
row counts and column schemas on the feeds, clickable file links to the report and manifest,
and one channel re-staged alone (never published)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from factories import REPO, workspace_config

from assets.catalog import link
from assets.feeds import expectation_checks, feed_key
from contracts.config import PrismConfig, parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions

AS_OF = dt.date(2026, 11, 22)
CHANNELS = ("website", "shop", "portal", "marketplace", "social", "quoting")


def config_for(root: Path) -> PrismConfig:
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    return parse_config(data, base=REPO)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    generate_demo_data(root / "data", products=300, seed=7, as_of=AS_OF)
    return root


@pytest.fixture(scope="module")
def job(root: Path) -> dg.JobDefinition:
    return build_definitions(config_for(root)).resolve_job_def(JOB_NAME)


@pytest.fixture(scope="module")
def instance() -> Any:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="module")
def result(job: dg.JobDefinition, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    return result


@pytest.fixture(scope="module")
def manifest(root: Path, result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return json.loads((root / "feeds" / "current" / "manifest.json").read_text(encoding="utf-8"))


def metadata_of(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, Any]:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_feeds_count_products_not_files_and_show_their_mapped_columns(
    root: Path, result: dg.ExecuteInProcessResult, manifest: dict[str, Any]
) -> None:
    snapshot = root / "feeds" / "snapshots" / manifest["snapshot_id"]
    for channel in CHANNELS:
        found = metadata_of(result, feed_key(channel))
        files = [f for f in manifest["files"] if f["channel"] == channel]
        assert found["dagster/row_count"] == manifest["channels"][channel] > 1, channel
        assert found["files"] == len(files) >= 2, channel
        assert found["published"] is True
        rows = pl.read_parquet_schema(snapshot / "_rows" / f"{channel}.parquet")
        schema = found["dagster/column_schema"]
        assert [c.name for c in schema.columns] == list(rows), channel
        if channel != "portal":  # a SQL channel writes tables, no folder
            assert found["folder"] == (snapshot / channel).as_uri()
            assert (snapshot / channel).is_dir()
    golden = metadata_of(result, dg.AssetKey("golden_products"))["dagster/column_schema"]
    assert any(c.name.startswith("attr.") for c in golden.columns)


def test_the_report_and_the_manifest_are_file_links(
    root: Path, result: dg.ExecuteInProcessResult, manifest: dict[str, Any]
) -> None:
    published = metadata_of(result, dg.AssetKey("published_snapshot"))
    snapshot_id = manifest["snapshot_id"]
    manifest_file = root / "feeds" / "snapshots" / snapshot_id / "manifest.json"
    report_file = root / "feeds" / "reports" / snapshot_id / "index.html"
    assert published["manifest_link"] == manifest_file.as_uri()
    assert published["report_link"] == report_file.as_uri()
    assert manifest_file.is_file()
    assert report_file.is_file()
    gate = metadata_of(result, dg.AssetKey("quality_report"))
    assert gate["report_link"] == report_file.as_uri()


def test_a_feed_server_serves_the_links(root: Path) -> None:
    data = config_for(root).model_dump()
    data["publish"]["base_url"] = "https://feeds.example.com/prism"
    config = parse_config(data)
    report = root / "feeds" / "reports" / "x" / "index.html"
    assert link(config, report).value == "https://feeds.example.com/prism/reports/x/index.html"


def test_the_demo_warnings_are_reported_without_turning_the_check_yellow(
    result: dg.ExecuteInProcessResult,
) -> None:
    warnings = [c for c in result.get_asset_check_evaluations() if c.check_name == "warnings"]
    assert len(warnings) == len(CHANNELS)
    assert all(c.passed for c in warnings)
    assert all(c.metadata["tolerated_share"].value == 0.01 for c in warnings)


@pytest.mark.parametrize(("unexpected", "passed"), [(0, True), (1, True), (2, False)])
def test_the_warnings_check_fails_once_a_rule_hits_more_than_the_tolerated_share(
    unexpected: int, passed: bool
) -> None:
    results = pl.DataFrame(
        {
            "channel": ["shop", "shop"],
            "rule": ["description_missing", "gtin_invalid"],
            "severity": ["warn", "error"],
            "success": [unexpected == 0, True],
            "unexpected_count": [unexpected, 0],
            "evaluated": [100, 100],
        }
    )
    checks = {c.check_name: c for c in expectation_checks(results, "shop", 0.01)}
    assert checks["warnings"].passed is passed
    assert checks["warnings"].severity == dg.AssetCheckSeverity.WARN
    assert checks["expectations"].passed


def test_one_channel_is_restaged_alone_and_never_published(
    root: Path,
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    result: dg.ExecuteInProcessResult,
    manifest: dict[str, Any],
) -> None:
    live = (root / "feeds" / "current").resolve()
    alone = job.execute_in_process(
        instance=instance, asset_selection=[feed_key("marketplace")], raise_on_error=False
    )
    assert alone.success
    keys = [e.asset_key for e in alone.get_asset_materialization_events()]
    assert keys == [feed_key("marketplace")]
    checks = {c.check_name for c in alone.get_asset_check_evaluations()}
    assert checks == {"accounted", "not_empty", "expectations", "warnings"}
    found = metadata_of(alone, feed_key("marketplace"))
    assert found["published"] is False
    assert found["dagster/row_count"] == manifest["channels"]["marketplace"]
    staged = Path(found["folder"].removeprefix("file://"))
    assert staged.parent.parent == root / "feeds" / "staging"
    assert [p.name for p in staged.iterdir()] == ["google_merchant.xml"]
    assert (root / "feeds" / "current").resolve() == live  # nothing went live

    publish = job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey("published_snapshot")],
        raise_on_error=False,
    )
    assert not publish.success
    [failure] = [e for e in publish.all_events if e.is_step_failure]
    assert failure.step_failure_data.error is not None
    assert "staged by another run" in failure.step_failure_data.error.message
    assert (root / "feeds" / "current").resolve() == live
