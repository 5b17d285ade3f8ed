"""The report folder the quality gate writes (``evaluate_gate``), read back as a merchandiser
would: through the main page, its lookup index and the lookup pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml.html
import polars as pl
import pytest
from browser import chromium, overflow, visit
from factories import default_config, golden_products, pim, product
from playwright.sync_api import Page

from contracts.config import PrismConfig, parse_config
from contracts.snapshots import BASELINE, FeedFile, Manifest
from mapping.model import BOOLEAN, DATE, NUMBER, Attribute, PimModel
from mapping.plan import compiled_per_locale, product_names
from quality.completeness import completeness_scores
from quality.expectations import RESULTS_SCHEMA
from quality.gate import Gate, GateInputs, evaluate_gate
from quality.quarantine import ALL_CHANNELS, QUARANTINE_SCHEMA
from quality.report_store import ReportStore
from sinks.formats import FORMATS
from sinks.snapshot_store import SnapshotStore

FIRST = "20261121T195600Z-aaaaaaaa"
SECOND = "20261122T195600Z-bbbbbbbb"
NOW = dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC)
ERP = "ERP snapshot 20261122T060000Z, prices"
PIM_URL = "https://pim.example.com/#/enrich/product/{uuid}"


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
    ``quality.report_rows``); one also has a rejected ERP price row behind it, the next one
    the wide values a real catalog has (a select attribute's field, a long GTIN)."""
    root = tmp_path_factory.mktemp("big")
    skus = [f"P{i:05}" for i in range(5200)]
    golden = golden_products(*(product(s, list_price_EUR=None, name_de_DE=f"Leuchte {s}")
                               for s in skus))  # fmt: skip
    rows = [("P05000", "*", "invalid_amount", "amount", "32,90", "prices.csv:5002")]
    erp = "ERP snapshot 20261122T060000Z-20261122T061502118343Z, prices"  # as a run names it
    rows += [(s, c, "price_missing", "list_price_EUR", None, erp)
             for s in skus for c in ("marketplace", "shop")]  # fmt: skip
    everywhere = ("marketplace", "portal", "quoting", "shop", "social", "website")
    rows += [("P05001", c, "option_label_missing", "material (material, de_DE)", "zinc,nylon",
              "products.jsonl:5002") for c in everywhere]  # fmt: skip
    rows += [("P05001", c, "gtin_invalid", "gtin", "4000000001297", "products.jsonl:5002")
             for c in everywhere]  # fmt: skip
    prism = config(pim_url=PIM_URL)
    return gate(root, FIRST, golden, findings(*rows), prism).report_path


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
    assert body.xpath(".//a[text()='Open in the PIM']/@href") == [
        "https://pim.example.com/#/enrich/product/uuid-P05000"
    ]
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
    rules = ["invalid_amount", "price_missing", "gtin_invalid", "option_label_missing"]
    assert [g.get("id") for g in groups] == [f"rule-{r}" for r in rules]
    rows = [len(g.getnext().xpath(".//tbody/tr")) for g in groups]
    assert rows == [1, 5, 1, 1]  # the first five products, each finding once with its channels
    assert "10.413 rows" in text(index)  # de_DE, the first locale
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


