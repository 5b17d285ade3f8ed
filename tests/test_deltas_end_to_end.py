"""Delta feeds on the demo data: two publishes of the shipped prism.yaml (prices and stock
changed, a product added, one removed, a name changed); for every channel the previous full
feed plus the delta is the new full feed, read back with independent parsers."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from factories import REPO, workspace_config
from lxml import etree
from polars.testing import assert_frame_equal

from assets.feeds import ACCOUNTED
from contracts.config import parse_config
from contracts.snapshots import Manifest
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions
from sinks.deltas import bmecat, delimited, google_merchant, jsonlines, portal
from sinks.portal_sql import read_portal_snapshot
from sources.drops import write_marker

AS_OF = dt.date(2026, 11, 22)
BMECAT_XSD = REPO / "tests" / "fixtures" / "bmecat" / "bmecat_2005.xsd"


def run(root: Path, portal_url: str) -> dg.ExecuteInProcessResult:
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    data["channels"]["portal"]["url"] = portal_url
    job = build_definitions(parse_config(data)).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    return result


def drop(root: Path, name: str) -> Path:
    return next((root / "data" / name).iterdir())


def renamed(line: str) -> str:
    item = json.loads(line)
    for value in item["values"]["name"]:
        value["data"] += " Neu"
    return json.dumps(item, ensure_ascii=False) + "\n"


def change_erp(folder: Path, skus: list[str]) -> None:
    prices = pl.read_csv(folder / "prices.csv", infer_schema=False)
    raised = (pl.col("amount").cast(pl.Decimal(18, 2)) * Decimal("1.10")).round(2)
    chosen = pl.col("sku").is_in(skus) & (pl.col("price_type") == "list")
    prices.with_columns(
        amount=pl.when(chosen).then(raised.cast(pl.String)).otherwise(pl.col("amount"))
    ).write_csv(folder / "prices.csv")
    stock = pl.read_csv(folder / "stock.csv", infer_schema=False)
    on_hand = pl.when(pl.col("sku").is_in(skus[::2])).then(pl.lit("0")).otherwise(pl.lit("40"))
    stock.with_columns(
        on_hand=pl.when(pl.col("sku").is_in(skus)).then(on_hand).otherwise(pl.col("on_hand"))
    ).write_csv(folder / "stock.csv")
    write_marker(folder, {})


@pytest.fixture(scope="module", params=["sqlite", "duckdb"])
def snapshots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Manifest, dict, str]:
    """Previous and new snapshot folders, the new manifest, the second run's checks and the
    portal's URL (a SQLite portal, then a DuckDB one)."""
    root = tmp_path_factory.mktemp("deltas")
    url = f"{request.param}:///{root / f'portal.{request.param}'}"
    generate_demo_data(root / "data", products=150, seed=11, as_of=AS_OF)
    products = drop(root, "pim") / "products.jsonl"
    lines = products.read_text(encoding="utf-8").splitlines(keepends=True)
    products.write_text("".join(lines[:-1]), encoding="utf-8")  # the last one comes later
    write_marker(products.parent, {})
    run(root, url)
    previous = (root / "feeds" / "current").resolve()
    changed = [lines[1], renamed(lines[2]), *lines[3:]]  # the first one is removed
    products.write_text("".join(changed), encoding="utf-8")
    write_marker(products.parent, {})
    skus = [json.loads(line)["identifier"] for line in lines[3:40]]
    change_erp(drop(root, "erp"), skus)
    result = run(root, url)
    new = (root / "feeds" / "current").resolve()
    manifest = Manifest.from_json((new / "manifest.json").read_text(encoding="utf-8"))
    checks = {
        (c.asset_key.path[-1], c.check_name): c.passed for c in result.get_asset_check_evaluations()
    }
    return previous, new, manifest, checks, url


def delta_paths(manifest: Manifest, new: Path, channel: str) -> dict[str, Path]:
    return {Path(f.path).name: new / f.path for f in manifest.deltas(channel)}


def test_the_manifest_lists_the_deltas_against_the_replaced_snapshot(snapshots) -> None:
    previous, new, manifest, checks, _ = snapshots
    first = Manifest.from_json((previous / "manifest.json").read_text(encoding="utf-8"))
    assert first.delta_of is None
    assert not [f for f in first.files if f.kind == "delta"]
    assert manifest.delta_of == previous.name
    channels = {f.channel for f in manifest.files if f.kind == "delta"}
    assert channels == {"website", "shop", "portal", "marketplace", "social", "quoting"}
    assert "quoting" in manifest.delta_notes
    assert "marketplace" in manifest.delta_notes
    for feed in (f for f in manifest.files if f.kind == "delta"):
        assert feed.sha256
        assert feed.bytes == (new / feed.path).stat().st_size
    assert all(f.rows > 0 for f in manifest.deltas("website"))
    accounted = {key: ok for key, ok in checks.items() if key[1] == ACCOUNTED}
    assert len(accounted) == 6
    assert all(accounted.values())


