"""Every rule at its limit: a value just inside passes, one just outside fails, on exactly the
channels, with exactly the severity and field the rule declares, and both engines (the
vectorized quarantine and the great-expectations suites) give the same verdict.

The expected findings are written out here rather than derived from ``RULES``, so a changed
threshold, severity, format list or field template fails a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from factories import default_config, golden_products, product

from contracts.config import PrismConfig, parse_config
from contracts.golden import REJECTS_SCHEMA
from quality.expectations import KEY, validate_feeds
from quality.quarantine import build_quarantine
from quality.rules import RULES, References, references

ALL = ("website", "shop", "portal", "marketplace", "quoting")
PUBLIC = ("website", "shop", "marketplace")
GOOGLE = ("marketplace",)
NOT_GOOGLE = ("website", "shop", "portal", "quoting")
REFERENCES = references(pl.DataFrame({"code": ["shirts", "shoes", None]}))
BACKORDER_DATE = dt.date(2026, 12, 1)

Finding = tuple[str, str, str]
"""(channel, field, severity) of one finding of the case's rule."""


def on(channels: tuple[str, ...], field: str, severity: str) -> frozenset[Finding]:
    return frozenset((channel, field, severity) for channel in channels)


@dataclass(frozen=True)
class Case:
    rule: str
    label: str
    overrides: dict[str, Any] = field(hash=False)
    found: frozenset[Finding] = frozenset()
    """Empty: the product passes every rule."""

    @property
    def sku(self) -> str:
        return f"{self.rule}:{self.label}"


def in_script(zero: str, gtin: str = "4006381333931") -> str:
    """``gtin`` written with the digits of the script whose zero is ``zero``."""
    return "".join(chr(ord(zero) + int(d)) for d in gtin)


def ok(rule: str, label: str, **overrides: Any) -> Case:
    return Case(rule, label, overrides)


def bad(rule: str, label: str, found: frozenset[Finding], **overrides: Any) -> Case:
    return Case(rule, label, overrides, found)


