"""The quality report: parsed back with lxml, and rendered by a real headless Chromium."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import lxml.html
import polars as pl
import pytest
from browser import chromium, overflow, visit
from factories import REPO, golden_products, product
from playwright.sync_api import Page

from contracts.golden import MONEY
from contracts.mapping import Filters, Selection
from quality.breakers import BREAKERS_SCHEMA
from quality.expectations import RESULTS_SCHEMA
from quality.quarantine import QUARANTINE_SCHEMA
from quality.report import QualityReport, render_pages, render_report, write_report
from quality.report.findings import findings_frame
from quality.report.model import FILTERED_SCHEMA
from quality.report.wording import needs

SNAPSHOT = "20261122T195600Z-ab12cd34"
PREVIOUS = "20261121T195600Z-99ff00ee"
XSS = "<script>alert(1)</script>"
ERP = "ERP snapshot 20261122T060000Z, prices"
SECTION_HEADINGS = [
    "Circuit breakers",
    "Summary per channel",
    "Rejects by rule and field",
    "Worst families and categories",
    "Completeness per channel and locale",
    "Changes since the previous snapshot",
    "Trends over the last snapshots",
    "Checks of the staged feed before publishing",
    "Quarantine",
]
ID_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def frame(rows: list[Any], schema: Any) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def trends(snapshots: list[str], published: int = 90, quarantined: int = 8) -> pl.DataFrame:
    rows = []
    for i, s in enumerate(snapshots):
        for n, c in enumerate(("shop", "marketplace")):
            kept_off = quarantined * (1 + n)
            out = (published + i) // (1 + n)
            enabled = out + kept_off
            rows.append(
                {
                    "snapshot_id": s,
                    "channel": c,
                    "published": out,
                    "quarantined": kept_off,
                    "published_share": out / enabled if enabled else None,
                    "quarantine_share": kept_off / enabled if enabled else None,
                }
            )
    schema = {"snapshot_id": pl.String, "channel": pl.String}
    schema |= {"published": pl.Int64, "quarantined": pl.Int64}
    schema |= {"published_share": pl.Float64, "quarantine_share": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


SAMPLE_QUARANTINE = [
    ("NONAME-1", "shop", "name_missing", "name_de_DE", "  ", "products.jsonl:1"),
    ("XSS-1", "shop", "title_too_long", "name_de_DE", XSS, "products.jsonl:2"),
    ("AB/12 x", "marketplace", "gtin_invalid", "gtin", "4006381333932", "products.jsonl:3"),
    ("AB_12_x", "marketplace", "gtin_invalid", "gtin", "123", "products.jsonl:4"),
    ("AB/12 x", "marketplace", "image_missing", "image_url", None, "products.jsonl:3"),
    ("BAD-PRICE", "*", "invalid_amount", "amount", "32,90", "prices.csv:12"),
    ("BAD-PRICE", "shop", "price_missing", "list_price_EUR", None, ERP),
    ("BAD-PRICE", "marketplace", "price_missing", "list_price_EUR", None, ERP),
    (None, "*", "missing_identifier", "sku", None, "products.jsonl:9"),
]


def quarantine(rows: list[tuple[str | None, str, str, str, str | None, str]]) -> pl.DataFrame:
    """(sku, channel, rule, field, value, source) rows, all of error severity."""
    return pl.DataFrame([(*r, "error") for r in rows], schema=QUARANTINE_SCHEMA, orient="row").sort(
        "channel", "sku", "rule", "field"
    )


def golden() -> pl.DataFrame:
    skus = ["NONAME-1", "XSS-1", "AB/12 x", "AB_12_x", "BAD-PRICE", "OK-7"]
    rows = [product(sku, name_de_DE=f"Hemd {sku}") for sku in skus]
    rows[1]["attr.name-de_DE"] = XSS
    rows[2]["uuid"] = None  # e.g. from the CSV export
    rows[4]["uuid"] = "0b1a-ff"
    return golden_products(*rows)


def names(locale: str) -> pl.DataFrame:
    """sku, name: the report's product names in ``locale``."""
    return golden().select("sku", name=pl.col(f"attr.name-{locale}"))


def prices(*rows: tuple[str, str, str]) -> pl.DataFrame:
    schema = {"sku": pl.String, "name": pl.String, "currency": pl.String}
    schema |= {"previous": MONEY, "current": MONEY}
    return frame(
        [(sku, f"Hemd {sku}", "EUR", Decimal(a), Decimal(b)) for sku, a, b in rows], schema
    )


