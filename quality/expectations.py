"""Great-expectations suites of each channel's feed: the format's field specs on the target
fields and the golden rules on the golden columns behind them.

great-expectations is imported when a suite is first built (it takes seconds to import, and
loading the definitions or the CLI does not need it). The frame a suite validates is the
channel's published frame (``sku`` + target fields) plus the golden columns the golden rules
read, named ``golden__<column>`` so they never clash with a target field. Each expectation has
its rule's code in ``meta`` and its severity (error -> CRITICAL, warn -> WARNING). The frame
goes to great-expectations' pandas engine with Arrow-backed text and numpy numbers (money as
float64: the suites compare to bounds, never sum; see ``to_pandas``).

On a feed of a few thousand rows great-expectations spends its time per expectation (each one's
metric graph), not per row: a suite leaves out the expectations its frame makes redundant (a
blank check where blanks are already null), and a run asks for counts first and names the
unexpected rows only of the expectations that failed (``validate_feeds``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from contracts.config import ChannelConfig
from contracts.formats import FieldSpec
from quality.field_rules import TEXT_KINDS, FieldRule, field_rules
from quality.rules import NOT_SPACE, References, Rule, rules_for

if TYPE_CHECKING:
    import great_expectations as gx
    import great_expectations.expectations as gxe

GOLDEN = "golden__"
"""Prefix of the golden columns in a validation frame."""


@dataclass(frozen=True)
class FeedSuite:
    """What one channel's suite checks: its settings, its target fields' specs (mapping
    order) and the frame to validate (``validation_frame``)."""

    channel: ChannelConfig
    fields: Sequence[FieldSpec]
    frame: pl.DataFrame


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


def _severity(expectation: Any, code: str, severity: str) -> Any:
    from great_expectations.expectations.metadata_types import FailureSeverity

    severities = {"error": FailureSeverity.CRITICAL, "warn": FailureSeverity.WARNING}
    expectation.meta = {"rule": code, "severity": severity}
    expectation.severity = severities[severity]
    return expectation


def rule_expectations(
    rule: Rule, channel: ChannelConfig, schema: pl.Schema, references: References
) -> list[gxe.Expectation]:
    """The expectations that check golden ``rule`` for ``channel`` on the ``golden__``
    columns (one rule may need several)."""
    from great_expectations.expectations.row_conditions import Column

    found = []
    for column in rule.columns(channel):
        name = f"{GOLDEN}{column}"
        text = schema[name] == pl.String
        for expectation in rule.check.expectations(name, text, references):
            _severity(expectation, rule.code, rule.severity)
            if rule.when is not None:  # every expectation here is a column expectation
                condition = Column(f"{GOLDEN}{rule.when[0]}") == rule.when[1]
                expectation.row_condition = condition  # type: ignore[attr-defined]
            found.append(expectation)
    return found


def field_expectations(
    rule: FieldRule, schema: pl.Schema, blank_free: Collection[str] = ()
) -> list[gxe.Expectation]:
    """The expectations of one field rule on the target column. On a ``blank_free`` column
    (``blank_free_columns``: a blank value is already null) a required value needs only the
    null check: a "has a non-blank character" regex could not fail there."""
    from great_expectations.expectations.row_conditions import Column

    text = schema[rule.field] == pl.String and rule.field not in blank_free
    found = []
    for expectation in rule.check.expectations(rule.field, text, {}):
        _severity(expectation, rule.code, rule.severity)
        if rule.when is not None:
            column, values = rule.when
            condition = Column(f"{GOLDEN}{column}").is_in(list(values))
            expectation.row_condition = condition  # type: ignore[attr-defined]
        found.append(expectation)
    return found


def channel_suite(name: str, suite: FeedSuite, references: References) -> gx.ExpectationSuite:
    import great_expectations as gx

    schema = suite.frame.schema
    blank_free = blank_free_columns(suite.fields, schema)
    expectations = [
        e
        for rule in rules_for(suite.channel)
        for e in rule_expectations(rule, suite.channel, schema, references)
    ]
    for spec in suite.fields:
        if spec.name not in schema:
            continue
        for rule in field_rules(spec):
            if rule.when is None or f"{GOLDEN}{rule.when[0]}" in schema:
                expectations.extend(field_expectations(rule, schema, blank_free))
    return gx.ExpectationSuite(name=f"prism_{name}", expectations=expectations)


def golden_columns(channel: ChannelConfig, fields: Sequence[FieldSpec]) -> list[str]:
    """The golden columns a channel's suite reads: the golden rules' columns and those of the
    fields' row conditions."""
    columns = [c for rule in rules_for(channel) for c in rule.columns(channel)]
    columns += [rule.when[0] for rule in rules_for(channel) if rule.when is not None]
    for spec in fields:
        for rule in field_rules(spec):
            if rule.when is not None:
                columns.append(rule.when[0])
    return list(dict.fromkeys(columns))


