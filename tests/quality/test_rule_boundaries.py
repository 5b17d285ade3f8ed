"""Every rule at its limit: a value just inside passes, one just outside fails, on exactly the
channels, with exactly the rule, field and severity declared, in both engines (the polars view
and quarantine, and the great-expectations suites on the unpublished frame).

Golden rules hold for every channel (on the currencies each publishes); field rules come from
each format's field specs, so the same defect is an error on one channel (a required field, or
Google's ``on_invalid="reject"`` GTIN) and a dropped value with a warning on another. The
expected findings are written out here rather than derived from ``RULES`` or the specs, so a
changed threshold, severity, field or requirement fails a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from factories import config_with, golden_products, product

from quality.rules import RULES, references

Engines = Callable[..., Any]
Finding = tuple[str, str, str, str]
"""(channel, rule, field, severity): the field is the target field, or the golden column of a
golden rule."""

GOOGLE, SHOP, PORTAL, META = "marketplace", "shop", "portal", "social"
ALL = (GOOGLE, SHOP, PORTAL, META)
EUR = (GOOGLE, SHOP, PORTAL)
"""the channels that publish EUR (the portal publishes USD too, social only USD)"""
USD = (PORTAL, META)
CHANNELS: dict[str, dict[str, Any]] = {
    GOOGLE: {
        "format": "google_merchant",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://www.example.com/de/p/{sku}",
        "fields": {
            "material": {"attribute": "material"},  # optional, at most 200: dropped
            "gender": {"attribute": "gender", "label": False},  # an optional enum
        },
    },
    SHOP: {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/de/p/{sku}",
    },
    PORTAL: {
        "format": "sql",
        "url": "sqlite:///var/portal.sqlite",
        "locale": "de_DE",
        "currencies": ["EUR", "USD"],
    },
    META: {
        "format": "meta_catalog",
        "locale": "en_US",
        "currency": "USD",
        "product_url": "https://www.example.com/en/p/{sku}",
    },
}
CONFIG = config_with(CHANNELS)
REFERENCES = references(pl.DataFrame({"code": ["shirts", "shoes", None]}))
BACKORDER_DATE = dt.date(2026, 12, 1)
HOST = "https://m.example.com/"
LIST_FIELDS = frozenset({"additional_image_link"})
"""target fields the suites do not check (great-expectations' pandas engine has no lists)"""


def on(channels: tuple[str, ...], rule: str, column: str, severity: str) -> frozenset[Finding]:
    return frozenset((channel, rule, column, severity) for channel in channels)


@dataclass(frozen=True)
class Case:
    rule: str
    """the rule (a golden rule's or a field rule's code) the case is about"""
    label: str
    overrides: dict[str, Any] = field(hash=False)
    found: frozenset[Finding] = frozenset()
    """every finding of the product; empty: it passes every rule of every channel"""
    name: str | None = None
    """the sku, when the case is about the sku itself"""

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.label}"

    @property
    def sku(self) -> str:
        return self.name or self.id


def ok(rule: str, label: str, name: str | None = None, **overrides: Any) -> Case:
    return Case(rule, label, overrides, name=name)


def bad(
    rule: str, label: str, found: frozenset[Finding], name: str | None = None, **overrides: Any
) -> Case:
    return Case(rule, label, overrides, found, name)


def in_script(zero: str, gtin: str = "4006381333931") -> str:
    """``gtin`` written with the digits of the script whose zero is ``zero``."""
    return "".join(chr(ord(zero) + int(d)) for d in gtin)


def wrong_gtin(label: str, gtin: str) -> Case:
    """A GTIN that fails: Google disapproves the item, the other channels drop the value."""
    found = on((GOOGLE,), "gtin_invalid", "gtin", "error")
    return bad(
        "gtin_invalid",
        label,
        found | on((SHOP, PORTAL, META), "gtin_invalid", "gtin", "warn"),
        gtin=gtin,
    )