def rejects_schema() -> dict[str, Any]:
    return {
        "channel": pl.String,
        "rule": pl.String,
        "field": pl.String,
        "severity": pl.String,
        "fix_in": pl.String,
        "products": pl.Int64,
        "caused": pl.Int64,
    }


def sample_report(**overrides: Any) -> QualityReport:
    """A small report touching every section; ``overrides`` replace fields."""
    findings = findings_frame(quarantine(SAMPLE_QUARANTINE), golden(), names("de_DE"))
    report = QualityReport(
        snapshot_id=SNAPSHOT,
        created_at="2026-11-22T19:56:00+00:00",
        as_of="2026-11-22",
        verdict="passed",
        previous_snapshot=PREVIOUS,
        breakers=frame(
            [
                ("quarantine_share", "shop", False, 0.02, 0.05, "2 % of products quarantined"),
                ("product_drop", None, True, 0.31, 0.2, "31 % fewer products than live"),
            ],
            BREAKERS_SCHEMA,
        ),
        channels=frame(
            [
                ("shop", "csv", 1000, 880, 80, 20, 20, 50),
                ("marketplace", "google_merchant", 1000, 850, 130, 0, 20, 0),
            ],
            {
                "channel": pl.String,
                "format": pl.String,
                **dict.fromkeys(
                    ["products", "published", "quarantined", "filtered", "disabled", "warned"],
                    pl.Int64,
                ),
            },
        ),
        rejects=frame(
            [
                ("*", "invalid_amount", "amount", "error", "ERP", 1, 0),
                ("*", "missing_identifier", "sku", "error", "PIM", 1, 0),
                ("marketplace", "gtin_invalid", "gtin", "error", "PIM", 2, 0),
                ("marketplace", "image_missing", "image_url", "error", "PIM", 1, 0),
                ("marketplace", "price_missing", "list_price_EUR", "error", "ERP", 1, 1),
                ("shop", "name_missing", "name_de_DE", "error", "PIM", 1, 0),
                ("shop", "price_missing", "list_price_EUR", "error", "ERP", 1, 1),
                ("shop", "title_too_long", "name_de_DE", "error", "PIM", 1, 0),
            ],
            rejects_schema(),
        ),
        families=frame(
            [("shoes", 40, 10, 0.25, 0.8), (None, 5, 1, 0.2, 0.5)], worst_schema("family")
        ),
        categories=frame([("outdoor/tents", 20, 2, 0.1, 0.95)], worst_schema("category")),
        completeness=frame(
            [
                ("shop", "de_DE", 0.97, 0.9),
                ("shop", "en_US", 0.4, 0.1),
                ("marketplace", "de_DE", 0.75, 0.5),
            ],
            {
                "channel": pl.String,
                "locale": pl.String,
                "mean": pl.Float64,
                "complete_share": pl.Float64,
            },
        ),
        changes=frame(
            [(3, 1, 2)], {"added": pl.Int64, "removed": pl.Int64, "price_changed": pl.Int64}
        ),
        price_rises=prices(("AB/12 x", "10.00", "25.00")),
        price_drops=prices(("OK-7", "441.49", "0.0249")),
        trends=trends([PREVIOUS, SNAPSHOT]),
        quarantine=findings,
        findings=findings,
        expectations=frame(
            [
                ("shop", "gtin_invalid", "expect_column_values_to_be_valid_gtin", "gtin",
                 "error", True, 0, 90),
                ("shop", "name_missing", "expect_column_values_to_not_be_null", "name_de_DE",
                 "error", False, 2, 90),
                ("shop", "name_missing", "expect_column_values_to_match_regex", "name_de_DE",
                 "error", False, 3, 90),
            ],
            RESULTS_SCHEMA,
        ),
        exports={
            "Quarantine (CSV)": "quarantine.csv",
            "Quarantine (Excel)": "quarantine.xlsx",
            "Checks of the staged feed: shop (JSON)": "expectations.json",
        },
        locale="en_US",
        pim_url="https://pim.example.com/#/enrich/product/{uuid}",
    )  # fmt: skip
    return dataclasses.replace(report, **overrides)


def worst_schema(key: str) -> dict[str, Any]:
    return {
        key: pl.String,
        "products": pl.Int64,
        "quarantined": pl.Int64,
        "quarantine_share": pl.Float64,
        "completeness": pl.Float64,
    }


def parse(report: QualityReport) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(render_report(report))


def lookup_pages(report: QualityReport) -> Iterator[tuple[str, lxml.html.HtmlElement]]:
    for path, document in render_pages(report):
        yield path, lxml.html.document_fromstring(document)


