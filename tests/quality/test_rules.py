"""The golden rules and the checks they (and the field rules) are made of: each check's polars
predicate and its great-expectations expectations give the same verdict, value by value."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest
from factories import config_with
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.gtin import gtin_valid
from quality.expectations import new_context, to_pandas
from quality.gtin_expectation import gtin_valid_pandas
from quality.rules import (
    NOT_SPACE,
    RULES,
    Above,
    Between,
    Check,
    Gtin,
    Length,
    NoMatch,
    OneOf,
    Pattern,
    Positive,
    Reference,
    Required,
    references,
    rules_for,
)

GTINS = [
    ("4006381333931", True),  # GTIN-13
    ("4006381333932", False),
    ("96385074", True),  # GTIN-8
    ("96385075", False),
    ("036000291452", True),  # GTIN-12 (UPC-A)
    ("10036000291459", True),  # GTIN-14
    ("400638133393", False),  # 12 digits, wrong check digit
    ("40063813339X1", False),
    ("4006381333931\n", False),
    ("", False),
    ("123", False),
    ("00000000", True),  # leading zeros are digits
    ("00000000000000", True),
    ("00036000291452", True),  # a GTIN-12 padded to 14
    ("99999999999997", True),  # the largest valid GTIN-14
    ("400638133393100", False),  # 15 digits
    (" 96385074", False),
    ("+96385074", False),
    ("٤٠٠٦٣٨١٣٣٣٩٣١", False),  # digits of another script
    ("=HYPERLINK(1)", False),
    ("9638507\x004", False),
]


@pytest.mark.parametrize(("gtin", "valid"), [*GTINS, (None, True)])
def test_gtin_check_digit(gtin: str | None, valid: bool) -> None:
    frame = pl.DataFrame({"gtin": [gtin]}, schema={"gtin": pl.String})
    assert frame.select(gtin_valid(pl.col("gtin"))).item() is valid


def check_digit_ok(gtin: str) -> bool:
    """GS1's rule in plain Python: weights 3, 1, 3, ... from the right, the last digit left out."""
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", gtin):
        return False
    body = [int(d) for d in gtin[:-1]]
    weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - weighted % 10) % 10 == int(gtin[-1])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.from_regex(r"[0-9]{8}|[0-9]{12,14}", fullmatch=True) | st.text(max_size=15)))
def test_the_gtin_check_follows_gs1_on_every_row(gtins: list[str]) -> None:
    frame = pl.DataFrame({"gtin": gtins}, schema={"gtin": pl.String})
    assert frame.select(gtin_valid(pl.col("gtin")))["gtin"].to_list() == [
        check_digit_ok(g) for g in gtins
    ]


def test_the_pandas_twin_of_the_gtin_check_agrees() -> None:
    """The great-expectations GTIN expectation's metric (non-null values only)."""
    values = pl.Series([g for g, _ in GTINS], dtype=pl.String).to_pandas()
    assert gtin_valid_pandas(values).tolist() == [v for _, v in GTINS]


def test_the_golden_rules_with_their_columns_severities_and_systems() -> None:
    table = [(r.code, r.field, r.severity, r.source, r.when) for r in RULES]
    assert table == [
        ("price_missing", "list_price_{currency}", "error", "erp", None),
        ("price_implausible", "list_price_{currency}", "warn", "erp", None),
        ("family_unknown", "family", "error", "pim", None),
        ("availability_invalid", "availability", "error", "erp", None),
        (
            "availability_date_missing",
            "availability_date",
            "error",
            "erp",
            ("availability", "backorder"),
        ),
        ("in_stock_without_stock", "available_qty", "error", "erp", ("availability", "in_stock")),
        ("stock_negative", "available_qty", "error", "erp", None),
    ]
    assert all(r.description for r in RULES)


def test_every_channel_gets_every_golden_rule_on_each_currency_it_publishes() -> None:
    config = config_with(
        {
            "shop": {"format": "csv", "locale": "de_DE", "currency": "EUR"},
            "portal": {"format": "sql", "locale": "de_DE", "currencies": ["EUR", "USD"]},
        }
    )
    for channel in config.channels.values():
        assert rules_for(channel) == list(RULES)
    price = RULES[0]
    assert price.columns(config.channels["shop"]) == ["list_price_EUR"]
    assert price.columns(config.channels["portal"]) == ["list_price_EUR", "list_price_USD"]
    assert RULES[2].columns(config.channels["portal"]) == ["family"]


def test_a_conditional_rule_checks_only_its_rows() -> None:
    in_stock = next(r for r in RULES if r.code == "in_stock_without_stock")
    frame = pl.DataFrame(
        {
            "availability": ["in_stock", "in_stock", "out_of_stock", None, "in_stock"],
            "available_qty": [1, 0, 0, 0, None],
        }
    )
    passes = frame.select(in_stock.passes("available_qty", frame.schema, {})).to_series()
    # an unknown availability promises nothing; an unknown stock is no negative finding
    assert passes.to_list() == [True, False, True, None, True]