def wrong_image(label: str, url: str) -> Case:
    """An image URL that fails: required on Google and Meta, optional on the shop and portal."""
    required = on((GOOGLE, META), "image_link_invalid", "image_link", "error")
    optional = on((SHOP, PORTAL), "image_url_invalid", "image_url", "warn")
    return bad("image_url_invalid", label, required | optional, image_url=url)


def no_name(label: str, value: str | None) -> Case:
    """No name in de_DE: Google's title and the portal's name are required; the shop's is
    optional; the Meta channel is in en_US."""
    found = on((GOOGLE,), "title_missing", "title", "error")
    return bad(
        "name_missing",
        label,
        found | on((PORTAL,), "name_missing", "name", "error"),
        name_de_DE=value,
    )


def price_not_positive(label: str, amount: Decimal) -> Case:
    """The golden rule on every EUR channel, and each format's money field (required on Google,
    optional on the shop) on its own."""
    golden = on(EUR, "price_missing", "list_price_EUR", "error")
    google = on((GOOGLE,), "price_invalid", "price", "error")
    return bad(
        "price_missing",
        label,
        golden | google | on((SHOP,), "price_invalid", "price", "warn"),
        list_price_EUR=amount,
    )


CASES = (
    # --- golden rules ------------------------------------------------------------------------
    # price_missing: > 0 in every published currency; the smallest money unit is 0.000001
    ok("price_missing", "one_cent", list_price_EUR=Decimal("0.01")),
    ok("price_missing", "smallest_unit", list_price_EUR=Decimal("0.000001")),
    price_not_positive("zero", Decimal(0)),
    price_not_positive("negative", Decimal("-0.01")),
    price_not_positive("zero_six_places", Decimal("0.000000")),
    # a missing price is the golden rule's finding only (the field's own is the same code)
    bad(
        "price_missing",
        "null",
        on(EUR, "price_missing", "list_price_EUR", "error"),
        list_price_EUR=None,
    ),
    bad(
        "price_missing",
        "usd_null",
        on(USD, "price_missing", "list_price_USD", "error"),
        list_price_USD=None,
    ),
    bad(
        "price_missing",
        "usd_zero",
        on(USD, "price_missing", "list_price_USD", "error")
        | on((META,), "price_invalid", "price", "error"),
        list_price_USD=Decimal(0),
    ),
    # price_implausible: at most 1,000,000 (inclusive), a warning
    ok("price_implausible", "just_below", list_price_EUR=Decimal("999999.99")),
    ok("price_implausible", "at_limit", list_price_EUR=Decimal("1000000")),
    bad(
        "price_implausible",
        "one_cent_over",
        on(EUR, "price_implausible", "list_price_EUR", "warn"),
        list_price_EUR=Decimal("1000000.01"),
    ),
    bad(
        "price_implausible",
        "smallest_unit_over",
        on(EUR, "price_implausible", "list_price_EUR", "warn"),
        list_price_EUR=Decimal("1000000.000001"),
    ),
    # family_unknown: a family of the PIM's families table, exactly
    ok("family_unknown", "known", family="shoes"),
    bad("family_unknown", "unknown", on(ALL, "family_unknown", "family", "error"), family="ghosts"),
    bad("family_unknown", "case", on(ALL, "family_unknown", "family", "error"), family="Shirts"),
    # availability_invalid: one of the values every channel can express (Google's own enum
    # has the same code: one finding)
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
        on(ALL, "availability_invalid", "availability", "error"),
        availability="maybe",
    ),
    bad(
        "availability_invalid",
        "case",
        on(ALL, "availability_invalid", "availability", "error"),
        availability="In_Stock",
    ),
    bad(  # Google knows preorder, not every channel does
        "availability_invalid",
        "preorder",
        on(ALL, "availability_invalid", "availability", "error"),
        availability="preorder",
        availability_date=BACKORDER_DATE,
    ),
    # availability_date_missing: only a backorder needs a date (Google's required_when too)
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
        on(ALL, "availability_date_missing", "availability_date", "error"),
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
        on(ALL, "in_stock_without_stock", "available_qty", "error"),
        availability="in_stock",
        available_qty=0,
    ),
    # stock_negative: at least 0, whatever the availability
    ok("stock_negative", "zero", availability="out_of_stock", available_qty=0),
    bad(
        "stock_negative",
        "minus_one",
        on(ALL, "stock_negative", "available_qty", "error"),
        availability="out_of_stock",
        available_qty=-1,
    ),
    # --- field specs: required text; blank is missing --------------------------------------
    ok("name_missing", "one_char", name_de_DE="x"),
    no_name("null", None),
    no_name("blank", "  "),
    no_name("tab_newline", "\t\n"),
    no_name("nbsp", "\u00a0\u2003"),
    # Python's regex engine (great-expectations) counts the separators U+001C..U+001F as
    # whitespace; Rust's (polars) must too, or the quarantine publishes what the suite fails
    no_name("separators", "\x1c\x1f"),
    bad(  # the Meta channel's locale
        "name_missing",
        "en_blank",
        on((META,), "title_missing", "title", "error"),
        name_en_US="  ",
    ),
    bad(  # required by Google and Meta, recommended by the portal, optional in the shop
        "description_missing",
        "null",
        on((GOOGLE,), "description_missing", "description", "error")
        | on((PORTAL,), "description_missing", "description", "warn"),
        description_de_DE=None,
    ),
    bad(
        "description_missing",
        "blank",
        on((GOOGLE,), "description_missing", "description", "error")
        | on((PORTAL,), "description_missing", "description", "warn"),
        description_de_DE=" " * 20,
    ),
    ok("description_missing", "one_char", description_de_DE="x"),
    # brand: recommended on Google, required-but-tolerated on Meta; a warning either way
    ok("brand_missing", "other_brand", brand="mueller"),
    bad(
        "brand_missing",
        "null",
        on((GOOGLE, META), "brand_missing", "brand", "warn"),
        brand=None,
    ),
    # --- lengths: characters, not bytes; at the limit and one over ---------------------------
    # Google truncates an over-long title (at most 150) and so does Prism, with a warning
    ok("title_truncated", "150", name_de_DE="x" * 150),
    ok("title_truncated", "150_umlauts", name_de_DE="ü" * 150),
    bad(
        "title_truncated",
        "151",
        on((GOOGLE,), "title_truncated", "title", "warn"),
        name_de_DE="x" * 151,
    ),
    bad(
        "title_truncated",
        "151_umlauts",
        on((GOOGLE,), "title_truncated", "title", "warn"),
        name_de_DE="ü" * 151,
    ),
    ok("title_truncated", "meta_200", name_en_US="y" * 200),
    bad(
        "title_truncated",
        "meta_201",
        on((META,), "title_truncated", "title", "warn"),
        name_en_US="y" * 201,
    ),
    ok("description_truncated", "5000", description_de_DE="x" * 5000),
    bad(
        "description_truncated",
        "5001",
        on((GOOGLE,), "description_truncated", "description", "warn"),
        description_de_DE="x" * 5001,
    ),
    ok("description_truncated", "meta_9999", description_en_US="x" * 9999),
    bad(
        "description_truncated",
        "meta_10000",
        on((META,), "description_truncated", "description", "warn"),
        description_en_US="x" * 10_000,
    ),
    # the id is the sku: at most 50 on Google, 100 on Meta; refused, never cut
    ok("id_too_long", "50", name="I" * 50),
    bad("id_too_long", "51", on((GOOGLE,), "id_too_long", "id", "error"), name="J" * 51),
    bad("id_too_long", "100", on((GOOGLE,), "id_too_long", "id", "error"), name="K" * 100),
    bad(
        "id_too_long",
        "101",
        on((GOOGLE, META), "id_too_long", "id", "error"),
        name="L" * 101,
    ),
    # an optional text field over its limit is dropped with a warning
    ok("material_too_long", "200", **{"attr.material-de_DE": "m" * 200}),
    bad(
        "material_too_long",
        "201",
        on((GOOGLE,), "material_too_long", "material", "warn"),
        **{"attr.material-de_DE": "m" * 201},
    ),
    # Google's image link: at most 2000 characters, required (the product is refused)
    ok("image_link_too_long", "2000", image_url=HOST + "a" * (2000 - len(HOST))),
    bad(
        "image_link_too_long",
        "2001",
        on((GOOGLE,), "image_link_too_long", "image_link", "error"),
        image_url=HOST + "a" * (2001 - len(HOST)),
    ),
    # a list field: at most 10 additional images on Google (20 on Meta), cut with a warning
    ok(
        "additional_image_link_too_many",
        "10",
        images=[f"{HOST}{i}.jpg" for i in range(11)],  # the main image and 10 more
    ),
    bad(
        "additional_image_link_too_many",
        "11",
        on((GOOGLE,), "additional_image_link_too_many", "additional_image_link", "warn"),
        images=[f"{HOST}{i}.jpg" for i in range(12)],
    ),
    # --- GTIN: the GS1 check digit of a GTIN-8/12/13/14 (last digit + 1 fails) ---------------
    ok("gtin_invalid", "gtin8", gtin="96385074"),
    wrong_gtin("gtin8_digit", "96385075"),
    ok("gtin_invalid", "gtin12", gtin="036000291452"),
    wrong_gtin("gtin12_digit", "036000291453"),
    ok("gtin_invalid", "gtin13", gtin="4006381333931"),
    wrong_gtin("gtin13_digit", "4006381333932"),
    ok("gtin_invalid", "gtin14", gtin="10036000291459"),
    wrong_gtin("gtin14_digit", "10036000291450"),
    # lengths without a GTIN: the check digit would be right once padded to 14 digits
    wrong_gtin("11_digits", "36000291452"),
    wrong_gtin("9_digits", "096385074"),
    wrong_gtin("15_digits", "010036000291459"),
    wrong_gtin("letter", "40063813339X1"),
    # digits are ASCII digits: a valid GTIN-13 typed with full-width or Arabic-Indic digits
    # or followed by a newline is no GTIN for Google, in either engine
    wrong_gtin("full_width", in_script("\uff10")),
    wrong_gtin("arabic_indic", in_script("\u0660")),
    wrong_gtin("newline", "4006381333931\n"),
    # gtin_missing: recommended on Google (a warning); blank is missing, not invalid
    ok("gtin_missing", "present", gtin="96385074"),
    bad("gtin_missing", "null", on((GOOGLE,), "gtin_missing", "gtin", "warn"), gtin=None),
    bad("gtin_missing", "blank", on((GOOGLE,), "gtin_missing", "gtin", "warn"), gtin="  "),
    # --- URLs: absolute http(s), a host, no blanks, one scheme --------------------------------
    ok("image_url_invalid", "http", image_url="http://m.example.com/a.jpg"),
    ok("image_url_invalid", "https", image_url="https://m.example.com/a.jpg"),
    ok("image_url_invalid", "one_char_host", image_url="https://m"),
    wrong_image("relative", "img/a.jpg"),
    wrong_image("ftp", "ftp://m.example.com/a.jpg"),
    wrong_image("scheme_relative", "//m.example.com/a.jpg"),
    wrong_image("no_host", "https://"),
    wrong_image("separator", "https://m.example.com/a\x1fb.jpg"),
    wrong_image("space", "https://m.example.com/a b.jpg"),
    # a media prefix joined to what already was a URL
    wrong_image("doubled_prefix", "https://media.example.com/https://cdn.example.com/a.jpg"),
    wrong_image("doubled_http", "https://media.example.com/http://cdn.example.com/a.jpg"),
    ok("image_link_missing", "present", image_url="https://m.example.com/b.jpg"),
    bad(
        "image_link_missing",
        "null",
        on((GOOGLE, META), "image_link_missing", "image_link", "error"),
        image_url=None,
    ),
    # --- enums: exactly one of the allowed values (an optional one is dropped) ---------------
    ok("gender_invalid", "female", gender="female"),
    bad(
        "gender_invalid", "case", on((GOOGLE,), "gender_invalid", "gender", "warn"), gender="Female"
    ),
    bad(
        "gender_invalid", "other", on((GOOGLE,), "gender_invalid", "gender", "warn"), gender="women"
    ),
)
FIELD_RULES = frozenset(c.rule for c in CASES) - {r.code for r in RULES}