def section(doc: lxml.html.HtmlElement, key: str) -> lxml.html.HtmlElement:
    (found,) = doc.xpath(f"//section[@id='{key}']")
    return found


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def x_labels(chart: lxml.html.HtmlElement) -> list[str]:
    """Snapshot tick labels, date and time lines joined by a space."""
    return [" ".join(t.xpath("tspan/text()")) for t in chart.xpath(".//text[@class='xtick']")]


def entry(report: QualityReport, sku: str) -> lxml.html.HtmlElement:
    """The lookup page entry (a ``tbody``) of ``sku``."""
    for _, doc in lookup_pages(report):
        for body in doc.xpath("//table[@class='lookup']/tbody"):
            if body.xpath("string(tr[1]/th//code)") == sku:
                return body
    raise AssertionError(sku)


# --- the main page ----------------------------------------------------------------------------


@pytest.mark.parametrize("verdict", ["passed", "blocked", "overridden"])
def test_verdict_is_a_coloured_badge(verdict: str) -> None:
    doc = parse(sample_report(verdict=verdict))
    (badge,) = doc.xpath("//header//span[contains(@class, 'badge')]")
    assert badge.text_content() == verdict
    assert f"verdict-{verdict}" in badge.get("class")


def test_blocked_snapshot_says_the_previous_one_stays_live() -> None:
    breakers = text(section(parse(sample_report(verdict="blocked")), "breakers"))
    assert "NOT published" in breakers
    assert "previous snapshot stays live" in breakers
    assert "NOT published" not in text(section(parse(sample_report()), "breakers"))


def test_header_names_snapshot_previous_and_exports() -> None:
    header = parse(sample_report()).xpath("//header")[0]
    assert SNAPSHOT in text(header)
    assert PREVIOUS in text(header)
    facts = dict(zip(header.xpath(".//dt/text()"), map(text, header.xpath(".//dd")), strict=True))
    assert facts["Created"] == "2026-11-22 19:56 UTC"
    links = {a.text_content(): a.get("href") for a in header.xpath(".//a")}
    assert links["Quarantine (Excel)"] == "quarantine.xlsx"
    assert links["Checks of the staged feed: shop (JSON)"] == "expectations.json"


def test_sections_come_in_order() -> None:
    doc = parse(sample_report())
    assert [h.text_content() for h in doc.xpath("//section/h2")] == SECTION_HEADINGS


def test_tripped_breakers_are_highlighted_first() -> None:
    rows = section(parse(sample_report()), "breakers").xpath(".//tbody/tr")
    assert [text(r[0]) for r in rows] == [
        "Share of the channel's products lost since the live snapshot (product_drop)",
        "Share of enabled products kept off the channel (quarantine_share)",
    ]
    assert rows[0].get("class") == "bad"
    assert "TRIPPED" in text(rows[0])
    assert rows[1].get("class") is None
    # shares as percentages, in the report locale
    assert [[r.xpath("string(td[3])"), r.xpath("string(td[4])")] for r in rows] == [
        ["31.0%", "20.0%"],
        ["2.0%", "5.0%"],
    ]


@pytest.mark.parametrize(
    ("name", "value", "limit", "shown"),
    [
        ("freshness", 0.1654, 48.0, ["Age of the source snapshot, in hours", "0,2 h", "48,0 h"]),
        ("baseline", 0.0, 0.0, ["The live snapshot's counts and prices", "—", "—"]),
        ("price_change", 0.0012, 0.05, ["Share of prices that moved", "0,1 %", "5,0 %"]),
    ],
)
def test_breakers_are_in_words_and_their_units(
    name: str, value: float, limit: float, shown: list[str]
) -> None:
    breakers = frame([(name, None, False, value, limit, "detail")], BREAKERS_SCHEMA)
    report = sample_report(breakers=breakers, locale="de_DE")
    (row,) = section(parse(report), "breakers").xpath(".//tbody/tr")
    cells = [text(td) for td in row.xpath("td")]
    assert cells[0].startswith(shown[0])
    assert cells[0].endswith(f"({name})")
    assert cells[2:4] == shown[1:]


def test_channel_summary_has_counts_and_a_stacked_bar() -> None:
    rows = section(parse(sample_report()), "channels").xpath(".//tbody/tr")
    cells = [c.text_content() for c in rows[0].xpath("td")[:8]]
    assert cells[:2] == ["shop", "csv"]
    assert cells[2:] == ["1,000", "880", "80", "20", "20", "50"]
    titles = [t.text_content() for t in rows[0].xpath(".//svg//title")]
    assert titles == [
        "published without findings: 830",
        "published with warnings: 50",
        "quarantined: 80",
        "filtered out: 20",
        "disabled: 20",
    ]