def test_products_left_out_by_filters_are_counted_by_reason_not_listed(tmp_path: Path) -> None:
    """The shipped channels' filters: social includes clothing and wants 80 % complete
    products, marketplace excludes what is out of stock. Left out is not a defect."""
    golden = golden_products(*(product(sku) for sku in "ABCDE"))
    left_out = [
        ("A", "social", "filtered_by_include", "filters", None, "products.jsonl:1", "filtered"),
        ("B", "social", "filtered_by_include", "filters", None, "products.jsonl:2", "filtered"),
        ("C", "social", "filtered_by_completeness", "filters", "0.5", "products.jsonl:3",
         "filtered"),
        ("D", "marketplace", "filtered_by_exclude", "filters", None, "products.jsonl:4",
         "filtered"),
        ("E", "social", "filtered_by_include", "filters", None, "products.jsonl:5", "filtered"),
        ("E", "social", "price_missing", "list_price_USD", None, ERP, "error"),
    ]  # fmt: skip
    quarantine = pl.DataFrame(left_out, schema=QUARANTINE_SCHEMA, orient="row")
    result = gate(tmp_path, FIRST, golden, quarantine)

    index = page(result.report_path)
    (heading,) = index.xpath("//section[@id='channels']//h3[@id='filtered']")
    explanation, table = heading.getnext(), heading.getnext().getnext()
    assert "not defects" in text(explanation)
    assert "not listed" in text(explanation)
    rows = [[text(c) for c in r.xpath("td")] for r in table.xpath(".//tbody/tr")]
    assert rows == [
        ["marketplace", "Left out: matched the channel's exclude filter (filtered_by_exclude)",
         "out of stock", "1"],
        ["social", "Left out: less complete than the channel's completeness filter asks "
         "(filtered_by_completeness)", "at least 80 % complete", "1"],
        ["social", "Left out: not in the channel's include filter (filtered_by_include)",
         "categories clothing (and below)", "2"],
    ]  # fmt: skip
    channels = {
        r.xpath("string(td[1])"): r.xpath("string(td[6])")
        for r in index.xpath("(//section[@id='channels']//table)[1]/tbody/tr")
    }
    assert (channels["social"], channels["marketplace"]) == ("3", "1")  # the reasons add up
    find = index.xpath("//h3[@id='find-a-product']")[0].getnext()
    assert "#filtered" in find.xpath(".//a/@href")

    listed = page(result.report_path.parent / "quarantine" / "0001.html").xpath(
        "//table[@class='lookup']/tbody/tr[1]/th//code/text()"
    )
    assert listed == ["E"]  # the quarantined one only
    exported = pl.read_csv(result.report_path.parent / "quarantine.csv")
    assert exported["rule"].to_list() == ["price_missing"]


def test_the_page_names_the_system_to_fix_in_and_no_check_library(tmp_path: Path) -> None:
    golden = golden_products(product("A"), product("B", list_price_EUR=None))
    rows = [
        ("B", ALL_CHANNELS, "invalid_amount", "amount", "32,90", "prices.csv:7"),
        ("B", "shop", "price_missing", "list_price_EUR", None, ERP),
        ("A", "shop", "gtin_invalid", "gtin", "123", "products.jsonl:1"),
    ]
    result = gate(tmp_path, FIRST, golden, findings(*rows))
    documents = [result.report_path, result.report_path.parent / "quarantine" / "0001.html"]
    for path in documents:
        words = text(page(path))
        systems = set(re.findall(r"Fix in: (\S+)", words))
        assert systems == {"ERP", "PIM"}, path
        # great-expectations' names (expect_column_values_to_...) stay in its JSON results
        assert not re.search("expect_|expectation", words, re.IGNORECASE), path
        assert "Fix in: input" not in words


SCROLLING_TABLES = """() => [...document.querySelectorAll('.scroll')].map(s => ({
    scrolls: s.scrollWidth > s.clientWidth,
    inside: s.getBoundingClientRect().right <= window.innerWidth,
}))"""


def test_the_report_a_run_writes_fits_a_desktop_and_a_phone(big: Path, tmp_path: Path) -> None:
    """Headless Chromium on the folder the gate wrote for 5,200 quarantined products: no
    horizontal page scrolling at 1280 or 390 px; on a phone wide tables scroll inside their
    own box, on a desktop the lookup table shows every column (Fix in too). Screenshots are
    saved in the test's temporary folder as ``<page>-<width>.png``."""
    sku = "P05000"  # the 5,001st quarantined product, on the 21st lookup page

    def index(page: Page, width: int) -> None:
        assert overflow(page) == 0
        assert page.get_by_role("heading", name="Find a product").is_visible()
        assert page.evaluate("document.documentElement.scrollHeight") < 20_000  # was 157k px
        assert all(t["inside"] for t in page.evaluate(SCROLLING_TABLES))

    def lookup(page: Page, width: int) -> None:
        assert overflow(page) == 0
        entry = page.locator(f"#sku-{sku}")
        entry.scroll_into_view_if_needed()  # the screenshot shows it
        assert entry.is_visible()
        (table,) = page.evaluate(SCROLLING_TABLES)
        # a phone scrolls the table in its box; a desktop shows all of it, Fix in included
        assert table == {"scrolls": width < 600, "inside": True}

    pages = (("index", big, index, True),
             ("lookup", big.parent / "quarantine" / "0021.html", lookup, False))  # fmt: skip
    with chromium() as browser:
        for width in (1280, 390):
            for name, page_file, check, full_page in pages:
                screenshot = tmp_path / f"{name}-{width}.png"
                checked = functools.partial(check, width=width)
                assert visit(browser, page_file, screenshot, checked, width, full_page) == []
                assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
