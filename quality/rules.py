"""Golden-record rules: what must hold of a product for *any* channel to get it.

These are the consistency rules of the merged record, the same for every format: a list price
in every currency the channel publishes (and a plausible one), a family the PIM defines, and an
availability every channel can express and promise alike (a backorder has its date, in stock
has stock). What a *format* needs of its fields (a title, a valid GTIN, a length limit) is
declared by the format itself (``contracts.formats.FieldSpec``) and checked per field in the
channel's view (``mapping.view``); the great-expectations suite of a channel holds both.

A rule pairs a golden column with a ``Check``; the check knows both of its forms, a polars
predicate (True = the product may be published) for the row-level quarantine and the
great-expectations expectations for the suite that validates each feed before it goes live.
``field`` may name ``{currency}``, filled per currency the channel publishes.

Severity: an ``error`` rule keeps a failing product off the channel (quarantine) and a failing
feed off the air (blocking asset check); a ``warn`` rule publishes the product and reports it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from contracts.config import ChannelConfig
from contracts.golden import AVAILABILITY_VALUES
from contracts.gtin import gtin_valid

if TYPE_CHECKING:
    import great_expectations.expectations as gxe


def _gxe() -> Any:
    """great-expectations' expectation classes, imported on first use: the library takes
    seconds to import, and only a suite run needs it (not loading definitions, not the CLI)."""
    import great_expectations.expectations as expectations

    return expectations


Severity = Literal["error", "warn"]
References = Mapping[str, Collection[str]]
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
class Above(Check):
    """Greater than ``bound`` where present (a money field: a value, if any, above zero)."""

    bound: float

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return column.is_null() | (column > pl.lit(self.bound))

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=self.bound, strict_min=True)
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
class NoMatch(Check):
    """Does not match a regular expression (searched): what a valid value must not contain,
    such as a second URL scheme inside a URL."""

    regex: str

    def polars(self, column: pl.Expr, text: bool, references: References) -> pl.Expr:
        return column.is_null() | ~column.str.contains(self.regex)

    def expectations(
        self, column: str, text: bool, references: References
    ) -> list[gxe.Expectation]:
        gxe = _gxe()
        return [gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=self.regex)]


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
    severity: Severity = "error"
    source: Literal["pim", "erp"] = "pim"
    """Which system holds the value to fix."""
    when: tuple[str, str] | None = None
    """Only rows whose ``when[0]`` column equals ``when[1]`` are checked."""

    def columns(self, channel: ChannelConfig) -> list[str]:
        """The golden columns this rule checks for ``channel`` (one per currency if templated)."""
        currencies = channel.all_currencies if "{currency}" in self.field else ("",)
        return [self.field.format(currency=c) for c in currencies]

    def passes(self, column: str, schema: pl.Schema, references: References) -> pl.Expr:
        """True where the product may carry ``column`` to the channel (null-safe)."""
        text = schema[column] == pl.String
        ok = self.check.polars(pl.col(column), text, references).fill_null(False)
        return ok if self.when is None else ok | (pl.col(self.when[0]) != self.when[1])


RULES: tuple[Rule, ...] = (
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
    Rule("family_unknown", "family", Reference("families"), "a family the PIM defines"),
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


def rules_for(channel: ChannelConfig) -> list[Rule]:
    """The golden rules of a channel: all of them (they hold for every format)."""
    return list(RULES)
