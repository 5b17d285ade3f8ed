"""The entity-set reads of a pull: which service, which properties ($select), which navigations
($expand) and which records ($filter), as the published EDMX names them."""

from __future__ import annotations

from datetime import datetime

from contracts.config import SapSource
from sources.sap.client import Query
from sources.sap.edm import datetime_literal, datetimeoffset_literal

PRICING = "API_SLSPRICINGCONDITIONRECORD_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PRODUCT = "API_PRODUCT_SRV"
PARTNER = "API_BUSINESS_PARTNER"
SALES_AREA_KEY = ("Customer", "SalesOrganization", "DistributionChannel", "Division")
VALIDITY = "to_SlsPrcgCndnRecdValidity"
SCALE = "to_SlsPrcgCndnRecordScale"
STOCK_KEY = (
    "Material",
    "Plant",
    "StorageLocation",
    "Batch",
    "Supplier",
    "Customer",
    "WBSElementInternalID",
    "SDDocument",
    "SDDocumentItem",
    "InventorySpecialStockType",
    "InventoryStockType",
)


def price_query(settings: SapSource, since: datetime | None) -> Query:
    """Condition records of the mapped types with validity and scales; ``since`` = CreationDate."""
    types = sorted({key.split("/")[0] for key in settings.condition_types})
    clauses = [" or ".join(f"ConditionType eq '{kind}'" for kind in types)]
    if since is not None:
        clauses.append(f"CreationDate ge {datetime_literal(since)}")
    validity = (
        "ConditionValidityStartDate",
        "ConditionValidityEndDate",
        "Material",
        "Customer",
        settings.group_field,
        "SalesOrganization",
        "DistributionChannel",
    )
    scale = ("ConditionScaleLine", "ConditionScaleQuantity", "ConditionRateValue")
    record = (
        "ConditionRecord",
        "ConditionType",
        "ConditionTable",
        "ConditionCalculationType",
        "ConditionRateValue",
        "ConditionRateValueUnit",
        "ConditionQuantity",
        "PricingScaleType",
        "PricingScaleBasis",
        "ConditionIsDeleted",
        "CreationDate",
    )
    select = (*record, *(f"{VALIDITY}/{p}" for p in validity), *(f"{SCALE}/{p}" for p in scale))
    expression = " and ".join(f"({c})" for c in clauses) if len(clauses) > 1 else clauses[0]
    return Query(
        PRICING,
        "A_SlsPrcgConditionRecord",
        ("ConditionRecord",),
        select,
        (VALIDITY, SCALE),
        expression,
    )


def stock_query() -> Query:
    """Unrestricted-use own stock per plant / storage location / batch (no change date exists)."""
    select = (*STOCK_KEY, "MatlWrhsStkQtyInMatlBaseUnit", "MaterialBaseUnit")
    flt = "InventoryStockType eq '01' and InventorySpecialStockType eq ''"
    return Query(STOCK, "A_MatlStkInAcctMod", STOCK_KEY, select, filter=flt)


def supply_query(since: datetime | None) -> Query:
    """Products with plants and supply planning; ``since`` = LastChangeDateTime."""
    planning = "to_Plant/to_ProductSupplyPlanning"
    select = (
        "Product",
        "LastChangeDateTime",
        "to_Plant/Plant",
        f"{planning}/PlannedDeliveryDurationInDays",
        f"{planning}/GoodsReceiptDuration",
    )
    flt = None if since is None else f"LastChangeDateTime ge {datetimeoffset_literal(since)}"
    return Query(PRODUCT, "A_Product", ("Product",), select, ("to_Plant", planning), flt)


def customer_area_query(settings: SapSource) -> Query:
    """The customers of the configured sales area with their price group (``group_field``,
    the field the group prices are keyed by), currency and blocks."""
    area = settings.customer_sales_area
    assert area is not None, "customers are pulled only with a sales area"
    flt = (
        f"SalesOrganization eq '{area.sales_organization}' and "
        f"DistributionChannel eq '{area.distribution_channel}' and Division eq '{area.division}'"
    )
    select = (
        *SALES_AREA_KEY,
        settings.group_field,
        "Currency",
        "DeletionIndicator",
        "OrderIsBlockedForCustomer",
    )
    return Query(PARTNER, "A_CustomerSalesArea", SALES_AREA_KEY, select, filter=flt)


def customer_query() -> Query:
    """Every customer's name and blocks (A_Customer; no change date, always read whole)."""
    select = ("Customer", "CustomerName", "DeletionIndicator", "OrderIsBlockedForCustomer")
    return Query(PARTNER, "A_Customer", ("Customer",), select)