def test_counts_follow_the_report_locale() -> None:
    rows = section(parse(sample_report(locale="de_DE")), "channels").xpath(".//tbody/tr")
    assert rows[0].xpath("string(td[3])") == "1.000"


def test_rules_are_in_plain_words_with_the_system_to_fix_them_in() -> None:
    rejects = section(parse(sample_report()), "rejects")
    tables = {h.text_content(): h.getnext() for h in rejects.xpath("h3")}
    assert list(tables) == ["input files (before any channel)", "marketplace", "shop"]
    rows = {r.xpath("string(td[2])"): r for r in tables["marketplace"].xpath(".//tbody/tr")}
    gtin = rows["gtin"]
    assert text(gtin.xpath("td[1]")[0]) == (
        "Needs a valid gtin (GTIN-8/12/13/14 with a correct GS1 check digit) (gtin_invalid)"
    )
    assert gtin.xpath("string(td[4])") == "PIM"
    assert rows["list_price_EUR"].xpath("string(td[4])") == "ERP"
    assert rows["list_price_EUR"].xpath("string(td[6])") == "1"  # caused by an input reject
    amount = tables["input files (before any channel)"].xpath(".//tbody/tr")[0]
    assert "plain decimal" in text(amount)
    assert "input" not in [r.xpath("string(td[4])") for r in rejects.xpath(".//tbody/tr")]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("option_label_missing", "Needs an option label in the channel's locale (another "
         "locale's label or the option code was shown)"),
        ("invalid_amount", "Needs an amount written as a plain decimal such as 12.50 (no "
         "decimal comma, no thousands separator)"),
        ("filtered_by_include", "Left out: not in the channel's include filter"),
    ],
)  # fmt: skip
def test_a_rule_is_said_in_whole_words(rule: str, words: str) -> None:
    assert needs(rule) == words


def test_products_left_out_by_filters_are_counted_with_the_filter_in_words() -> None:
    filtered = frame(
        [("shop", "filtered_by_exclude", 1200), ("social", "filtered_by_completeness", 3)],
        FILTERED_SCHEMA,
    )
    filters = {
        "shop": Filters(exclude=Selection(categories=("sale",), availability=("out_of_stock",))),
        "social": Filters(completeness=0.8),
    }
    report = sample_report(filtered=filtered, channel_filters=filters)
    channels = section(parse(report), "channels")
    rows = channels.xpath(".//table[contains(@class, 'filtered')]//tbody/tr")
    assert [[text(td) for td in r.xpath("td")] for r in rows] == [
        ["shop", "Left out: matched the channel's exclude filter (filtered_by_exclude)",
         "categories sale (and below); out of stock", "1,200"],
        ["social", "Left out: less complete than the channel's completeness filter asks "
         "(filtered_by_completeness)", "at least 80% complete", "3"],
    ]  # fmt: skip
    assert section(parse(sample_report()), "channels").xpath(".//h3") == []  # none left out


def test_rule_rows_link_to_their_first_rows() -> None:
    doc = parse(sample_report())
    links = section(doc, "rejects").xpath(".//tbody//a")
    assert len(links) == 8
    for link in links:
        (target,) = doc.xpath(f"//*[@id='{link.get('href')[1:]}']")
        assert target.tag == "h4"
        assert text(link) in text(target)
    assert "#rule-name_missing" in [a.get("href") for a in links]


def test_ids_are_unique_and_sanitized_on_every_page() -> None:
    report = sample_report()
    docs = [parse(report), *(doc for _, doc in lookup_pages(report))]
    for doc in docs:
        ids = doc.xpath("//@id")
        assert len(ids) == len(set(ids))
        assert all(set(i) <= ID_CHARACTERS for i in ids)
    anchors = [b.get("id") for b in docs[1].xpath("//table[@class='lookup']/tbody")]
    # "AB/12 x" and "AB_12_x" both sanitize to AB_12_x
    assert anchors == [
        "sku-AB_12_x",
        "sku-AB_12_x-2",
        "sku-BAD-PRICE",
        "sku-NONAME-1",
        "sku-XSS-1",
        "sku-_no_identifier_",
    ]


