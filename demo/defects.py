"""The seeded defects: which kinds, how often, where they may land, and how many were seeded.

The kinds are disjoint per product so a test can count each one back from the files."""

from __future__ import annotations

import numpy as np
import polars as pl

from demo.layout import ERP_FILES

DEFECT_RATES: dict[str, float] = {
    "bad_gtin_check_digit": 0.003,
    "missing_name_de_DE": 0.003,
    "missing_ecommerce_description": 0.003,
    "missing_image": 0.003,
    "amount_decimal_comma": 0.0015,
    "amount_not_a_number": 0.001,
    "amount_zero": 0.001,
    "amount_negative": 0.001,
    "currency_EURO": 0.001,
    "per_quantity_zero": 0.001,
    "valid_from_after_valid_to": 0.0015,
    "short_ecommerce_description": 0.003,
}
"""Disjoint per-product defect kinds and their share of all products. The PIM text/image kinds
only hit simple products (variants inherit those values from their models), so their actual
share is about two thirds of the rate."""
_SIMPLE_ONLY = (
    "missing_name_de_DE",
    "missing_ecommerce_description",
    "short_ecommerce_description",
    "missing_image",
)
SHORT_DESCRIPTIONS = ("Siehe Bild.", "See picture.", "Voir photo.")
"""A placeholder text per locale: published, but below the public channels' minimum length."""
UNKNOWN_SKU_SHARE = 0.002


def assign_defects(rng: np.random.Generator, simple: np.ndarray) -> np.ndarray:
    """One disjoint defect kind per product ("" = none); text/image kinds only on simple ones."""
    kinds = np.array([*DEFECT_RATES, ""], dtype=object)
    edges = np.cumsum(list(DEFECT_RATES.values()))
    drawn = kinds[np.searchsorted(edges, rng.random(len(simple)), side="right")]
    drawn[np.isin(drawn, _SIMPLE_ONLY) & ~simple] = ""
    return drawn.astype(str)


def defect_counts(products: pl.DataFrame, unknown: int) -> dict[str, int]:
    """Products per seeded defect kind (every kind listed, 0 if none), the ERP-only skus per ERP
    file and the disabled products: what a test or a reader of the summary can count back."""
    counts = dict.fromkeys(DEFECT_RATES, 0)
    for kind, count in products.group_by("defect").len().iter_rows():
        if kind:
            counts[kind] = count
    counts |= {f"unknown_sku_{name}": unknown for name in ERP_FILES}
    counts["disabled"] = products.filter(~pl.col("enabled")).height
    return counts