def catalog(cases: tuple[Case, ...]) -> pl.DataFrame:
    return golden_products(product("BASELINE"), *(product(c.sku, **c.overrides) for c in cases))


def by_sku(findings: Any) -> dict[str, set[Finding]]:
    found: dict[str, set[Finding]] = {}
    for f in findings:
        found.setdefault(f.sku, set()).add((f.channel, f.rule, f.field, f.severity))
    return found


@pytest.fixture(scope="module")
def verdicts(engines: Engines) -> Any:
    return engines(CONFIG, catalog(CASES), REFERENCES, False)


@pytest.fixture(scope="module")
def quarantine(verdicts: Any) -> dict[str, set[Finding]]:
    """sku -> every finding of the quarantine (lists included)."""
    rows = verdicts.quarantine.iter_rows(named=True)
    found: dict[str, set[Finding]] = {}
    for r in rows:
        found.setdefault(r["sku"], set()).add((r["channel"], r["rule"], r["field"], r["severity"]))
    return found


@pytest.fixture(scope="module")
def expectations(verdicts: Any) -> dict[str, set[Finding]]:
    return by_sku(verdicts.expectations)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_quarantine_at_the_boundary(case: Case, quarantine: dict[str, set[Finding]]) -> None:
    assert quarantine.get(case.sku, set()) == case.found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_expectations_at_the_boundary(case: Case, expectations: dict[str, set[Finding]]) -> None:
    checked = {f for f in case.found if f[2] not in LIST_FIELDS}
    assert expectations.get(case.sku, set()) == checked


