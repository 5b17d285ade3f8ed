"""Completeness is kept per PIM state: a run after a price and stock change reads the scores
the run before computed (the PIM values they count did not change); a changed name scores
again. Both through the job, on the demo data with the shipped prism.yaml."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import polars as pl
from factories import workspace_config
from polars.testing import assert_frame_equal

from contracts.config import parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions
from sources.drops import write_marker

AS_OF = dt.date(2026, 11, 22)


def run(root: Path) -> tuple[bool, pl.DataFrame]:
    """Whether the run reused the completeness scores, and the scores its report exports."""
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    job = build_definitions(parse_config(data)).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey("quality_report"))
    assert event is not None
    assert event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    report = Path(str(metadata["report"].value)).parent
    return bool(metadata["completeness_reused"].value), pl.read_parquet(
        report / "completeness.parquet"
    )


def test_a_price_change_reuses_the_scores_and_a_pim_change_scores_again(tmp_path: Path) -> None:
    generate_demo_data(tmp_path / "data", products=80, seed=5, as_of=AS_OF)
    reused, first = run(tmp_path)
    assert not reused

    erp = next((tmp_path / "data" / "erp").iterdir())
    stock = pl.read_csv(erp / "stock.csv", infer_schema=False)
    stock.with_columns(on_hand=pl.lit("3")).write_csv(erp / "stock.csv")
    write_marker(erp, {})
    reused, second = run(tmp_path)
    assert reused
    assert_frame_equal(second, first)

    products = next((tmp_path / "data" / "pim").iterdir()) / "products.jsonl"
    lines = products.read_text(encoding="utf-8").splitlines(keepends=True)
    item = json.loads(lines[0])
    item["values"].pop("description", None)  # a counted field goes missing
    lines[0] = json.dumps(item, ensure_ascii=False) + "\n"
    products.write_text("".join(lines), encoding="utf-8")
    write_marker(products.parent, {})
    reused, third = run(tmp_path)
    assert not reused
    sku = item["identifier"]
    before = first.filter(pl.col("sku") == sku).drop("sku", "family")
    after = third.filter(pl.col("sku") == sku).drop("sku", "family")
    assert after.sum_horizontal().item() < before.sum_horizontal().item()
