"""Quality rules, declared once per channel format and field.

A rule pairs a golden column with a ``Check``; the check knows both of its forms, a polars
predicate (True = the product may be published) for the row-level quarantine and the
great-expectations expectations for the suite that validates each feed before it goes live.
``field`` may name ``{locale}`` and ``{currency}``, filled from the channel's settings (a portal
gets one column per currency), so one declaration serves every channel of that format.

Severity: an ``error`` rule keeps a failing product off the channel (quarantine) and a failing
feed off the air (blocking asset check); a ``warn`` rule publishes the product and reports it.
Required rules of either severity are the channel's required attributes for completeness.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from contracts.config import Channel, PortalChannel
from contracts.golden import AVAILABILITY_VALUES
from quality.gtin import gtin_valid

if TYPE_CHECKING:
    import great_expectations.expectations as gxe


def _gxe() -> Any:
    """great-expectations' expectation classes, imported on first use: the library takes
    seconds to import, and only a suite run needs it (not loading definitions, not the CLI)."""
    import great_expectations.expectations as expectations

    return expectations


Severity = Literal["error", "warn"]
References = Mapping[str, Collection[str]]
ALL_FORMATS = frozenset({"jsonld", "csv", "sql", "google_merchant", "bmecat"})
PUBLIC_FORMATS = frozenset({"jsonld", "csv", "google_merchant"})
GOOGLE = frozenset({"google_merchant"})
NOT_SPACE = r"[^\s\x1c-\x1f]"
"""A non-whitespace character as both regex engines read it: Python's ``\\s``
(great-expectations) also counts the separators U+001C..U+001F, Rust's (polars) does not."""


class Check(ABC):
    """A predicate on one column; null passes unless the check is ``Required``."""

    @abstractmethod
    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        """True where the value passes (``text``: the column holds strings)."""

    @abstractmethod
    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        """The great-expectations expectations that give the same verdict."""


@dataclass(frozen=True)
class Required(Check):
    """Present; text must hold a non-blank character."""

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        present = column.is_not_null()
        return present & column.str.contains(NOT_SPACE) if text else present

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        found: list[Any] = [gxe.ExpectColumnValuesToNotBeNull(column=column)]
        if text:
            found.append(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=NOT_SPACE))
        return found


@dataclass(frozen=True)
class Positive(Check):
    """Present and greater than zero (a price)."""

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return column.is_not_null() & (column > 0)

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [
            gxe.ExpectColumnValuesToNotBeNull(column=column),
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True),
        ]


@dataclass(frozen=True)
class Length(Check):
    """Text length in characters within [minimum, maximum]."""

    minimum: int | None = None
    maximum: int | None = None

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        length = column.str.len_chars()
        ok = pl.lit(True)
        if self.minimum is not None:
            ok = ok & (length >= self.minimum)
        if self.maximum is not None:
            ok = ok & (length <= self.maximum)
        return column.is_null() | ok

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [
            gxe.ExpectColumnValueLengthsToBeBetween(
                column=column, min_value=self.minimum, max_value=self.maximum
            )
        ]


@dataclass(frozen=True)
class Pattern(Check):
    """Matches a regular expression (searched, so anchor it); written for both regex engines."""

    regex: str

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return column.is_null() | column.str.contains(self.regex)

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [gxe.ExpectColumnValuesToMatchRegex(column=column, regex=self.regex)]


@dataclass(frozen=True)
class Between(Check):
    """A number within [minimum, maximum]."""

    minimum: float | None = None
    maximum: float | None = None

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        ok = pl.lit(True)
        if self.minimum is not None:
            ok = ok & (column >= pl.lit(self.minimum))
        if self.maximum is not None:
            ok = ok & (column <= pl.lit(self.maximum))
        return column.is_null() | ok

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=self.minimum,
                max_value=self.maximum,
            )
        ]


@dataclass(frozen=True)
class OneOf(Check):
    """One of a fixed set of allowed values."""

    values: tuple[str, ...]

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return column.is_null() | column.is_in(self.values)

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(self.values))]


@dataclass(frozen=True)
class Reference(Check):
    """One of the codes of a reference table of the run (e.g. the PIM's families); a run
    without that table (an export that has none) does not apply the rule."""

    table: str

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        codes = references.get(self.table)
        if not codes:
            return pl.lit(True)
        return column.is_null() | column.is_in(pl.Series(list(codes), dtype=pl.String).implode())

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        codes = references.get(self.table)
        if not codes:
            return []
        return [gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(codes))]


@dataclass(frozen=True)
class Gtin(Check):
    """GS1 check digit of a GTIN-8/12/13/14."""

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return gtin_valid(column)

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        from quality.gtin_expectation import ExpectColumnValuesToBeValidGtin

        return [ExpectColumnValuesToBeValidGtin(column=column)]