def test_the_baseline_product_passes_both_engines(
    quarantine: dict[str, set[Finding]], expectations: dict[str, set[Finding]]
) -> None:
    assert "BASELINE" not in quarantine
    assert "BASELINE" not in expectations


def test_every_rule_has_a_boundary_on_both_sides() -> None:
    """A new golden rule needs boundary cases on its own column with its own severity; every
    field rule here has a passing and a failing case."""
    uncovered = []
    for rule in RULES:
        column = rule.field.format(currency="EUR")
        cases = [c for c in CASES if c.rule == rule.code]
        passing = any(not c.found for c in cases)
        failing = any(
            (code, col, sev) == (rule.code, column, rule.severity)
            for c in cases
            for _, code, col, sev in c.found
        )
        if not (passing and failing):
            uncovered.append(rule.code)
    for code in FIELD_RULES:
        cases = [c for c in CASES if c.rule == code]
        if not (any(not c.found for c in cases) and any(c.found for c in cases)):
            uncovered.append(code)
    assert uncovered == []
    assert len({c.sku for c in CASES}) == len(CASES)


@pytest.mark.parametrize("codes", [[], ["shirts", None]], ids=["no_table", "other_families"])
def test_family_rule_needs_the_families_table(engines: Engines, codes: list[str | None]) -> None:
    """Without a families table (an export that has none) no family is unknown; with one,
    the same product is, in both engines."""
    golden = golden_products(product("GHOST", family="ghosts"))
    refs = references(pl.DataFrame({"code": codes}, schema={"code": pl.String}))
    config = config_with({SHOP: CHANNELS[SHOP]})
    found = engines(config, golden, refs, False)
    rules = {f.rule for f in found.polars} | {f.rule for f in found.expectations}
    assert rules == ({"family_unknown"} if codes else set())
