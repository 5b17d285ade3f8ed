"""The quarantine: every row kept off a channel, with the rule, field, value and source to fix,
the warnings that are published but reported, and the products a channel's filters leave out
(``severity`` error, warn or filtered).

``channel`` is the channel name, or ``*`` for input rows that never reached the golden record
(unparseable ERP rows, PIM rows without identifier, ERP rows for unknown skus). Per channel the
findings are the view's (field by field, ``mapping.view``) and the golden rules' (on the
products the filters let through); one product has one row per rule and field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from contracts.config import ChannelConfig
from contracts.golden import REJECTS_SCHEMA
from mapping.view import FILTERED, ChannelView
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
    channel: ChannelConfig,
    erp_source: str,
    references: References,
) -> pl.LazyFrame:
    """One row per (product, failed golden rule, column) for one channel; ``golden`` holds
    the products the channel's filters let through (enabled ones only)."""
    enabled = golden
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


QUARANTINE_ORDER = ("channel", "sku", "rule", "field", "source", "value", "severity")
"""Every column a sort key, so the order (and the exports and report built from it) is the same
on every run, and parts of a sharded run merged in it are the unsharded frame: one sku's
``unknown_sku`` rows differ only in their source."""


def build_quarantine(
    views: Mapping[str, ChannelView],
    channels: Mapping[str, ChannelConfig],
    rejects: pl.LazyFrame,
    erp_source: str,
    references: References | None = None,
) -> pl.LazyFrame:
    """All findings of a run, ordered by channel, sku, rule (then the other columns, so two
    runs on the same inputs write them alike): ``error`` rows keep the product
    off the channel (quarantine), ``warn`` rows are reported only, ``filtered`` rows count the
    products a channel's filters leave out. A rule both the golden rules and a field spec
    raise (a missing price) is kept once, the golden rule's."""
    refs = references or {}
    parts = [input_rejects(rejects.cast(REJECTS_SCHEMA))]
    for name, view in views.items():
        golden = channel_violations(view.golden_lazy(), name, channels[name], erp_source, refs)
        own = (
            view.findings.lazy()
            .cast(QUARANTINE_SCHEMA)
            .join(golden.select("sku", "rule").unique(), on=["sku", "rule"], how="anti")
        )
        # collected per channel, so a view (and its golden rows) is freed before the next
        found = pl.concat([golden.cast(QUARANTINE_SCHEMA), own]).collect()
        parts.append(found.lazy())
    return pl.concat(parts).cast(QUARANTINE_SCHEMA).sort(QUARANTINE_ORDER, nulls_last=True)


def quarantined(quarantine: pl.LazyFrame, channel: str) -> pl.LazyFrame:
    """The error rows that keep products off ``channel``."""
    return quarantine.filter(pl.col("channel") == channel, pl.col("severity") == "error")


def publishable(view: ChannelView, quarantine: pl.LazyFrame) -> ChannelView:
    """The view's products without an error row for its channel (frame and golden rows
    alike, in the view's order: by sku)."""
    blocked = quarantined(quarantine, view.name).select("sku").unique().collect()
    return view.kept(~view.frame["sku"].is_in(blocked["sku"].implode()))


def accounting(
    golden: pl.DataFrame, quarantine: pl.DataFrame, published: Mapping[str, int]
) -> pl.DataFrame:
    """Per channel: products = published + quarantined + filtered + disabled (must add up).
    ``golden``: the golden record, or only its ``enabled`` column (all it reads)."""
    disabled = golden.filter(~pl.col("enabled")).height
    rows = []
    for channel, published_count in published.items():
        own = quarantine.filter(pl.col("channel") == channel)
        errors = set(own.filter(pl.col("severity") == "error")["sku"].to_list())
        filtered = set(own.filter(pl.col("severity") == FILTERED)["sku"].to_list()) - errors
        rows.append(
            {
                "channel": channel,
                "products": golden.height,
                "published": published_count,
                "quarantined": len(errors),
                "filtered": len(filtered),
                "disabled": disabled,
                "balanced": golden.height
                == published_count + len(errors) + len(filtered) + disabled,
            }
        )
    return pl.DataFrame(rows)


NO_PRICE = "no_price"
"""A catalog's products left out for want of a price tier of its customer (the writer logs
them): what the assortment leaves in but the catalog does not hold."""


def catalog_accounting(
    published: int, catalogs: Mapping[str, int], left_out: pl.DataFrame, rules: Sequence[str]
) -> pl.DataFrame:
    """Per customer catalog of a channel: ``published`` (the channel's products) = the
    catalog's products + those its assortment leaves out, per ``rules`` (``left_out``:
    customer_id, sku, rule) + ``no_price``. ``balanced`` fails where the catalog holds a
    product its assortment leaves out (the sum exceeds the channel's products)."""
    counts = left_out.group_by("customer_id", "rule").agg(pl.col("sku").n_unique())
    found = {(c, r): n for c, r, n in counts.iter_rows()}
    rows = []
    for customer, written in catalogs.items():
        reasons = {rule: found.get((customer, rule), 0) for rule in rules}
        no_price = published - written - sum(reasons.values())
        rows.append(
            {"customer": customer, "published": published, "written": written}
            | reasons
            | {NO_PRICE: no_price, "balanced": no_price >= 0}
        )
    schema = {"customer": pl.String, "published": pl.Int64, "written": pl.Int64}
    schema |= dict.fromkeys((*rules, NO_PRICE), pl.Int64) | {"balanced": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)