def validation_frame(
    frame: pl.DataFrame,
    golden: pl.DataFrame | pl.LazyFrame,
    channel: ChannelConfig,
    fields: Sequence[FieldSpec],
    rows: int | None,
) -> pl.DataFrame:
    """The published frame (lists left out: no expectation reads them) beside its golden
    columns, sampled to ``rows`` (see ``validation_sample``). ``golden``: the frame's golden
    rows, or a query of them (a view's ``golden_lazy``: only the columns checked are copied).

    A blank text value is no value (``mapping.fields.present``): it becomes null here, so the
    suite reports it as missing, as the view does, and not also as an invalid GTIN or URL (a
    blank optional GTIN the view publishes would otherwise fail the blocking suite)."""
    golden = golden.lazy()
    present = set(golden.collect_schema().names())
    wanted = [c for c in golden_columns(channel, fields) if c in present]
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    text = blank_free_columns(fields, frame.schema)
    # only the columns kept are copied (a view's golden rows are most of the catalog's
    # columns), and of them only the sample's rows, picked first (the same rows
    # ``validation_sample`` picks from the whole frame: the pick depends on the height only)
    published = frame.drop(lists)
    beside = golden.select(pl.col(c).alias(f"{GOLDEN}{c}") for c in wanted).collect()
    picked = sample_positions(frame.height, rows)
    if picked is not None:
        published, beside = published[picked], beside[picked]
    blank_free = published.with_columns(
        pl.when(pl.col(c).str.contains(NOT_SPACE)).then(pl.col(c)).alias(c) for c in text
    )
    joined = pl.concat([blank_free, beside], how="horizontal")
    return joined if picked is None else joined.sort(KEY)


def blank_free_columns(fields: Sequence[FieldSpec], schema: pl.Schema) -> list[str]:
    """The target text fields whose blank values ``validation_frame`` turns into null (not the
    key: a blank sku stays one, for its suite to flag)."""
    return [
        f.name
        for f in fields
        if f.kind in TEXT_KINDS and schema.get(f.name) == pl.String and f.name != KEY
    ]


def validation_sample(frame: pl.DataFrame, rows: int | None) -> pl.DataFrame:
    """The whole feed, or a seeded random sample of ``rows`` of it in key order.

    Great-expectations' pandas engine takes ~10 s per million rows and suite, so large feeds
    are sampled; the quarantine has already applied the same rules to every row.
    """
    picked = sample_positions(frame.height, rows)
    return frame if picked is None else frame[picked].sort(KEY)


def sample_positions(height: int, rows: int | None) -> pl.Series | None:
    """The row positions of a seeded random sample of ``rows`` out of ``height`` (None: every
    row); the same positions for every frame of that height."""
    if rows is None or height <= rows:
        return None
    return pl.int_range(height, eager=True).sample(rows, seed=0)


def suite_columns(suite: gx.ExpectationSuite) -> list[str]:
    columns = {KEY}
    for expectation in suite.expectations:
        columns.add(getattr(expectation, "column"))  # noqa: B009 - column expectations only
        condition = getattr(expectation, "row_condition", None)
        if condition is not None:
            columns.add(condition.column.name)
    return sorted(columns)


