"""The mapping language's transforms as polars expressions (vectorized: no per-row Python).

Each takes and returns an expression; text transforms leave null as null, so a missing value
stays missing through any chain.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from contracts.mapping import Case, Prefix, Replace, Round, Suffix, Transform, Truncate

_TAGS = r"<[A-Za-z/!?][^>]*>"
"""A tag starts with a letter, ``/``, ``!`` or ``?`` after ``<``: "a < b" is text."""
_ENTITIES = {"&nbsp;": " ", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_BLOCK_TAGS = r"(?i)<\s*(?:br|/p|/div|/li|/h[1-6])\s*/?\s*>"
_BLANKS = r"\s\s+|[^\S ]"
"""A run of blanks that is not already one space: two or more blanks, or one blank that is not
" ". Each becomes one space, as every run of ``\\s+`` would, but most texts hold no such run
(``\\s+`` matches, and replaces, every single space between words)."""


class TransformError(ValueError):
    """A transform cannot apply to the field (e.g. ``truncate`` without a limit)."""


def strip_html(text: pl.Expr) -> pl.Expr:
    """Markup removed (block ends become spaces), common entities decoded, whitespace collapsed."""
    spaced = text.str.replace_all(_BLOCK_TAGS, " ")
    plain = spaced.str.replace_all(_TAGS, "")
    decoded = plain.str.replace_many(list(_ENTITIES), list(_ENTITIES.values()))
    return decoded.str.replace_all(_BLANKS, " ").str.strip_chars()


def truncate(text: pl.Expr, limit: int) -> pl.Expr:
    """At most ``limit`` characters, cut at a word boundary when there is one in reach (a
    single over-long word is cut hard); trailing spaces and commas go.

    The cut is computed only for texts longer than ``limit`` (the others are null in it, which
    the string operations skip), and ``text`` is referenced three times: every context that
    evaluates a mapping is a lazy query, whose common-subexpression elimination computes it
    once (a list evaluation would hide it from that elimination and copy every text into a
    list and back)."""
    long = pl.when(text.str.len_chars() > limit).then(text)
    cut = long.str.slice(0, limit + 1).str.replace(r"\s+\S*$", "")
    hard = long.str.slice(0, limit)
    shortened = pl.when(cut.str.len_chars() > 0).then(cut).otherwise(hard).str.slice(0, limit)
    return pl.coalesce(shortened.str.strip_chars_end(" ,;:-"), text)


def case(text: pl.Expr, kind: str) -> pl.Expr:
    if kind == "upper":
        return text.str.to_uppercase()
    if kind == "lower":
        return text.str.to_lowercase()
    if kind == "title":
        return text.str.to_titlecase()
    first = text.str.slice(0, 1).str.to_uppercase()
    return pl.concat_str(first, text.str.slice(1).str.to_lowercase())


def apply(value: pl.Expr, transforms: Sequence[Transform], limit: int | None) -> pl.Expr:
    """``transforms`` applied in order; ``limit`` is the target field's maximum length (the
    default of a bare ``truncate``)."""
    for transform in transforms:
        value = _one(value, transform, limit)
    return value


def _one(value: pl.Expr, transform: Transform, limit: int | None) -> pl.Expr:
    if transform == "strip_html":
        return strip_html(value.cast(pl.String))
    if transform == "trim":
        return value.cast(pl.String).str.strip_chars()
    if transform == "truncate" or isinstance(transform, Truncate):
        chars = transform.truncate if isinstance(transform, Truncate) else None
        chars = chars or limit
        if chars is None:
            msg = "truncate needs a length: the target field has no maximum length"
            raise TransformError(msg)
        return truncate(value.cast(pl.String), chars)
    if isinstance(transform, Case):
        return case(value.cast(pl.String), transform.case)
    if isinstance(transform, Replace):
        rule = transform.replace
        return value.cast(pl.String).str.replace_all(rule.pattern, rule.with_)
    if isinstance(transform, Round):
        number = value.cast(pl.Decimal(38, 6), strict=False)
        return number.round(transform.round, mode="half_away_from_zero")
    if isinstance(transform, Prefix):
        return pl.concat_str(pl.lit(transform.prefix), value.cast(pl.String))
    if isinstance(transform, Suffix):
        return pl.concat_str(value.cast(pl.String), pl.lit(transform.suffix))
    msg = f"unknown transform {transform!r}"
    raise TransformError(msg)
