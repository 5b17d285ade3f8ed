"""Completeness: the share of a channel's required fields a product has, per locale.

As a PIM computes it: for each channel and locale, the required (and recommended) target fields
the channel fills from the PIM, compiled in that locale; the score is filled / required. Scores
cover enabled products (a disabled one is not meant for any channel).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from mapping.compile import CompiledChannel
from mapping.fields import present

WORST = 15
CACHED = 4
"""Score files a cache folder keeps (the newest): a few PIM snapshots' worth."""


def score_column(channel: str, locale: str) -> str:
    return f"{channel}/{locale}"


def completeness_scores(
    golden: pl.DataFrame, compiled: Mapping[tuple[str, str], CompiledChannel]
) -> pl.DataFrame:
    """sku, family, categories and one Float32 score (0..1) per (channel, locale) of
    ``compiled`` (each channel compiled in each locale).

    The channels share most of their fields (the name in de_DE is the website's, the shop's
    and the marketplace's), so each distinct "field is filled" expression is computed once and
    the scores are sums of those flags."""
    flags, members = _flags(compiled)
    return _scores(_scored_rows(golden, flags), flags, members)


def cached_completeness_scores(
    golden: pl.DataFrame, compiled: Mapping[tuple[str, str], CompiledChannel], cache: Path
) -> tuple[pl.DataFrame, bool]:
    """``completeness_scores``, and whether they were read from ``cache`` instead.

    The scores depend only on the PIM values the counted fields read, which change far less
    often than prices and stock: the file is named by a digest of the field expressions and of
    every row's values in the columns they read (and sku, family, categories), so a run whose
    PIM data did not change reads the scores (a fraction of a second at 1M products instead of
    tens of seconds) and any change to a counted value or a mapping computes them again."""
    flags, members = _flags(compiled)
    rows = _scored_rows(golden, flags)
    path = cache / f"{_digest(rows, flags, members)}.parquet"
    if path.is_file():
        with contextlib.suppress(OSError, pl.exceptions.PolarsError):  # damaged: compute
            return pl.read_parquet(path), True
    scores = _scores(rows, flags, members)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    scores.write_parquet(tmp, compression="lz4", statistics=False)
    tmp.replace(path)
    kept = sorted(cache.glob("*.parquet"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[CACHED:]:
        old.unlink(missing_ok=True)
    return scores, False


def _flags(
    compiled: Mapping[tuple[str, str], CompiledChannel],
) -> tuple[dict[str, pl.Expr], dict[str, list[str]]]:
    """Each distinct "field is filled" expression (by its serialized form) and each score
    column's members among them."""
    flags: dict[str, pl.Expr] = {}
    members: dict[str, list[str]] = {}
    for (name, locale), channel in compiled.items():
        keys = []
        for field in channel.required_pim_fields():
            spec = channel.fields[field].spec
            filled = present(channel.fields[field].built.expr, spec)
            key = filled.meta.serialize(format="json")
            flags.setdefault(key, filled)
            keys.append(key)
        members[score_column(name, locale)] = keys
    return flags, members


def _scored_rows(golden: pl.DataFrame, flags: Mapping[str, pl.Expr]) -> pl.DataFrame:
    """The enabled products (a disabled one is not meant for any channel), with only sku,
    family, categories and the columns the flags read: filtering the whole golden record
    would copy every column of it (GiBs at 1M products) for the dozen that are scored."""
    read = {"sku", "family", "categories"}
    for expr in flags.values():
        read.update(expr.meta.root_names())
    columns = sorted(c for c in read if c in golden.columns)
    return golden.lazy().filter(pl.col("enabled")).select(columns).collect()


def _digest(
    rows: pl.DataFrame, flags: Mapping[str, pl.Expr], members: Mapping[str, list[str]]
) -> str:
    """sha256 of the scores' definition and of the values they are computed from (``rows``:
    ``_scored_rows``, every column they read)."""
    values = rows.hash_rows(seed=0)
    digest = hashlib.sha256()
    digest.update(f"polars {pl.__version__}\n".encode())
    digest.update(json.dumps(members, sort_keys=True).encode())
    digest.update(values.to_numpy().tobytes())
    return digest.hexdigest()


def _scores(
    rows: pl.DataFrame, flags: Mapping[str, pl.Expr], members: Mapping[str, list[str]]
) -> pl.DataFrame:
    aliases = {key: f"_filled{i}" for i, key in enumerate(flags)}
    scores = [
        (pl.sum_horizontal([pl.col(aliases[k]) for k in keys]) / len(keys) if keys else pl.lit(1.0))
        .cast(pl.Float32)
        .alias(column)
        for column, keys in members.items()
    ]
    filled = _filled(rows, {aliases[k]: flags[k].fill_null(False) for k in flags})
    return filled.select("sku", "family", "categories", *scores).collect()


def _filled(rows: pl.DataFrame, flags: Mapping[str, pl.Expr]) -> pl.LazyFrame:
    """``rows`` with each flag (alias -> expression) as a column.

    Lazy, so the engine's common-subexpression elimination computes a value shared by several
    flags once: a description cleaned of markup is counted by three channels in each locale,
    and each flag tests its value twice (not null, not blank); planning takes milliseconds on
    the 34 distinct flags (it took minutes when every channel's fields were planned together).
    Flags reading columns with few distinct values (brand, colour, size, material) are
    computed once per distinct value and joined back (``_by_distinct_values``)."""
    by_columns: dict[tuple[str, ...], dict[str, pl.Expr]] = {}
    for alias, expr in flags.items():
        by_columns.setdefault(tuple(sorted(set(expr.meta.root_names()))), {})[alias] = expr
    filled = rows.lazy()
    direct: dict[str, pl.Expr] = {}
    for columns, group in by_columns.items():
        if _few_distinct(rows, columns):
            filled = filled.join(
                _by_distinct_values(rows, columns, group),
                on=list(columns),
                how="left",
                nulls_equal=True,
                maintain_order="left",
            )
        else:
            direct |= group
    return filled.with_columns(**direct)


FEW_DISTINCT = 0.1
"""Computed per distinct value when the columns a flag reads hold at most this share of
distinct rows: the join back costs about what computing a cheap flag on every row does."""


def _few_distinct(rows: pl.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether ``columns`` (flat, not lists: no join key) hold few distinct rows."""
    if not columns or any(rows.schema[c].is_nested() for c in columns):
        return False
    return rows.select(columns).n_unique() <= FEW_DISTINCT * rows.height


def _by_distinct_values(
    rows: pl.DataFrame, columns: tuple[str, ...], flags: Mapping[str, pl.Expr]
) -> pl.LazyFrame:
    """``flags`` on each distinct row of ``columns``. Exact because a field's expression is
    row-separable, a value depends on its row alone (the sharded run relies on the same: it
    maps each shard apart and publishes what one run over every product does)."""
    return rows.lazy().select(columns).unique().with_columns(**flags)


def by_channel_and_locale(scores: pl.DataFrame, keys: Iterable[tuple[str, str]]) -> pl.DataFrame:
    """channel, locale, mean score, share of products with every required attribute."""
    rows = []
    for name, locale in keys:
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
