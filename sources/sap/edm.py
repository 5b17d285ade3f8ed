"""OData V2 JSON values (Edm.DateTime, Edm.Decimal) read exactly, and ``$filter`` literals.

SAP Gateway sends dates as ``/Date(ms)/`` and decimals as strings; a float would already have
lost digits, so it is refused rather than rounded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sources.http import SourceError

SOURCE = "sap"
Record = dict[str, Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATE_RE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{4}))?\)/$")


def parse_date(value: object, what: str = "date") -> datetime:
    """``/Date(ms)/`` or ``/Date(ms+mmmm)/`` (V2 JSON) -> the exact UTC instant (offset is info)."""
    match = DATE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        msg = f"{SOURCE}: {what} is not an OData date: {value!r}"
        raise SourceError(msg)
    return EPOCH + timedelta(milliseconds=int(match.group(1)))


def parse_decimal(value: object, what: str = "decimal") -> Decimal:
    """Exact decimal from an Edm.Decimal string (V2 sends strings; floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        msg = f"{SOURCE}: {what} is not a decimal: {value!r}"
        raise SourceError(msg)
    try:
        number = Decimal(value)
    except InvalidOperation:
        msg = f"{SOURCE}: {what} is not a decimal: {value!r}"
        raise SourceError(msg) from None
    if not number.is_finite():
        msg = f"{SOURCE}: {what} is not finite: {value!r}"
        raise SourceError(msg)
    return number


def plain(number: Decimal) -> str:
    """Decimal text without exponent or trailing fractional zeros ("10.000" -> "10")."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def datetime_literal(moment: datetime) -> str:
    """``$filter`` literal for Edm.DateTime (UTC, no offset)."""
    return f"datetime'{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}'"


def datetimeoffset_literal(moment: datetime) -> str:
    """``$filter`` literal for Edm.DateTimeOffset (UTC, millisecond precision)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"datetimeoffset'{text}'"
