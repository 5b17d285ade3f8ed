"""Numbers, shares and money as the report's locale writes them (babel, CLDR data).

Money is exact: a ``Decimal`` rounded half-up to the currency's minor unit (2 places for EUR,
0 for JPY), as the channel feeds round it, then written with the currency symbol. A relative
change is truncated toward zero at two places, so a drop of 99.996 % reads "-99.99 %" and never
"-100.00 %" (a price that is still there).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cached_property

from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_plus_sign_symbol,
)

MISSING = "—"


@dataclass(frozen=True)
class Numbers:
    """Formatters for one locale such as ``de_DE``; None and NaN become a dash."""

    locale: str

    @cached_property
    def _locale(self) -> Locale:
        return Locale.parse(self.locale)

    def _percent(self, places: int, signed: bool = False) -> NumberPattern:
        pattern = copy.copy(self._locale.percent_formats[None])
        pattern.frac_prec = (places, places)
        if signed:
            pattern.prefix = (get_plus_sign_symbol(self._locale), pattern.prefix[1])
        return pattern

    def count(self, value: int | None) -> str:
        return MISSING if value is None else format_decimal(value, locale=self._locale)

    def counted(self, n: int, noun: str) -> str:
        """``n`` things, e.g. "1 row", "1.234 rows" (English plurals with an s)."""
        return f"{self.count(n)} {noun if n == 1 else noun + 's'}"

    def number(self, value: float | None) -> str:
        """Counts as integers, other values with four significant digits."""
        if value is None or not math.isfinite(value):
            return MISSING
        if value == int(value) and abs(value) < 1e15:
            return self.count(int(value))
        if abs(value) >= 1000:
            return self.count(round(value))
        rounded = float(f"{value:.4g}")
        return format_decimal(rounded, format="#,##0.######", locale=self._locale)

    def hours(self, value: float | None) -> str:
        """A duration in hours with one decimal, e.g. "0.2 h" or "36,5 h"."""
        if value is None or not math.isfinite(value):
            return MISSING
        return f"{format_decimal(round(value, 1), format='#,##0.0', locale=self._locale)} h"

    def share(self, value: float | None, places: int = 1) -> str:
        """A share of 0..1 as a percentage, e.g. "3.1 %" or "3,1 %" with one decimal."""
        if value is None or not math.isfinite(value):
            return MISSING
        return self._percent(places).apply(Decimal(repr(value)), self._locale)

    def money(self, amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return MISSING
        minor = Decimal(1).scaleb(-get_currency_precision(currency))
        exact = amount.quantize(minor, rounding=ROUND_HALF_UP)
        return format_currency(exact, currency, locale=self._locale)

    def signed_money(self, amount: Decimal | None, currency: str) -> str:
        text = self.money(amount, currency)
        return text if amount is None or amount < 0 else get_plus_sign_symbol(self._locale) + text

    def change(self, previous: Decimal | None, current: Decimal | None) -> str:
        """``current`` relative to ``previous``, signed: "+150.00 %", "-99.99 %"."""
        if previous is None or current is None or previous == 0:
            return MISSING
        relative = ((current - previous) / previous).quantize(Decimal("0.0001"), ROUND_DOWN)
        return self._percent(2, signed=True).apply(relative, self._locale)