CASES = (
    # name_missing: required text in the channel's locale (de_DE); blank is missing
    ok("name_missing", "one_char", name_de_DE="x"),
    ok("name_missing", "other_locale_blank", name_en_US="  "),
    bad("name_missing", "null", on(ALL, "name_de_DE", "error"), name_de_DE=None),
    bad("name_missing", "blank", on(ALL, "name_de_DE", "error"), name_de_DE="  "),
    bad("name_missing", "tab_newline", on(ALL, "name_de_DE", "error"), name_de_DE="\t\n"),
    bad("name_missing", "nbsp", on(ALL, "name_de_DE", "error"), name_de_DE="\u00a0\u2003"),
    # Python's regex engine (great-expectations) counts the separators U+001C..U+001F as
    # whitespace; Rust's (polars) must too, or the quarantine publishes what the suite fails
    bad("name_missing", "separators", on(ALL, "name_de_DE", "error"), name_de_DE="\x1c\x1f"),
    # description_missing
    ok("description_missing", "other_locale_null", description_en_US=None),
    bad(
        "description_missing",
        "null",
        on(ALL, "description_de_DE", "error"),
        description_de_DE=None,
    ),
    bad(
        "description_missing",
        "blank",
        on(ALL, "description_de_DE", "error"),
        description_de_DE=" " * 20,  # long enough for description_short
    ),
    # price_missing: > 0 in every published currency; the smallest money unit is 0.000001
    ok("price_missing", "one_cent", list_price_EUR=Decimal("0.01")),
    ok("price_missing", "smallest_unit", list_price_EUR=Decimal("0.000001")),
    bad("price_missing", "zero", on(ALL, "list_price_EUR", "error"), list_price_EUR=Decimal(0)),
    bad(
        "price_missing",
        "negative",
        on(ALL, "list_price_EUR", "error"),
        list_price_EUR=Decimal("-0.01"),
    ),
    bad("price_missing", "null", on(ALL, "list_price_EUR", "error"), list_price_EUR=None),
    # price_implausible: at most 1,000,000 (inclusive), a warning
    ok("price_implausible", "just_below", list_price_EUR=Decimal("999999.99")),
    ok("price_implausible", "at_limit", list_price_EUR=Decimal("1000000")),
    bad(
        "price_implausible",
        "one_cent_over",
        on(ALL, "list_price_EUR", "warn"),
        list_price_EUR=Decimal("1000000.01"),
    ),
    bad(
        "price_implausible",
        "smallest_unit_over",
        on(ALL, "list_price_EUR", "warn"),
        list_price_EUR=Decimal("1000000.000001"),
    ),
    # gtin_invalid: GS1 check digit of a GTIN-8/12/13/14 (last digit + 1 fails)
    ok("gtin_invalid", "gtin8", gtin="96385074"),
    bad("gtin_invalid", "gtin8_digit", on(ALL, "gtin", "error"), gtin="96385075"),
    ok("gtin_invalid", "gtin12", gtin="036000291452"),
    bad("gtin_invalid", "gtin12_digit", on(ALL, "gtin", "error"), gtin="036000291453"),
    ok("gtin_invalid", "gtin13", gtin="4006381333931"),
    bad("gtin_invalid", "gtin13_digit", on(ALL, "gtin", "error"), gtin="4006381333932"),
    ok("gtin_invalid", "gtin14", gtin="10036000291459"),
    bad("gtin_invalid", "gtin14_digit", on(ALL, "gtin", "error"), gtin="10036000291450"),
    # lengths without a GTIN: the check digit would be right once padded to 14 digits
    bad("gtin_invalid", "11_digits", on(ALL, "gtin", "error"), gtin="36000291452"),
    bad("gtin_invalid", "9_digits", on(ALL, "gtin", "error"), gtin="096385074"),
    bad("gtin_invalid", "15_digits", on(ALL, "gtin", "error"), gtin="010036000291459"),
    bad("gtin_invalid", "letter", on(ALL, "gtin", "error"), gtin="40063813339X1"),
    # digits are ASCII digits: a valid GTIN-13 typed with full-width or Arabic-Indic digits
    # or followed by a newline is no GTIN for Google, in either engine
    bad("gtin_invalid", "full_width", on(ALL, "gtin", "error"), gtin=in_script("\uff10")),
    bad("gtin_invalid", "arabic_indic", on(ALL, "gtin", "error"), gtin=in_script("\u0660")),
    bad("gtin_invalid", "newline", on(ALL, "gtin", "error"), gtin="4006381333931\n"),
    # gtin_missing: a warning, on Google only
    ok("gtin_missing", "present", gtin="96385074"),
    bad("gtin_missing", "null", on(GOOGLE, "gtin", "warn"), gtin=None),
    # family_unknown: a family of the PIM's families table
    ok("family_unknown", "known", family="shoes"),
    bad("family_unknown", "unknown", on(ALL, "family", "error"), family="ghosts"),
    bad("family_unknown", "case", on(ALL, "family", "error"), family="Shirts"),
    # category_missing: a warning on the public channels
    ok("category_missing", "one_char", category_path_de_DE="x"),
    bad(
        "category_missing",
        "null",
        on(PUBLIC, "category_path_de_DE", "warn"),
        category_path_de_DE=None,
    ),
    bad(
        "category_missing",
        "blank",
        on(PUBLIC, "category_path_de_DE", "warn"),
        category_path_de_DE=" ",
    ),
    # brand_missing: a warning on the public channels
    ok("brand_missing", "one_char", brand="x"),
    bad("brand_missing", "null", on(PUBLIC, "brand", "warn"), brand=None),
    bad("brand_missing", "blank", on(PUBLIC, "brand", "warn"), brand="  "),
    # image_missing: an error on Google, a warning everywhere else
    ok("image_missing", "present", image_url="http://m.example.com/a.jpg"),
    bad(
        "image_missing",
        "null",
        on(GOOGLE, "image_url", "error") | on(NOT_GOOGLE, "image_url", "warn"),
        image_url=None,
    ),
    # image_url_invalid: an absolute http(s) URL
    ok("image_url_invalid", "http", image_url="http://m.example.com/a.jpg"),
    ok("image_url_invalid", "https", image_url="https://m.example.com/a.jpg"),
    ok("image_url_invalid", "one_char_host", image_url="https://m"),
    bad("image_url_invalid", "relative", on(ALL, "image_url", "error"), image_url="img/a.jpg"),
    bad(
        "image_url_invalid",
        "ftp",
        on(ALL, "image_url", "error"),
        image_url="ftp://m.example.com/a.jpg",
    ),
    bad(
        "image_url_invalid",
        "scheme_relative",
        on(ALL, "image_url", "error"),
        image_url="//m.example.com/a.jpg",
    ),
    bad("image_url_invalid", "no_host", on(ALL, "image_url", "error"), image_url="https://"),
    bad(
        "image_url_invalid",
        "separator",
        on(ALL, "image_url", "error"),
        image_url="https://m.example.com/a\x1fb.jpg",
    ),
    bad(
        "image_url_invalid",
        "space",
        on(ALL, "image_url", "error"),
        image_url="https://m.example.com/a b.jpg",
    ),
    # title_too_long: at most 150 characters (not bytes), on Google only
    ok("title_too_long", "150", name_de_DE="x" * 150),
    ok("title_too_long", "150_umlauts", name_de_DE="ü" * 150),
    ok("title_too_long", "other_locale", name_en_US="x" * 151),
    bad("title_too_long", "151", on(GOOGLE, "name_de_DE", "error"), name_de_DE="x" * 151),
    bad(
        "title_too_long",
        "151_umlauts",
        on(GOOGLE, "name_de_DE", "error"),
        name_de_DE="ü" * 151,
    ),
    # description_too_long: at most 5000 characters, on Google only
    ok("description_too_long", "5000", description_de_DE="x" * 5000),
    bad(
        "description_too_long",
        "5001",
        on(GOOGLE, "description_de_DE", "error"),
        description_de_DE="x" * 5001,
    ),
    # description_short: at least 20 characters, a warning on the public channels
    ok("description_short", "20", description_de_DE="x" * 20),
    ok("description_short", "20_umlauts", description_de_DE="ä" * 20),
    bad(
        "description_short",
        "19",
        on(PUBLIC, "description_de_DE", "warn"),
        description_de_DE="x" * 19,
    ),
    # availability_invalid: one of the values every channel can express
    ok("availability_invalid", "in_stock", availability="in_stock"),
    ok("availability_invalid", "out_of_stock", availability="out_of_stock", available_qty=0),
    ok(
        "availability_invalid",
        "backorder",
        availability="backorder",
        availability_date=BACKORDER_DATE,
    ),
    bad(
        "availability_invalid",
        "unknown",
        on(ALL, "availability", "error"),
        availability="maybe",
    ),
    bad(
        "availability_invalid",
        "case",
        on(ALL, "availability", "error"),
        availability="In_Stock",
    ),
    # availability_date_missing: only a backorder needs a date
    ok(
        "availability_date_missing",
        "backorder_dated",
        availability="backorder",
        availability_date=BACKORDER_DATE,
        available_qty=0,
    ),
    ok("availability_date_missing", "in_stock_undated", availability="in_stock"),
    ok(
        "availability_date_missing",
        "out_of_stock_undated",
        availability="out_of_stock",
        available_qty=0,
    ),
    bad(
        "availability_date_missing",
        "backorder_undated",
        on(ALL, "availability_date", "error"),
        availability="backorder",
        availability_date=None,
    ),
    # in_stock_without_stock: in stock needs at least 1 available; other availabilities not
    ok("in_stock_without_stock", "one", availability="in_stock", available_qty=1),
    ok(
        "in_stock_without_stock",
        "backorder_zero",
        availability="backorder",
        availability_date=BACKORDER_DATE,
        available_qty=0,
    ),
    ok("in_stock_without_stock", "out_of_stock_zero", availability="out_of_stock", available_qty=0),
    bad(
        "in_stock_without_stock",
        "zero",
        on(ALL, "available_qty", "error"),
        availability="in_stock",
        available_qty=0,
    ),
    # stock_negative: at least 0, whatever the availability
    ok("stock_negative", "zero", availability="out_of_stock", available_qty=0),
    bad(
        "stock_negative",
        "minus_one",
        on(ALL, "available_qty", "error"),
        availability="out_of_stock",
        available_qty=-1,
    ),
)


