"""The report's pages rendered from the jinja2 templates shipped in ``quality/report/templates``.

Autoescaping is always on: product data is untrusted (a PIM name can hold markup), and the
only markup that is not escaped is the templates' own and the stylesheet shipped with them.
The stylesheet (``static/report.css``) is inlined, so every page is one self-contained file:
no JavaScript, no external resources, openable offline and from a mail attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from quality.report import quarantine_summary as qs
from quality.report import sections as s
from quality.report.lookup import Page, Product, locations, pages, products
from quality.report.model import QualityReport
from quality.report.numbers import Numbers
from quality.report.wording import SECTIONS

PACKAGE = "quality.report"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def stylesheet() -> Markup:
    """The shipped CSS, trusted as is (it is ours and holds no ``</style>``)."""
    return Markup(files(PACKAGE).joinpath("static/report.css").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Lookup:
    """The lookup pages of a report, cut once for the main page and the pages themselves."""

    products: list[Product]
    pages: list[Page]
    locations: dict[str, str]

    @classmethod
    def of(cls, report: QualityReport) -> Lookup:
        found = products(report.findings, s.formats(report.channels), report.pim_url)
        cut = pages(found)
        return cls(found, cut, locations(cut))


def render_report(report: QualityReport, lookup: Lookup | None = None) -> str:
    """The main page (``index.html``) of ``report``."""
    lookup = lookup or Lookup.of(report)
    context = {
        "title": f"Quality report {report.snapshot_id}",
        "css": stylesheet(),
        "sections": SECTIONS,
        **_sections(report, lookup),
    }
    return environment().get_template("index.html.j2").render(context)


def render_pages(report: QualityReport, lookup: Lookup | None = None) -> Iterator[tuple[str, str]]:
    """(path relative to ``index.html``, document) of every lookup page."""
    lookup = lookup or Lookup.of(report)
    template = environment().get_template("lookup.html.j2")
    index = qs.page_index(lookup.pages, Numbers(report.locale))
    links = page_links(index, "../")
    for n, page in enumerate(lookup.pages):
        yield (
            page.file,
            template.render(
                css=stylesheet(),
                snapshot_id=report.snapshot_id,
                page=page,
                index=index,
                links=links,
                previous=lookup.pages[n - 1] if n else None,
                next=lookup.pages[n + 1] if n + 1 < len(lookup.pages) else None,
            ),
        )


def page_links(index: list[dict[str, Any]], prefix: str) -> list[Markup]:
    """Each entry of ``index`` (``quarantine_summary.page_index``) as the page list's link to
    it, rendered once: every lookup page lists every page (at 1M products, 323 pages of 323
    entries; rendering the pages took 2.5 CPU s with each list rendered whole, 1.9 s so)."""
    item = environment().get_template("macros.html.j2").module.page_item  # type: ignore[attr-defined]
    return [item(entry, None, prefix) for entry in index]


def _sections(report: QualityReport, lookup: Lookup) -> dict[str, Any]:
    numbers = Numbers(report.locale)
    kinds = s.formats(report.channels)
    anchors = qs.rule_anchors(report.quarantine)
    return {
        "header": s.header(report),
        "breakers": s.breakers(report.breakers, numbers),
        "channels": s.channels(report.channels, numbers),
        "channel_legend": s.LEGEND,
        "filtered": s.filtered(report.filtered, report.channel_filters, numbers),
        "rejects": s.rejects(report.rejects, numbers, anchors, kinds),
        "price_rows": s.price_rows(report.erp_price_rows, numbers),
        "families": s.worst(report.families, "family", numbers),
        "categories": s.worst(report.categories, "category", numbers),
        "completeness": None
        if report.completeness.is_empty()
        else s.completeness(report.completeness, numbers),
        "changes": {
            "first": report.previous_snapshot is None,
            "previous": report.previous_snapshot,
            "counts": s.change_counts(report.changes, numbers),
            "rises": s.price_changes(report.price_rises, numbers, lookup.locations),
            "drops": s.price_changes(report.price_drops, numbers, lookup.locations),
        },
        "trends": s.trends(report.trends, numbers),
        "trend_legend": s.TREND_LEGEND,
        "expectations": s.expectations(report.expectations, numbers, kinds),
        "quarantine": _quarantine(report, lookup, numbers, anchors, kinds),
    }


def _quarantine(
    report: QualityReport,
    lookup: Lookup,
    numbers: Numbers,
    anchors: dict[str, str],
    kinds: dict[str, str],
) -> dict[str, Any]:
    downloads = [
        (label, name)
        for label, name in report.exports.items()
        if name.lower().endswith((".csv", ".xlsx"))
    ]
    causes = qs.root_causes(lookup.products, lookup.locations)
    return {
        "products": lookup.products,
        "products_count": numbers.count(len(lookup.products)),
        "rows_count": numbers.count(report.findings.height),
        "shown_count": numbers.count(report.quarantine.height),
        "capped": report.quarantine.height < report.findings.height,
        "downloads": downloads,
        "pages": qs.page_index(lookup.pages, numbers),
        "causes": causes | {"total_text": numbers.count(causes["total"])},
        "groups": qs.rule_groups(
            report.quarantine, report.findings, anchors, lookup.locations, numbers, kinds
        ),
    }
