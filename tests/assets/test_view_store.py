"""A channel is mapped once per run: the quarantine step keeps each view in the run's work
folder and the feed step reads it back, equal to mapping it again."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from factories import ERP_SOURCE, FILTERED_SHOP, compiled, config_with, golden_products, product
from polars.testing import assert_frame_equal

from assets.channels import ViewStore, views
from mapping.view import ChannelView, channel_view


def _golden() -> pl.DataFrame:
    return golden_products(
        product("A-1"),
        product("B-2", brand="mueller", gtin="123"),  # an invalid GTIN: a finding
        product("C 3", brand="mueller"),  # a sku the product URL must encode
        product("D-4", enabled=False),
    )


def test_a_view_read_back_equals_the_view_mapped_again(tmp_path: Path) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = _golden()
    channels = {"shop": compiled(config, "shop", golden)}
    store = ViewStore.of_run(tmp_path, "run-1")
    first = views(golden, channels, ERP_SOURCE, store)["shop"]
    assert sorted(p.name for p in store.folder.iterdir()) == [
        "shop.added.parquet",
        "shop.findings.parquet",
        "shop.frame.parquet",
        "shop.rows.parquet",
    ]
    again = channel_view(golden, channels["shop"], ERP_SOURCE)
    read = store.load("shop", golden)
    assert read is not None
    for left, right in ((first, again), (read, again)):
        assert_frame_equal(left.frame, right.frame)
        assert_frame_equal(left.findings, right.findings)
        assert_frame_equal(left.golden, right.golden)


def test_a_view_of_another_golden_record_is_mapped_again(tmp_path: Path) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = _golden()
    channels = {"shop": compiled(config, "shop", golden)}
    store = ViewStore.of_run(tmp_path, "run-1")
    views(golden, channels, ERP_SOURCE, store)["shop"]
    changed = golden.filter(pl.col("sku") != "B-2")
    assert store.load("shop", changed) is None
    mapped = views(changed, channels, ERP_SOURCE, store)["shop"]
    assert (
        mapped.frame["sku"].to_list()
        == channel_view(changed, channels["shop"], ERP_SOURCE).frame["sku"].to_list()
    )


def test_another_run_maps_on_its_own(tmp_path: Path) -> None:
    golden = _golden()
    config = config_with({"shop": FILTERED_SHOP})
    channels = {"shop": compiled(config, "shop", golden)}
    views(golden, channels, ERP_SOURCE, ViewStore.of_run(tmp_path, "run-1"))["shop"]
    assert ViewStore.of_run(tmp_path, "run-2").load("shop", golden) is None


def test_a_view_with_copied_golden_rows_is_kept_and_read_back_alike(tmp_path: Path) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = _golden()
    mapped = channel_view(golden, compiled(config, "shop", golden), ERP_SOURCE)
    copied = ChannelView(mapped.name, mapped.frame, mapped.findings, mapped.golden)
    store = ViewStore.of_run(tmp_path, "run-1")
    store.save(copied, golden)
    read = store.load("shop", golden)
    assert read is not None
    assert_frame_equal(read.golden, mapped.golden)


def test_views_over_a_scan_of_the_golden_file_read_only_what_is_kept(tmp_path: Path) -> None:
    """The feed step's golden record is a scan of its file: a view kept in the store is read
    back over it without reading the record whole; a view the store lacks is mapped from the
    record, read once."""
    website = {"format": "jsonld", "locale": "de_DE", "currency": "EUR"}
    website |= {"product_url": "https://shop.example.com/p/{sku}"}
    config = config_with({"shop": FILTERED_SHOP, "website": website})
    golden = _golden()
    channels = {n: compiled(config, n, golden) for n in ("shop", "website")}
    store = ViewStore.of_run(tmp_path, "run-1")
    views(golden, channels, ERP_SOURCE, store)["shop"]  # the quarantine step kept the shop's
    golden.write_parquet(tmp_path / "golden.parquet")
    scanned = views(pl.scan_parquet(tmp_path / "golden.parquet"), channels, ERP_SOURCE, store)
    shop = scanned["shop"]
    assert "_golden" not in vars(scanned)  # the record was not read whole
    again = channel_view(golden, channels["shop"], ERP_SOURCE)
    assert_frame_equal(shop.frame, again.frame)
    assert_frame_equal(shop.golden_lazy().collect(), again.golden)
    website = scanned["website"]  # not in the store: mapped from the record
    assert "_golden" in vars(scanned)
    assert_frame_equal(website.frame, channel_view(golden, channels["website"], ERP_SOURCE).frame)
