"""A channel's mapped values checked against the format's field specs, field by field.

Field-level before product-level: a value that fails an optional or recommended field is left
out of that field and reported (``warn``); only a failing required field keeps the product off
the channel (``error``). Where the consumer's own spec truncates (``on_too_long="truncate"``),
the value is truncated and reported. Rule codes are ``<field>_missing``, ``<field>_invalid``,
``<field>_too_long``, ``<field>_too_short``, ``<field>_truncated``, ``<field>_too_many``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from contracts.formats import FieldSpec
from contracts.gtin import gtin_valid
from mapping.transforms import truncate

_NON_SPACE = r"[^\s\x1c-\x1f]"
"""Not a blank. Python's ``\\s`` also matches the separators U+001C..U+001F and Rust's (polars)
does not; naming them keeps the view and the validation suite in agreement."""
URL = rf"^https?://[^\s\x1c-\x1f/:]+{_NON_SPACE}*$"
"""An absolute http(s) URL: a scheme, a host, no blanks."""
DOUBLED = r"^https?://.+?[a-z][a-z0-9+.-]*://"
"""A URL with a second scheme inside: a media prefix joined to what already was a URL."""


@dataclass(frozen=True)
class Check:
    """One way a value can fail its field: where ``failed`` holds, the finding's ``rule``."""

    rule: str
    failed: pl.Expr


def present(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """A value is there: not null, text not blank, a list not empty."""
    if spec.kind == "list":
        return value.is_not_null() & (value.list.len() > 0)
    if spec.kind in ("text", "url", "gtin", "enum"):
        return value.is_not_null() & value.cast(pl.String).str.contains(_NON_SPACE)
    return value.is_not_null()


def value_checks(value: pl.Expr, spec: FieldSpec) -> list[Check]:
    """The ways a *present* value fails ``spec`` (length apart: see ``length_check``)."""
    name = spec.name
    checks: list[Check] = []
    text = value.cast(pl.String, strict=False)
    if spec.kind == "url":
        bad = ~text.str.contains(URL) | text.str.contains(DOUBLED)
        checks.append(Check(f"{name}_invalid", bad))
    if spec.kind == "gtin":
        checks.append(Check(f"{name}_invalid", ~gtin_valid(text)))
    if spec.kind == "money":
        checks.append(Check(f"{name}_invalid", ~(value.cast(pl.Decimal(38, 6), strict=False) > 0)))
    if spec.allowed is not None:
        checks.append(Check(f"{name}_invalid", ~text.is_in(list(spec.allowed))))
    if spec.pattern is not None:
        checks.append(Check(f"{name}_invalid", ~text.str.contains(spec.pattern)))
    if spec.kind == "list":
        items = value.cast(pl.List(pl.String), strict=False)
        if spec.max_items is not None:
            checks.append(Check(f"{name}_too_many", items.list.len() > spec.max_items))
        if spec.max_length is not None:
            long = items.list.eval(pl.element().str.len_chars() > spec.max_length).list.any()
            checks.append(Check(f"{name}_too_long", long))
    if spec.min_length is not None and spec.kind != "list":
        checks.append(Check(f"{name}_too_short", text.str.len_chars() < spec.min_length))
    return checks


def too_long(value: pl.Expr, spec: FieldSpec) -> pl.Expr | None:
    if spec.max_length is None or spec.kind == "list":
        return None
    return value.cast(pl.String, strict=False).str.len_chars() > spec.max_length


def truncated(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    assert spec.max_length is not None
    return truncate(value.cast(pl.String), spec.max_length)


def cast_to(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """The value as the field's kind (text for text-like kinds)."""
    if spec.kind in ("money", "decimal"):
        return value.cast(pl.Decimal(38, 6), strict=False)
    if spec.kind == "integer":
        return value.cast(pl.Decimal(38, 6), strict=False).cast(pl.Int64, strict=False)
    if spec.kind == "date":
        return value.cast(pl.Date, strict=False)
    if spec.kind == "boolean":
        return value.cast(pl.Boolean, strict=False)
    if spec.kind == "list":
        return value
    return value.cast(pl.String, strict=False)
