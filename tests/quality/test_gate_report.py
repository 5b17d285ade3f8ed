"""The report folder the quality gate writes (``evaluate_gate``), read back as a merchandiser
would: through the main page, its lookup index and the lookup pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml.html
import polars as pl
import pytest
from factories import default_config, golden_products, pim, product

from contracts.config import PrismConfig, parse_config
from contracts.snapshots import BASELINE, FeedFile, Manifest
from mapping.model import BOOLEAN, DATE, NUMBER, Attribute, PimModel
from mapping.plan import compiled_per_locale, product_names
from quality.completeness import completeness_scores
from quality.expectations import RESULTS_SCHEMA
from quality.gate import Gate, GateInputs, evaluate_gate
from quality.quarantine import QUARANTINE_SCHEMA
from quality.report_store import ReportStore
from sinks.formats import FORMATS
from sinks.snapshot_store import SnapshotStore

FIRST = "20261121T195600Z-aaaaaaaa"
SECOND = "20261122T195600Z-bbbbbbbb"
NOW = dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC)
ERP = "ERP snapshot 20261122T060000Z, prices"


def config(**quality: Any) -> PrismConfig:
    data = default_config()
    data["locales"] = ["de_DE", "en_US"]  # the factories' golden record has these two
    data["channels"]["portal"]["currencies"] = ["EUR"]
    data["quality"] = quality
    return parse_config(data)


def model() -> PimModel:
    """The test catalog's PIM model, with the attributes the shipped channels map besides."""
    catalog = pim()
    shipped = [("eco_friendly", BOOLEAN), ("warranty_years", NUMBER), ("release_date", DATE)]
    extra = {code: Attribute(code, kind) for code, kind in shipped}
    return dataclasses.replace(catalog, attributes=catalog.attributes | extra)


def inputs(
    prism: PrismConfig, snapshot_id: str, golden: pl.DataFrame, quarantine: pl.DataFrame
) -> GateInputs:
    """The gate's inputs as the ``quality_report`` asset builds them, with the test catalog's
    PIM model: product names in the report locale, completeness per channel and locale."""
    catalog = model()
    per_locale = compiled_per_locale(prism, FORMATS, catalog, golden.columns)
    sources = pl.DataFrame(
        {
            "source": ["pim", "erp"],
            "snapshot_id": ["p", "e"],
            "path": ["/pim", "/erp"],
            "modified_at": [NOW - dt.timedelta(hours=1)] * 2,
        }
    )
    return GateInputs(
        snapshot_id=snapshot_id,
        created=NOW,
        as_of=NOW.date(),
        now=NOW,
        override=False,
        sources=sources,
        golden=golden,
        quarantine=quarantine,
        expectations=pl.DataFrame(schema=RESULTS_SCHEMA),
        names=product_names(prism, catalog, golden, prism.report_locale),
        scores=completeness_scores(golden, per_locale),
        score_keys=tuple(per_locale),
    )


def gate(root: Path, snapshot_id: str, golden: pl.DataFrame, quarantine: pl.DataFrame,
         prism: PrismConfig | None = None) -> Gate:  # fmt: skip
    prism = prism or config()
    return evaluate_gate(
        prism,
        inputs(prism, snapshot_id, golden, quarantine),
        SnapshotStore(root / "feeds"),
        ReportStore(root / "feeds" / "reports"),
    )


def make_live(root: Path, snapshot_id: str, judged: Gate) -> None:
    """Publish ``snapshot_id`` as a run does: sealed with the gate's baseline, then live."""
    store = SnapshotStore(root / "feeds")
    staging = store.staging_dir(snapshot_id)
    staging.mkdir(parents=True)
    judged.prices.write_parquet(staging / BASELINE)
    summary = ReportStore(root / "feeds" / "reports").summary(snapshot_id)
    assert summary is not None
    manifest = Manifest(
        snapshot_id=snapshot_id,
        as_of=NOW.date().isoformat(),
        created_at=NOW.isoformat(),
        sources={},
        files=[FeedFile("*", BASELINE, judged.prices.height, kind="baseline")],
        channels={n: c["published"] for n, c in summary["channels"].items()},
    )
    store.seal(manifest)
    store.activate(snapshot_id)


def findings(*rows: tuple[str, str, str, str, str | None, str]) -> pl.DataFrame:
    return pl.DataFrame([(*r, "error") for r in rows], schema=QUARANTINE_SCHEMA, orient="row").sort(
        "channel", "sku", "rule", "field"
    )


def page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(path.read_text(encoding="utf-8"))


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_a_price_drop_shows_as_a_drop_and_a_rise_as_a_rise(tmp_path: Path) -> None:
    nothing = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    before = golden_products(
        product("DROP", list_price_EUR=Decimal("441.49"), name_de_DE="Bohrer"),
        product("RISE", list_price_EUR=Decimal("10.00")),
        product("SAME"),
    )
    make_live(tmp_path, FIRST, gate(tmp_path, FIRST, before, nothing))
    after = before.with_columns(
        list_price_EUR=pl.Series([Decimal("0.0249"), Decimal("25.00"), Decimal("19.99")])
    )
    result = gate(tmp_path, SECOND, after, nothing)

    changes = page(result.report_path).xpath("//section[@id='changes']")[0]
    rises, drops = (h.getnext() for h in changes.xpath("h3"))
    (drop,) = drops.xpath(".//tbody/tr")
    # the report locale defaults to the first configured locale, de_DE
    assert [c.text_content() for c in drop.xpath("td")] == [
        "DROP", "Bohrer", "441,49\xa0€", "0,02\xa0€", "-441,47\xa0€", "-99,99\xa0%"
    ]  # fmt: skip
    (rise,) = rises.xpath(".//tbody/tr")
    assert [c.text_content() for c in rise.xpath("td")][4:] == ["+15,00\xa0€", "+150,00\xa0%"]
    assert "2 price changes" in text(changes)


