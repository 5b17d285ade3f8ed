"""A format's field specs as great-expectations rules on the channel's feed frame.

The view (``mapping.view``) already applied every field spec to every row in polars: optional
values that failed were dropped (warn), products whose required field failed were quarantined.
The suite checks the frame that is about to be published with the same specs in a second
engine, so a writer or mapping bug cannot publish what the spec forbids; expectations on
recommended fields count the products published without them (warn).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.formats import FieldSpec
from contracts.mapping import Test
from mapping.fields import DOUBLED, URL
from quality.rules import (
    Above,
    Check,
    Gtin,
    Length,
    NoMatch,
    OneOf,
    Pattern,
    Required,
    Severity,
)

TEXT_KINDS = frozenset({"text", "url", "gtin", "enum"})
"""The kinds whose values are text: a blank one counts as missing, lengths are checked."""


@dataclass(frozen=True)
class FieldRule:
    """One expectation source for a target field: its rule code, check and severity, and an
    optional row condition on a golden column (``column == value``-style, from
    ``required_when``)."""

    code: str
    field: str
    check: Check
    severity: Severity
    when: tuple[str, tuple[str, ...]] | None = None


def field_rules(spec: FieldSpec) -> list[FieldRule]:
    """The rules great-expectations checks for ``spec`` on a published frame."""
    name = spec.name
    fatal: Severity = "error" if spec.invalid_is_error else "warn"
    found: list[FieldRule] = []
    missing = spec.severity_when_missing or "error"
    if spec.kind == "list":
        return found
    if spec.required_when is not None:
        when = _simple(spec.required_when)
        if when is not None:
            found.append(FieldRule(f"{name}_missing", name, Required(), missing, when))
    elif spec.requirement == "required":
        found.append(FieldRule(f"{name}_missing", name, Required(), missing))
    elif spec.requirement == "recommended":
        found.append(FieldRule(f"{name}_missing", name, Required(), "warn"))
    # the same checks as ``mapping.fields.value_checks``, each on present values only (a
    # missing value is ``_missing``'s business, not also an invalid one)
    if spec.kind == "url":
        found.append(FieldRule(f"{name}_invalid", name, Pattern(URL), fatal))
        found.append(FieldRule(f"{name}_invalid", name, NoMatch(DOUBLED), fatal))
    if spec.kind == "gtin":
        found.append(FieldRule(f"{name}_invalid", name, Gtin(), fatal))
    if spec.kind == "money":
        found.append(FieldRule(f"{name}_invalid", name, Above(0), fatal))
    if spec.allowed is not None:
        found.append(FieldRule(f"{name}_invalid", name, OneOf(spec.allowed), fatal))
    if spec.pattern is not None:
        found.append(FieldRule(f"{name}_invalid", name, Pattern(spec.pattern), fatal))
    if spec.kind in TEXT_KINDS and spec.min_length is not None:
        found.append(FieldRule(f"{name}_too_short", name, Length(spec.min_length), fatal))
    if spec.kind in TEXT_KINDS and spec.max_length is not None:
        longest = Length(maximum=spec.max_length)
        if spec.on_too_long == "truncate":
            # the view cut the value and warned; one still too long is reported the same way
            found.append(FieldRule(f"{name}_truncated", name, longest, "warn"))
        else:
            found.append(FieldRule(f"{name}_too_long", name, longest, fatal))
    return found


def _simple(condition: object) -> tuple[str, tuple[str, ...]] | None:
    """A ``required_when`` great-expectations can express as a row condition: one golden
    field equal to one of some values (others are left to the polars check)."""
    if not isinstance(condition, Test) or condition.field is None:
        return None
    if condition.equals is not None:
        return condition.field, (str(condition.equals),)
    if condition.in_ is not None:
        return condition.field, tuple(str(v) for v in condition.in_)
    return None