def test_main_page_shows_the_first_products_per_rule_each_finding_once() -> None:
    quarantine = section(parse(sample_report()), "quarantine")
    headings = [h.text_content() for h in quarantine.xpath("h3")]
    assert headings == ["Find a product", "Root causes", "First products per rule"]
    rules = [h.get("id") for h in quarantine.xpath("h4")]
    assert rules[:2] == ["rule-invalid_amount", "rule-missing_identifier"]  # input rows first
    assert rules[2] == "rule-gtin_invalid"  # then by products affected
    (gtin,) = quarantine.xpath(".//h4[@id='rule-gtin_invalid']")
    assert "2 products" in text(gtin)
    rows = gtin.getnext().xpath(".//tbody/tr")
    assert [r[0].text_content() for r in rows] == ["AB/12 x", "AB_12_x"]
    assert [r[1].text_content() for r in rows] == ["Hemd AB/12 x", "Hemd AB_12_x"]
    assert [r[5].text_content() for r in rows] == ["products.jsonl:3", "products.jsonl:4"]
    assert [r[7].text_content() for r in rows] == ["Fix in: PIM", "Fix in: PIM"]
    (price,) = quarantine.xpath(".//h4[@id='rule-price_missing']")
    (row,) = price.getnext().xpath(".//tbody/tr")  # one finding on two channels
    assert row[4].text_content() == "marketplace, shop"
    assert "caused by the rejected row prices.csv:12" in text(row)
    assert "Fix in: ERP" in text(row)


def test_a_capped_rule_says_the_rest_is_on_the_lookup_pages() -> None:
    rows = [(f"S{i}", "shop", "name_missing", "name_de_DE", None, "products.jsonl:1")
            for i in range(8)]  # fmt: skip
    findings = findings_frame(quarantine(rows), golden(), names("en_US"))
    report = sample_report(findings=findings, quarantine=findings.head(5))
    (group,) = section(parse(report), "quarantine").xpath(".//h4")
    assert "8 products" in text(group)
    assert len(group.getnext().xpath(".//tbody/tr")) == 5
    assert "on the lookup pages" in text(group.getnext().getnext())


def test_skus_on_the_main_page_link_to_their_lookup_entry() -> None:
    report = sample_report()
    pages = dict(lookup_pages(report))
    links = section(parse(report), "quarantine").xpath(".//tbody//a/@href")
    assert links
    for href in links:
        path, anchor = href.split("#")
        assert pages[path].xpath(f"//tbody[@id='{anchor}']")


def test_a_root_cause_is_listed_once_with_its_effects() -> None:
    report = sample_report()
    causes = section(parse(report), "quarantine").xpath(".//h3[@id='root-causes']")[0].getnext()
    (row,) = causes.getnext().xpath(".//tbody/tr")
    assert "BAD-PRICE" in text(row)
    assert "32,90" in text(row)
    assert "prices.csv:12" in text(row)
    assert "Fix in: ERP" in text(row)
    (effect,) = row.xpath(".//ul[@class='effects']/li")
    assert "(price_missing) (list_price_EUR) on marketplace, shop" in text(effect)

    rows = entry(report, "BAD-PRICE").xpath("tr")
    assert len(rows) == 2  # the reject, and its effect on both channels in one row
    assert rows[0].get("class") == "cause"
    assert rows[1].get("class") == "effect"
    assert rows[0].xpath("string(th[1]/@rowspan)") == "2"
    cells = [text(td) for td in rows[1].xpath("td")]
    assert cells[0].startswith("↳ caused: Needs a list price > 0")
    assert cells[1:4] == ["list_price_EUR", "(missing)", "marketplace, shop"]
    assert cells[6] == "Fix in: ERP"


def test_a_lookup_entry_holds_every_finding_with_name_source_and_pim_link() -> None:
    report = sample_report()
    body = entry(report, "AB/12 x")
    product = body.xpath("tr[1]/th")[0]
    assert "Hemd AB/12 x" in text(product)
    assert body.xpath(".//a/@href") == []  # this product has no uuid in the golden record
    rows = body.xpath("tr")
    problems = [r.xpath("string(td[contains(@class, 'problem')])") for r in rows]
    assert [p.split(" (")[-1] for p in problems] == ["gtin_invalid)", "image_missing)"]
    values = [text(r.xpath("td[3]")[0]) for r in rows]
    assert values == ["4006381333932", "(missing)"]
    assert [r.xpath("string(td[5])") for r in rows] == ["products.jsonl:3"] * 2
    assert [r.xpath("string(td[4])") for r in rows] == ["marketplace"] * 2

    (link,) = entry(report, "BAD-PRICE").xpath(".//a")
    assert link.get("href") == "https://pim.example.com/#/enrich/product/0b1a-ff"
    assert "Open in the PIM" in text(link)
    unlinked = sample_report(pim_url=None)
    assert entry(unlinked, "BAD-PRICE").xpath(".//a") == []


