"""Views kept across runs: the next run maps only the golden rows that changed, and publishes
the view a whole mapping gives; another mapping, PIM structure or golden schema is a miss, a
damaged entry too; entries are linked from the run's files, not written twice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from factories import ERP_SOURCE, FILTERED_SHOP, compiled, config_with, golden_products, product
from polars.testing import assert_frame_equal

from assets.channels import ViewStore, views
from assets.view_cache import KEPT, PARTS, ViewCache, view_key
from mapping.view import channel_view

STRUCTURE = {"families": pl.DataFrame({"code": ["shirts"], "image": ["image"]})}


def _golden(price: str = "19.99") -> pl.DataFrame:
    return golden_products(
        *(product(f"P-{i:02d}", brand="mueller") for i in range(20)),
        product("Q-1", brand="mueller", list_price_EUR=Decimal(price)),
        product("Q-2", gtin="123"),
    )


def _cache(
    root: Path, golden: pl.DataFrame, channels: dict[str, object] | None = None
) -> ViewCache:
    config = config_with(channels or {"shop": FILTERED_SHOP})
    return ViewCache(root / "cache", view_key(config, STRUCTURE, golden.schema))


def test_the_next_run_maps_only_what_changed_and_equals_a_whole_mapping(tmp_path: Path) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    first_golden = _golden()
    channels = {"shop": compiled(config, "shop", first_golden)}
    first = views(
        first_golden,
        channels,
        ERP_SOURCE,
        ViewStore.of_run(tmp_path, "run-1"),
        _cache(tmp_path, first_golden),
    )
    first["shop"]
    assert first.remapped == {}  # nothing kept yet: mapped whole
    entry = tmp_path / "cache" / "shop" / _cache(tmp_path, first_golden).key
    assert sorted(p.name for p in entry.iterdir()) == sorted(
        [*(f"{p}.parquet" for p in PARTS), "erp_source.txt"]
    )
    frame = ViewStore.of_run(tmp_path, "run-1").folder / "shop.frame.parquet"
    assert (entry / "frame.parquet").stat().st_ino == frame.stat().st_ino  # linked

    golden = _golden(price="5.00")
    store = ViewStore.of_run(tmp_path, "run-2")
    second = views(golden, channels, "ERP snapshot 2, prices", store, _cache(tmp_path, golden))
    view = second["shop"]
    assert second.remapped == {"shop": 1}
    assert second.metadata()["remapped_rows/shop"] == 1
    whole = channel_view(golden, channels["shop"], "ERP snapshot 2, prices")
    assert_frame_equal(view.frame, whole.frame)
    assert_frame_equal(view.golden, whole.golden)
    assert_frame_equal(view.findings.sort("sku", "rule"), whole.findings.sort("sku", "rule"))
    read = store.load("shop", golden)  # the feed step reads the spliced view back
    assert read is not None
    assert_frame_equal(read.golden, whole.golden)


def test_another_mapping_structure_or_golden_schema_is_another_key() -> None:
    golden = _golden()
    key = view_key(config_with({"shop": FILTERED_SHOP}), STRUCTURE, golden.schema)
    other_filter = FILTERED_SHOP | {"filters": {"include": {"brands": ["ACME"]}}}
    assert view_key(config_with({"shop": other_filter}), STRUCTURE, golden.schema) != key
    labels = {"families": pl.DataFrame({"code": ["shirts"], "image": ["packshot"]})}
    assert view_key(config_with({"shop": FILTERED_SHOP}), labels, golden.schema) != key
    wider = golden.with_columns(pl.lit("x").alias("attr.extra")).schema
    assert view_key(config_with({"shop": FILTERED_SHOP}), STRUCTURE, wider) != key
    assert view_key(config_with({"shop": FILTERED_SHOP}), STRUCTURE, golden.schema) == key


def test_a_damaged_entry_is_mapped_whole(tmp_path: Path) -> None:
    config = config_with({"shop": FILTERED_SHOP})
    golden = _golden()
    channels = {"shop": compiled(config, "shop", golden)}
    cache = _cache(tmp_path, golden)
    views(golden, channels, ERP_SOURCE, ViewStore.of_run(tmp_path, "run-1"), cache)["shop"]
    frame = cache.folder / "shop" / cache.key / "frame.parquet"
    data = frame.read_bytes()
    frame.unlink()  # a link: the run's own file stays whole
    frame.write_bytes(data[: len(data) // 2])
    assert cache.previous("shop") is None
    again = views(golden, channels, ERP_SOURCE, ViewStore.of_run(tmp_path, "run-2"), cache)
    assert_frame_equal(
        again["shop"].frame, channel_view(golden, channels["shop"], ERP_SOURCE).frame
    )
    assert again.remapped == {}
    assert cache.previous("shop") is not None  # kept again, whole


def test_a_channel_keeps_its_newest_entries(tmp_path: Path) -> None:
    golden = _golden()
    for index in range(KEPT + 2):
        shop = FILTERED_SHOP | {"product_url": f"https://shop.example.com/{index}/{{sku}}"}
        config = config_with({"shop": shop})
        channels = {"shop": compiled(config, "shop", golden)}
        cache = _cache(tmp_path, golden, {"shop": shop})
        views(golden, channels, ERP_SOURCE, ViewStore.of_run(tmp_path, f"run-{index}"), cache)[
            "shop"
        ]
    entries = [p for p in (tmp_path / "cache" / "shop").iterdir() if p.is_dir()]
    assert len(entries) == KEPT
    assert cache.previous("shop") is not None  # the newest
