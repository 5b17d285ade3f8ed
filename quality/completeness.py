"""Completeness: the share of a channel's required attributes a product has, per locale.

As a PIM computes it: for each channel and locale, required attributes are the columns of the
channel's ``Required`` rules (error and warn) in that locale; the score is filled / required.
Scores cover enabled products (a disabled one is not meant for any channel).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from contracts.config import Channel
from quality.rules import Required, required_columns

WORST = 15


def score_column(channel: str, locale: str) -> str:
    return f"{channel}/{locale}"


def completeness_scores(
    golden: pl.LazyFrame, channels: Mapping[str, Channel], locales: tuple[str, ...]
) -> pl.LazyFrame:
    """sku, family, categories and one Float32 score (0..1) per channel and locale."""
    schema = golden.collect_schema()
    scores = []
    for name, channel in channels.items():
        for locale in locales:
            columns = required_columns(channel, locale)
            filled = [
                Required().polars(pl.col(c), schema[c] == pl.String, {}).fill_null(False)
                for c in columns
            ]
            score = pl.sum_horizontal(filled) / len(columns) if columns else pl.lit(1.0)
            scores.append(score.cast(pl.Float32).alias(score_column(name, locale)))
    return golden.filter(pl.col("enabled")).select("sku", "family", "categories", *scores)


def by_channel_and_locale(
    scores: pl.DataFrame, channels: Mapping[str, Channel], locales: tuple[str, ...]
) -> pl.DataFrame:
    """channel, locale, mean score, share of products with every required attribute."""
    rows = []
    for name in channels:
        for locale in locales:
            column = scores[score_column(name, locale)]
            rows.append(
                {
                    "channel": name,
                    "locale": locale,
                    "mean": _mean(column),
                    "complete_share": _mean(column >= 1.0),
                }
            )
    schema = {"channel": pl.String, "locale": pl.String, "mean": pl.Float64}
    return pl.DataFrame(rows, schema=schema | {"complete_share": pl.Float64})


def _mean(values: pl.Series) -> float:
    """The mean of a numeric (or boolean) series, 0 when it has no values."""
    mean = values.cast(pl.Float64).mean()
    return float(mean) if isinstance(mean, int | float) else 0.0


def worst_groups(scores: pl.DataFrame, kept_off: pl.DataFrame, by: str) -> pl.DataFrame:
    """Families or categories (``by``) with the highest quarantine share, then the lowest
    completeness: by, products, quarantined, quarantine_share, completeness.

    ``kept_off`` holds the skus quarantined for at least one channel.
    """
    mean = pl.mean_horizontal(pl.exclude("sku", "family", "categories"))
    frame = scores.select("sku", by, completeness=mean).with_columns(
        quarantined=pl.col("sku").is_in(kept_off["sku"].implode())
    )
    if by == "categories":
        frame = frame.explode("categories").rename({"categories": "category"})
        by = "category"
    return (
        frame.group_by(by)
        .agg(
            products=pl.len().cast(pl.Int64),
            quarantined=pl.col("quarantined").sum().cast(pl.Int64),
            completeness=pl.col("completeness").mean().cast(pl.Float64),
        )
        .with_columns(quarantine_share=pl.col("quarantined") / pl.col("products"))
        .sort(["quarantine_share", "completeness", by], descending=[True, False, False])
        .head(WORST)
        .select(by, "products", "quarantined", "quarantine_share", "completeness")
    )
