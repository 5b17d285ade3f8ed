"""The report's words: section titles, channels, rules and input rejects in plain language.

Merchandisers read the report, not the code: a finding is shown as what the product needs
("needs a name in the channel's locale", from the rule's own description in
``quality/rules.py``) with its code beside it, small, for whoever searches the logs.
"""

from __future__ import annotations

from functools import cache

from quality.quarantine import ALL_CHANNELS
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
    "product_drop": "Share of the channel's products lost since the live snapshot",
    "quarantine_share": "Share of enabled products kept off the channel",
    "price_change": "Share of prices that moved by more than the allowed factor",
    "freshness": "Age of the source snapshot, in hours",
}
INPUT_CHANNEL = "input files (before any channel)"
REASONS = {
    "missing_sku": "a sku in every ERP row",
    "unknown_sku": "a sku the PIM knows (the ERP row is for no PIM product)",
    "missing_identifier": "an identifier (sku) in the PIM",
    "duplicate_sku": "a sku only once in the PIM export (a later duplicate is dropped)",
    "invalid_price_type": "a price type list, group or customer",
    "missing_customer_group": "a customer group on a group price",
    "missing_customer_id": "a customer id on a customer price",
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
    digit"; a rule declared per format takes that format's words, an unknown code stays as is.
    """
    declared = [r for r in RULES if r.code == rule]
    fitting = [r for r in declared if channel_format in r.formats] or declared
    description = fitting[0].description if fitting else REASONS.get(rule)
    return f"Needs {description}" if description else rule
