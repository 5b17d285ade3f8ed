"""Both quality engines on the same catalog, for the tests that prove they agree.

The polars engine is a run's: each channel's view (``mapping.view``), the golden rules and the
quarantine (``quality.quarantine``). The great-expectations engine is each channel's suite
(``quality.expectations``) on the same products' *mapped, uncleaned* target fields: the view
drops an invalid optional value and truncates an over-long one, so the published frame would
hide what the suite should find. Both give findings as ``Finding`` rows, so a test can compare
them per rule, per product or per severity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest
from factories import ERP_SOURCE, compiled, view_of

from contracts.config import PrismConfig
from contracts.golden import REJECTS_SCHEMA
from mapping.compile import KEY
from mapping.fields import cast_to
from mapping.view import FILTERED, ChannelView
from quality.expectations import GOLDEN, FeedSuite, validate_feeds, validation_frame
from quality.quarantine import build_quarantine, publishable
from quality.rules import References

PUBLISHED = "__published"
"""Suffix of a channel's suite on its published frame among the validated feeds."""
POLARS_ONLY_RULES = frozenset({"option_label_missing"})
"""Rules only the view checks: which locale an option label came from is not in the frame."""


@dataclass(frozen=True, order=True)
class Finding:
    channel: str
    sku: str
    rule: str
    field: str
    """the target field, or the golden column of a golden rule"""
    severity: str


@dataclass(frozen=True)
class Verdicts:
    """Both engines' findings on one catalog, and what a run publishes."""

    quarantine: pl.DataFrame
    """the run's quarantine (QUARANTINE_SCHEMA), every finding"""
    polars: frozenset[Finding]
    """the quarantine's findings the suites can check (no ``filtered``, lists, option
    labels)"""
    expectations: frozenset[Finding]
    quarantined: dict[str, set[str]]
    """channel -> skus the quarantine keeps off the channel (error rows)"""
    published_results: dict[str, dict[str, Any]]
    """channel -> great-expectations' result on the frame a run publishes"""


def raised(exception_info: Mapping[str, Any]) -> bool:
    """Whether great-expectations caught an exception (its info may be nested per metric)."""
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(raised(info) for info in exception_info.values() if isinstance(info, Mapping))


def unpublished(config: PrismConfig, name: str, view: ChannelView) -> pl.DataFrame:
    """The view's products with their target fields as mapped, before the view cleaned them
    (nothing dropped, nothing truncated) and before the quarantine kept any off."""
    channel = compiled(config, name, view.golden)
    targets = {n: f for n, f in channel.fields.items() if n != KEY}
    return view.golden.select(
        KEY, *(cast_to(f.built.expr, f.spec).alias(n) for n, f in targets.items())
    )


def polars_findings(
    config: PrismConfig, views: Mapping[str, ChannelView], quarantine: pl.DataFrame
) -> frozenset[Finding]:
    """The quarantine's rows the suites can check too: not the products filters leave out,
    not list fields (great-expectations' pandas engine has no list columns), not option
    labels."""
    lists = {
        (name, spec.name)
        for name, view in views.items()
        for spec in (f.spec for f in compiled(config, name, view.golden).fields.values())
        if spec.kind == "list"
    }
    return frozenset(
        Finding(r["channel"], r["sku"], r["rule"], r["field"], r["severity"])
        for r in quarantine.iter_rows(named=True)
        if r["severity"] != FILTERED
        and r["rule"] not in POLARS_ONLY_RULES
        and (r["channel"], r["field"]) not in lists
    )


def expectation_findings(result: Mapping[str, Any], channel: str) -> frozenset[Finding]:
    """Every unexpected row of a COMPLETE result as findings (``golden__`` stripped); a rule
    a golden rule raises on the same product is kept once, the golden rule's, as the quarantine
    keeps it. An expectation that raised fails the test instead of passing silently."""
    found: set[tuple[str, str, str, str]] = set()
    for item in result["results"]:
        config, meta = item["expectation_config"], item["expectation_config"]["meta"]
        assert not raised(item["exception_info"]), (channel, config["type"], config["kwargs"])
        column = config["kwargs"]["column"]
        for row in item["result"].get("unexpected_index_list") or []:
            found.add((row[KEY], meta["rule"], column, meta["severity"]))
    golden = {(sku, rule) for sku, rule, column, _ in found if column.startswith(GOLDEN)}
    return frozenset(
        Finding(channel, sku, rule, column.removeprefix(GOLDEN), severity)
        for sku, rule, column, severity in found
        if column.startswith(GOLDEN) or (sku, rule) not in golden
    )


def both_engines(
    config: PrismConfig, golden: pl.DataFrame, references: References, published: bool = True
) -> Verdicts:
    """Every channel of ``config`` through the quarantine and through its suite (and, with
    ``published``, the suite on what a run publishes too: great-expectations spends about a
    second per suite, whatever the rows)."""
    views = {name: view_of(config, name, golden) for name in config.channels}
    rejects = pl.LazyFrame(schema=REJECTS_SCHEMA)
    quarantine = build_quarantine(views, config.channels, rejects, ERP_SOURCE, references).collect()
    feeds: dict[str, FeedSuite] = {}
    quarantined = {}
    for name, view in views.items():
        settings = config.channels[name]
        fields = [f.spec for f in compiled(config, name, golden).fields.values()]
        raw = validation_frame(unpublished(config, name, view), view.golden, settings, fields, None)
        kept = publishable(view, quarantine.lazy())
        feeds[name] = FeedSuite(settings, fields, raw)
        if published:
            frame = validation_frame(kept.frame, kept.golden, settings, fields, None)
            feeds[f"{name}{PUBLISHED}"] = FeedSuite(settings, fields, frame)
        quarantined[name] = set(view.frame["sku"]) - set(kept.frame["sku"])
    results = validate_feeds(feeds, references, result_format="COMPLETE")
    return Verdicts(
        quarantine=quarantine,
        polars=polars_findings(config, views, quarantine),
        expectations=frozenset(
            f for name in views for f in expectation_findings(results[name], name)
        ),
        quarantined=quarantined,
        published_results={n: results[f"{n}{PUBLISHED}"] for n in views if published},
    )


@pytest.fixture(scope="session")
def engines() -> Callable[[PrismConfig, pl.DataFrame, References], Verdicts]:
    """``both_engines``, as a fixture: test modules do not import each other."""
    return both_engines