def test_the_report_locale_setting_formats_money(tmp_path: Path) -> None:
    nothing = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    prism = config(report_locale="en_US")
    before = golden_products(product("DROP", list_price_EUR=Decimal("1441.49")))
    make_live(tmp_path, FIRST, gate(tmp_path, FIRST, before, nothing, prism))
    after = before.with_columns(list_price_EUR=pl.Series([Decimal("1000")]))
    drop = page(gate(tmp_path, SECOND, after, nothing, prism).report_path).xpath(
        "//table[contains(@class, 'drop')]//tbody/tr/td"
    )
    assert [c.text_content() for c in drop][2:] == ["€1,441.49", "€1,000.00", "-€441.49", "-30.62%"]


def test_every_report_file_is_readable_by_others(tmp_path: Path) -> None:
    golden = golden_products(product("A"), product("B", list_price_EUR=None))
    quarantine = findings(("B", "shop", "price_missing", "list_price_EUR", None, ERP))
    previous = os.umask(0o022)
    try:
        result = gate(tmp_path, FIRST, golden, quarantine)
    finally:
        os.umask(previous)
    folder = result.report_path.parent
    files = {str(p.relative_to(folder)): p.stat().st_mode & 0o777 for p in folder.rglob("*")}
    assert {"index.html", "quarantine/0001.html", "quarantine.csv", "summary.json"} <= set(files)
    assert files == {name: 0o755 if (folder / name).is_dir() else 0o644 for name in files}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gate run on 5,200 products, each quarantined on the marketplace (more than
    ``quality.report_rows``); one also has a rejected ERP price row behind it."""
    root = tmp_path_factory.mktemp("big")
    skus = [f"P{i:05}" for i in range(5200)]
    golden = golden_products(*(product(s, list_price_EUR=None, name_de_DE=f"Leuchte {s}")
                               for s in skus))  # fmt: skip
    rows = [("P05000", "*", "invalid_amount", "amount", "32,90", "prices.csv:5002")]
    rows += [(s, c, "price_missing", "list_price_EUR", None, ERP)
             for s in skus for c in ("marketplace", "shop")]  # fmt: skip
    return gate(root, FIRST, golden, findings(*rows)).report_path


def test_the_5001st_quarantined_product_is_two_clicks_away(big: Path) -> None:
    sku = "P05000"  # the 5,001st in sku order
    index = page(big)
    links = index.xpath("//h3[@id='find-a-product']/following-sibling::ul[@class='pages'][1]//a")
    assert len(links) == 21  # 5,200 products, 250 a page
    ranges = [(a.get("href"), *a.text_content().split(" \u2013 ")) for a in links]
    (href,) = [h for h, first, last in ranges if first <= sku <= last]  # click one
    lookup = page(big.parent / href)
    (body,) = [b for b in lookup.xpath("//tbody") if b.xpath("string(tr[1]/th//code)") == sku]
    assert "Leuchte P05000" in text(body)  # click two: on the page, by sku
    cause, effect = body.xpath("tr")
    assert "32,90" in text(cause)
    assert "prices.csv:5002" in text(cause)
    assert "Fix in: ERP" in text(cause)
    assert effect.get("class") == "effect"
    assert "marketplace, shop" in text(effect)


def test_every_quarantined_product_is_on_exactly_one_lookup_page(big: Path) -> None:
    listed = [
        sku
        for path in sorted((big.parent / "quarantine").iterdir())
        for sku in page(path).xpath("//table[@class='lookup']/tbody/tr[1]/th//code/text()")
    ]
    assert listed == [f"P{i:05}" for i in range(5200)]


def test_the_main_page_stays_short(big: Path) -> None:
    index = page(big)
    groups = index.xpath("//section[@id='quarantine']//h4")
    assert [g.get("id") for g in groups] == ["rule-invalid_amount", "rule-price_missing"]
    rows = [len(g.getnext().xpath(".//tbody/tr")) for g in groups]
    assert rows == [1, 5]  # the first five products, each finding once with its channels
    assert "10.401 rows" in text(index)  # de_DE, the first locale
    assert big.stat().st_size < 200_000


def test_every_erp_price_row_is_accounted_for_in_the_report(tmp_path: Path) -> None:
    nothing = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    prism = config()
    judged = inputs(prism, FIRST, golden_products(product("A")), nothing)
    counted = dataclasses.replace(
        judged, price_rows={"active": 7, "expired": 2, "unpublished_currency": 3}
    )
    result = evaluate_gate(
        prism, counted, SnapshotStore(tmp_path / "feeds"), ReportStore(tmp_path / "r")
    )
    section = page(result.report_path).xpath("//section[@id='rejects']")[0]
    table = section.xpath(".//table[contains(@class, 'price-rows')]")[0]
    rows = [[text(c) for c in r.xpath("td")] for r in table.xpath(".//tbody/tr")]
    assert rows == [
        ["valid on the as-of date: published", "7"],
        ["validity ended before the as-of date", "2"],
        ["in a currency no channel publishes", "3"],
    ]
    summary = ReportStore(tmp_path / "r").summary(FIRST)
    assert summary is not None
    assert summary["erp_price_rows"] == {"active": 7, "expired": 2, "unpublished_currency": 3}