def test_each_lookup_page_lists_every_page_and_marks_its_own() -> None:
    """The page list of a lookup page: its own range unlinked, every other page linked (the
    links are rendered once for all pages)."""
    skus = [f"S{i:04}" for i in range(600)]
    rows = [(sku, "shop", "name_missing", "name_de_DE", None, f"products.jsonl:{i}")
            for i, sku in enumerate(skus)]  # fmt: skip
    findings = findings_frame(quarantine(rows), golden(), names("en_US"))
    report = sample_report(findings=findings, quarantine=findings.head(5))
    ranges = ["S0000 \u2013 S0249", "S0250 \u2013 S0499", "S0500 \u2013 S0599"]
    for n, (_, doc) in enumerate(lookup_pages(report)):
        (listed,) = doc.xpath("//details/ul[@class='pages']")
        items = listed.xpath("li")
        assert [text(li) for li in items] == ranges
        assert [li.xpath("string(strong)") for li in items] == [
            r if i == n else "" for i, r in enumerate(ranges)
        ]
        assert [li.xpath("string(a/@href)") for li in items] == [
            "" if i == n else f"../quarantine/{i + 1:04}.html" for i in range(3)
        ]
        assert [li.xpath("string(a/@title)") for li in items] == [
            "" if i == n else f"page {i + 1}: {count} products"
            for i, count in enumerate((250, 250, 100))
        ]


def test_pim_links_fill_in_percent_encoded_skus() -> None:
    report = sample_report(pim_url="https://pim.example.com/products/{sku}/edit")
    (link,) = entry(report, "AB/12 x").xpath(".//a/@href")
    assert link == "https://pim.example.com/products/AB%2F12%20x/edit"


def test_lookup_pages_list_every_product_by_sku_and_the_main_page_indexes_them() -> None:
    skus = [f"S{i:04}" for i in range(600)]
    rows = [(sku, "shop", "name_missing", "name_de_DE", None, f"products.jsonl:{i}")
            for i, sku in enumerate(reversed(skus))]  # fmt: skip
    findings = findings_frame(quarantine(rows), golden(), names("en_US"))
    report = sample_report(findings=findings, quarantine=findings.head(5))
    pages = list(lookup_pages(report))
    assert [p for p, _ in pages] == ["quarantine/0001.html", "quarantine/0002.html",
                                     "quarantine/0003.html"]  # fmt: skip
    listed = [s for _, doc in pages for s in doc.xpath("//tbody/tr[1]/th//code/text()")]
    assert listed == skus
    index = section(parse(report), "quarantine").xpath(".//ul[@class='pages']//a")
    assert [(a.get("href"), a.text_content()) for a in index] == [
        ("quarantine/0001.html", "S0000 \u2013 S0249"),
        ("quarantine/0002.html", "S0250 \u2013 S0499"),
        ("quarantine/0003.html", "S0500 \u2013 S0599"),
    ]
    second = pages[1][1]
    assert second.xpath("//a[@rel='prev']/@href") == ["0001.html"]
    assert second.xpath("//a[@rel='next']/@href") == ["0003.html"]
    assert "../index.html#quarantine" in second.xpath("//a/@href")


@pytest.mark.parametrize(
    ("locale", "previous", "current", "difference", "change"),
    [
        ("en_US", "€441.49", "€0.02", "-€441.47", "-99.99%"),
        ("de_DE", "441,49\xa0€", "0,02\xa0€", "-441,47\xa0€", "-99,99\xa0%"),
    ],
)
def test_a_price_drop_shows_as_a_drop(
    locale: str, previous: str, current: str, difference: str, change: str
) -> None:
    changes = section(parse(sample_report(locale=locale)), "changes")
    headings = [h.text_content() for h in changes.xpath("h3")]
    assert headings == ["Biggest price rises", "Biggest price drops"]
    rises, drops = (h.getnext() for h in changes.xpath("h3"))
    (drop,) = drops.xpath(".//tbody/tr")
    cells = [c.text_content() for c in drop.xpath("td")]
    assert cells == ["OK-7", "Hemd OK-7", previous, current, difference, change]
    (rise,) = rises.xpath(".//tbody/tr")
    assert [c.text_content() for c in rise.xpath("td")][4:] == (
        ["+€15.00", "+150.00%"] if locale == "en_US" else ["+15,00\xa0€", "+150,00\xa0%"]
    )


def test_money_is_rounded_half_up_to_the_currency_minor_unit() -> None:
    report = sample_report(price_drops=prices(("OK-7", "0.125", "0.115")))
    row = section(parse(report), "changes").xpath(".//table[contains(@class, 'drop')]//td")
    assert [c.text_content() for c in row][2:5] == ["€0.13", "€0.12", "-€0.01"]


