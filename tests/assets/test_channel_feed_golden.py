"""A channel's writer reads only the golden columns it needs (item groups, variant axes,
availability, what an assortment filters on): a view's golden rows are the golden record behind
a mask, and copying all of them would cost a catalog's worth of memory per writer (1.2 GiB at
1M products, two writers at once in a run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from factories import config_with, golden_products, price_tiers, product, staged_feed, tier

from contracts.formats import WriteContext
from mapping.view import ChannelView
from sinks.formats.portal import write as write_portal
from sinks.xml_text import SinkInputError

URL = {"locale": "de_DE", "currency": "EUR", "product_url": "https://shop.example.com/p/{sku}"}
VARIANT = {"family_variant": "shirts_color_size", "variant_axes": ["color"], "level": 1}


def catalog() -> pl.DataFrame:
    """A simple product and a group of two variants, one of another brand."""
    return golden_products(
        product("A1"),
        product("V1", item_group="G1", parent="G1", color="blue", **VARIANT),
        product("V2", item_group="G1", parent="G1", color="red", brand="mueller", **VARIANT),
    )


def tiers() -> pl.DataFrame:
    return price_tiers(*(tier(sku, "9.50") for sku in ("A1", "V1", "V2")))


def staged(name: str, channel: dict[str, Any], folder: Path) -> tuple[ChannelView, list[Any]]:
    config = config_with({name: channel})
    return staged_feed(config, name, catalog(), folder, tiers())


def never_copied_whole(view: ChannelView) -> bool:
    """Whether nothing read the view's golden rows whole (``ChannelView.golden`` keeps its copy
    once made)."""
    return "golden" not in vars(view)


def test_json_ld_groups_variants_by_the_golden_axes_without_copying_the_rows(
    tmp_path: Path,
) -> None:
    view, _ = staged("website", URL | {"format": "jsonld"}, tmp_path)
    lines = (tmp_path / "website" / "products.jsonl").read_text(encoding="utf-8").splitlines()
    group = next(json.loads(line) for line in lines if "hasVariant" in line)
    assert group["variesBy"] == ["https://schema.org/color"]
    assert [v["sku"] for v in group["hasVariant"]] == ["V1", "V2"]
    assert never_copied_whole(view)


def test_parent_rows_come_from_the_golden_item_groups_without_copying_the_rows(
    tmp_path: Path,
) -> None:
    shop = URL | {"format": "csv", "parent_rows": True, "type_column": "type"}
    view, _ = staged("shop", shop, tmp_path)
    rows = pl.read_csv(tmp_path / "shop" / "products.csv", separator=",", infer_schema=False)
    assert rows.get_column("type").to_list() == ["simple", "variable", "variation", "variation"]
    assert never_copied_whole(view)


def test_an_assortment_filters_on_the_golden_columns_without_copying_the_rows(
    tmp_path: Path,
) -> None:
    customers = [
        {"id": "K1", "name": "Kunde Eins", "filters": {"include": {"brands": ["MUELLER"]}}},
        {"id": "K2", "name": "Kunde Zwei"},
    ]
    supplier = {"id": "EXAMPLE", "name": "Example GmbH"}
    quoting = URL | {"format": "bmecat", "supplier": supplier, "customers": customers}
    view, files = staged("quoting", quoting, tmp_path)
    assert {Path(f.path).name: f.rows for f in files} == {"K1.xml": 1, "K2.xml": 3}
    assert never_copied_whole(view)


def test_the_portal_takes_availability_from_the_golden_rows_without_copying_them(
    tmp_path: Path,
) -> None:
    url = f"duckdb:///{tmp_path / 'portal.duckdb'}"
    portal = {"format": "sql", "url": url, "locale": "de_DE", "currencies": ["EUR"]}
    view, files = staged("portal", portal, tmp_path / "staging")
    assert {f.path: f.rows for f in files}["products"] == 3
    [database] = (tmp_path / "portal.duckdb.snapshots").glob("*.duckdb")
    with duckdb.connect(str(database), read_only=True) as conn:
        found = conn.execute("SELECT sku, available_qty FROM availability ORDER BY sku").fetchall()
    assert found == [("A1", 5), ("V1", 5), ("V2", 5)]
    assert never_copied_whole(view)


def test_the_portal_refuses_products_without_their_golden_rows(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'portal.duckdb'}"
    portal = {"format": "sql", "url": url, "locale": "de_DE", "currencies": ["EUR"]}
    context = WriteContext(
        channel="portal",
        settings=config_with({"portal": portal}).channels["portal"],
        options=None,
        folder=tmp_path,
        snapshot_id="20261201T120000Z-0123abcd",
        created=None,
        tiers=tiers().head(0),
        golden=catalog().head(1).lazy(),  # one golden row for two products
    )
    with pytest.raises(SinkInputError, match=r"portal: the products' golden rows \(.*\)"):
        write_portal(pl.DataFrame({"sku": ["A1", "V1"]}), context)
    assert not (tmp_path / "portal.duckdb.snapshots").exists()
