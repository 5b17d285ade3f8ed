"""The report's words: section titles, channels, rules and input rejects in plain language.

Merchandisers read the report, not the code: a finding is shown as what the product needs
("needs a name in the channel's locale", from the rule's own description in
``quality/rules.py``) with its code beside it, small, for whoever searches the logs.
"""

from __future__ import annotations

import json
from functools import cache

from contracts.mapping import Filters, Selection
from quality.quarantine import ALL_CHANNELS
from quality.report.numbers import MISSING, Numbers
from quality.rules import RULES

SECTIONS = {
    "breakers": "Circuit breakers",
    "channels": "Summary per channel",
    "rejects": "Rejects by rule and field",
    "worst": "Worst families and categories",
    "completeness": "Completeness per channel and locale",
    "changes": "Changes since the previous snapshot",
    "trends": "Trends over the last snapshots",
    "expectations": "Checks of the staged feed before publishing",
    "quarantine": "Quarantine",
}
VERDICT_NOTES = {
    "blocked": "This snapshot was NOT published: circuit breakers tripped. "
    "The previous snapshot stays live.",
    "overridden": "Circuit breakers tripped, but a data engineer overrode them: "
    "this snapshot was published anyway.",
}
BREAKERS = {
    "baseline": "The live snapshot's counts and prices, to compare this run with",
    "product_drop": "Share of the channel's products lost since the live snapshot",
    "quarantine_share": "Share of enabled products kept off the channel",
    "price_change": "Share of prices that moved by more than the allowed factor",
    "freshness": "Age of the source snapshot, in hours",
}
SHARE_BREAKERS = frozenset({"product_drop", "quarantine_share", "price_change"})
"""breakers whose value and limit are shares (0..1), written as percentages"""
INPUT_CHANNEL = "input files (before any channel)"
REASONS = {
    "missing_sku": "a sku in every ERP row",
    "unknown_sku": "a sku the PIM knows (the ERP row is for no PIM product)",
    "missing_identifier": "an identifier (sku) in the PIM",
    "duplicate_sku": "a sku only once in the PIM export (a later duplicate is dropped)",
    "invalid_price_type": "a price type list, group or customer",
    "missing_customer_group": "a customer group on a group price",
    "missing_customer_id": "a customer id on a customer price or customer master row",
    "invalid_customer_id": "a customer id of at most 20 characters (the catalog id's limit)",
    "duplicate_customer_id": "a customer id only once in the customer master (letter case "
    "ignored; the later row is dropped)",
    "invalid_active": "an active flag true/false (yes/no, 1/0, X/-) on a customer",
    "invalid_currency": "a three-letter currency code such as EUR",
    "invalid_amount": "an amount written as a plain decimal such as 12.50 "
    "(no decimal comma, no thousands separator)",
    "non_positive_amount": "an amount above zero",
    "invalid_per_quantity": "a price unit (per quantity) of at least 1",
    "invalid_min_quantity": "a minimum quantity of at least 1",
    "invalid_date": "a date written as YYYY-MM-DD",
    "invalid_validity": "a validity that ends on or after the day it starts",
    "invalid_quantity": "a stock quantity as a whole number (reserved: at least 0)",
    "invalid_lead_time": "a lead time in whole days, at least 0",
}


def channel_label(channel: str | None) -> str:
    """A channel name; input rows (``*``) are said to be from the input files."""
    return INPUT_CHANNEL if channel == ALL_CHANNELS else str(channel or "all channels")