def test_a_price_change_links_to_the_quarantined_product() -> None:
    report = sample_report()
    (rise,) = section(parse(report), "changes").xpath(".//table[contains(@class, 'rise')]//tr[td]")
    (link,) = rise.xpath(".//a")
    path, anchor = link.get("href").split("#")
    assert dict(lookup_pages(report))[path].xpath(f"//tbody[@id='{anchor}']")
    (drop,) = section(parse(report), "changes").xpath(".//table[contains(@class, 'drop')]//tr[td]")
    assert drop.xpath(".//a") == []  # OK-7 is not quarantined


def test_checks_are_in_plain_words_one_row_per_rule_and_column() -> None:
    checks = section(parse(sample_report()), "expectations")
    assert "expect_" not in text(checks)
    rows = checks.xpath(".//tbody/tr")
    assert [text(r.xpath("td[1]")[0]) for r in rows] == [
        "Needs a value for name (name_missing)",
        "Needs a valid gtin (GTIN-8/12/13/14 with a correct GS1 check digit) (gtin_invalid)",
    ]
    assert rows[0].get("class") == "bad"
    assert rows[0].xpath("string(td[5])") == "3 / 90"
    (passed,) = checks.xpath(".//details")  # passed checks fold away
    assert passed.xpath("string(summary)") == "1 check passed"
    assert passed.xpath(".//tbody/tr") == [rows[1]]


def test_values_are_escaped() -> None:
    report = sample_report()
    documents = [render_report(report), *(d for _, d in render_pages(report))]
    for document in documents:
        doc = lxml.html.document_fromstring(document)
        assert doc.xpath("//script") == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert XSS in text(entry(report, "XSS-1"))


def test_no_script_and_no_external_resources() -> None:
    report = sample_report()
    for document in [render_report(report), *(d for _, d in render_pages(report))]:
        doc = lxml.html.document_fromstring(document)
        assert "<script" not in document.lower()
        assert (
            doc.xpath("//@src | //@srcset | //@action | //@data | //@style[contains(., 'url')]")
            == []
        )
        assert doc.xpath("//link | //iframe | //img | //object | //embed") == []
        assert "url(" not in document
        external = [h for h in doc.xpath("//@href") if h.startswith(("http:", "https:", "//"))]
        assert all(h.startswith("https://pim.example.com/") for h in external)  # links only
        assert doc.xpath("//a[starts-with(@href, 'https:')]/@href") == external


def test_first_snapshot_has_nothing_to_compare() -> None:
    doc = parse(sample_report(previous_snapshot=None))
    changes = section(doc, "changes")
    assert "first snapshot" in text(changes)
    assert "nothing to compare" in text(changes)
    assert changes.xpath(".//table") == []
    assert "first snapshot" in text(doc.xpath("//header")[0])


def test_trends_are_shares_per_channel_with_axis_titles_and_a_legend() -> None:
    trend = section(parse(sample_report()), "trends")
    legend = [text(li) for li in trend.xpath(".//ul[@class='legend']/li")]
    assert legend == ["published share", "quarantined share"]
    figures = trend.xpath(".//figure")
    assert [f.xpath("string(figcaption)") for f in figures] == ["marketplace", "shop"]
    chart = figures[1].xpath(".//svg")[0]
    titles = chart.xpath(".//text[@class='title']/text()")
    assert titles == ["snapshot (month-day, UTC time)", "share of enabled products"]
    assert chart.xpath(".//text[@class='ytick']/text()") == [
        "0%", "25%", "50%", "75%", "100%",
    ]  # fmt: skip
    # shop, newest: 91 published and 8 quarantined of 99 enabled
    assert chart.xpath(".//text[@class='end']/text()") == ["91.9%", "8.1%"]


@pytest.mark.parametrize(("published", "quarantined"), [(90, 8), (0, 0)])
def test_single_snapshot_trend_draws_a_point(published: int, quarantined: int) -> None:
    report = sample_report(trends=trends([SNAPSHOT], published, quarantined))
    charts = section(parse(report), "trends").xpath(".//svg")
    assert len(charts) == 2
    for chart in charts:
        circles = chart.xpath(".//circle")
        assert len(circles) == (2 if published else 0)  # no enabled product: no share
        coords = [float(c.get(a)) for c in circles for a in ("cx", "cy")]
        assert all(0 <= v <= 340 for v in coords)
        assert x_labels(chart) == ["11-22 19:56"]


