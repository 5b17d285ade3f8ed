"""The report's channel counts: each product once per channel, under its gravest finding."""

from __future__ import annotations

import polars as pl

from quality.gate import channel_counts


def test_each_product_counts_once_under_its_gravest_finding() -> None:
    golden = pl.DataFrame({"sku": ["A", "B", "C", "D", "E", "F"], "enabled": [True] * 5 + [False]})
    rows = [
        ("shop", "A", "error"),
        ("shop", "A", "warn"),  # A is quarantined, not also warned
        ("shop", "A", "filtered"),
        ("shop", "B", "filtered"),
        ("shop", "B", "warn"),  # B is filtered, not warned
        ("shop", "C", "warn"),
        ("shop", "C", "warn"),  # two warnings, one product
        ("web", "D", "error"),
        ("*", "E", "error"),  # the baseline's rows are no channel's
    ]
    quarantine = pl.DataFrame(rows, schema=["channel", "sku", "severity"], orient="row")
    counts = channel_counts(golden, quarantine, ["shop", "web", "social"])
    assert counts == {
        "shop": {"published": 3, "quarantined": 1, "filtered": 1, "warned": 1},
        "web": {"published": 4, "quarantined": 1, "filtered": 0, "warned": 0},
        "social": {"published": 5, "quarantined": 0, "filtered": 0, "warned": 0},
    }
