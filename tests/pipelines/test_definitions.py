"""Snapshot of the asset graph: a change to keys, dependencies or checks shows up in review."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from factories import REPO, default_config

from assets.resources import AkeneoResource, SapResource
from contracts.config import load_config, parse_config
from pipelines.definitions import JOB_NAME, build_definitions, run_settings, syndicate_job

GRAPH = {
    "source_snapshots": [],
    "pim_master_data": ["source_snapshots"],
    "pim_rejects": ["source_snapshots"],
    "pim_families": ["source_snapshots"],
    "erp_prices": ["source_snapshots"],
    "erp_stock": ["source_snapshots"],
    "erp_supply": ["source_snapshots"],
    "erp_rejects": ["source_snapshots"],
    "golden_products": ["erp_prices", "erp_stock", "erp_supply", "pim_master_data"],
    "price_tiers": ["erp_prices", "erp_stock", "erp_supply", "pim_master_data"],
    "quarantine": [
        "erp_prices",
        "erp_rejects",
        "erp_stock",
        "erp_supply",
        "golden_products",
        "pim_families",
        "pim_rejects",
        "source_snapshots",
    ],
    **{
        f"feeds/{c}": ["golden_products", "pim_families", "price_tiers", "quarantine"]
        for c in ("website", "shop", "portal", "marketplace", "quoting")
    },
    "expectation_results": ["golden_products", "pim_families", "price_tiers", "quarantine"],
    "quality_report": [
        "expectation_results",
        "golden_products",
        "quarantine",
        "source_snapshots",
    ],
    "published_snapshot": [
        "feeds/marketplace",
        "feeds/portal",
        "feeds/quoting",
        "feeds/shop",
        "feeds/website",
        "quality_report",
        "source_snapshots",
    ],
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
            for c in ("website", "shop", "portal", "marketplace", "quoting")
            for n in ("accounted", "not_empty", "expectations", "warnings")
        ]
    )
    assert defs.resolve_job_def(JOB_NAME).name == JOB_NAME
    assert [s.name for s in defs.schedules] == ["daily_syndication"]
    assert [s.name for s in defs.sensors] == ["new_source_snapshot"]


def test_live_sources_bind_secrets_from_the_environment_and_honour_full_pull() -> None:
    data = default_config()
    data["pim"] = {"kind": "akeneo", "base_url": "http://127.0.0.1:1", "store": "s"}
    data["erp"] = {
        "kind": "sap",
        "base_url": "http://127.0.0.1:1",
        "root": "r",
        "plants": {"1": "W"},
    }
    defs = build_definitions(parse_config(data), full_pull=True)
    pim, erp = defs.resources["pim"], defs.resources["erp"]
    assert isinstance(pim, AkeneoResource)
    assert isinstance(erp, SapResource)
    assert pim.full_pull
    assert erp.full_pull
    assert [s.name for s in defs.sensors] == []  # nothing is dropped to watch


def test_the_cli_job_is_rebuilt_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "prism.yaml"
    config.write_text(json.dumps(default_config()), encoding="utf-8")
    monkeypatch.setenv("PRISM_CONFIG", str(config))
    monkeypatch.setenv("PRISM_FULL_PULL", "1")
    monkeypatch.setenv("PRISM_AS_OF", "2026-11-22")
    settings, full_pull = run_settings()
    assert settings.as_of_date() == dt.date(2026, 11, 22)
    assert full_pull
    monkeypatch.setenv("PRISM_FULL_PULL", "0")
    monkeypatch.setenv("PRISM_AS_OF", "")
    settings, full_pull = run_settings()
    assert (settings.as_of, full_pull) == (None, False)
    assert syndicate_job().name == JOB_NAME
