"""The quality gate of one run: circuit breakers against the live snapshot, then the report.

Pure over its inputs except for the report folder it writes; Dagster wiring is in
``assets/quality_report.py``. Counts follow the accounting identity of the feeds: a channel
publishes the enabled products without an error finding for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from contracts.config import PrismConfig
from contracts.golden import MONEY, list_price_columns
from contracts.snapshots import SnapshotError
from mapping.view import FILTERED
from quality import breakers as br
from quality.completeness import by_channel_and_locale, worst_groups
from quality.expectations import results_file
from quality.exports import write_quarantine_exports
from quality.quarantine import ALL_CHANNELS
from quality.report import QualityReport, write_report
from quality.report.findings import findings_frame
from quality.report_store import ReportStore
from sinks.snapshot_store import Baseline, SnapshotStore

TRENDS = 12
COMPLETENESS = "completeness.parquet"
PRICE_CHANGES_SHOWN = 50
"""rises and drops each"""
ROWS_PER_RULE = 5
"""products of each rule whose findings the report's main page shows"""


@dataclass(frozen=True)
class GateInputs:
    snapshot_id: str
    created: dt.datetime
    as_of: dt.date
    """the run's as-of date, resolved once by ``source_snapshots``"""
    now: dt.datetime
    override: bool
    sources: pl.DataFrame
    """source_snapshots: source, snapshot_id, path, modified_at"""
    golden: pl.DataFrame
    quarantine: pl.DataFrame
    expectations: pl.DataFrame
    names: pl.DataFrame
    """sku, name: each product's name in the report's locale"""
    scores: pl.DataFrame
    """completeness per product (``quality.completeness.completeness_scores``)"""
    score_keys: tuple[tuple[str, str], ...]
    """the (channel, locale) pairs of ``scores``"""
    price_rows: dict[str, int] = field(default_factory=dict)
    """ERP price rows by status (``golden.pricing.STATUSES``), for the accounting"""


@dataclass(frozen=True)
class Gate:
    verdict: str
    """passed | blocked | overridden"""
    breakers: pl.DataFrame
    report_path: Path
    compared_with: str | None
    """the live snapshot the breakers compared against (the publish's compare-and-swap)"""
    prices: pl.DataFrame
    """sku and list prices of what this snapshot publishes: its baseline for the next run"""


def channel_counts(golden: pl.DataFrame, quarantine: pl.DataFrame, channels: list[str]) -> dict:
    """channel -> published, quarantined (products kept off), filtered (left out by the
    channel's filters), warned (published with warnings)."""
    enabled = enabled_count(golden)
    # each sku counted once per channel, under its gravest severity: error, filtered, warn
    rank = pl.col("severity").replace_strict(
        {"error": 0, FILTERED: 1, "warn": 2}, default=None, return_dtype=pl.Int8
    )
    gravest = {name: {0: 0, 1: 0, 2: 0} for name in channels}
    per_sku = (
        quarantine.filter(pl.col("channel").is_in(channels))
        .group_by("channel", "sku")
        .agg(rank.min().alias("rank"))
        .drop_nulls("rank")
        .group_by("channel", "rank")
        .len()
    )
    for channel, level, products in per_sku.iter_rows():
        gravest[channel] = gravest[channel] | {level: products}
    return {
        name: {
            "published": enabled - found[0] - found[1],
            "quarantined": found[0],
            "filtered": found[1],
            "warned": found[2],
        }
        for name, found in gravest.items()
    }


def enabled_count(golden: pl.DataFrame) -> int:
    """Enabled products, counted on the one column (filtering the golden record would copy
    every column of it first)."""
    return int(golden["enabled"].sum())


def published_prices(golden: pl.DataFrame, quarantine: pl.DataFrame, channels: int) -> pl.DataFrame:
    """sku and list prices of the products published on at least one channel.

    Lazy, so only sku, enabled and the prices of the golden record are read (an eager filter
    copied all of its columns: seconds and GiB at 1M products)."""
    kept_off = pl.col("severity").is_in(["error", FILTERED])
    everywhere = (
        quarantine.lazy()
        .filter(kept_off, pl.col("channel") != ALL_CHANNELS)
        .group_by("sku")
        .agg(pl.col("channel").n_unique())
        .filter(pl.col("channel") == channels)
    )
    prices = list_price_columns(golden.columns)
    return (
        golden.lazy()
        .select("sku", "enabled", *prices)
        .filter(pl.col("enabled"))
        .join(everywhere, on="sku", how="anti", maintain_order="left")
        .select("sku", *prices)
        .collect()
    )


