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
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from contracts.formats import FieldSpec
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
    and the marketplace's), so each distinct "field is filled" flag is computed once and the
    scores are sums of those flags."""
    counted = _counted(compiled)
    return _scores(_scored_rows(golden, counted), counted)


def cached_completeness_scores(
    golden: pl.DataFrame, compiled: Mapping[tuple[str, str], CompiledChannel], cache: Path
) -> tuple[pl.DataFrame, bool]:
    """``completeness_scores``, and whether they were read from ``cache`` instead.

    The scores depend only on the PIM values the counted fields read, which change far less
    often than prices and stock: the file is named by a digest of the field expressions and of
    every row's values in the columns they read (and sku, family, categories), so a run whose
    PIM data did not change reads the scores (a fraction of a second at 1M products instead of
    tens of seconds) and any change to a counted value or a mapping computes them again."""
    counted = _counted(compiled)
    rows = _scored_rows(golden, counted)
    path = cache / f"{_digest(rows, counted.members)}.parquet"
    if path.is_file():
        with contextlib.suppress(OSError, pl.exceptions.PolarsError):  # damaged: compute
            return pl.read_parquet(path), True
    scores = _scores(rows, counted)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    scores.write_parquet(tmp, compression="lz4", statistics=False)
    tmp.replace(path)
    kept = sorted(cache.glob("*.parquet"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[CACHED:]:
        old.unlink(missing_ok=True)
    return scores, False


@dataclass(frozen=True)
class _Counted:
    """The counted fields of every (channel, locale), each distinct value and flag once.

    A flag is keyed by the serialized form of its "field is filled" expression
    (``mapping.fields.present`` over the field's value), so the cache digest names the same
    definition it always did."""

    values: dict[str, pl.Expr]
    """each distinct field value expression, by its serialized form"""
    flags: dict[str, tuple[str, FieldSpec]]
    """flag key -> the key of the value it tests and the field spec that says how"""
    members: dict[str, list[str]]
    """score column -> its flags' keys"""

    def columns(self, value: str) -> tuple[str, ...]:
        """The golden columns a value reads, sorted."""
        return tuple(sorted(set(self.values[value].meta.root_names())))


def _counted(compiled: Mapping[tuple[str, str], CompiledChannel]) -> _Counted:
    counted = _Counted({}, {}, {})
    for (name, locale), channel in compiled.items():
        keys = []
        for field in channel.required_pim_fields():
            spec = channel.fields[field].spec
            value = channel.fields[field].built.expr
            key = present(value, spec).meta.serialize(format="json")
            value_key = value.meta.serialize(format="json")
            counted.values.setdefault(value_key, value)
            counted.flags.setdefault(key, (value_key, spec))
            keys.append(key)
        counted.members[score_column(name, locale)] = keys
    return counted


def _scored_rows(golden: pl.DataFrame, counted: _Counted) -> pl.DataFrame:
    """The enabled products (a disabled one is not meant for any channel), with only sku,
    family, categories and the columns the flags read: filtering the whole golden record
    would copy every column of it (GiBs at 1M products) for the dozen that are scored."""
    read = {"sku", "family", "categories"}
    for value in counted.values:
        read.update(counted.columns(value))
    columns = sorted(c for c in read if c in golden.columns)
    return golden.lazy().filter(pl.col("enabled")).select(columns).collect()


def _digest(rows: pl.DataFrame, members: Mapping[str, list[str]]) -> str:
    """sha256 of the scores' definition and of the values they are computed from (``rows``:
    ``_scored_rows``, every column they read)."""
    values = rows.hash_rows(seed=0)
    digest = hashlib.sha256()
    digest.update(f"polars {pl.__version__}\n".encode())
    digest.update(json.dumps(members, sort_keys=True).encode())
    digest.update(values.to_numpy().tobytes())
    return digest.hexdigest()


def _scores(rows: pl.DataFrame, counted: _Counted) -> pl.DataFrame:
    aliases = {key: f"_filled{i}" for i, key in enumerate(counted.flags)}
    scores = [
        (pl.sum_horizontal([pl.col(aliases[k]) for k in keys]) / len(keys) if keys else pl.lit(1.0))
        .cast(pl.Float32)
        .alias(column)
        for column, keys in counted.members.items()
    ]
    filled = _filled(rows, counted, aliases)
    return filled.select("sku", "family", "categories", *scores).collect()


def _filled(rows: pl.DataFrame, counted: _Counted, aliases: Mapping[str, str]) -> pl.LazyFrame:
    """``rows`` with each flag (key -> alias in ``aliases``) as a column.

    Each distinct value is computed once, as a column, and its flags test that column: a flag
    tests its value twice (not null, not blank), and the engine's common-subexpression
    elimination does not share a value that holds a list evaluation (a truncated description,
    a title with its variant axes), so testing the expression computed it twice. Lazy, so a
    part shared by several values is still computed once (a description cleaned of markup is
    counted plain, truncated and without "(Auslaufmodell)"); planning takes milliseconds on
    the 34 distinct flags (it took minutes when every channel's fields were planned together).
    Values reading columns with few distinct values (brand, colour, size, material) are
    computed once per distinct value and joined back."""
    by_columns: dict[tuple[str, ...], dict[str, str]] = {}
    for key, (value, _) in counted.flags.items():
        by_columns.setdefault(counted.columns(value), {})[key] = aliases[key]
    filled = rows.lazy()
    direct: dict[str, str] = {}
    for columns, group in by_columns.items():
        if _few_distinct(rows, columns):
            distinct = rows.lazy().select(columns).unique()
            filled = filled.join(
                _with_flags(distinct, counted, group),
                on=list(columns),
                how="left",
                nulls_equal=True,
                maintain_order="left",
            )
        else:
            direct |= group
    return _with_flags(filled, counted, direct)


def _with_flags(frame: pl.LazyFrame, counted: _Counted, flags: Mapping[str, str]) -> pl.LazyFrame:
    """``frame`` with ``flags`` (key -> alias) as columns: their values computed first, each
    once, then tested; the values are not kept. Exact on distinct rows because a field's
    expression is row-separable, a value depends on its row alone (the sharded run relies on
    the same: it maps each shard apart and publishes what one run over every product does)."""
    used = {counted.flags[key][0] for key in flags}
    values = {value: f"_value{i}" for i, value in enumerate(v for v in counted.values if v in used)}
    tested = {}
    for key, alias in flags.items():
        value, spec = counted.flags[key]
        tested[alias] = present(pl.col(values[value]), spec).fill_null(False)
    computed = frame.with_columns(**{values[v]: counted.values[v] for v in values})
    return computed.with_columns(**tested).drop(values.values())


FEW_DISTINCT = 0.1
"""Computed per distinct value when the columns a flag reads hold at most this share of
distinct rows: the join back costs about what computing a cheap flag on every row does."""


def _few_distinct(rows: pl.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether ``columns`` (flat, not lists: no join key) hold few distinct rows. The first
    rows are counted first: when they alone hold too many, so do all (a description)."""
    if not columns or any(rows.schema[c].is_nested() for c in columns):
        return False
    limit = FEW_DISTINCT * rows.height
    head = rows.head(2 * int(limit) + 1).select(columns)
    return head.n_unique() <= limit and rows.select(columns).n_unique() <= limit


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
