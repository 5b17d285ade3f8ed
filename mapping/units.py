"""Akeneo measurement units: exact conversion factors to each family's standard unit.

Factors follow Akeneo's standard measurement families (unit -> multiplier to the family's
standard unit), as exact decimals so a converted weight is exact as well.
"""

from __future__ import annotations

from decimal import Decimal

FAMILIES: dict[str, dict[str, Decimal]] = {
    "Weight": {
        "MILLIGRAM": Decimal("0.000001"),
        "GRAM": Decimal("0.001"),
        "KILOGRAM": Decimal("1"),
        "TON": Decimal("1000"),
        "OUNCE": Decimal("0.028349523125"),
        "POUND": Decimal("0.45359237"),
    },
    "Length": {
        "MILLIMETER": Decimal("0.001"),
        "CENTIMETER": Decimal("0.01"),
        "DECIMETER": Decimal("0.1"),
        "METER": Decimal("1"),
        "KILOMETER": Decimal("1000"),
        "INCH": Decimal("0.0254"),
        "FEET": Decimal("0.3048"),
        "YARD": Decimal("0.9144"),
    },
    "Volume": {
        "MILLILITER": Decimal("0.000001"),
        "CENTILITER": Decimal("0.00001"),
        "LITER": Decimal("0.001"),
        "CUBIC_CENTIMETER": Decimal("0.000001"),
        "CUBIC_METER": Decimal("1"),
    },
}
UNITS: dict[str, tuple[str, Decimal]] = {
    unit: (family, factor) for family, units in FAMILIES.items() for unit, factor in units.items()
}


def factor(source: str, target: str) -> Decimal | None:
    """How many ``target`` units one ``source`` unit is, or None when they cannot convert."""
    found, wanted = UNITS.get(source.upper()), UNITS.get(target.upper())
    if found is None or wanted is None or found[0] != wanted[0]:
        return None
    return found[1] / wanted[1]
