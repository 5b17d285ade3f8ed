"""The source steps are kept per source state: after a price and stock change the next run
reads the PIM step's results the run before stored, after a PIM change the ERP step's, and
each publishes exactly what a run that reads everything again publishes (every feed, the
portal, the report's exports, the deltas, every check passed); a changed product or a damaged
state reads the export again. Through the job, on the demo data with the shipped prism.yaml."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
from factories import workspace_config
from production import compare_published

from assets.publish import DELTA_INDEX
from assets.sources import ERP_STATE_CACHE, PIM_STATE_CACHE
from contracts.config import parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions
from sources.drops import write_marker

AS_OF = dt.date(2026, 11, 22)
INDEXED_FEEDS = [
    "marketplace/google_merchant.xml",
    "quoting/C1000.xml",
    "quoting/C2000.xml",
    "shop/products.csv",
    "social/meta_catalog.csv",
    "website/products.jsonl",
]
"""the shipped prism.yaml's full feeds a delta reads whole"""


def run(root: Path, drops: Path) -> dict[str, object]:
    """Run the job in the workspace ``root`` on ``drops``; the PIM, ERP and quarantine steps'
    and the publish's metadata."""
    data = workspace_config(root, drops)
    data["as_of"] = AS_OF.isoformat()
    job = build_definitions(parse_config(data)).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert result.success
        checks = result.get_asset_check_evaluations()
        events = [
            instance.get_latest_materialization_event(dg.AssetKey(key))
            for key in ("pim_master_data", "erp_prices", "quarantine", "published_snapshot")
        ]
    assert checks
    assert all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    metadata: dict[str, object] = {}
    for event in events:
        assert event is not None
        assert event.asset_materialization is not None
        metadata |= {k: v.value for k, v in event.asset_materialization.metadata.items()}
    return metadata


def change_prices_and_stock(drops: Path) -> None:
    """A daily ERP change: every stock level and one price in a hundred."""
    erp = next((drops / "erp").iterdir())
    stock = pl.read_csv(erp / "stock.csv", infer_schema=False)
    stock.with_columns(on_hand=pl.lit("7")).write_csv(erp / "stock.csv")
    prices = pl.read_csv(erp / "prices.csv", infer_schema=False)
    every_100th = pl.int_range(pl.len()) % 100 == 0
    prices = prices.with_columns(
        amount=pl.when(every_100th).then(pl.lit("12.34")).otherwise(pl.col("amount"))
    )
    prices.write_csv(erp / "prices.csv")
    write_marker(erp, {})


def change_a_name(drops: Path, line: int = 0) -> None:
    """A PIM change: one product's names."""
    products = next((drops / "pim").iterdir()) / "products.jsonl"
    lines = products.read_text(encoding="utf-8").splitlines(keepends=True)
    item = json.loads(lines[line])
    for value in item["values"]["name"]:
        value["data"] += " (2)"
    lines[line] = json.dumps(item, ensure_ascii=False) + "\n"
    products.write_text("".join(lines), encoding="utf-8")
    write_marker(products.parent, {})


def run_both(reusing: Path, reading: Path, drops: Path) -> dict[str, object]:
    """Run in ``reusing`` with its kept states, and in ``reading`` with none (every state
    read again); both publish the same; the metadata of the run in ``reusing``."""
    reused = run(reusing, drops)
    shutil.rmtree(reading / "work" / "cache")
    read = run(reading, drops)
    assert (read["pim_state_reused"], read["erp_state_reused"]) == (False, False)
    assert read["delta_index_reused"] == []  # every previous feed split again
    compared = compare_published(reusing, reading)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    return reused


def test_each_side_s_state_is_reused_and_publishes_what_a_full_read_does(tmp_path: Path) -> None:
    drops = tmp_path / "data"
    generate_demo_data(drops, products=80, seed=11, as_of=AS_OF)
    reusing, reading = tmp_path / "reusing", tmp_path / "reading"
    first = run(reusing, drops)
    assert first["pim_state_reused"] is False
    assert first["erp_state_reused"] is False
    assert first["delta_index_reused"] == []
    indexes = reusing / "work" / "cache" / DELTA_INDEX
    assert not indexes.exists()  # no delta, no split: the first publish indexes nothing
    run(reading, drops)

    change_prices_and_stock(drops)
    second = run_both(reusing, reading, drops)
    assert (second["pim_state_reused"], second["erp_state_reused"]) == (True, False)
    # every stock level changed: most golden rows differ, so each view is mapped whole
    assert not [k for k in second if k.startswith("remapped_rows/")]
    assert second["pim_state"] == first["pim_state"]
    # the first deltas split both sides and keep the new side's record indexes
    assert second["delta_index_reused"] == []
    assert len(list(indexes.iterdir())) == len(INDEXED_FEEDS)

    change_a_name(drops)
    third = run_both(reusing, reading, drops)
    assert (third["pim_state_reused"], third["erp_state_reused"]) == (False, True)
    assert third["erp_state"] == second["erp_state"]
    # every channel's view was built from the run before's: the one changed product mapped
    remapped = {k: v for k, v in third.items() if k.startswith("remapped_rows/")}
    assert remapped
    assert set(remapped.values()) == {1}
    # these read the previous feeds from those indexes, and publish what the reading
    # workspace's deltas, which split them again, publish
    assert sorted(third["delta_index_reused"]) == INDEXED_FEEDS
    names = pl.read_parquet(reusing / "feeds" / "current" / "_rows" / "shop.parquet")
    assert names.filter(pl.col("name").str.contains(" (2)", literal=True)).height == 1


def test_a_changed_product_or_a_damaged_state_reads_the_export_again(tmp_path: Path) -> None:
    drops = tmp_path / "data"
    generate_demo_data(drops, products=40, seed=12, as_of=AS_OF)
    first = run(tmp_path, drops)
    cache = tmp_path / "work" / "cache" / PIM_STATE_CACHE
    frames = cache / str(first["pim_state"]) / "frames"
    master = frames / "pim_master_data.parquet"
    master.write_bytes(master.read_bytes()[:100])  # truncated by a full disk, say
    damaged = run(tmp_path, drops)
    assert damaged["pim_state_reused"] is False
    assert damaged["pim_state"] == first["pim_state"]
    assert run(tmp_path, drops)["pim_state_reused"] is True  # stored again, whole

    change_a_name(drops)
    changed = run(tmp_path, drops)
    assert changed["pim_state_reused"] is False
    assert changed["pim_state"] != first["pim_state"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [str(first["pim_state"]), str(changed["pim_state"])]
    )
    assert changed["erp_state_reused"] is True
    assert [p.name for p in (tmp_path / "work" / "cache" / ERP_STATE_CACHE).iterdir()] == [
        changed["erp_state"]
    ]