@cache
def needs(rule: str, channel_format: str | None = None) -> str:
    """What a product failing ``rule`` needs, e.g. "Needs a GTIN with a correct GS1 check
    digit": a golden rule's own description, an input reject's reason, or for the rules a
    format's field spec generates (``<field>_missing``, ``_invalid``, ``_too_long``, ...) words
    from that spec; an unknown code stays as is."""
    declared = next((r for r in RULES if r.code == rule), None)
    if declared is not None:
        return f"Needs {declared.description}"
    if rule in REASONS:
        return f"Needs {REASONS[rule]}"
    if rule == "option_label_missing":
        return (
            "Needs an option label in the channel's locale (another locale's label or the "
            "option code was shown)"
        )
    if rule.startswith("filtered_by_"):
        return FILTER_REASONS.get(rule.removeprefix("filtered_by_"), "Left out by a filter")
    return _field_words(rule, channel_format) or rule


FILTER_REASONS = {
    "include": "Left out: not in the channel's include filter",
    "exclude": "Left out: matched the channel's exclude filter",
    "completeness": "Left out: less complete than the channel's completeness filter asks",
}
AVAILABILITY = {"in_stock": "in stock", "backorder": "on backorder", "out_of_stock": "out of stock"}


def filter_setting(filters: Filters | None, reason: str, numbers: Numbers) -> str:
    """The filter behind ``reason`` (include, exclude, completeness) as prism.yaml sets it, in
    words: "categories clothing (and below)", "at least 80 % complete"."""
    if filters is None:
        return MISSING
    if reason == "completeness":
        least = filters.completeness
        return MISSING if least is None else f"at least {numbers.share(least, 0)} complete"
    selection = filters.include if reason == "include" else filters.exclude
    return MISSING if selection is None else _selection(selection)


def _selection(selection: Selection) -> str:
    parts = []
    if selection.categories:
        parts.append(f"categories {', '.join(selection.categories)} (and below)")
    if selection.families:
        parts.append(f"families {', '.join(selection.families)}")
    if selection.brands:
        parts.append(f"brands {', '.join(selection.brands)}")
    if selection.availability:
        parts.append(", ".join(AVAILABILITY[a] for a in selection.availability))
    if selection.where is not None:
        condition = selection.where.model_dump(by_alias=True, exclude_defaults=True, mode="json")
        parts.append(f"where {json.dumps(condition, ensure_ascii=False)}")
    return "; ".join(parts) or MISSING


_SUFFIXES = ("_missing", "_invalid", "_too_long", "_too_short", "_truncated", "_too_many")


def _field_words(rule: str, channel_format: str | None) -> str | None:
    from sinks.formats import FORMATS

    suffix = next((s for s in _SUFFIXES if rule.endswith(s)), None)
    if suffix is None:
        return None
    name = rule.removesuffix(suffix)
    spec = FORMATS[channel_format].spec_of(name) if channel_format in FORMATS else None
    label = name.replace("_", " ")
    if suffix == "_missing":
        about = f" ({spec.description})" if spec is not None and spec.description else ""
        return f"Needs a value for {label}{about}"
    if suffix == "_invalid":
        return f"Needs a valid {label}{_validity(spec)}"
    limit = spec.max_length if spec is not None else None
    if suffix == "_too_long":
        return f"Needs a {label} of at most {limit} characters" if limit else f"Shorter {label}"
    if suffix == "_truncated":
        return (
            f"The {label} was cut to {limit} characters, the channel's limit"
            if limit
            else (f"The {label} was cut to the channel's limit")
        )
    if suffix == "_too_short":
        least = spec.min_length if spec is not None else None
        return f"Needs a {label} of at least {least} characters" if least else f"Longer {label}"
    most = spec.max_items if spec is not None else None
    return f"Needs at most {most} values for {label}" if most else f"Fewer values for {label}"


def _validity(spec: object) -> str:
    kind = getattr(spec, "kind", None)
    allowed = getattr(spec, "allowed", None)
    if kind == "gtin":
        return " (GTIN-8/12/13/14 with a correct GS1 check digit)"
    if kind == "url":
        return " (an absolute http(s) URL)"
    if kind == "money":
        return " (an amount above zero)"
    if allowed:
        return f" (one of {', '.join(allowed)})"
    if getattr(spec, "pattern", None):
        return " (in the format the channel expects)"
    return ""