def test_website_full_plus_delta_is_the_new_full_feed(snapshots) -> None:
    previous, new, manifest, _, _ = snapshots

    def parsed(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    delta = parsed(delta_paths(manifest, new, "website")["delta.jsonl"])
    assert any(item.get(jsonlines.REMOVED_FLAG) for item in delta)
    full = parsed(previous / "website" / "products.jsonl")
    applied = jsonlines.apply_delta(full, delta)
    expected = parsed(new / "website" / "products.jsonl")
    assert sorted(map(json.dumps, applied)) == sorted(map(json.dumps, expected))


@pytest.mark.parametrize(
    ("channel", "file_name", "delimiter", "key"),
    [("shop", "products.csv", ";", "sku"), ("social", "meta_catalog.csv", ",", "id")],
)
def test_delimited_full_plus_delta_is_the_new_full_feed(
    snapshots, channel: str, file_name: str, delimiter: str, key: str
) -> None:
    previous, new, manifest, _, _ = snapshots

    def parsed(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle, delimiter=delimiter))

    (delta_file,) = delta_paths(manifest, new, channel).values()
    delta = parsed(delta_file)
    assert {r[delimited.ACTION] for r in delta} <= {delimited.UPSERT, delimited.DELETE}
    applied = delimited.apply_delta(parsed(previous / channel / file_name), delta, key)
    expected = parsed(new / channel / file_name)
    full_bytes = (new / channel / file_name).read_bytes()
    delta_bytes = delta_file.read_bytes()
    assert delta_bytes.startswith(b"\xef\xbb\xbf") == full_bytes.startswith(b"\xef\xbb\xbf")
    assert (b"\r\n" in delta_bytes) == (b"\r\n" in full_bytes)  # the full feed's dialect
    assert sorted(tuple(r.items()) for r in applied) == sorted(tuple(r.items()) for r in expected)


def test_marketplace_full_plus_delta_is_the_new_full_feed(snapshots) -> None:
    previous, new, manifest, _, _ = snapshots
    files = delta_paths(manifest, new, "marketplace")

    def items(path: Path) -> dict[str, google_merchant.Item]:
        found = google_merchant.read_items(path).items()
        return {k: google_merchant.fields(v) for k, v in found}

    supplemental = items(files[google_merchant.SUPPLEMENTAL_FILE])
    assert supplemental  # price and stock changes travel as a supplemental feed
    removed = set(files[google_merchant.REMOVED_FILE].read_text(encoding="utf-8").split())
    applied = google_merchant.apply_delta(
        items(previous / "marketplace" / "google_merchant.xml"),
        supplemental,
        items(files[google_merchant.ITEMS_FILE]),
        removed,
    )
    assert applied == items(new / "marketplace" / "google_merchant.xml")


@pytest.mark.parametrize(
    ("view", "file_name"),
    [("products", portal.PRODUCTS_FILE), ("prices", portal.PRICES_FILE)],
)
def test_portal_tables_plus_upserts_are_the_new_tables(
    snapshots, view: str, file_name: str
) -> None:
    previous, new, manifest, _, url = snapshots
    delta = pl.read_parquet(delta_paths(manifest, new, "portal")[file_name])
    assert portal.DELETE in set(delta[portal.ACTION])
    old_table = read_portal_snapshot(url, view, previous.name)
    applied = portal.apply_delta(old_table, delta)
    expected = read_portal_snapshot(url, view, new.name)
    assert applied.height == expected.height
    assert_frame_equal(
        applied.sort(pl.all()), expected.sort(pl.all()), check_dtypes=False, check_row_order=True
    )


@pytest.mark.parametrize("customer", ["C1000", "C2000"])
def test_quoting_catalog_plus_update_is_the_new_catalog(snapshots, customer: str) -> None:
    previous, new, manifest, _, _ = snapshots
    update = delta_paths(manifest, new, "quoting")[f"{customer}{bmecat.SUFFIX}"]
    # the official 2005 schema declares targetNamespace .../2005fd; documents use .../2005
    text = BMECAT_XSD.read_bytes().replace(f"{bmecat.NS}fd".encode(), bmecat.NS.encode())
    etree.XMLSchema(etree.fromstring(text)).assertValid(etree.parse(str(update)))

    def catalog(folder: Path) -> dict[str, bytes]:
        found = bmecat.products(folder / "quoting" / f"{customer}.xml")
        return {pid: bmecat.content(p) for pid, p in found.items()}

    modes = {p.get("mode") for p in bmecat.products(update).values()}
    assert modes == {"new", "update", "delete"}
    assert bmecat.apply_delta(catalog(previous), bmecat.products(update)) == catalog(new)
