"""The quarantine: every row kept off a channel, with the rule, field, value and source to fix,
and the warnings that are published but reported (``severity``).

``channel`` is the channel name, or ``*`` for input rows that never reached the golden record
(unparseable ERP rows, PIM rows without identifier, ERP rows for unknown skus).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from contracts.config import Channel
from contracts.golden import REJECTS_SCHEMA
from quality.rules import References, rules_for

ALL_CHANNELS = "*"
QUARANTINE_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "channel": pl.String(),
        "rule": pl.String(),
        "field": pl.String(),
        "value": pl.String(),
        "source": pl.String(),
        "severity": pl.String(),
    }
)


def channel_violations(
    golden: pl.LazyFrame,
    name: str,
    channel: Channel,
    erp_source: str,
    references: References,
) -> pl.LazyFrame:
    """One row per (enabled product, failed rule, column) for one channel."""
    enabled = golden.filter(pl.col("enabled"))
    schema = golden.collect_schema()
    parts: list[pl.LazyFrame] = []
    for rule in rules_for(channel):
        source = pl.col("pim_source") if rule.source == "pim" else pl.lit(erp_source)
        parts.extend(
            enabled.filter(~rule.passes(column, schema, references)).select(
                "sku",
                channel=pl.lit(name),
                rule=pl.lit(rule.code),
                field=pl.lit(column),
                value=pl.col(column).cast(pl.String),
                source=source,
                severity=pl.lit(rule.severity),
            )
            for column in rule.columns(channel)
        )
    return pl.concat(parts) if parts else pl.LazyFrame(schema=QUARANTINE_SCHEMA)


def input_rejects(rejects: pl.LazyFrame) -> pl.LazyFrame:
    """Reader rejects (REJECTS_SCHEMA) as quarantine rows for every channel."""
    return rejects.select(
        "sku",
        channel=pl.lit(ALL_CHANNELS),
        rule=pl.col("reason"),
        field=pl.col("field"),
        value=pl.col("value"),
        source=pl.col("source"),
        severity=pl.lit("error"),
    )


def unknown_sku_rows(erp_rows: pl.LazyFrame, golden: pl.LazyFrame) -> pl.LazyFrame:
    """ERP rows (``sku``, ``erp_source``) whose sku the PIM does not know, as REJECTS_SCHEMA."""
    return erp_rows.join(golden.select("sku"), on="sku", how="anti").select(
        "sku",
        field=pl.lit("sku"),
        value=pl.col("sku"),
        reason=pl.lit("unknown_sku"),
        source=pl.col("erp_source"),
    )


def build_quarantine(
    golden: pl.LazyFrame,
    channels: Mapping[str, Channel],
    rejects: pl.LazyFrame,
    erp_source: str,
    references: References | None = None,
) -> pl.LazyFrame:
    """All findings of a run, ordered by channel, sku, rule: ``error`` rows keep the product
    off the channel (quarantine), ``warn`` rows are reported only."""
    refs = references or {}
    parts = [input_rejects(rejects.cast(REJECTS_SCHEMA))]
    parts += [channel_violations(golden, n, c, erp_source, refs) for n, c in channels.items()]
    return pl.concat(parts).cast(QUARANTINE_SCHEMA).sort("channel", "sku", "rule", "field")


def quarantined(quarantine: pl.LazyFrame, channel: str) -> pl.LazyFrame:
    """The error rows that keep products off ``channel``."""
    return quarantine.filter(pl.col("channel") == channel, pl.col("severity") == "error")


def publishable(golden: pl.LazyFrame, quarantine: pl.LazyFrame, channel: str) -> pl.LazyFrame:
    """Enabled products without an error row for ``channel``, in sku order."""
    blocked = quarantined(quarantine, channel).select("sku").unique()
    return golden.filter(pl.col("enabled")).join(blocked, on="sku", how="anti").sort("sku")


def accounting(
    golden: pl.DataFrame, quarantine: pl.DataFrame, published: Mapping[str, int]
) -> pl.DataFrame:
    """Per channel: products = published + quarantined + disabled (must add up)."""
    disabled = golden.filter(~pl.col("enabled")).height
    rows = []
    for channel, published_count in published.items():
        kept_off = quarantined(quarantine.lazy(), channel).select(pl.col("sku").n_unique())
        count = kept_off.collect().item()
        rows.append(
            {
                "channel": channel,
                "products": golden.height,
                "published": published_count,
                "quarantined": count,
                "disabled": disabled,
                "balanced": golden.height == published_count + count + disabled,
            }
        )
    return pl.DataFrame(rows)