def test_references_are_the_families_codes() -> None:
    families = pl.DataFrame({"code": ["shirts", None, "shoes"]}, schema={"code": pl.String})
    assert references(families) == {"families": ["shirts", "shoes"]}


CHECKS: list[tuple[str, Check, pl.Series, list[bool]]] = [
    # (column, check, values, the verdict of each value)
    ("required", Required(), pl.Series(["x", None, "", " \t", "\x1c", "\u00a0", " y"]),
     [True, False, False, False, False, False, True]),
    ("required_number", Required(), pl.Series([1.0, None, 0.0]), [True, False, True]),
    ("positive", Positive(), pl.Series([0.01, 0.0, -1.0, None]), [True, False, False, False]),
    ("above", Above(0), pl.Series([0.01, 0.0, -1.0, None]), [True, False, False, True]),
    ("length", Length(2, 3), pl.Series(["a", "ab", "abc", "abcd", "üüü", None]),
     [False, True, True, False, True, True]),
    ("pattern", Pattern(r"^[a-z]+$"), pl.Series(["abc", "ab1", "", None]),
     [True, False, False, True]),
    ("no_match", NoMatch(r"://.*://"), pl.Series(["https://a/b", "https://a/http://b", None]),
     [True, False, True]),
    ("between", Between(0, 10), pl.Series([0, 10, -1, 11, None]), [True, True, False, False, True]),
    ("one_of", OneOf(("a", "b")), pl.Series(["a", "b", "A", "", None]),
     [True, True, False, False, True]),
    ("gtin", Gtin(), pl.Series(["96385074", "96385075", "abc", None]),
     [True, False, False, True]),
    ("family", Reference("families"), pl.Series(["shirts", "Shirts", None]), [True, False, True]),
]  # fmt: skip
REFERENCES = {"families": ["shirts"]}


def verdicts_of_expectations(frame: pl.DataFrame) -> dict[str, list[bool]]:
    """column -> the verdict of each row, by great-expectations (every check's expectations
    on its column; a row passes when no expectation lists it as unexpected)."""
    import great_expectations as gx

    expectations = []
    for name, check, values, _ in CHECKS:
        text = values.dtype == pl.String
        for expectation in check.expectations(name, text, REFERENCES):
            expectation.meta = {"column": name}
            expectations.append(expectation)
    context = new_context()
    suite = context.suites.add(gx.ExpectationSuite(name="checks", expectations=expectations))
    source = context.data_sources.add_pandas("checks")
    batch = (
        source.add_dataframe_asset("checks")
        .add_batch_definition_whole_dataframe("checks")
        .get_batch(batch_parameters={"dataframe": to_pandas(frame, frame.columns)})
    )
    result: Any = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]}
    ).to_json_dict()
    failed: dict[str, set[int]] = {name: set() for name, *_ in CHECKS}
    for item in result["results"]:
        assert not item["exception_info"].get("raised_exception"), item["expectation_config"]
        rows = item["result"].get("unexpected_index_list") or []
        failed[item["expectation_config"]["meta"]["column"]].update(r["row"] for r in rows)
    return {name: [i not in failed[name] for i in range(frame.height)] for name in failed}


def test_each_check_gives_the_same_verdict_in_both_engines() -> None:
    """One frame, a column per check (shorter columns padded with null), one suite: a
    great-expectations validation takes about a second, whatever its expectations."""
    height = max(len(values) for _, _, values, _ in CHECKS)
    columns = [v.extend_constant(None, height - len(v)).alias(n) for n, _, v, _ in CHECKS]
    frame = pl.DataFrame([pl.Series("row", range(height)), *columns])
    expected = {
        name: wanted + [wanted[values.to_list().index(None)]] * (height - len(wanted))
        for name, _, values, wanted in CHECKS
    }
    by_polars = {
        name: frame.select(check.polars(pl.col(name), values.dtype == pl.String, REFERENCES))
        .to_series()
        .fill_null(False)
        .to_list()
        for name, check, values, _ in CHECKS
    }
    assert by_polars == expected
    assert verdicts_of_expectations(frame) == expected


def test_a_reference_check_without_its_table_passes_everything() -> None:
    check = Reference("families")
    frame = pl.DataFrame({"family": ["ghosts", None]})
    passes = frame.with_columns(ok=check.polars(pl.col("family"), True, {}))["ok"]
    assert passes.to_list() == [True, True]
    assert check.expectations("family", True, {}) == []


def test_not_space_is_written_for_both_regex_engines() -> None:
    """U+001C..U+001F are whitespace to Python's ``\\s``, not to Rust's: both must see none."""
    separators = pl.Series(["\x1c\x1d\x1e\x1f"])
    assert not separators.str.contains(NOT_SPACE).item()
