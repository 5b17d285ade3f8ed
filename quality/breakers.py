"""Circuit breakers: compare a run with the live snapshot and stop a publish that would harm a
channel. Pure functions; the quality gate asset decides what a tripped breaker does."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from contracts.config import QualityConfig
from contracts.golden import list_price_columns

BREAKERS_SCHEMA = pl.Schema(
    {
        "name": pl.String(),
        "channel": pl.String(),
        "tripped": pl.Boolean(),
        "value": pl.Float64(),
        "limit": pl.Float64(),
        "detail": pl.String(),
    }
)


def _row(name: str, channel: str | None, value: float, limit: float, detail: str) -> dict:
    return {
        "name": name,
        "channel": channel,
        "tripped": value > limit,
        "value": round(value, 6),
        "limit": limit,
        "detail": detail,
    }


def baseline_breaker(live: str | None, problem: str | None) -> dict:
    """Trips when a snapshot is live but its baseline cannot be read: the drop and price
    breakers would otherwise compare with nothing and pass blind."""
    if live is None:
        return _row("baseline", None, 0.0, 0.0, "first publish: nothing live to compare with")
    if problem is not None:
        detail = f"{problem}; the drop and price breakers cannot compare"
        return _row("baseline", None, 1.0, 0.0, detail)
    return _row("baseline", None, 0.0, 0.0, f"compared with live snapshot {live}")


def product_drop(
    previous: Mapping[str, int], current: Mapping[str, int], config: QualityConfig
) -> list[dict]:
    """Per channel: share of the live snapshot's published products this run would remove."""
    rows = []
    for channel, now in current.items():
        before = previous.get(channel)
        if not before:
            continue
        drop = max(before - now, 0) / before
        detail = f"{before} -> {now} products"
        rows.append(_row("product_drop", channel, drop, config.max_drop(channel), detail))
    return rows


def quarantine_share(
    quarantined: Mapping[str, int], enabled: int, config: QualityConfig
) -> list[dict]:
    """Per channel: share of enabled products kept off it."""
    return [
        _row(
            "quarantine_share",
            channel,
            count / enabled if enabled else 0.0,
            config.max_quarantine_share,
            f"{count} of {enabled} enabled products quarantined",
        )
        for channel, count in quarantined.items()
    ]


def compared_prices(previous: pl.LazyFrame, current: pl.LazyFrame) -> pl.LazyFrame:
    """sku, currency, previous, current, factor (>= 1) for every list price both snapshots
    have; both frames hold ``sku`` and ``list_price_<CUR>`` columns."""

    def long(frame: pl.LazyFrame, name: str) -> pl.LazyFrame:
        prices = list_price_columns(frame.collect_schema().names())
        return (
            frame.unpivot(prices, index="sku", variable_name="currency", value_name=name)
            .filter(pl.col(name).is_not_null())
            .with_columns(pl.col("currency").str.strip_prefix("list_price_"))
        )

    joined = long(previous, "previous").join(long(current, "current"), on=["sku", "currency"])
    ratio = pl.col("current").cast(pl.Float64) / pl.col("previous").cast(pl.Float64)
    return joined.with_columns(factor=pl.max_horizontal(ratio, 1 / ratio))


def price_change_breaker(changes: pl.DataFrame, compared: int, config: QualityConfig) -> dict:
    """Trips when too many of ``compared`` prices moved by more than the configured factor
    (``changes`` holds at least those that moved)."""
    big = changes.filter(pl.col("factor") > config.price_change_factor).height
    share = big / compared if compared else 0.0
    detail = f"{big} of {compared} prices changed by more than x{config.price_change_factor:g}"
    return _row("price_change", None, share, config.max_price_change_share, detail)


def freshness(ages_hours: Mapping[str, float], config: QualityConfig) -> list[dict]:
    """Per source (pim, erp): age of the snapshot read, against its limit."""
    limits = config.freshness_hours.model_dump()
    return [
        _row("freshness", None, age, limits[source], f"{source} snapshot is {age:.1f} h old")
        for source, age in ages_hours.items()
        if limits.get(source) is not None
    ]


def breakers_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=BREAKERS_SCHEMA)
