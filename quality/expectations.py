"""Great-expectations suites built from the rule declarations, validating each channel's feed.

great-expectations is imported when a suite is first built (it takes seconds to import, and
loading the definitions or the CLI does not need it). Each channel's suite holds, for every rule
of its format, the check's expectations with the rule's code in ``meta`` and its severity (error
-> CRITICAL, warn -> WARNING). The feed frame goes to great-expectations' pandas engine with
Arrow-backed columns (money as float64: the suites compare to bounds, never sum), which keeps a
1M-row validation to a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from contracts.config import Channel
from quality.rules import References, Rule, rules_for

if TYPE_CHECKING:
    import great_expectations as gx
    import great_expectations.expectations as gxe

KEY = "sku"
RESULTS_SCHEMA = pl.Schema(
    {
        "channel": pl.String(),
        "rule": pl.String(),
        "expectation": pl.String(),
        "column": pl.String(),
        "severity": pl.String(),
        "success": pl.Boolean(),
        "unexpected_count": pl.Int64(),
        "evaluated": pl.Int64(),
    }
)


def rule_expectations(
    rule: Rule, channel: Channel, schema: pl.Schema, references: References
) -> list[gxe.Expectation]:
    """The expectations that check ``rule`` for ``channel`` (one rule may need several)."""
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.row_conditions import Column

    severities = {"error": FailureSeverity.CRITICAL, "warn": FailureSeverity.WARNING}
    found = []
    for column in rule.columns(channel):
        text = schema[column] == pl.String
        for expectation in rule.check.expectations(column, text, references):
            expectation.meta = {"rule": rule.code, "severity": rule.severity}
            expectation.severity = severities[rule.severity]
            if rule.when is not None:  # every expectation here is a column expectation
                expectation.row_condition = Column(rule.when[0]) == rule.when[1]  # type: ignore[attr-defined]
            found.append(expectation)
    return found


def channel_suite(
    name: str, channel: Channel, schema: pl.Schema, references: References
) -> gx.ExpectationSuite:
    import great_expectations as gx

    expectations = [
        e
        for rule in rules_for(channel)
        for e in rule_expectations(rule, channel, schema, references)
    ]
    return gx.ExpectationSuite(name=f"prism_{name}", expectations=expectations)


def validation_columns(
    name: str, channel: Channel, schema: pl.Schema, references: References
) -> list[str]:
    """The columns a channel's suite reads (keep only these between writing and validating)."""
    return suite_columns(channel_suite(name, channel, schema, references))


def validation_sample(frame: pl.DataFrame, rows: int | None) -> pl.DataFrame:
    """The whole feed, or a seeded random sample of ``rows`` of it in key order.

    Great-expectations' pandas engine takes ~10 s per million rows and suite, so large feeds
    are sampled; the quarantine has already applied the same rules to every row.
    """
    if rows is None or frame.height <= rows:
        return frame
    return frame.sample(rows, seed=0).sort(KEY)


def suite_columns(suite: gx.ExpectationSuite) -> list[str]:
    columns = {KEY}
    for expectation in suite.expectations:
        columns.add(getattr(expectation, "column"))  # noqa: B009 - column expectations only
        condition = getattr(expectation, "row_condition", None)
        if condition is not None:
            columns.add(condition.column.name)
    return sorted(columns)


def to_pandas(frame: pl.DataFrame, columns: list[str]) -> Any:
    """Only the suite's columns, Arrow-backed; decimals become float64 for the pandas engine."""
    selected = frame.select(columns).with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    return selected.to_pandas(use_pyarrow_extension_array=True)


def new_context() -> Any:
    """An in-memory context: Prism keeps results itself, per snapshot, next to its report."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate_feeds(
    feeds: Mapping[str, tuple[Channel, pl.DataFrame]],
    references: References,
    result_format: str = "SUMMARY",
) -> dict[str, dict[str, Any]]:
    """Validate each channel's feed frame with its suite; channel -> result as JSON dict.

    ``result_format="COMPLETE"`` also lists the sku of every unexpected row (for audits).
    """
    context = new_context()
    source = context.data_sources.add_pandas("prism_feeds")
    results = {}
    for name, (channel, frame) in feeds.items():
        suite = context.suites.add(channel_suite(name, channel, frame.schema, references))
        asset = source.add_dataframe_asset(name)
        batch = asset.add_batch_definition_whole_dataframe(name).get_batch(
            batch_parameters={"dataframe": to_pandas(frame, suite_columns(suite))}
        )
        fmt = {"result_format": result_format, "unexpected_index_column_names": [KEY]}
        results[name] = batch.validate(suite, result_format=fmt).to_json_dict()
    return results


def results_file(channel: str) -> str:
    """Where a channel's result is kept, relative to the snapshot's report folder."""
    return f"expectations/{channel}.json"


def save_results(folder: Path, results: Mapping[str, Mapping[str, Any]]) -> None:
    """Keep each channel's full result (great-expectations' JSON) with the snapshot's report."""
    for name, result in results.items():
        path = folder / results_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result, indent=1, sort_keys=True, default=str)
        path.write_text(text, encoding="utf-8")


def results_frame(results: Mapping[str, Mapping[str, Any]]) -> pl.DataFrame:
    """One row per (channel, expectation) for checks, metadata and the report."""
    rows = []
    for name, result in results.items():
        for item in result["results"]:
            config, outcome = item["expectation_config"], item["result"]
            rows.append(
                {
                    "channel": name,
                    "rule": config["meta"]["rule"],
                    "expectation": config["type"],
                    "column": config["kwargs"]["column"],
                    "severity": config["meta"]["severity"],
                    "success": item["success"],
                    "unexpected_count": outcome.get("unexpected_count") or 0,
                    "evaluated": outcome.get("element_count") or 0,
                }
            )
    return pl.DataFrame(rows, schema=RESULTS_SCHEMA)
