"""End to end: a configuration change alone changes the feeds as declared, and ``prism
preview`` reports the change against the live snapshot before it goes live."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner

from contracts.config import PrismConfig, parse_config
from demo import generate_demo_data
from pipelines.cli import main
from pipelines.definitions import JOB_NAME, build_definitions
from pipelines.preview import preview_channel

AS_OF = dt.date(2026, 11, 22)
SHOP: dict[str, Any] = {
    "format": "csv",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://shop.example.com/p/{sku}",
    "preset": "demo_shop",
}
CHANGED: dict[str, Any] = SHOP | {
    "delimiter": ";",
    "bom": True,
    "fields": {
        "Farbe": {"attribute": "color"},  # a new column from a select: its German label
        "name": "{field.label} ({role.brand})",  # a template
    },
    "filters": {"include": {"categories": ["clothing"]}},  # a category subtree
}


def config(root: Path, shop: dict[str, Any]) -> PrismConfig:
    return parse_config(data(root, shop))


def data(root: Path, shop: dict[str, Any]) -> dict[str, Any]:
    return {
        "as_of": AS_OF.isoformat(),
        "locales": ["de_DE", "en_US"],
        "scope": "ecommerce",
        "media_base_url": "https://media.example.com/",
        "pim": {"kind": "files", "path": str(root / "data" / "pim")},
        "erp": {"kind": "files", "path": str(root / "data" / "erp")},
        "publish": {"directory": str(root / "feeds"), "work_directory": str(root / "work")},
        "quality": {"freshness_hours": {"pim": None, "erp": None}, "max_product_drop": 1},
        "channels": {"shop": shop},
    }


def run(settings: PrismConfig, instance: dg.DagsterInstance) -> None:
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    assert job.execute_in_process(instance=instance).success


def shop_feed(root: Path, **dialect: Any) -> list[dict[str, str]]:
    path = root / "feeds" / "current" / "shop" / "products.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, **dialect))


def colour_options(root: Path) -> tuple[set[str], set[str]]:
    """The color attribute's German labels and option codes in the demo's PIM export."""
    folder = next((root / "data" / "pim").iterdir())
    lines = (folder / "attribute_options.jsonl").read_text(encoding="utf-8").splitlines()
    options = [o for o in map(json.loads, lines) if o["attribute"] == "color"]
    return {o["labels"]["de_DE"] for o in options}, {o["code"] for o in options}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mappings")
    generate_demo_data(root / "data", products=400, seed=11, as_of=AS_OF)
    with dg.DagsterInstance.ephemeral() as instance:
        run(config(root, SHOP), instance)
    return root


def test_a_config_change_is_previewed_against_the_live_snapshot_then_published(
    root: Path,
) -> None:
    before = shop_feed(root)
    assert "Farbe" not in before[0]
    changed = config(root, CHANGED)
    preview = preview_channel(changed, "shop")
    assert preview.live_snapshot is not None
    clothing = {r["sku"] for r in before if "Bekleidung" in r["category_path"]}
    assert 0 < preview.counts["published"] == len(clothing) < len(before)
    assert preview.removed == len(before) - len(clothing)
    assert preview.added == 0
    fields = dict(preview.fields.iter_rows())
    assert fields["Farbe"] == len(clothing)  # a new column changes every product in both
    assert preview.changed == len(clothing)
    reasons = {r["rule"]: r["products"] for r in preview.reasons.iter_rows(named=True)}
    assert reasons["filtered_by_include"] == preview.counts["filtered"] > 0
    live = root / "feeds" / "current" / "shop" / "products.csv"
    assert shop_feed(root) == before  # the preview published nothing
    assert live.read_bytes()[:3] != b"\xef\xbb\xbf"

    with dg.DagsterInstance.ephemeral() as instance:
        run(changed, instance)
    assert live.read_bytes()[:3] == b"\xef\xbb\xbf"  # the BOM
    after = shop_feed(root, delimiter=";")
    assert {r["sku"] for r in after} == clothing
    assert list(after[0])[-1] == "Farbe"
    colours = {r["Farbe"] for r in after if r["Farbe"]}
    labels, codes = colour_options(root)
    assert colours
    assert colours <= labels  # German labels, never the option codes
    assert not colours & (codes - labels)
    assert all(r["name"].endswith(f"({r['brand']})") for r in after)


def test_the_cli_previews_as_csv_and_json(root: Path, tmp_path: Path) -> None:
    settings = tmp_path / "prism.yaml"
    settings.write_text(json.dumps(data(root, CHANGED)), encoding="utf-8")
    runner = CliRunner()
    table = runner.invoke(main, ["preview", "shop", "--config", str(settings), "--limit", "3"])
    assert table.exit_code == 0, table.output
    assert "would be published" in table.output
    assert "Farbe" in table.output
    as_json = runner.invoke(
        main, ["preview", "shop", "--config", str(settings), "--format", "json", "--limit", "2"]
    )
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert len(rows) == 2
    assert {"sku", "Farbe", "name"} <= set(rows[0])
    one = rows[0]["sku"]
    only = runner.invoke(
        main, ["preview", "shop", "--config", str(settings), "--format", "csv", "--sku", one]
    )
    assert only.exit_code == 0, only.output
    assert pl.read_csv(only.stdout.encode())["sku"].to_list() == [one]
    unknown = runner.invoke(main, ["preview", "shopp", "--config", str(settings)])
    assert unknown.exit_code == 1
    assert "no channel 'shopp'" in unknown.output