@dataclass(frozen=True)
class Rule:
    code: str
    field: str
    check: Check
    description: str
    formats: frozenset[str] = ALL_FORMATS
    severity: Severity = "error"
    source: Literal["pim", "erp"] = "pim"
    """Which system holds the value to fix."""
    when: tuple[str, str] | None = None
    """Only rows whose ``when[0]`` column equals ``when[1]`` are checked."""

    def columns(self, channel: Channel) -> list[str]:
        """The golden columns this rule checks for ``channel`` (one per currency if templated)."""
        currencies = channel_currencies(channel) if "{currency}" in self.field else ("",)
        return [self.field.format(locale=channel.locale, currency=c) for c in currencies]

    def passes(self, column: str, schema: pl.Schema, references: References) -> pl.Expr:
        """True where the product may carry ``column`` to the channel (null-safe)."""
        text = schema[column] == pl.String
        ok = self.check.polars(pl.col(column), text, references).fill_null(False)
        return ok if self.when is None else ok | (pl.col(self.when[0]) != self.when[1])


def channel_currencies(channel: Channel) -> tuple[str, ...]:
    """The currencies whose list price a channel needs."""
    return channel.currencies if isinstance(channel, PortalChannel) else (channel.currency,)


RULES: tuple[Rule, ...] = (
    Rule("name_missing", "name_{locale}", Required(), "a name in the channel's locale"),
    Rule(
        "description_missing",
        "description_{locale}",
        Required(),
        "a description in the channel's locale",
    ),
    Rule(
        "price_missing",
        "list_price_{currency}",
        Positive(),
        "a list price > 0 in every currency the channel publishes",
        source="erp",
    ),
    Rule(
        "price_implausible",
        "list_price_{currency}",
        Between(maximum=1_000_000),
        "a list price below 1,000,000 (a decimal-point slip otherwise)",
        severity="warn",
        source="erp",
    ),
    Rule("gtin_invalid", "gtin", Gtin(), "a GTIN with a correct GS1 check digit"),
    Rule(
        "gtin_missing",
        "gtin",
        Required(),
        "a GTIN (Google matches offers by it)",
        GOOGLE,
        severity="warn",
    ),
    Rule("family_unknown", "family", Reference("families"), "a family the PIM defines"),
    Rule(
        "category_missing",
        "category_path_{locale}",
        Required(),
        "a category (product_type, navigation)",
        PUBLIC_FORMATS,
        severity="warn",
    ),
    Rule(
        "brand_missing",
        "brand",
        Required(),
        "a brand (Google requires one for most products)",
        PUBLIC_FORMATS,
        severity="warn",
    ),
    Rule("image_missing", "image_url", Required(), "an image (Google: image_link)", GOOGLE),
    Rule(
        "image_missing",
        "image_url",
        Required(),
        "an image on the product page",
        ALL_FORMATS - GOOGLE,
        severity="warn",
    ),
    Rule(
        "image_url_invalid",
        "image_url",
        Pattern(rf"^https?://{NOT_SPACE}+$"),
        "an absolute http(s) image URL",
    ),
    Rule(
        "title_too_long",
        "name_{locale}",
        Length(maximum=150),
        "a title of at most 150 characters (Google)",
        GOOGLE,
    ),
    Rule(
        "description_too_long",
        "description_{locale}",
        Length(maximum=5000),
        "a description of at most 5000 characters (Google)",
        GOOGLE,
    ),
    Rule(
        "description_short",
        "description_{locale}",
        Length(minimum=20),
        "a description of at least 20 characters",
        PUBLIC_FORMATS,
        severity="warn",
    ),
    Rule(
        "availability_invalid",
        "availability",
        OneOf(AVAILABILITY_VALUES),
        "an availability every channel can express",
        source="erp",
    ),
    Rule(
        "availability_date_missing",
        "availability_date",
        Required(),
        "a backorder date, so every channel promises the same date",
        source="erp",
        when=("availability", "backorder"),
    ),
    Rule(
        "in_stock_without_stock",
        "available_qty",
        Between(minimum=1),
        "available stock behind an in-stock promise, the same on every channel",
        source="erp",
        when=("availability", "in_stock"),
    ),
    Rule(
        "stock_negative",
        "available_qty",
        Between(minimum=0),
        "available stock of at least 0",
        source="erp",
    ),
)


def references(pim_families: pl.DataFrame) -> References:
    """The reference tables ``Reference`` checks look codes up in."""
    return {"families": pim_families["code"].drop_nulls().to_list()}


def rules_for(channel: Channel) -> list[Rule]:
    return [r for r in RULES if channel.format in r.formats]


def required_columns(channel: Channel, locale: str) -> list[str]:
    """The channel's required PIM attributes in ``locale`` (completeness counts these; ERP
    values and conditional requirements are no attributes a merchandiser fills)."""
    local = channel.model_copy(update={"locale": locale})
    columns = (
        c
        for r in rules_for(local)
        if isinstance(r.check, Required) and r.source == "pim" and r.when is None
        for c in r.columns(local)
    )
    return list(dict.fromkeys(columns))