def config() -> PrismConfig:
    data = default_config()
    data["locales"] = ["de_DE", "en_US"]
    data["channels"]["portal"]["currencies"] = ["EUR"]  # the currencies of the factories
    return parse_config(data)


def catalog(cases: tuple[Case, ...]) -> pl.DataFrame:
    return golden_products(product("BASELINE"), *(product(c.sku, **c.overrides) for c in cases))


def quarantine_findings(
    golden: pl.DataFrame, refs: References
) -> dict[str, set[tuple[str, str, str, str]]]:
    """sku -> (channel, rule, field, severity) of every finding of the quarantine."""
    rejects = pl.LazyFrame(schema=REJECTS_SCHEMA)
    found = build_quarantine(golden.lazy(), config().channels, rejects, "ERP", refs).collect()
    by_sku: dict[str, set[tuple[str, str, str, str]]] = {}
    for row in found.iter_rows(named=True):
        finding = (row["channel"], row["rule"], row["field"], row["severity"])
        by_sku.setdefault(row["sku"], set()).add(finding)
    return by_sku


def raised(exception_info: Mapping[str, Any]) -> bool:
    """Whether great-expectations caught an exception (its info may be nested per metric)."""
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(raised(info) for info in exception_info.values())


def expectation_findings(
    golden: pl.DataFrame, refs: References
) -> dict[str, set[tuple[str, str, str, str]]]:
    """sku -> (channel, rule, column, severity) of every unexpected row great-expectations
    reports; an expectation that raises fails the test instead of passing silently."""
    cfg = config()
    feeds = {name: (channel, golden) for name, channel in cfg.channels.items()}
    results = validate_feeds(feeds, refs, result_format="COMPLETE")
    by_sku: dict[str, set[tuple[str, str, str, str]]] = {}
    for name, result in results.items():
        for item in result["results"]:
            config_, meta = item["expectation_config"], item["expectation_config"]["meta"]
            assert not raised(item["exception_info"]), (name, config_["type"])
            finding = (name, meta["rule"], config_["kwargs"]["column"], meta["severity"])
            for row in item["result"].get("unexpected_index_list") or []:
                by_sku.setdefault(row[KEY], set()).add(finding)
    return by_sku


