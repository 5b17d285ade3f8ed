"""The Parquet IO manager, through ``dg.materialize`` into a temporary directory: each asset is
one Parquet file at ``<base_dir>/<run id>/<asset key path>.parquet``; a later run that
materializes only a downstream asset loads its input from the run that materialized it last."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.resources import CACHE_FOLDER, PolarsParquetIOManager, prune_run_folders
from contracts.golden import MONEY

PRICES = pl.DataFrame(
    {
        "sku": ["A", "B", None],
        "list_price_EUR": [Decimal("19.990000"), Decimal("0.000001"), None],
        "valid_from": [dt.date(2026, 1, 1), None, dt.date(2026, 12, 31)],
        "categories": [["tops"], [], None],
    },
    schema={
        "sku": pl.String,
        "list_price_EUR": MONEY,
        "valid_from": pl.Date,
        "categories": pl.List(pl.String),
    },
)


@dg.asset(key_prefix=["feeds"])
def prices() -> pl.DataFrame:
    return PRICES


@dg.asset(key_prefix=["feeds"])
def priced_skus(prices: pl.DataFrame) -> pl.DataFrame:
    return prices.filter(pl.col("list_price_EUR").is_not_null()).select("sku")


def io_manager(base_dir: Path) -> dict[str, PolarsParquetIOManager]:
    return {"io_manager": PolarsParquetIOManager(base_dir=str(base_dir))}


def materialized_alone(
    asset: dg.AssetsDefinition, base_dir: Path, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """A run of ``asset`` alone: its input ``prices`` comes from the run that made it last."""
    return dg.materialize(
        [prices, asset], selection=[asset.key], resources=io_manager(base_dir), instance=instance
    )


def test_each_asset_is_one_parquet_file_at_its_key_path_in_the_run_folder(
    tmp_path: Path,
) -> None:
    result = dg.materialize([prices, priced_skus], resources=io_manager(tmp_path))
    assert result.success
    run = tmp_path / result.run_id
    assert_frame_equal(pl.read_parquet(run / "feeds" / "prices.parquet"), PRICES)
    assert_frame_equal(
        pl.read_parquet(run / "feeds" / "priced_skus.parquet"),
        pl.DataFrame({"sku": ["A", "B"]}),
    )
    files = sorted(p.relative_to(run).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["feeds/priced_skus.parquet", "feeds/prices.parquet"]  # no temporary left


def test_two_runs_never_share_intermediates(tmp_path: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize([prices], resources=io_manager(tmp_path), instance=instance)
        second = dg.materialize([prices], resources=io_manager(tmp_path), instance=instance)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.run_id, second.run_id])


def test_a_downstream_asset_materialized_alone_loads_its_input_from_the_file(
    tmp_path: Path,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize(
            [prices, priced_skus], resources=io_manager(tmp_path), instance=instance
        )
        # the file the first run wrote is what the next run must read (here: replaced)
        PRICES.head(1).write_parquet(tmp_path / first.run_id / "feeds" / "prices.parquet")
        result = materialized_alone(priced_skus, tmp_path, instance)
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [priced_skus.key]
    written = tmp_path / result.run_id / "feeds" / "priced_skus.parquet"
    assert_frame_equal(pl.read_parquet(written), pl.DataFrame({"sku": ["A"]}))


@dg.asset(key_prefix=["feeds"])
def price_dates(prices: pl.LazyFrame) -> pl.DataFrame:
    """Reads its input as a query: only the columns it selects are read from the file."""
    assert isinstance(prices, pl.LazyFrame)
    return prices.select("sku", "valid_from").collect()


def test_an_input_typed_lazy_is_a_scan_of_the_upstream_file(tmp_path: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize(
            [prices, price_dates], resources=io_manager(tmp_path), instance=instance
        )
        assert_frame_equal(
            pl.read_parquet(tmp_path / first.run_id / "feeds" / "price_dates.parquet"),
            PRICES.select("sku", "valid_from"),
        )
        # materialized alone, it scans the file of the run that materialized its input
        PRICES.tail(1).write_parquet(tmp_path / first.run_id / "feeds" / "prices.parquet")
        result = materialized_alone(price_dates, tmp_path, instance)
    written = pl.read_parquet(tmp_path / result.run_id / "feeds" / "price_dates.parquet")
    assert_frame_equal(written, PRICES.tail(1).select("sku", "valid_from"))


def test_an_input_never_materialized_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="feeds/prices was never materialized"):
        dg.materialize(
            [prices, priced_skus], selection=[priced_skus.key], resources=io_manager(tmp_path)
        )


@pytest.mark.parametrize(
    ("value", "kind"),
    [({"sku": ["A"]}, "dict"), (pl.LazyFrame({"sku": ["A"]}), "LazyFrame")],
    ids=["dict", "lazy_frame"],
)
def test_an_output_that_is_no_data_frame_fails_naming_the_asset(
    tmp_path: Path, value: Any, kind: str
) -> None:
    @dg.asset(key_prefix=["feeds"])
    def not_a_frame() -> Any:
        return value

    with pytest.raises(
        TypeError, match=f"^feeds/not_a_frame: expected a polars DataFrame, got {kind}$"
    ):
        dg.materialize([not_a_frame], resources=io_manager(tmp_path))
    assert not any(tmp_path.rglob("*.parquet*"))


def test_pruning_the_run_folders_keeps_the_cache(tmp_path: Path) -> None:
    for name in ("run-old", "run-live", CACHE_FOLDER):
        (tmp_path / name).mkdir()
    (tmp_path / CACHE_FOLDER / "completeness").mkdir()
    assert prune_run_folders(tmp_path, keep=lambda run: run == "run-live") == ["run-old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [CACHE_FOLDER, "run-live"]
