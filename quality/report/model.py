"""What the quality report shows: the gate's frames, aggregated by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from contracts.mapping import Filters

FILTERED_SCHEMA = pl.Schema({"channel": pl.String(), "rule": pl.String(), "products": pl.Int64()})


@dataclass(frozen=True)
class QualityReport:
    """Everything the report shows. Frames are aggregated by the caller (``quality.gate``),
    except ``findings``: every quarantine row (``FINDINGS_SCHEMA``), for the lookup pages."""

    snapshot_id: str
    created_at: str
    as_of: str
    verdict: str
    """passed | blocked | overridden"""
    previous_snapshot: str | None
    breakers: pl.DataFrame
    channels: pl.DataFrame
    """channel, format, products, published, quarantined, disabled, warned"""
    rejects: pl.DataFrame
    """channel, rule, field, severity, fix_in, products, caused (products whose finding an
    input reject explains)"""
    families: pl.DataFrame
    categories: pl.DataFrame
    completeness: pl.DataFrame
    changes: pl.DataFrame
    """one row: added, removed, price_changed"""
    price_rises: pl.DataFrame
    """sku, name, currency, previous, current (Decimal): the biggest rises, biggest first"""
    price_drops: pl.DataFrame
    """the same columns: the biggest drops, biggest first"""
    trends: pl.DataFrame
    """snapshot_id, channel, published_share, quarantine_share (of enabled products), oldest
    snapshot first"""
    quarantine: pl.DataFrame
    """the findings shown on the main page (the first few per channel and rule)"""
    findings: pl.DataFrame
    expectations: pl.DataFrame
    exports: dict[str, str]
    """label -> file name next to ``index.html``"""
    erp_price_rows: dict[str, int] = field(default_factory=dict)
    """ERP price rows by status (active, superseded, expired, not_yet_valid,
    unpublished_currency): every row of prices.* is one of them"""
    locale: str = "en_US"
    """numbers, money and product names are in this locale"""
    pim_url: str | None = None
    """``quality.pim_url``: the PIM's product page with ``{sku}``/``{uuid}``"""
    filtered: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILTERED_SCHEMA))
    """channel, rule (``filtered_by_include``, ``_exclude``, ``_completeness``), products:
    enabled products a channel's filters leave out, by reason. They are the channel's choice,
    not defects: counted here, not listed per product (``findings`` leaves them out)."""
    channel_filters: Mapping[str, Filters] = field(default_factory=dict)
    """channel -> its ``filters`` from prism.yaml, to say what each filter asks"""