def to_pandas(frame: pl.DataFrame, columns: list[str]) -> Any:
    """Only the suite's columns, Arrow-backed, but decimals and integers as numpy float64 and
    int64 (float64 with NaN where one is null): great-expectations compares numpy numbers to
    bounds at once, Arrow-backed ones value by value in Python (seconds per 100,000 rows).
    Money as float64 is fine, the suites compare to bounds, never sum; neither type has a NaN of
    its own that could pass for null (floats stay Arrow-backed for that reason)."""
    decimals = [n for n in columns if frame.schema[n].is_decimal()]
    integers = [n for n in columns if frame.schema[n].is_integer()]
    selected = frame.select(columns).with_columns(
        pl.col(decimals).cast(pl.Float64), pl.col(integers).cast(pl.Int64)
    )
    result = selected.to_pandas(use_pyarrow_extension_array=True)
    for name in decimals + integers:
        result[name] = selected[name].to_pandas()
    return result


def new_context() -> Any:
    """An in-memory context: Prism keeps results itself, per snapshot, next to its report."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


NAMED_ROWS = 20
"""How many unexpected rows (sku and value) a failed expectation names in a run's result."""


def result_format_at(level: str) -> dict[str, Any]:
    """Great-expectations' ``result_format`` at ``level`` (BASIC, SUMMARY, COMPLETE): rows
    named by sku, without the query listing every unexpected row's index (nobody reads it, and
    it takes as long to build as the verdict)."""
    return {
        "result_format": level,
        "partial_unexpected_count": NAMED_ROWS,
        "unexpected_index_column_names": [KEY],
        "return_unexpected_index_query": False,
    }


def validate_feeds(
    feeds: Mapping[str, FeedSuite] | Iterable[tuple[str, FeedSuite]],
    references: References,
    result_format: str = "SUMMARY",
) -> dict[str, dict[str, Any]]:
    """Validate each channel's feed frame with its suite; channel -> result as JSON dict, in
    the order the feeds came. ``feeds`` may be a generator: each feed is validated as soon as
    it is yielded (a run validates each feed as its writer finishes, see ``assets.feeds``).

    ``"SUMMARY"`` (a run's): every expectation's counts (great-expectations' BASIC result:
    ``element_count``, ``unexpected_count``, up to ``NAMED_ROWS`` unexpected values), and each
    failed expectation's SUMMARY result, which names the sku of up to ``NAMED_ROWS``
    unexpected rows (a second validation of the failed expectations only: naming rows costs
    as much again per expectation, and nearly all of them pass). ``"COMPLETE"`` lists the sku
    of every unexpected row of every expectation (for audits); ``"BASIC"`` names none.
    """
    from great_expectations.validator.v1_validator import Validator

    context = new_context()
    source = context.data_sources.add_pandas("prism_feeds")
    results = {}
    for name, feed in feeds.items() if isinstance(feeds, Mapping) else feeds:
        suite = context.suites.add(channel_suite(name, feed, references))
        batches = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        frame = to_pandas(feed.frame, suite_columns(suite))
        # a validator loads (and fingerprints) its batch once, for both validations;
        # ``Batch.validate`` would load it again for each
        validator = Validator(batches, batch_parameters={"dataframe": frame})
        results[name] = validate_suite(validator, suite, result_format)
    return results


def validate_suite(validator: Any, suite: gx.ExpectationSuite, level: str) -> dict[str, Any]:
    """One suite's result on a great-expectations validator's batch at ``level`` (see
    ``validate_feeds``)."""
    first = "BASIC" if level == "SUMMARY" else level
    validator.result_format = result_format_at(first)
    result: dict[str, Any] = validator.validate_expectation_suite(suite).to_json_dict()
    failed = {i["expectation_config"]["id"] for i in result["results"] if not i["success"]}
    if first == level or not failed:
        return result
    import great_expectations as gx

    again = [e.configuration for e in suite.expectations if e.id in failed]
    validator.result_format = result_format_at(level)
    named = validator.validate_expectation_suite(gx.ExpectationSuite(suite.name, again))
    by_id = {i["expectation_config"]["id"]: i for i in named.to_json_dict()["results"]}
    result["results"] = [by_id.get(i["expectation_config"]["id"], i) for i in result["results"]]
    return result


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
