"""SAP records -> ERP snapshot rows: condition records to price rows, stock to on-hand per
warehouse, product plants to lead times; exact decimals throughout, every cell a string."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from contracts.config import PriceType, SapSource
from sources.http import SourceError
from sources.sap.edm import SOURCE, Record, parse_date, parse_decimal, plain
from sources.sap.queries import SCALE, VALIDITY
from sources.sap.snapshot import Row
from sources.secrets import logger

log = logger(__name__)

PRICE_KEY = ("sku", "price_type", "customer_group", "customer_id", "valid_to")

OPEN_END = date(9999, 12, 31)
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")

REQUIRED: dict[PriceType, tuple[str, ...]] = {
    "list": ("Material",),
    "group": ("Material", "<group>"),
    "customer": ("Material", "Customer"),
}


def price_type_of(record: Record, mapping: dict[str, PriceType]) -> PriceType | None:
    """``TYPE/TABLE`` wins over a bare ``TYPE``; None = not a price this pipeline uses."""
    kind, table = record.get("ConditionType") or "", record.get("ConditionTable") or ""
    return mapping.get(f"{kind}/{table}") or mapping.get(kind)


def price_rows(record: Record, price_type: PriceType, settings: SapSource) -> list[Row]:
    """Rows of one condition record: one per (validity x scale line), exact decimals."""
    what = f"condition record {record['ConditionRecord']}"
    _check_price_record(record, what)
    currency = record.get("ConditionRateValueUnit") or ""
    if not CURRENCY_RE.match(currency):
        msg = f"{SOURCE}: {what}: rate unit {currency!r} is not an ISO 4217 currency"
        raise SourceError(msg)
    per = record.get("ConditionQuantity")
    per_quantity = plain(parse_decimal(per, f"{what} ConditionQuantity")) if per else "1"
    tiers = _tiers(record, what)
    rows = []
    for validity in _expanded(record, VALIDITY, what):
        if not _in_scope(validity, settings):
            continue
        base = _validity_row(validity, price_type, settings.group_field, what)
        for min_quantity, amount in tiers:
            row = base | {"currency": currency, "amount": amount}
            rows.append(row | {"per_quantity": per_quantity, "min_quantity": min_quantity})
    return rows


def _check_price_record(record: Record, what: str) -> None:
    calculation = record.get("ConditionCalculationType") or ""
    if calculation not in {"", "C"}:
        msg = f"{SOURCE}: {what}: calculation type {calculation!r} is not a quantity price (C)"
        raise SourceError(msg)
    if record.get(SCALE) and _expanded(record, SCALE, what):
        scale = (record.get("PricingScaleBasis") or "", record.get("PricingScaleType") or "")
        if scale[0] not in {"", "C"} or scale[1] not in {"", "A"}:
            msg = f"{SOURCE}: {what}: scale basis/type {scale} is not a quantity from-scale (C/A)"
            raise SourceError(msg)


def _tiers(record: Record, what: str) -> list[tuple[str, str]]:
    """(min_quantity, amount) pairs: the scale lines, or the plain rate from quantity 1."""
    lines = _expanded(record, SCALE, what) if record.get(SCALE) else []
    if not lines:
        rate = parse_decimal(record.get("ConditionRateValue"), f"{what} ConditionRateValue")
        return [("1", f"{rate:f}")]
    tiers = []
    for line in lines:
        quantity = parse_decimal(line.get("ConditionScaleQuantity"), f"{what} scale quantity")
        rate = parse_decimal(line.get("ConditionRateValue"), f"{what} scale rate")
        tiers.append((quantity, f"{rate:f}"))
    return [(plain(quantity), rate) for quantity, rate in sorted(tiers)]


def _validity_row(validity: Record, price_type: PriceType, group_field: str, what: str) -> Row:
    fields = [group_field if name == "<group>" else name for name in REQUIRED[price_type]]
    missing = [name for name in fields if not validity.get(name)]
    if missing:
        msg = f"{SOURCE}: {what} ({price_type} price) lacks key field(s) {missing}"
        raise SourceError(msg)
    start = validity.get("ConditionValidityStartDate")
    end = parse_date(validity.get("ConditionValidityEndDate"), f"{what} valid to").date()
    return {
        "sku": validity["Material"],
        "price_type": price_type,
        "customer_group": validity[group_field] if price_type == "group" else "",
        "customer_id": validity["Customer"] if price_type == "customer" else "",
        "valid_from": ""
        if start is None
        else parse_date(start, f"{what} valid from").date().isoformat(),
        "valid_to": "" if end >= OPEN_END else end.isoformat(),
    }


def _in_scope(validity: Record, settings: SapSource) -> bool:
    org, channel = settings.sales_organization, settings.distribution_channel
    return (org is None or validity.get("SalesOrganization") == org) and (
        channel is None or validity.get("DistributionChannel") == channel
    )


def _expanded(record: Record, nav: str, what: str) -> list[Record]:
    """An expanded 1:n navigation: ``{"results": [...]}`` (V2 JSON)."""
    value = record.get(nav)
    results = value.get("results") if isinstance(value, dict) else None
    if not isinstance(results, list):
        msg = f"{SOURCE}: {what}: navigation {nav} was not expanded"
        raise SourceError(msg)
    return results


def map_prices(
    records: Iterable[Record], settings: SapSource
) -> tuple[list[Row], set[tuple[str, ...]], int]:
    """(rows of live records, keys touched incl. deleted records, records of unmapped types)."""
    rows: list[Row] = []
    keys: set[tuple[str, ...]] = set()
    skipped = 0
    for record in records:
        price_type = price_type_of(record, settings.condition_types)
        if price_type is None:
            skipped += 1
            continue
        record_rows = price_rows(record, price_type, settings)
        keys.update(tuple(row[c] for c in PRICE_KEY) for row in record_rows)
        if not record.get("ConditionIsDeleted"):
            rows += record_rows
    return rows, keys, skipped


def map_stock(
    records: Iterable[Record], plants: dict[str, str]
) -> tuple[list[Row], dict[str, Decimal]]:
    """On-hand per (sku, warehouse) summed exactly, then floored to whole units (the snapshot
    holds integers; flooring never promises stock that is not there). Unmapped plants apart."""
    totals: dict[tuple[str, str], Decimal] = {}
    unmapped: dict[str, Decimal] = {}
    for record in records:
        what = f"stock of {record['Material']} in plant {record['Plant']}"
        quantity = parse_decimal(record.get("MatlWrhsStkQtyInMatlBaseUnit"), what)
        warehouse = plants.get(record["Plant"])
        if warehouse is None:
            unmapped[record["Plant"]] = unmapped.get(record["Plant"], Decimal(0)) + quantity
            continue
        key = (record["Material"], warehouse)
        totals[key] = totals.get(key, Decimal(0)) + quantity
    fractional = sorted(sku for (sku, _), total in totals.items() if total != int(total))
    if fractional:
        log.warning("sap: fractional stock floored to whole units for %s", fractional[:20])
    rows = [
        {"sku": sku, "warehouse": wh, "on_hand": str(math.floor(total)), "reserved": "0"}
        for (sku, wh), total in totals.items()
    ]
    return rows, unmapped


def map_supply(products: Iterable[Record], plants: dict[str, str]) -> list[Row]:
    """One row per product with a mapped plant: the shortest maintained lead time, else empty."""
    rows = []
    for product in products:
        what = f"product {product['Product']}"
        days = [
            _lead_time(plant, what)
            for plant in _expanded(product, "to_Plant", what)
            if plant.get("Plant") in plants
        ]
        if days:
            maintained = [d for d in days if d > 0]
            lead = plain(min(maintained)) if maintained else ""
            rows.append(
                {"sku": product["Product"], "lead_time_days": lead, "next_receipt_date": ""}
            )
    return rows


def _lead_time(plant: Record, what: str) -> Decimal:
    planning = plant.get("to_ProductSupplyPlanning")
    if not planning:
        return Decimal(0)
    total = Decimal(0)
    for name in ("PlannedDeliveryDurationInDays", "GoodsReceiptDuration"):
        if planning.get(name) not in (None, ""):
            total += parse_decimal(planning[name], f"{what} plant {plant['Plant']} {name}")
    return total


def map_customers(
    areas: Iterable[Record], customers: Iterable[Record], group_field: str
) -> list[Row]:
    """One customer master row per customer of the sales area: its price group (the field the
    group prices are keyed by), currency and name (A_Customer's ``CustomerName``, empty when
    A_Customer lacks it). Active unless flagged for deletion or blocked for orders, in the
    sales area or centrally."""
    central = {c["Customer"]: c for c in customers}
    rows = []
    for area in areas:
        customer = central.get(area["Customer"], {})
        blocked = any(
            record.get("DeletionIndicator") or record.get("OrderIsBlockedForCustomer")
            for record in (area, customer)
        )
        rows.append(
            {
                "customer_id": area["Customer"],
                "customer_group": area.get(group_field) or "",
                "name": customer.get("CustomerName") or "",
                "currency": area.get("Currency") or "",
                "active": "false" if blocked else "true",
            }
        )
    return rows
