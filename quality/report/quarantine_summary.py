"""The main page's quarantine section: where to find each product, the root causes, and the
first products of each rule. Every product is on the lookup pages (``lookup``); the main page
keeps summaries, so it stays short at any catalog size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from quality.quarantine import ALL_CHANNELS
from quality.report.anchors import Ids
from quality.report.lookup import INPUT_ROW, Page, Product
from quality.report.numbers import Numbers
from quality.report.sections import Row
from quality.report.wording import SECTIONS, needs

ROOT_CAUSES_SHOWN = 10
_FINDING = ["sku", "name", "field", "value", "source", "severity", "fix_in", "caused_by"]


def rule_anchors(shown: pl.DataFrame) -> dict[str, str]:
    """rule -> id of its group of first rows on the main page."""
    ids = Ids.reserving(SECTIONS)
    return {rule: ids.unique("rule", rule) for rule in sorted(shown["rule"].unique())}


def rule_groups(
    shown: pl.DataFrame,
    findings: pl.DataFrame,
    anchors: Mapping[str, str],
    locations: Mapping[str, str],
    numbers: Numbers,
    kinds: Mapping[str, str],
) -> list[Row]:
    """Per rule (input rejects first, then by products affected), the findings ``shown``, each
    once with the channels it hits, and whether the lookup pages hold more."""
    sku = pl.col("sku")
    totals = (
        findings.group_by("rule")
        .agg(
            products=sku.drop_nulls().n_unique() + sku.null_count(),
            input=(pl.col("channel") == ALL_CHANNELS).any(),
            channel=pl.col("channel").filter(pl.col("channel") != ALL_CHANNELS).min(),
        )
        .sort(["input", "products", "rule"], descending=[True, True, False])
    )
    merged = (
        shown.group_by("rule", *_FINDING)
        .agg(channels=pl.col("channel").unique().sort())
        .sort("sku", "field", "source", "channels", nulls_last=True)
    )
    groups = []
    for total in totals.iter_rows(named=True):
        rows = merged.filter(pl.col("rule") == total["rule"]).to_dicts()
        if not rows:
            continue
        shown_products = len({r["sku"] for r in rows if r["sku"] is not None}) + sum(
            r["sku"] is None for r in rows
        )
        groups.append(
            {
                "anchor": anchors.get(total["rule"]),
                "problem": needs(total["rule"], kinds.get(total["channel"] or "")),
                "rule": total["rule"],
                "total": numbers.counted(total["products"], "product"),
                "more": total["products"] > shown_products,
                "rows": [_row(r, locations) for r in rows],
            }
        )
    return groups


def _row(r: Row, locations: Mapping[str, str]) -> Row:
    named = [c for c in r["channels"] if c != ALL_CHANNELS]
    return {
        "sku": r["sku"],
        "link": locations.get(r["sku"]) if r["sku"] is not None else None,
        "name": r["name"],
        "field": r["field"],
        "value": r["value"],
        "channels": ", ".join(named) if named else INPUT_ROW,
        "source": r["source"],
        "severity": r["severity"],
        "fix_in": r["fix_in"],
        "caused_by": r["caused_by"],
    }


def root_causes(products: Sequence[Product], locations: Mapping[str, str]) -> Row:
    """The first products whose input rejects caused channel findings, and how many there are."""
    caused = [p for p in products if any(f.effects for f in p.causes)]
    return {
        "total": len(caused),
        "shown": [
            {"product": p, "link": locations.get(p.sku) if p.sku is not None else None}
            for p in caused[:ROOT_CAUSES_SHOWN]
        ],
    }


def page_index(cut: Sequence[Page], numbers: Numbers) -> list[Row]:
    """Each lookup page with its first and last sku."""
    return [
        {
            "file": page.file,
            "number": page.number,
            "first": page.first,
            "last": page.last,
            "count": numbers.count(len(page.products)),
        }
        for page in cut
    ]