def source_ages(sources: pl.DataFrame, now: dt.datetime) -> dict[str, float]:
    return {
        row["source"]: (now - row["modified_at"]).total_seconds() / 3600
        for row in sources.iter_rows(named=True)
    }


def evaluate_gate(
    config: PrismConfig, inputs: GateInputs, snapshots: SnapshotStore, reports: ReportStore
) -> Gate:
    """Trip the breakers against the live snapshot's own baseline, write the report folder.

    Fails closed: a live snapshot whose baseline is missing or unreadable trips the
    ``baseline`` breaker (nothing to compare with must not pass as "no change"); with nothing
    live (a first publish) it passes and says so."""
    names = list(config.channels)
    counts = channel_counts(inputs.golden, inputs.quarantine, names)
    previous = snapshots.live_snapshot()
    baseline, problem = _baseline(snapshots, previous)
    prices = published_prices(inputs.golden, inputs.quarantine, len(names))
    old_prices = baseline.prices.lazy() if baseline else None
    changes, compared = _price_changes(old_prices, prices)
    breakers = trip_breakers(config, inputs, counts, previous, baseline, problem, changes, compared)
    tripped = breakers["tripped"].any()
    verdict = ("overridden" if inputs.override else "blocked") if tripped else "passed"
    folder = reports.folder(inputs.snapshot_id)
    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "snapshot_id": inputs.snapshot_id,
        "created_at": inputs.created.isoformat(),
        "as_of": inputs.as_of.isoformat(),
        "verdict": verdict,
        "previous_snapshot": previous,
        "channels": counts,
        "breakers": breakers.to_dicts(),
        "erp_price_rows": inputs.price_rows,
    }
    reports.write_summary(inputs.snapshot_id, summary)
    path = _write_report(config, inputs, summary, breakers, old_prices, prices, changes, reports)
    reports.prune(config.quality.keep_reports, protect={inputs.snapshot_id, previous or ""})
    return Gate(
        verdict=verdict, breakers=breakers, report_path=path, compared_with=previous, prices=prices
    )


def _baseline(snapshots: SnapshotStore, live: str | None) -> tuple[Baseline | None, str | None]:
    """The live snapshot's baseline, or why there is none to compare with."""
    if live is None:
        return None, None
    try:
        return snapshots.baseline(live), None
    except SnapshotError as error:
        return None, str(error)


def trip_breakers(
    config: PrismConfig,
    inputs: GateInputs,
    counts: dict,
    live: str | None,
    baseline: Baseline | None,
    problem: str | None,
    changes: pl.DataFrame | None,
    compared: int,
) -> pl.DataFrame:
    """Every breaker's value and limit; ``changes`` is None without a baseline."""
    enabled = enabled_count(inputs.golden)
    rows = [br.baseline_breaker(live, problem)]
    rows += br.product_drop(
        baseline.channels if baseline else {},
        {n: c["published"] for n, c in counts.items()},
        config.quality,
    )
    rows += br.quarantine_share(
        {n: c["quarantined"] for n, c in counts.items()}, enabled, config.quality
    )
    if changes is not None:
        rows.append(br.price_change_breaker(changes, compared, config.quality))
    rows += br.freshness(source_ages(inputs.sources, inputs.now), config.quality)
    return br.breakers_frame(rows)


def _price_changes(old: pl.LazyFrame | None, new: pl.DataFrame) -> tuple[pl.DataFrame | None, int]:
    """Changed prices (biggest factor first) and how many prices both snapshots have."""
    if old is None:
        return None, 0
    compared = br.compared_prices(old, new.lazy()).collect()
    changed = compared.filter(pl.col("previous") != pl.col("current"))
    return changed.sort("factor", descending=True), compared.height