def expected(case: Case) -> set[tuple[str, str, str, str]]:
    return {(channel, case.rule, column, sev) for channel, column, sev in case.found}


@pytest.fixture(scope="module")
def quarantine() -> dict[str, set[tuple[str, str, str, str]]]:
    return quarantine_findings(catalog(CASES), REFERENCES)


@pytest.fixture(scope="module")
def expectations() -> dict[str, set[tuple[str, str, str, str]]]:
    return expectation_findings(catalog(CASES), REFERENCES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.sku)
def test_quarantine_at_the_boundary(
    case: Case, quarantine: dict[str, set[tuple[str, str, str, str]]]
) -> None:
    assert quarantine.get(case.sku, set()) == expected(case)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.sku)
def test_expectations_at_the_boundary(
    case: Case, expectations: dict[str, set[tuple[str, str, str, str]]]
) -> None:
    assert expectations.get(case.sku, set()) == expected(case)


def test_the_baseline_product_passes_both_engines(
    quarantine: dict[str, set[tuple[str, str, str, str]]],
    expectations: dict[str, set[tuple[str, str, str, str]]],
) -> None:
    assert "BASELINE" not in quarantine
    assert "BASELINE" not in expectations


def test_every_rule_declaration_has_a_boundary_on_both_sides() -> None:
    """A new rule (or a new declaration of a code for other formats) needs boundary cases."""
    formats = {name: channel.format for name, channel in config().channels.items()}
    uncovered = []
    for rule in RULES:
        column = rule.field.format(locale="de_DE", currency="EUR")
        cases = [c for c in CASES if c.rule == rule.code]
        passing = any(not c.found for c in cases)
        failing = any(
            formats[channel] in rule.formats and (column, rule.severity) == (col, sev)
            for c in cases
            for channel, col, sev in c.found
        )
        if not (passing and failing):
            uncovered.append((rule.code, sorted(rule.formats)))
    assert uncovered == []
    assert {c.rule for c in CASES} == {r.code for r in RULES}
    assert len({c.sku for c in CASES}) == len(CASES)


@pytest.mark.parametrize("codes", [[], ["shirts", None]], ids=["no_table", "other_families"])
def test_family_rule_needs_the_families_table(codes: list[str | None]) -> None:
    """Without a families table (an export that has none) no family is unknown; with one,
    the same product is."""
    golden = golden_products(product("GHOST", family="ghosts"))
    refs = references(pl.DataFrame({"code": codes}, schema={"code": pl.String}))
    found = {
        rule
        for engine in (quarantine_findings, expectation_findings)
        for findings in engine(golden, refs).values()
        for _, rule, _, _ in findings
    }
    assert found == ({"family_unknown"} if codes else set())
