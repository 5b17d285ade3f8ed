"""Snapshot of the asset graph: a change to keys, dependencies or checks shows up in review."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pytest
import yaml
from factories import REPO, default_config

from assets.resources import AkeneoResource, SapResource
from contracts.config import ConfigError, load_config, parse_config
from pipelines.definitions import JOB_NAME, QUEUE_TAG, build_definitions, job_for

CHANNELS = ("website", "shop", "portal", "marketplace", "social", "quoting")
STRUCTURE = [
    "pim_attribute_options",
    "pim_attributes",
    "pim_channels",
    "pim_families",
    "pim_family_variants",
]
"""The PIM's catalog model: every step that compiles the channels' mappings reads it."""
CHANNEL_STEP = sorted(
    [
        "erp_customers",  # a quoting channel's customers can come from the ERP
        "golden_products",
        *STRUCTURE,
        "price_tiers",
        "quarantine",
        "source_snapshots",
    ]
)
GRAPH = {
    "source_snapshots": [],
    "pim_master_data": ["source_snapshots"],
    "pim_rejects": ["source_snapshots"],
    **{name: ["source_snapshots"] for name in STRUCTURE},
    "erp_prices": ["source_snapshots"],
    "erp_stock": ["source_snapshots"],
    "erp_supply": ["source_snapshots"],
    "erp_rejects": ["source_snapshots"],
    "erp_customers": ["source_snapshots"],
    "golden_products": [
        "erp_prices",
        "erp_stock",
        "erp_supply",
        "pim_master_data",
        "source_snapshots",
    ],
    "price_tiers": ["erp_prices", "erp_stock", "erp_supply", "pim_master_data", "source_snapshots"],
    "quarantine": sorted(
        [
            "erp_prices",
            "erp_rejects",
            "erp_stock",
            "erp_supply",
            "golden_products",
            *STRUCTURE,
            "pim_rejects",
            "source_snapshots",
        ]
    ),
    **{f"feeds/{c}": CHANNEL_STEP for c in CHANNELS},
    "expectation_results": CHANNEL_STEP,
    "quality_report": sorted(
        [
            "erp_prices",
            "expectation_results",
            "golden_products",
            *STRUCTURE,
            "quarantine",
            "source_snapshots",
        ]
    ),
    "published_snapshot": sorted(
        [*(f"feeds/{c}" for c in CHANNELS), "quality_report", "source_snapshots"]
    ),
}


def test_the_asset_graph_is_as_designed() -> None:
    defs = build_definitions(load_config(REPO / "prism.yaml"))
    graph = defs.resolve_asset_graph()
    found = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert found == GRAPH
    checks = sorted(c.to_user_string() for c in graph.asset_check_keys)
    assert checks == sorted(
        [
            "golden_products:sku_unique",
            "quarantine:erp_rows_accounted",
            "quality_report:circuit_breakers",
        ]
        + [
            f"feeds/{c}:{n}"
            for c in CHANNELS
            for n in ("accounted", "not_empty", "expectations", "warnings")
        ]
    )
    assert defs.resolve_job_def(JOB_NAME).name == JOB_NAME
    assert [s.name for s in defs.schedules] == ["daily_syndication"]
    assert [s.name for s in defs.sensors] == ["new_source_snapshot"]


def test_live_sources_bind_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = default_config()
    data["pim"] = {"kind": "akeneo", "base_url": "http://127.0.0.1:1", "store": "s"}
    data["erp"] = {
        "kind": "sap",
        "base_url": "http://127.0.0.1:1",
        "root": "r",
        "plants": {"1": "W"},
    }
    defs = build_definitions(parse_config(data))
    pim, erp = defs.resources["pim"], defs.resources["erp"]
    assert isinstance(pim, AkeneoResource)
    assert isinstance(erp, SapResource)
    assert [s.name for s in defs.sensors] == []  # nothing is dropped to watch
    for name in ("AKENEO_CLIENT_ID", "AKENEO_CLIENT_SECRET", "AKENEO_USERNAME", "SAP_USER"):
        monkeypatch.setenv(name, f"value of {name}")
    monkeypatch.setenv("AKENEO_PASSWORD", "pim-secret")
    monkeypatch.setenv("SAP_PASSWORD", "erp-secret")
    assert pim.process_config_and_initialize().password == "pim-secret"
    assert erp.process_config_and_initialize().password == "erp-secret"


def test_the_cli_job_is_rebuilt_from_the_config_path_alone(tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text(json.dumps(default_config()), encoding="utf-8")
    job = job_for(str(config))
    assert job.name == JOB_NAME
    assert set(job.run_config_schema.config_type.fields["ops"].config_type.fields) >= {
        "source_snapshots",
        "quality_report",
    }


FEED_KINDS = {
    "website": {"polars", "json"},
    "shop": {"polars", "csv"},
    "portal": {"polars", "duckdb"},
    "marketplace": {"polars", "xml"},
    "social": {"polars", "csv"},
    "quoting": {"polars", "xml"},
}
BARE_TAG = re.compile(r"<[A-Za-z_/][^>]*>")
"""What a Markdown renderer takes for an HTML tag (and shows as nothing)."""


def outside_code(text: str) -> str:
    """``text`` without its code spans (where ``<channel>`` is shown as written)."""
    return re.sub(r"`[^`]*`", "", text)


@pytest.fixture(scope="module")
def shipped() -> dg.Definitions:
    return build_definitions(load_config(REPO / "prism.yaml"))


def test_every_asset_has_kinds_owners_tags_and_its_own_safe_description(
    shipped: dg.Definitions,
) -> None:
    graph = shipped.resolve_asset_graph()
    descriptions: dict[str, str] = {}
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        assert node.kinds, name
        assert "team:product-data" in node.owners, name
        assert node.tags["prism/layer"] in {"sources", "golden", "quality", "feeds", "publish"}
        assert node.description, name
        assert not BARE_TAG.search(outside_code(node.description)), (name, node.description)
        descriptions[name] = node.description
    # the four ERP outputs and the six feeds no longer share one text
    assert len(set(descriptions.values())) == len(descriptions)
    for channel, kinds in FEED_KINDS.items():
        node = graph.get(dg.AssetKey(["feeds", channel]))
        assert node.kinds == kinds, channel
        assert node.tags["prism/channel"] == channel
        assert f"**{channel}**" in (node.description or "")
    assert graph.get(dg.AssetKey(["feeds", "marketplace"])).owners == [
        "team:product-data",
        "team:marketplaces",
    ]
    assert graph.get(dg.AssetKey("erp_prices")).kinds == {"polars", "csv", "duckdb"}
    assert graph.get(dg.AssetKey("expectation_results")).kinds >= {"greatexpectations"}


def column_names(node_metadata: Mapping[str, object]) -> list[str]:
    schema = node_metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    return [c.name for c in schema.columns]


def test_the_golden_record_and_each_channel_declare_their_columns(
    shipped: dg.Definitions,
) -> None:
    graph = shipped.resolve_asset_graph()
    golden = column_names(graph.get(dg.AssetKey("golden_products")).metadata)
    assert golden[0] == "sku"
    assert {"enabled", "availability", "list_price_EUR", "list_price_USD"} <= set(golden)
    marketplace = column_names(graph.get(dg.AssetKey(["feeds", "marketplace"])).metadata)
    assert marketplace[:4] == ["sku", "id", "title", "description"]
    assert {"google_product_category", "age_group", "custom_label_1"} <= set(marketplace)
    shop = column_names(graph.get(dg.AssetKey(["feeds", "shop"])).metadata)
    assert {"name", "material", "eco"} <= set(shop)
    for channel in CHANNELS:
        assert column_names(graph.get(dg.AssetKey(["feeds", channel])).metadata)[0] == "sku"


def test_freshness_follows_the_configured_source_freshness(shipped: dg.Definitions) -> None:
    graph = shipped.resolve_asset_graph()

    def stale_after(hours: int) -> dg.FreshnessPolicy:
        return dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=hours))

    policies = {
        k.to_user_string(): graph.get(k).freshness_policy for k in graph.get_all_asset_keys()
    }
    assert policies["erp_prices"] == stale_after(48)
    assert policies["pim_master_data"] == stale_after(168)
    assert policies["golden_products"] == stale_after(48)  # the stricter of both sources
    assert policies["published_snapshot"] == stale_after(48)
    data = default_config()
    data["quality"]["freshness_hours"] = {"pim": None, "erp": None}
    unlimited = build_definitions(parse_config(data)).resolve_asset_graph()
    assert unlimited.get(dg.AssetKey("golden_products")).freshness_policy is None


def test_the_job_runs_in_process_one_at_a_time_on_a_zoned_schedule(
    shipped: dg.Definitions,
) -> None:
    job = shipped.resolve_job_def(JOB_NAME)
    # the job and a materialization from the asset graph (the implicit asset job) alike
    for each in (job, shipped.resolve_implicit_global_asset_job_def()):
        assert each.executor_def.name == "in_process_by_default"
        default = each.run_config_schema.config_type.fields["execution"].default_value
        assert list(default["config"]) == ["in_process"]
    assert job.tags == {QUEUE_TAG: "publish"}
    instance_settings = yaml.safe_load((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    limits = instance_settings["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": QUEUE_TAG, "value": "publish", "limit": 1} in limits
    production = REPO / "deploy" / "postgres" / "dagster.yaml"
    production_settings = yaml.safe_load(production.read_text(encoding="utf-8"))
    limits = production_settings["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert {"key": QUEUE_TAG, "value": "publish", "limit": 1} in limits
    [schedule] = shipped.schedules
    assert isinstance(schedule, dg.ScheduleDefinition)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 6 * * *",
        "Europe/Berlin",
    )


def test_an_owner_must_be_an_email_or_a_team() -> None:
    data = default_config()
    data["owners"] = ["product data"]
    with pytest.raises(ConfigError, match=r"owners\.0: .*team:<name>"):
        parse_config(data)


def test_shards_make_the_job_the_sharded_one_with_its_schedule_and_queue() -> None:
    """``execution.shards`` > 1: the job of the code location (and so its schedule, sensor and
    `prism run`) is the sharded op job: a step per shard, the same queue tag and executor."""
    data = default_config()
    data["execution"] = {"executor": "multiprocess", "shards": 4}
    definitions = build_definitions(parse_config(data))
    job = definitions.resolve_job_def(JOB_NAME)
    assert {node.name for node in job.nodes} >= {"shard_plan", "shard_catalog", "sharded_publish"}
    assert job.tags == {QUEUE_TAG: "publish"}
    assert job.executor_def.name == "multiprocess_by_default"
    [schedule] = definitions.schedules
    assert schedule.job_name == JOB_NAME


@pytest.mark.parametrize("shards", [0, 257])
def test_shards_are_between_1_and_256(shards: int) -> None:
    data = default_config()
    data["execution"] = {"shards": shards}
    with pytest.raises(ConfigError, match="shards"):
        parse_config(data)
