"""Snapshot of the asset graph: a change to keys, dependencies or checks shows up in review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import REPO, default_config

from assets.resources import AkeneoResource, SapResource
from contracts.config import load_config, parse_config
from pipelines.definitions import JOB_NAME, build_definitions, job_for

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
    ["golden_products", *STRUCTURE, "price_tiers", "quarantine", "source_snapshots"]
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
