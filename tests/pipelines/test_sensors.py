"""The file-drop sensor, evaluated with ``dg.build_sensor_context``: one run per new pair of
complete drop folders, keyed ``pim:<folder>|erp:<folder>``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from factories import default_config

from contracts.config import parse_config
from pipelines.definitions import JOB_NAME
from pipelines.sensors import build_source_sensor
from sources.drops import write_marker


def drop(root: Path, folder: str, *files: str) -> Path:
    """A drop folder under ``root`` holding ``files``; its producer seals it with the ready
    marker once the side's main file (products / prices) is there."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    for name in files:
        (path / name).write_text("sku\n", encoding="utf-8")
    if {"products.jsonl", "prices.csv", "prices.parquet"} & set(files):
        write_marker(path, dict.fromkeys(files, 0))
    return path


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def sensor(tmp_path: Path) -> dg.SensorDefinition:
    data = default_config()
    data["pim"] = {"kind": "files", "path": str(tmp_path / "pim")}
    data["erp"] = {"kind": "files", "path": str(tmp_path / "erp")}
    return build_source_sensor(JOB_NAME, parse_config(data))


def tick(
    tmp_path: Path, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return sensor(tmp_path)(context)


def run_keys(result: dg.SensorResult | dg.SkipReason) -> list[str | None]:
    assert isinstance(result, dg.SensorResult), result
    return [r.run_key for r in result.run_requests or []]


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda root: None, "PIM file drop {root}/pim: no such folder"),
        (
            lambda root: (root / "pim").mkdir(),
            "PIM file drop {root}/pim: no complete snapshot folder (with a manifest.json)",
        ),
        (
            lambda root: drop(root / "pim", "20261122T060000Z", "products.jsonl"),
            "ERP file drop {root}/erp: no such folder",
        ),
        (
            lambda root: (
                drop(root / "pim", "20261122T060000Z", "products.jsonl"),
                drop(root / "erp", "20261122T060000Z", "stock.csv"),  # no prices yet
            ),
            "ERP file drop {root}/erp: no complete snapshot folder (with a manifest.json)",
        ),
    ],
    ids=["no_pim_folder", "empty_pim_folder", "no_erp_folder", "erp_without_prices"],
)
def test_without_a_complete_drop_the_sensor_skips_naming_the_folder(
    tmp_path: Path, instance: dg.DagsterInstance, prepare: Callable[[Path], object], message: str
) -> None:
    prepare(tmp_path)
    result = tick(tmp_path, instance)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == message.format(root=tmp_path)


def test_a_new_drop_starts_one_run_and_sets_the_cursor(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    drop(tmp_path / "pim", "20261122T060000Z", "products.jsonl", "families.jsonl")
    drop(tmp_path / "erp", "20261122T050000Z", "prices.csv", "stock.csv")
    result = tick(tmp_path, instance)
    key = "pim:20261122T060000Z|erp:20261122T050000Z"
    assert run_keys(result) == [key]
    assert isinstance(result, dg.SensorResult)
    assert result.cursor == key

    again = tick(tmp_path, instance, cursor=key)
    assert isinstance(again, dg.SkipReason)
    assert again.skip_message == f"no new snapshot since {key}"


def test_a_folder_still_being_created_is_not_picked(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    drop(tmp_path / "pim", "20261122T060000Z", "products.jsonl")
    drop(tmp_path / "erp", "20261122T060000Z", "prices.csv")
    key = "pim:20261122T060000Z|erp:20261122T060000Z"
    drop(tmp_path / "pim", "20261123T060000Z", "attributes.jsonl")  # no marker yet
    drop(tmp_path / "erp", "20261123T060000Z", "stock.csv")  # no marker yet
    (tmp_path / "erp" / "20261123T060000Z" / "prices.csv").write_text("sku\n")  # being copied
    assert run_keys(tick(tmp_path, instance)) == [key]
    assert isinstance(tick(tmp_path, instance, cursor=key), dg.SkipReason)


def test_a_newer_drop_on_either_side_starts_the_next_run(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    drop(tmp_path / "pim", "20261122T060000Z", "products.jsonl")
    drop(tmp_path / "erp", "20261122T060000Z", "prices.csv")
    first = "pim:20261122T060000Z|erp:20261122T060000Z"
    drop(tmp_path / "erp", "20261122T120000Z", "prices.parquet")
    result = tick(tmp_path, instance, cursor=first)
    second = "pim:20261122T060000Z|erp:20261122T120000Z"
    assert run_keys(result) == [second]
    assert isinstance(result, dg.SensorResult)
    assert result.cursor == second
