"""The quality report: parsed back with lxml, and rendered by a real headless Chromium."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import lxml.html
import polars as pl
import pytest
from browser import render
from playwright.sync_api import Page

from quality.breakers import BREAKERS_SCHEMA
from quality.expectations import RESULTS_SCHEMA
from quality.report import QualityReport, render_report, write_report

SNAPSHOT = "20261122T195600Z-ab12cd34"
PREVIOUS = "20261121T195600Z-99ff00ee"
XSS = "<script>alert(1)</script>"
SECTION_HEADINGS = [
    "Circuit breakers",
    "Summary per channel",
    "Rejects by rule and field",
    "Worst families and categories",
    "Completeness per channel and locale",
    "Changes since the previous snapshot",
    "Trends over the last snapshots",
    "Great Expectations results",
    "Quarantine",
]


def frame(rows: list[Any], schema: Any) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def trends(snapshots: list[str], published: int = 90, quarantined: int = 8) -> pl.DataFrame:
    rows = [
        {
            "snapshot_id": s,
            "channel": c,
            "published": (published + i) // (1 + n),
            "quarantined": quarantined * (1 + n),
        }
        for i, s in enumerate(snapshots)
        for n, c in enumerate(("shop", "marketplace"))
    ]
    schema = {
        "snapshot_id": pl.String,
        "channel": pl.String,
        "published": pl.Int64,
        "quarantined": pl.Int64,
    }
    return frame(rows, schema)


def quarantine(rows: list[tuple[str, str, str, str, str | None]]) -> pl.DataFrame:
    """(sku, channel, rule, field, value) rows with a PIM source and error severity."""
    full = [
        {
            "sku": sku,
            "channel": channel,
            "rule": rule,
            "field": field,
            "value": value,
            "source": f"products.jsonl:{n + 1}",
            "severity": "error",
        }
        for n, (sku, channel, rule, field, value) in enumerate(rows)
    ]
    schema = dict.fromkeys(["sku", "channel", "rule", "field", "value", "source", "severity"])
    return frame(full, {k: pl.String for k in schema})


SAMPLE_QUARANTINE = [
    ("NONAME-1", "shop", "name_missing", "name_de_DE", "  "),
    ("XSS-1", "shop", "name_too_long", "name_de_DE", XSS),
    ("AB/12 x", "marketplace", "gtin_checksum", "gtin", "4006381333932"),
    ("AB_12_x", "marketplace", "gtin_checksum", "gtin", "123"),
    ("AB/12 x", "marketplace", "image_missing", "image_url", None),
    ("BAD-PRICE", "*", "unparseable_price", "list_price", "12,99.0"),
]


def sample_report(**overrides: Any) -> QualityReport:
    """A small report touching every section; ``overrides`` replace fields."""
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
            [("shop", "csv", 100, 90, 8, 2, 5), ("marketplace", "xml", 100, 85, 13, 2, 0)],
            {
                "channel": pl.String,
                "format": pl.String,
                **dict.fromkeys(
                    ["products", "published", "quarantined", "disabled", "warned"], pl.Int64
                ),
            },
        ),
        rejects=frame(
            [
                ("shop", "name_missing", "name_de_DE", "error", "pim", 1),
                ("shop", "name_too_long", "name_de_DE", "error", "pim", 1),
                ("marketplace", "gtin_checksum", "gtin", "error", "pim", 2),
                ("marketplace", "image_missing", "image_url", "error", "pim", 1),
                ("*", "unparseable_price", "list_price", "error", "erp", 1),
            ],
            {
                "channel": pl.String,
                "rule": pl.String,
                "field": pl.String,
                "severity": pl.String,
                "source": pl.String,
                "products": pl.Int64,
            },
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
        price_changes=frame(
            [("AB/12 x", "EUR", "10.00", "25.00", 2.5), ("OK-7", "EUR", "20.00", "18.00", 0.9)],
            {
                "sku": pl.String,
                "currency": pl.String,
                "previous": pl.String,
                "current": pl.String,
                "factor": pl.Float64,
            },
        ),
        trends=trends([PREVIOUS, SNAPSHOT]),
        quarantine=quarantine(SAMPLE_QUARANTINE),
        quarantine_total=len(SAMPLE_QUARANTINE),
        expectations=frame(
            [
                ("shop", "gtin_valid", "expect_column_values_to_match_regex", "gtin", "error",
                 True, 0, 90),
                ("shop", "price_set", "expect_column_values_to_not_be_null", "price", "error",
                 False, 2, 90),
            ],
            RESULTS_SCHEMA,
        ),
        exports={
            "Quarantine (CSV)": "quarantine.csv",
            "Quarantine (Excel)": "quarantine.xlsx",
            "Expectation results (JSON)": "expectations.json",
        },
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


def section(doc: lxml.html.HtmlElement, key: str) -> lxml.html.HtmlElement:
    (found,) = doc.xpath(f"//section[@id='{key}']")
    return found


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def x_labels(chart: lxml.html.HtmlElement) -> list[str]:
    """Snapshot tick labels, date and time lines joined by a space."""
    return [" ".join(t.xpath("tspan/text()")) for t in chart.xpath(".//text[@class='xtick']")]


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
    assert "2026-11-22" in text(header)
    links = {a.text_content(): a.get("href") for a in header.xpath(".//a")}
    assert links["Quarantine (Excel)"] == "quarantine.xlsx"
    assert links["Expectation results (JSON)"] == "expectations.json"


def test_sections_come_in_order() -> None:
    doc = parse(sample_report())
    assert [h.text_content() for h in doc.xpath("//section/h2")] == SECTION_HEADINGS


def test_tripped_breakers_are_highlighted_first() -> None:
    rows = section(parse(sample_report()), "breakers").xpath(".//tbody/tr")
    assert [r[0].text_content() for r in rows] == ["product_drop", "quarantine_share"]
    assert rows[0].get("class") == "bad"
    assert "TRIPPED" in text(rows[0])
    assert rows[1].get("class") is None


def test_channel_summary_has_counts_and_a_stacked_bar() -> None:
    rows = section(parse(sample_report()), "channels").xpath(".//tbody/tr")
    cells = [c.text_content() for c in rows[0].xpath("td")[:7]]
    assert cells[:2] == ["shop", "csv"]
    assert cells[2:] == ["100", "90", "8", "2", "5"]
    titles = [t.text_content() for t in rows[0].xpath(".//svg//title")]
    assert titles == ["published: 85", "warned: 5", "quarantined: 8", "disabled: 2"]


def test_rule_rows_link_to_their_quarantine_group() -> None:
    doc = parse(sample_report())
    links = section(doc, "rejects").xpath(".//tbody//a")
    assert len(links) == 5
    for link in links:
        (target,) = doc.xpath(f"//*[@id='{link.get('href')[1:]}']")
        assert target.tag == "h4"
        assert link.text_content() in target.text_content()
    assert "#rule-shop-name_missing" in [a.get("href") for a in links]


def test_quarantined_rows_have_unique_sanitized_ids() -> None:
    doc = parse(sample_report())
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids))
    row_ids = section(doc, "quarantine").xpath(".//tr/@id")
    assert {"q-shop-NONAME-1", "q-shop-XSS-1", "q-_-BAD-PRICE", "q-marketplace-AB_12_x"} <= set(
        row_ids
    )
    # "AB/12 x" and "AB_12_x" both sanitize to AB_12_x; one row per (channel, sku) has an id
    assert len(row_ids) == 5
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
               for i in ids)  # fmt: skip


def test_quarantine_is_grouped_by_channel_then_rule() -> None:
    quarantine = section(parse(sample_report()), "quarantine")
    headings = [h.text_content() for h in quarantine.xpath("h3")]
    assert headings == ["input (before any channel)", "marketplace", "shop"]
    (gtin,) = quarantine.xpath(".//h4[@id='rule-marketplace-gtin_checksum']")
    rows = gtin.getnext().xpath(".//tbody/tr")
    assert [r[0].text_content() for r in rows] == ["AB/12 x", "AB_12_x"]
    assert [r[3].text_content() for r in rows] == ["products.jsonl:3", "products.jsonl:4"]


def test_price_change_links_to_the_quarantined_row() -> None:
    doc = parse(sample_report())
    rows = section(doc, "changes").xpath(".//tbody/tr")
    (link,) = rows[0].xpath(".//a")
    (target,) = doc.xpath(f"//tr[@id='{link.get('href')[1:]}']")
    assert target[0].text_content() == "AB/12 x"
    assert rows[1].xpath(".//a") == []  # OK-7 is not quarantined
    assert "\u00d72.50" in text(rows[0])


def test_values_are_escaped() -> None:
    document = render_report(sample_report())
    doc = lxml.html.document_fromstring(document)
    assert doc.xpath("//script") == []
    assert XSS in text(section(doc, "quarantine"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document


def test_no_script_and_no_external_resources() -> None:
    document = render_report(sample_report())
    doc = lxml.html.document_fromstring(document)
    assert "<script" not in document.lower()
    references = doc.xpath("//@src | //@href | //@srcset | //@action | //@data")
    assert references
    assert not [r for r in references if r.lower().startswith(("http:", "https:", "//"))]
    assert "url(" not in document
    assert doc.xpath("//link | //iframe | //img | //object | //embed") == []


def test_first_snapshot_has_nothing_to_compare() -> None:
    doc = parse(sample_report(previous_snapshot=None))
    changes = section(doc, "changes")
    assert "first snapshot" in text(changes)
    assert "nothing to compare" in text(changes)
    assert changes.xpath(".//table") == []
    assert "first snapshot" in text(doc.xpath("//header")[0])


@pytest.mark.parametrize(("published", "quarantined"), [(90, 8), (0, 0)])
def test_single_snapshot_trend_draws_a_point(published: int, quarantined: int) -> None:
    report = sample_report(trends=trends([SNAPSHOT], published, quarantined))
    charts = section(parse(report), "trends").xpath(".//svg")
    assert len(charts) == 2
    for chart in charts:
        circles = chart.xpath(".//circle")
        assert len(circles) == 2  # one per channel
        coords = [float(c.get(a)) for c in circles for a in ("cx", "cy")]
        assert all(0 <= v <= 480 for v in coords)
        assert x_labels(chart) == ["11-22 19:56"]


def test_trend_lines_run_oldest_to_newest() -> None:
    snapshots = [f"202611{d:02}T195600Z-00000000" for d in range(1, 31)]
    chart = section(parse(sample_report(trends=trends(snapshots))), "trends").xpath(".//svg")[0]
    shop = chart.xpath(".//polyline")[0].get("points").split()
    xs = [float(p.split(",")[0]) for p in shop]
    ys = [float(p.split(",")[1]) for p in shop]
    assert len(xs) == 30
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # growing counts go up
    labels = x_labels(chart)
    assert labels[-1] == "11-30 19:56"  # the current snapshot is always labelled
    assert len(labels) <= 8


def test_capped_quarantine_points_to_the_exports() -> None:
    quarantine = section(parse(sample_report(quarantine_total=1234)), "quarantine")
    assert "Showing 6 of 1 234 quarantined rows" in text(quarantine)
    hrefs = quarantine.xpath(".//p//a/@href")
    assert hrefs == ["quarantine.csv", "quarantine.xlsx"]
    assert "Showing" not in text(section(parse(sample_report()), "quarantine"))


def test_empty_frames_render_none_lines() -> None:
    full = sample_report()
    empty = {
        name: getattr(full, name).clear()
        for name in ("breakers", "channels", "rejects", "families", "categories", "completeness")
    }
    empty |= {
        name: getattr(full, name).clear()
        for name in ("changes", "price_changes", "trends", "quarantine", "expectations")
    }
    doc = parse(sample_report(**empty, quarantine_total=0))
    for key in ("breakers", "channels", "rejects", "completeness", "trends", "quarantine"):
        assert section(doc, key).xpath(".//table") == [], key
        assert section(doc, key).xpath(".//p[@class='none']"), key
    assert len(section(doc, "worst").xpath(".//p[@class='none']")) == 2
    assert "0 added" in text(section(doc, "changes"))


def test_write_report_replaces_index_atomically(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("old", encoding="utf-8")
    path = write_report(sample_report(), tmp_path / ".")
    assert path == tmp_path / "index.html"
    assert path.read_text(encoding="utf-8") == render_report(sample_report())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    path = write_report(sample_report(verdict="overridden"), tmp_path / "report")
    screenshot = tmp_path / "report.png"

    def check(page: Page) -> None:
        assert page.get_by_role("heading", name="Circuit breakers").is_visible()
        assert page.locator("#q-shop-XSS-1").is_visible()

    errors = render(path, screenshot, check)
    assert errors == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000