def test_trend_lines_run_oldest_to_newest() -> None:
    snapshots = [f"202611{d:02}T195600Z-00000000" for d in range(1, 31)]
    chart = section(parse(sample_report(trends=trends(snapshots))), "trends").xpath(".//svg")[1]
    published, quarantined = (p.get("points").split() for p in chart.xpath(".//polyline"))
    xs = [float(p.split(",")[0]) for p in published]
    ys = [float(p.split(",")[1]) for p in published]
    assert len(xs) == 30
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # a growing share goes up
    assert [float(p.split(",")[1]) for p in quarantined] == sorted(
        float(p.split(",")[1]) for p in quarantined
    )
    labels = x_labels(chart)
    assert labels[-1] == "11-30 19:56"  # the current snapshot is always labelled
    assert len(labels) <= 6


def test_a_capped_main_page_says_where_the_rest_is() -> None:
    report = sample_report()
    capped = section(parse(dataclasses.replace(report, quarantine=report.findings.head(2))),
                     "quarantine")  # fmt: skip
    assert "shows 2 of 9 rows" in text(capped)
    find = capped.xpath(".//h3[@id='find-a-product']")[0].getnext()
    assert find.xpath(".//a/@href") == ["quarantine.csv", "quarantine.xlsx"]
    assert "shows" not in text(section(parse(report), "quarantine"))


def test_empty_frames_render_none_lines() -> None:
    full = sample_report()
    empty = {
        name: getattr(full, name).clear()
        for name in ("breakers", "channels", "rejects", "families", "categories", "completeness")
    }
    empty |= {
        name: getattr(full, name).clear()
        for name in ("changes", "price_rises", "price_drops", "trends", "quarantine")
    }
    empty |= {"expectations": full.expectations.clear(), "findings": full.findings.clear()}
    doc = parse(sample_report(**empty))
    for key in ("breakers", "channels", "rejects", "completeness", "trends", "quarantine"):
        assert section(doc, key).xpath(".//table") == [], key
        assert section(doc, key).xpath(".//p[@class='none']"), key
    assert len(section(doc, "worst").xpath(".//p[@class='none']")) == 2
    assert "0 added" in text(section(doc, "changes"))
    assert "No price drops." in text(section(doc, "changes"))
    assert list(render_pages(sample_report(**empty))) == []


# --- files --------------------------------------------------------------------------------------


def modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mode & 0o777 for p in folder.rglob("*")}


@pytest.mark.parametrize(("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755),
                                                                (0o027, 0o640, 0o750)])  # fmt: skip
def test_write_report_writes_files_as_any_new_file(
    tmp_path: Path, umask: int, file_mode: int, folder_mode: int
) -> None:
    previous = os.umask(umask)
    try:
        write_report(sample_report(), tmp_path)
    finally:
        os.umask(previous)
    assert modes(tmp_path) == {
        "index.html": file_mode,
        "quarantine": folder_mode,
        "quarantine/0001.html": file_mode,
    }


def test_write_report_replaces_index_and_pages_atomically(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("old", encoding="utf-8")
    (tmp_path / "quarantine").mkdir()
    (tmp_path / "quarantine" / "0009.html").write_text("a page of a longer run", "utf-8")
    report = sample_report()
    path = write_report(report, tmp_path / ".")
    assert path == tmp_path / "index.html"
    assert path.read_text(encoding="utf-8") == render_report(report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "quarantine"]
    pages = {
        f"quarantine/{p.name}": p.read_text("utf-8") for p in (tmp_path / "quarantine").iterdir()
    }
    assert pages == dict(render_pages(report))


def test_templates_and_stylesheet_are_package_data() -> None:
    """An installed (not editable) package ships what ``quality.report.render`` loads."""
    settings = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = settings["tool"]["setuptools"]["package-data"]["quality.report"]
    package = REPO / "quality" / "report"
    shipped = {p for pattern in globs for p in package.glob(pattern)}
    needed = {p for p in package.rglob("*") if p.suffix in (".j2", ".css")}
    assert needed
    assert needed <= shipped


# --- in a browser -------------------------------------------------------------------------------


def test_report_renders_in_headless_chromium_on_desktop_and_phone(tmp_path: Path) -> None:
    path = write_report(sample_report(verdict="overridden"), tmp_path / "report")
    lookup = tmp_path / "report" / "quarantine" / "0001.html"

    def index(page: Page) -> None:
        assert page.get_by_role("heading", name="Circuit breakers").is_visible()
        assert page.get_by_role("heading", name="Root causes").is_visible()
        assert overflow(page) == 0

    def entries(page: Page) -> None:
        assert page.locator("#sku-XSS-1").is_visible()
        assert overflow(page) == 0

    with chromium() as browser:
        for width in (1280, 390):
            for name, page_file, check in (("index", path, index), ("lookup", lookup, entries)):
                screenshot = tmp_path / f"{name}-{width}.png"
                assert visit(browser, page_file, screenshot, check, width) == []
                assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                assert screenshot.stat().st_size > 10_000
