"""The main page's sections as plain row data for the templates: formatted text, no markup.

Each builder takes the report's frames and returns dicts and lists the template lays out;
numbers and money are already formatted in the report locale (``Numbers``), so templates only
place text (autoescaped) and draw the charts from ``charts``' geometry.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl

from contracts.mapping import Filters
from quality.report.charts import (
    SEGMENTS,
    TREND_SERIES,
    LineChart,
    share_chart,
    share_width,
    stacked_bar,
)
from quality.report.model import QualityReport
from quality.report.numbers import MISSING, Numbers
from quality.report.wording import (
    BREAKERS,
    SHARE_BREAKERS,
    VERDICT_NOTES,
    channel_label,
    filter_setting,
    needs,
)

Row = dict[str, Any]


def by_channel(frame: pl.DataFrame) -> Iterator[tuple[str, list[Row]]]:
    """Rows of ``frame`` (sorted by channel) grouped by channel."""
    for channel, rows in itertools.groupby(frame.iter_rows(named=True), lambda r: r["channel"]):
        yield channel, list(rows)


def formats(channels: pl.DataFrame) -> dict[str, str]:
    """channel -> format, to word a rule the way it is declared for that format."""
    return dict(zip(channels["channel"], channels["format"], strict=True))


def header(report: QualityReport) -> Row:
    known = report.verdict in ("passed", "blocked", "overridden")
    return {
        "snapshot_id": report.snapshot_id,
        "as_of": report.as_of,
        "created_at": utc_minute(report.created_at),
        "verdict": report.verdict,
        "verdict_class": report.verdict if known else "unknown",
        "previous_snapshot": report.previous_snapshot,
        "exports": list(report.exports.items()),
        "note": VERDICT_NOTES.get(report.verdict),
    }


def utc_minute(timestamp: str) -> str:
    """An ISO timestamp as "2026-11-22 19:56 UTC"; anything else as it is."""
    try:
        moment = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    if moment.tzinfo is None:
        return timestamp
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def breakers(frame: pl.DataFrame, numbers: Numbers) -> list[Row]:
    """Every breaker, tripped ones first."""
    ordered = frame.sort("tripped", descending=True, maintain_order=True)
    return [
        {
            "name": r["name"],
            "words": BREAKERS.get(r["name"], r["name"]),
            "channel": channel_label(r["channel"]),
            "value": breaker_value(r["name"], r["value"], numbers),
            "limit": breaker_value(r["name"], r["limit"], numbers),
            "tripped": bool(r["tripped"]),
            "detail": r["detail"],
        }
        for r in ordered.iter_rows(named=True)
    ]


def breaker_value(name: str, value: float | None, numbers: Numbers) -> str:
    """A breaker's value or limit in its unit: shares as percentages, ages in hours; the
    baseline breaker has none (its status and detail say it all)."""
    if name in SHARE_BREAKERS:
        return numbers.share(value)
    if name == "freshness":
        return numbers.hours(value)
    if name == "baseline":
        return MISSING
    return numbers.number(value)


def channels(frame: pl.DataFrame, numbers: Numbers) -> list[Row]:
    rows = []
    for r in frame.iter_rows(named=True):
        warned = r["warned"] or 0
        clean = max((r["published"] or 0) - warned, 0)
        filtered = r.get("filtered") or 0
        counts = [clean, warned, r["quarantined"] or 0, filtered, r["disabled"] or 0]
        cells = {k: numbers.count(r[k]) for k in _CHANNEL_COUNTS}
        rows.append(
            {
                "channel": r["channel"],
                "format": r["format"],
                **cells,
                "segments": stacked_bar(counts, numbers.count),
            }
        )
    return rows


_CHANNEL_COUNTS = ("products", "published", "quarantined", "filtered", "disabled", "warned")
LEGEND = [{"label": label, "colour": colour} for label, colour in SEGMENTS]


def filtered(frame: pl.DataFrame, filters: Mapping[str, Filters], numbers: Numbers) -> list[Row]:
    """Per channel and reason, the products its filters leave out, with the filter in words."""
    return [
        {
            "channel": r["channel"],
            "reason": needs(r["rule"]),
            "rule": r["rule"],
            "setting": filter_setting(
                filters.get(r["channel"]), r["rule"].removeprefix("filtered_by_"), numbers
            ),
            "products": numbers.count(r["products"]),
        }
        for r in frame.sort("channel", "rule").iter_rows(named=True)
    ]


def rejects(
    frame: pl.DataFrame,
    numbers: Numbers,
    anchors: Mapping[str, str],
    kinds: Mapping[str, str],
) -> list[Row]:
    """Per channel (input files first), rules by products affected."""
    ordered = frame.sort(["channel", "products"], descending=[False, True], maintain_order=True)
    return [
        {
            "channel": channel_label(channel),
            "rows": [
                {
                    "problem": needs(r["rule"], kinds.get(channel)),
                    "rule": r["rule"],
                    "anchor": anchors.get(r["rule"]),
                    "field": r["field"],
                    "severity": r["severity"],
                    "fix_in": r["fix_in"],
                    "products": numbers.count(r["products"]),
                    "caused": numbers.count(r["caused"]) if r["caused"] else "",
                }
                for r in rows
            ],
        }
        for channel, rows in by_channel(ordered)
    ]


def worst(frame: pl.DataFrame, key: str, numbers: Numbers) -> list[Row]:
    return [
        {
            "group": r[key],
            "products": numbers.count(r["products"]),
            "quarantined": numbers.count(r["quarantined"]),
            "share": numbers.share(r["quarantine_share"]),
            "width": share_width(r["quarantine_share"]),
            "completeness": numbers.share(r["completeness"]),
        }
        for r in frame.iter_rows(named=True)
    ]


def heat(score: float | None) -> str:
    """A cell background from red (0) over yellow to green (1)."""
    if score is None or not math.isfinite(score):
        return ""
    return f"background:hsl({120 * min(max(score, 0.0), 1.0):.0f},70%,80%)"


def completeness(frame: pl.DataFrame, numbers: Numbers) -> Row:
    """Channels by locales: the mean score and the share of complete products."""
    locales = sorted(frame["locale"].unique().to_list(), key=str)
    cells = {(r["channel"], r["locale"]): r for r in frame.iter_rows(named=True)}

    def cell(row: Row | None) -> Row | None:
        if row is None:
            return None
        return {
            "mean": numbers.share(row["mean"]),
            "complete": numbers.share(row["complete_share"]),
            "style": heat(row["mean"]),
        }

    return {
        "locales": locales,
        "rows": [
            {"channel": c, "cells": [cell(cells.get((c, loc))) for loc in locales]}
            for c in frame["channel"].unique(maintain_order=True).to_list()
        ],
    }


PRICE_ROW_STATUSES = {
    "active": "valid on the as-of date: published",
    "superseded": "valid, but a later row for the same price replaces it",
    "expired": "validity ended before the as-of date",
    "not_yet_valid": "validity starts after the as-of date",
    "unpublished_currency": "in a currency no channel publishes",
}


def price_rows(counts: Mapping[str, int], numbers: Numbers) -> list[Row]:
    """Every ERP price row by what became of it (nothing is silently dropped)."""
    return [
        {"status": label, "rows": numbers.count(counts.get(status, 0))}
        for status, label in PRICE_ROW_STATUSES.items()
        if counts.get(status)
    ]


def price_changes(frame: pl.DataFrame, numbers: Numbers, locations: Mapping[str, str]) -> list[Row]:
    """Signed changes, money in the report locale; a quarantined sku links to its lookup."""
    rows = []
    for r in frame.iter_rows(named=True):
        previous, current = r["previous"], r["current"]
        difference = None if previous is None or current is None else current - previous
        rows.append(
            {
                "sku": r["sku"],
                "name": r["name"],
                "link": locations.get(r["sku"]),
                "previous": numbers.money(previous, r["currency"]),
                "current": numbers.money(current, r["currency"]),
                "difference": numbers.signed_money(difference, r["currency"]),
                "change": numbers.change(previous, current),
            }
        )
    return rows


def change_counts(frame: pl.DataFrame, numbers: Numbers) -> list[Row]:
    counts = frame.row(0, named=True) if frame.height else {}
    labels = (("added", "added"), ("removed", "removed"), ("price_changed", "price changes"))
    return [{"count": numbers.count(counts.get(k, 0)), "label": label} for k, label in labels]


def trends(frame: pl.DataFrame, numbers: Numbers) -> list[LineChart]:
    """One chart per channel: published and quarantined share of its enabled products."""
    snapshots = frame["snapshot_id"].unique(maintain_order=True).to_list()
    charts = []
    for channel, rows in by_channel(frame.sort("channel", maintain_order=True)):
        by_snapshot = {r["snapshot_id"]: r for r in rows}
        values = {
            key: [by_snapshot.get(s, {}).get(key) for s in snapshots] for key, _, _ in TREND_SERIES
        }
        charts.append(share_chart(channel_label(channel), snapshots, values, numbers.share))
    return charts


TREND_LEGEND = [{"label": f"{label} share", "colour": colour} for _, label, colour in TREND_SERIES]


def expectations(frame: pl.DataFrame, numbers: Numbers, kinds: Mapping[str, str]) -> list[Row]:
    """Per channel, one row per rule and column (a rule may need several expectations: the
    worst of them counts), failed checks first."""
    merged = (
        frame.group_by("channel", "rule", "column", "severity", maintain_order=True)
        .agg(
            pl.col("success").all(),
            pl.col("unexpected_count").max(),
            pl.col("evaluated").max(),
        )
        .sort("channel", "success", maintain_order=True)
    )
    return [
        {
            "channel": channel_label(channel),
            "passed": numbers.counted(sum(bool(r["success"]) for r in rows), "check"),
            "rows": [
                {
                    "problem": needs(r["rule"], kinds.get(channel)),
                    "rule": r["rule"],
                    "column": r["column"],
                    "severity": r["severity"],
                    "passed": bool(r["success"]),
                    "failing": numbers.count(r["unexpected_count"]),
                    "checked": numbers.count(r["evaluated"]),
                }
                for r in rows
            ],
        }
        for channel, rows in by_channel(merged)
    ]
