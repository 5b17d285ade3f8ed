"""Quality rules, declared once per channel format and field.

A rule is a predicate over one golden column that is True when a product may be published.
``field`` may name ``{locale}`` and ``{currency}``, filled from the channel's settings, so one
declaration serves every channel of that format. Rules run as polars expressions (vectorized);
a product failing any rule for a channel is quarantined for that channel only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipelines.config import Channel, PortalChannel

ALL_FORMATS = frozenset({"jsonld", "csv", "sql", "google_merchant", "bmecat"})


@dataclass(frozen=True)
class Rule:
    code: str
    field: str
    description: str
    ok: Callable[[pl.Expr], pl.Expr]
    formats: frozenset[str] = ALL_FORMATS
    source: str = "pim"
    """Which system holds the value to fix: ``pim`` or ``erp``."""

    def column(self, channel: Channel) -> str:
        return self.field.format(locale=channel.locale, currency=channel_currency(channel))


def channel_currency(channel: Channel) -> str:
    """The currency whose list price a channel needs (a portal: its first currency)."""
    return channel.currencies[0] if isinstance(channel, PortalChannel) else channel.currency


def _filled(column: pl.Expr) -> pl.Expr:
    return column.is_not_null() & (column.str.strip_chars().str.len_chars() > 0)


def _positive(column: pl.Expr) -> pl.Expr:
    return column.is_not_null() & (column > 0)


def _at_most(limit: int) -> Callable[[pl.Expr], pl.Expr]:
    return lambda column: column.is_null() | (column.str.len_chars() <= limit)


def gtin_valid(column: pl.Expr) -> pl.Expr:
    """GS1 check digit for GTIN-8/12/13/14; null counts as valid (a GTIN is optional)."""
    digits = column.str.zfill(14)
    weighted = pl.sum_horizontal(
        digits.str.slice(i, 1).cast(pl.Int32, strict=False) * (3 if i % 2 == 0 else 1)
        for i in range(13)
    )
    check = (10 - weighted % 10) % 10
    well_formed = column.str.contains(r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
    return column.is_null() | (well_formed & (check == digits.str.slice(13, 1).cast(pl.Int32)))


RULES: tuple[Rule, ...] = (
    Rule("name_missing", "name_{locale}", "a name in the channel's locale", _filled),
    Rule(
        "description_missing",
        "description_{locale}",
        "a description in the channel's locale",
        _filled,
    ),
    Rule("price_missing", "list_price_{currency}", "a list price > 0", _positive, source="erp"),
    Rule("gtin_invalid", "gtin", "a GTIN with a correct GS1 check digit", gtin_valid),
    Rule(
        "image_missing",
        "image_url",
        "an image (Google requires image_link)",
        _filled,
        frozenset({"google_merchant"}),
    ),
    Rule(
        "title_too_long",
        "name_{locale}",
        "a title of at most 150 characters (Google)",
        _at_most(150),
        frozenset({"google_merchant"}),
    ),
    Rule(
        "description_too_long",
        "description_{locale}",
        "a description of at most 5000 characters (Google)",
        _at_most(5000),
        frozenset({"google_merchant"}),
    ),
)


def rules_for(channel: Channel) -> list[Rule]:
    return [rule for rule in RULES if channel.format in rule.formats]