def _write_report(
    config: PrismConfig,
    inputs: GateInputs,
    summary: dict[str, Any],
    breakers: pl.DataFrame,
    old_prices: pl.LazyFrame | None,
    prices: pl.DataFrame,
    changes: pl.DataFrame | None,
    reports: ReportStore,
) -> Path:
    """The report folder's pages and exports; returns the main page."""
    folder = reports.folder(inputs.snapshot_id)
    # Products a channel's filters leave out are the channel's choice, not data to fix: the
    # channels table counts them; the exports and lookup pages list what someone must fix.
    to_fix = inputs.quarantine.filter(pl.col("severity") != FILTERED)
    files = write_quarantine_exports(to_fix, folder)
    report = _report(
        config, inputs, summary, breakers, (old_prices, prices, changes), reports, to_fix, files
    )
    return write_report(report, folder)


def _report(
    config: PrismConfig,
    inputs: GateInputs,
    summary: dict[str, Any],
    breakers: pl.DataFrame,
    compared: tuple[pl.LazyFrame | None, pl.DataFrame, pl.DataFrame | None],
    reports: ReportStore,
    to_fix: pl.DataFrame,
    files: dict[str, str],
) -> QualityReport:
    """``compared``: the live snapshot's prices, this one's and the changes (``_price_changes``);
    ``to_fix``: the quarantine less the filtered rows; ``files``: the exports written."""
    old_prices, prices, changes = compared
    folder = reports.folder(inputs.snapshot_id)
    scores = inputs.scores
    scores.drop("categories").write_parquet(folder / COMPLETENESS, compression_level=1)
    kept_off = inputs.quarantine.filter(
        pl.col("severity") == "error", pl.col("channel") != ALL_CHANNELS
    ).select(pl.col("sku").unique())
    exports = files | {"Completeness per product (Parquet)": COMPLETENESS}
    exports |= {f"Checks of the staged feed: {n} (JSON)": results_file(n) for n in config.channels}
    findings = findings_frame(to_fix, inputs.golden, inputs.names)
    rises, drops = _shown_changes(changes, inputs.names)
    return QualityReport(
        snapshot_id=inputs.snapshot_id,
        created_at=summary["created_at"],
        as_of=summary["as_of"],
        verdict=summary["verdict"],
        previous_snapshot=summary["previous_snapshot"],
        breakers=breakers,
        channels=_channels_frame(config, inputs.golden, summary["channels"]),
        rejects=_rejects(findings),
        families=worst_groups(scores, kept_off, "family"),
        categories=worst_groups(scores, kept_off, "categories"),
        completeness=by_channel_and_locale(scores, inputs.score_keys),
        changes=_changes(old_prices, prices, changes),
        price_rises=rises,
        price_drops=drops,
        trends=_trends(reports, summary),
        quarantine=_shown_quarantine(findings, config.quality.report_rows),
        findings=findings,
        expectations=inputs.expectations,
        exports=exports,
        erp_price_rows=inputs.price_rows,
        locale=config.report_locale,
        pim_url=config.quality.pim_url,
        filtered=filtered_by_reason(inputs.quarantine),
        channel_filters={name: channel.filters for name, channel in config.channels.items()},
    )


def _channels_frame(config: PrismConfig, golden: pl.DataFrame, counts: dict) -> pl.DataFrame:
    disabled = int((~golden["enabled"]).sum())
    return pl.DataFrame(
        [
            {
                "channel": name,
                "format": channel.format,
                "products": golden.height,
                **counts[name],
                "disabled": disabled,
            }
            for name, channel in config.channels.items()
        ]
    ).select(
        "channel",
        "format",
        "products",
        "published",
        "quarantined",
        "filtered",
        "disabled",
        "warned",
    )


def filtered_by_reason(quarantine: pl.DataFrame) -> pl.DataFrame:
    """channel, rule, products: the products each channel's filters leave out, by reason; a
    product quarantined on the channel counts as quarantined there (as in ``channel_counts``),
    so a channel's reasons add up to its ``filtered``."""
    errors = quarantine.filter(pl.col("severity") == "error").select("channel", "sku")
    return (
        quarantine.filter(pl.col("severity") == FILTERED)
        .join(errors, on=["channel", "sku"], how="anti")
        .group_by("channel", "rule")
        .agg(products=pl.col("sku").n_unique())
        .cast({"products": pl.Int64})
        .sort("channel", "rule")
    )


