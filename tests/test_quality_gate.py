"""The quality gate through the public entry points (Dagster job, `prism run`): circuit breakers
stop a harmful publish and keep the live snapshot, an override publishes for one run, and every
run leaves a report with exports that merchandisers can open (checked in headless Chromium)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from browser import render
from click.testing import CliRunner
from factories import workspace_config
from playwright.sync_api import Page

from assets.quality_report import OVERRIDE_TAG
from contracts.config import PrismConfig, parse_config
from demo import generate_demo_data
from pipelines.cli import main
from pipelines.definitions import JOB_NAME, build_definitions
from pipelines.exit_codes import ExitCode
from sources.drops import write_marker

AS_OF = dt.date(2026, 11, 22)
CHANNELS = ("website", "shop", "portal", "marketplace", "social", "quoting")
"""the shipped prism.yaml's channels"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate_demo_data(root, products=400, seed=11, as_of=AS_OF)
    return root


@pytest.fixture
def root(demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo data (tests change it), freshly written."""
    shutil.copytree(demo, tmp_path / "data")
    return tmp_path


def config_for(root: Path, **quality: object) -> PrismConfig:
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    data["quality"] = quality
    return parse_config(data)


def run(config: PrismConfig, override: bool = False) -> dg.ExecuteInProcessResult:
    job = build_definitions(config).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={OVERRIDE_TAG: "true"} if override else None,
        )


def snapshot(folder: Path, name: str) -> Path:
    return next((folder / "data" / name).iterdir())


def live(root: Path) -> str:
    return os.readlink(root / "feeds" / "current")


def report_folder(result: dg.ExecuteInProcessResult) -> Path:
    (materialization,) = result.asset_materializations_for_node("quality_report")
    return Path(str(materialization.metadata["report"].value)).parent


def breaker_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (check,) = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "circuit_breakers"
    ]
    return check


def tripped(result: dg.ExecuteInProcessResult) -> set[str]:
    summary = json.loads((report_folder(result) / "summary.json").read_text(encoding="utf-8"))
    return {b["name"] for b in summary["breakers"] if b["tripped"]}


def drop_products(root: Path, keep_share: float) -> None:
    path = snapshot(root, "pim") / "products.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: int(len(lines) * keep_share)]), encoding="utf-8")
    write_marker(path.parent, {})  # the producer seals the changed drop anew


def test_a_product_drop_blocks_the_publish_until_a_run_overrides_it(root: Path) -> None:
    first = run(config_for(root))
    assert first.success
    before = live(root)
    drop_products(root, keep_share=0.5)

    blocked = run(config_for(root))
    assert not blocked.success
    assert live(root) == before  # the previous snapshot stays live
    check = breaker_check(blocked)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert not blocked.asset_materializations_for_node("published_snapshot")
    assert "product_drop" in tripped(blocked)
    page = (report_folder(blocked) / "index.html").read_text(encoding="utf-8")
    assert "NOT published" in page

    forced = run(config_for(root), override=True)
    assert forced.success
    assert live(root) != before
    assert breaker_check(forced).severity == dg.AssetCheckSeverity.WARN
    summary = json.loads((report_folder(forced) / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "overridden"
    assert summary["previous_snapshot"] == Path(before).name


def test_a_per_channel_limit_lets_the_others_through(root: Path) -> None:
    assert run(config_for(root)).success
    drop_products(root, keep_share=0.5)
    lenient = dict.fromkeys(CHANNELS, 0.6)
    lenient["marketplace"] = 0.1
    result = run(config_for(root, max_product_drop_by_channel=lenient))
    assert not result.success
    summary = json.loads((report_folder(result) / "summary.json").read_text(encoding="utf-8"))
    drops = {b["channel"] for b in summary["breakers"] if b["tripped"]}
    assert drops == {"marketplace"}


def test_price_jumps_trip_the_price_breaker(root: Path) -> None:
    assert run(config_for(root)).success
    path = snapshot(root, "erp") / "prices.csv"
    prices = pl.read_csv(path, infer_schema=False)
    jumped = prices.with_columns(
        amount=pl.when(pl.col("price_type") == "list")
        .then((pl.col("amount").cast(pl.Decimal(18, 2), strict=False) * 10).cast(pl.String))
        .otherwise(pl.col("amount"))
    )
    jumped.write_csv(path)
    write_marker(path.parent, {})
    result = run(config_for(root))
    assert not result.success
    assert tripped(result) == {"price_change"}
    page = (report_folder(result) / "index.html").read_text(encoding="utf-8")
    assert "Biggest price rises" in page


def test_a_stale_source_snapshot_trips_freshness(root: Path) -> None:
    old = time.time() - 72 * 3600
    for path in snapshot(root, "erp").iterdir():
        os.utime(path, (old, old))
    result = run(config_for(root))
    assert not result.success
    assert tripped(result) == {"freshness"}
    assert not (root / "feeds" / "current").exists()  # nothing was ever published


@pytest.mark.parametrize("shards", [1, 3])
def test_the_cli_reports_a_block_and_publishes_with_override_breakers(
    root: Path, monkeypatch: pytest.MonkeyPatch, shards: int
) -> None:
    """The same with the sharded job (``shards: 3``): its publish step evaluates the same
    checks, so the block, its exit code and the override work alike."""
    monkeypatch.chdir(root)
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster"))
    (root / "dagster").mkdir()
    config = root / "prism.yaml"
    settings = config_for(root)
    execution = settings.execution.model_copy(update={"shards": shards})
    settings = settings.model_copy(update={"execution": execution})
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["run", "--config", str(config)]).exit_code == 0
    drop_products(root, keep_share=0.5)
    blocked = runner.invoke(main, ["run", "--config", str(config)])
    assert blocked.exit_code == ExitCode.BREAKER, blocked.output
    assert "did not publish" in blocked.output
    assert "stays live" in blocked.output
    assert "product_drop" in blocked.output
    assert "report: " in blocked.output
    assert "--override-breakers" in blocked.output
    forced = runner.invoke(main, ["run", "--config", str(config), "--override-breakers"])
    assert forced.exit_code == 0, forced.output
    assert "quality report:" in forced.output


def xlsx_rows(path: Path) -> int:
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return sheet.count("<row ")


def test_every_run_leaves_a_report_with_exports_and_expectation_results(root: Path) -> None:
    result = run(config_for(root))
    assert result.success
    folder = report_folder(result)
    everything = pl.read_parquet(root / "work" / result.run_id / "quarantine.parquet")
    # products a channel's filters leave out are counted per channel, not listed to fix
    filtered = everything.filter(pl.col("severity") == "filtered")
    assert filtered.height  # the social channel takes clothing only
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["channels"]["social"]["filtered"] == filtered.filter(channel="social").height
    quarantine = everything.filter(pl.col("severity") != "filtered")
    with (folder / "quarantine.csv").open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == quarantine.height
    # one sheet row per finding: a finding that is an error on one channel (a required field)
    # and a warning on others (an optional value dropped) is a row for each severity
    findings = quarantine.select("sku", "rule", "field", "value", "source", "severity").unique()
    assert xlsx_rows(folder / "quarantine.xlsx") == findings.height + 1
    for channel in CHANNELS:
        validated = json.loads((folder / "expectations" / f"{channel}.json").read_text())
        assert validated["results"]
        errors = [
            r
            for r in validated["results"]
            if r["expectation_config"]["meta"]["severity"] == "error"
        ]
        assert all(r["success"] for r in errors)  # quarantined products never reach a feed
    scores = pl.read_parquet(folder / "completeness.parquet")
    golden = pl.read_parquet(root / "work" / result.run_id / "golden_products.parquet")
    assert scores.height == golden.filter(pl.col("enabled")).height
    assert {"sku", "family", "website/de_DE", "quoting/fr_FR"} <= set(scores.columns)
    assert scores["marketplace/de_DE"].is_between(0, 1).all()
    (published,) = result.asset_materializations_for_node("published_snapshot")
    assert Path(str(published.metadata["report"].value)) == folder / "index.html"
    first_quarantined = quarantine.filter(pl.col("channel") == "marketplace").row(0, named=True)

    def check(page: Page) -> None:
        assert page.get_by_role("heading", name="Summary per channel").is_visible()
        assert page.get_by_text(first_quarantined["source"]).first.is_visible()

    screenshot = root / "report.png"
    assert render(folder / "index.html", screenshot, check) == []
    assert screenshot.stat().st_size > 10_000
