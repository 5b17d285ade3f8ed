"""Delivery after a publish, through Dagster and the CLI: the ``deliveries`` asset never fails
for a failed push (receipt in its metadata, a WARN check), and ``prism deliver CHANNEL`` sends
the live snapshot to the targets still owed it; ``prism status`` shows the last receipts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from click.testing import CliRunner
from factories import workspace_config
from servers.receiver import Receiver, http_receiver

from assets.delivery import DELIVERED_CHECK, build_delivery_assets
from assets.resources import DeliveryResource, FeedStoreResource
from contracts.config import PrismConfig, parse_config
from contracts.snapshots import FeedFile, Manifest
from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.exit_codes import ExitCode
from sinks.delivery import read_receipts
from sinks.publish import publish_snapshot
from sinks.snapshot_store import SnapshotStore
from sources.preflight import input_problems

SNAPSHOT = "20261120T080000Z-0000000a"
TOKEN = "cli-t0ken-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver(Receiver()) as running:
        yield running


@pytest.fixture
def config_file(tmp_path: Path, receiver: Receiver) -> Path:
    """A workspace whose ``shop`` channel pushes to the receiver, with a published snapshot."""
    data: dict[str, Any] = workspace_config(tmp_path)
    del data["channels"]["portal"]  # no SQL portal: `prism status` reads files only
    data["channels"]["shop"]["deliver"] = [
        {
            "kind": "http",
            "url": f"{receiver.base_url}/import/{{file}}",
            "token_env": "FEED_TOKEN",
            "retry": {"attempts": 2, "backoff_seconds": 0},
        }
    ]
    path = tmp_path / "prism.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    store = SnapshotStore(tmp_path / "feeds")
    (store.channel_dir(SNAPSHOT, "shop") / "products.csv").write_text("sku\n1\n", encoding="utf-8")
    files = [FeedFile("shop", "shop/products.csv", 1)]
    publish_snapshot(store, Manifest(SNAPSHOT, "2026-11-20", "", {}, files), {}, 5, None)
    return path


def config_of(path: Path) -> PrismConfig:
    return parse_config(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_prism_deliver_retries_a_failed_delivery_and_status_shows_the_receipts(
    config_file: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_TOKEN", TOKEN)
    runner = CliRunner()
    args = ["--config", str(config_file)]
    receiver.script = [503, 503]

    failed = runner.invoke(main, ["deliver", "shop", *args])
    assert failed.exit_code == ExitCode.DELIVERY, failed.output
    assert "failed after 2 attempts" in failed.output
    shown = runner.invoke(main, ["status", *args])
    assert shown.exit_code == 0, shown.output
    assert (
        f"delivery shop[0]: {receiver.base_url}/import/{{file}} failed {SNAPSHOT}" in shown.output
    )

    retried = runner.invoke(main, ["deliver", "shop", "--target", "0", *args])
    assert retried.exit_code == 0, retried.output
    assert f"ok {SNAPSHOT}" in retried.output
    assert receiver.received[-1].body == b"sku\n1\n"
    again = runner.invoke(main, ["deliver", "shop", *args])
    assert "every target has the live snapshot" in again.output
    assert "ok" in runner.invoke(main, ["status", *args]).output

    receipts = (config_file.parent / "feeds" / "deliveries.jsonl").read_text(encoding="utf-8")
    for output in (failed.output, shown.output, retried.output, receipts):
        assert TOKEN not in output


def test_prism_deliver_refuses_an_unknown_channel_or_target(config_file: Path) -> None:
    runner = CliRunner()
    args = ["--config", str(config_file)]
    assert runner.invoke(main, ["deliver", "website", *args]).exit_code == ExitCode.USAGE
    assert runner.invoke(main, ["deliver", "shop", "--target", "1", *args]).exit_code == 2


def test_the_deliveries_asset_reports_a_failed_push_without_failing(
    config_file: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_TOKEN", TOKEN)
    config = config_of(config_file)
    (asset,) = build_delivery_assets(config)
    resources = {
        "feed_store": FeedStoreResource(directory=str(config.publish.directory)),
        "delivery": DeliveryResource(variables=["FEED_TOKEN"]),
    }
    receiver.script = [503, 503]

    first = dg.materialize([asset], resources=resources, raise_on_error=False)
    assert first.success
    (check,) = first.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == (DELIVERED_CHECK, False)
    (materialization,) = first.asset_materializations_for_node("deliveries")
    assert materialization.metadata["failed"] == dg.IntMetadataValue(1)

    second = dg.materialize([asset], resources=resources)  # the next run: still owed, sent
    (materialization,) = second.asset_materializations_for_node("deliveries")
    assert materialization.metadata["delivered"] == dg.IntMetadataValue(1)
    outcomes = [r.outcome for r in read_receipts(config.publish.directory)]
    assert outcomes == ["failed", "ok"]


def test_no_deliveries_asset_without_targets(tmp_path: Path) -> None:
    assert build_delivery_assets(parse_config(workspace_config(tmp_path))) == []


def test_the_code_location_delivers_after_the_publish_with_credentials_from_the_environment(
    config_file: Path,
) -> None:
    definitions = build_definitions(config_of(config_file))
    graph = definitions.resolve_asset_graph()
    deliveries = dg.AssetKey("deliveries")
    assert graph.get(deliveries).parent_keys == {dg.AssetKey("published_snapshot")}
    delivery = definitions.resources["delivery"]
    assert isinstance(delivery, DeliveryResource)
    assert delivery.variables == ["FEED_TOKEN"]  # read when the deliveries run


def test_validate_config_names_an_unset_delivery_variable_never_its_value(
    config_file: Path,
) -> None:
    config = config_of(config_file)
    found = [p for p in input_problems(config, {}) if p.loc[0] == "channels"]
    assert [(p.loc, p.reason) for p in found] == [
        (("channels", "shop", "deliver", 0, "token_env"), "FEED_TOKEN is not set")
    ]
    assert not [p for p in input_problems(config, {"FEED_TOKEN": TOKEN}) if p.loc[0] == "channels"]


def test_an_unset_delivery_variable_fails_the_delivery_not_the_run(
    config_file: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEED_TOKEN", raising=False)
    config = config_of(config_file)
    definitions = build_definitions(config)
    (asset,) = build_delivery_assets(config)
    resources = {"feed_store": definitions.resources["feed_store"]}
    resources["delivery"] = definitions.resources["delivery"]

    result = dg.materialize([asset], resources=resources)
    assert result.success
    (receipt,) = read_receipts(config.publish.directory)
    assert not receipt.ok
    assert "FEED_TOKEN" in (receipt.error or "")
    assert receiver.received == []