def _rejects(findings: pl.DataFrame) -> pl.DataFrame:
    """Products per channel, rule, field and severity, with the system to fix them in and how
    many of them an input reject explains (``caused``). Rows without a sku count one each."""
    sku = pl.col("sku")
    return (
        findings.group_by("channel", "rule", "field", "severity", "fix_in")
        .agg(
            products=sku.drop_nulls().n_unique() + sku.null_count(),
            caused=sku.filter(pl.col("caused_by").is_not_null()).n_unique(),
        )
        .cast({"products": pl.Int64, "caused": pl.Int64})
        .sort(["channel", "products", "rule", "field"], descending=[False, True, False, False])
        .select("channel", "rule", "field", "severity", "fix_in", "products", "caused")
    )


def _changes(
    old: pl.LazyFrame | None, new: pl.DataFrame, changes: pl.DataFrame | None
) -> pl.DataFrame:
    if old is None or changes is None:
        return pl.DataFrame({"added": [new.height], "removed": [0], "price_changed": [0]})
    before = old.select("sku")
    added = new.lazy().select("sku").join(before, on="sku", how="anti").select(pl.len())
    removed = before.join(new.lazy().select("sku"), on="sku", how="anti").select(pl.len())
    return pl.DataFrame(
        {
            "added": [added.collect().item()],
            "removed": [removed.collect().item()],
            "price_changed": [changes.height],
        }
    ).cast(pl.Int64)


def _shown_changes(
    changes: pl.DataFrame | None, names: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The biggest rises and the biggest drops (by current / previous), apart: the breaker's
    ``factor`` is the same for x4 and /4, a merchandiser needs the direction."""
    schema = pl.Schema(
        {"sku": pl.String, "name": pl.String, "currency": pl.String}
        | {"previous": MONEY, "current": MONEY}
    )
    if changes is None or changes.is_empty():
        return pl.DataFrame(schema=schema), pl.DataFrame(schema=schema)
    ratio = (pl.col("current").cast(pl.Float64) / pl.col("previous").cast(pl.Float64)).alias("r")
    signed = changes.with_columns(ratio)

    def biggest(kept: pl.Expr, descending: bool) -> pl.DataFrame:
        return (
            signed.filter(kept)
            .sort(["r", "sku", "currency"], descending=[descending, False, False])
            .head(PRICE_CHANGES_SHOWN)
            .join(names, on="sku", how="left", maintain_order="left")
            .select(schema.names())
            .cast(schema)
        )

    return biggest(pl.col("r") > 1, descending=True), biggest(pl.col("r") < 1, descending=False)


def _trends(reports: ReportStore, summary: dict[str, Any]) -> pl.DataFrame:
    """Per snapshot and channel, the published and quarantined share of enabled products
    (published + quarantined + filtered = enabled, the feeds' accounting identity; snapshots
    from before filters have none)."""
    history = [s for s in reports.history(TRENDS) if s["snapshot_id"] != summary["snapshot_id"]]
    rows = [
        {"snapshot_id": s["snapshot_id"], "channel": name, **counts}
        for s in [*history[-(TRENDS - 1) :], summary]
        for name, counts in s["channels"].items()
    ]
    enabled = pl.col("published") + pl.col("quarantined") + pl.col("filtered")

    def share(column: str) -> pl.Expr:
        return pl.when(enabled > 0).then(pl.col(column) / enabled)

    return (
        pl.DataFrame(rows)
        .with_columns(
            pl.col("filtered").fill_null(0)
            if any("filtered" in r for r in rows)
            else pl.lit(0).alias("filtered")
        )
        .select(
            "snapshot_id", "channel", pl.col("published", "quarantined", "filtered").cast(pl.Int64)
        )
        .with_columns(published_share=share("published"), quarantine_share=share("quarantined"))
    )


def _shown_quarantine(findings: pl.DataFrame, limit: int) -> pl.DataFrame:
    """The main page's rows: of each rule, the first ``ROWS_PER_RULE`` skus (on every channel:
    the page shows a finding once with its channels); errors first, at most ``limit`` rows."""
    sku = pl.col("sku")
    first = (
        pl.when(sku.is_null())
        .then(pl.int_range(pl.len()).over("rule") < ROWS_PER_RULE)
        .otherwise(sku.rank("dense").over("rule") <= ROWS_PER_RULE)
    )
    ordered = findings.sort(["severity", "rule", "sku", "channel"], nulls_last=True)
    return ordered.filter(first).head(limit)
