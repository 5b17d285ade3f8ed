"""SAP S/4HANA OData V2 connector: pulls prices, stock, lead times and customers into an ERP
snapshot folder.

The snapshot it writes is the ERP file-drop format (``prices``, ``stock``, ``supply``; every column
a string, money as exact decimal text), so the rest of the pipeline cannot tell a pull from a drop.
Modules: ``edm`` (OData V2 JSON values), ``client`` (HTTP, paging, page checks, auth header),
``queries`` (the entity-set reads), ``mapping`` (SAP records -> snapshot rows), ``snapshot``
(the snapshot folder and ``state.json``) and ``pull`` (``pull_erp_snapshot``).

Services and entity sets (property names from the published EDMX in ``specs/sap/``):

- Prices: ``API_SLSPRICINGCONDITIONRECORD_SRV/A_SlsPrcgConditionRecord`` with
  ``$expand=to_SlsPrcgCndnRecdValidity,to_SlsPrcgCndnRecordScale``. The record carries the rate
  (``ConditionRateValue`` in ``ConditionRateValueUnit`` = ISO currency, per ``ConditionQuantity``
  units = ``per_quantity``); the validity carries the key fields and ``ConditionValidityStartDate``/
  ``EndDate`` (9999-12-31 = open-ended); each scale line (quantity scale ``PricingScaleBasis`` C,
  from-scale ``PricingScaleType`` A) becomes one row with ``min_quantity = ConditionScaleQuantity``.
  ``SapSource.condition_types`` maps ``"<ConditionType>/<ConditionTable>"`` (or a bare condition
  type) to a price type; each price type needs these validity fields:

  ====================  ==========  ==========================================================
  default key           price_type  key fields (standard table)
  ====================  ==========  ==========================================================
  ``PPR0/304``          list        SalesOrganization, DistributionChannel, Material (A304)
  ``PPR0/032``          group       ... CustomerPriceGroup, Material (A032, price group/material)
  ``PPR0/305``          customer    ... Customer, Material (A305, customer/material)
  ====================  ==========  ==========================================================

  Records of unmapped type/table are skipped and counted; a mapped record missing a key field, with
  a non-currency rate unit, a non-quantity calculation type or non-quantity/to-scales is an error.
- Stock: ``API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod`` filtered to unrestricted own stock
  (``InventoryStockType eq '01' and InventorySpecialStockType eq ''``);
  ``MatlWrhsStkQtyInMatlBaseUnit`` summed per plant (over storage locations and batches) and
  named by ``SapSource.plants``, floored to whole units (the snapshot holds integers; logged).
  Unmapped plants are logged and returned in ``PullResult.unmapped_plants``. These APIs expose
  no reservations, so ``reserved`` is 0.
- Lead times: ``API_PRODUCT_SRV/A_Product`` with ``$expand=to_Plant/to_ProductSupplyPlanning``;
  ``lead_time_days = PlannedDeliveryDurationInDays + GoodsReceiptDuration``
  (A_ProductSupplyPlanning), the smallest over mapped plants; 0 (not maintained in SAP) is
  written empty. No API here carries a next receipt date, so ``next_receipt_date`` is empty.

- Customers (with ``SapSource.customer_sales_area``, default 1010/10/00; null = none):
  ``API_BUSINESS_PARTNER/A_CustomerSalesArea`` filtered to that sales area (keys Customer,
  SalesOrganization, DistributionChannel, Division): the price group from ``group_field``
  (``CustomerPriceGroup``, the field the group prices are keyed by) and ``Currency``; names from
  ``A_Customer`` (``CustomerName``). Inactive = ``DeletionIndicator`` or
  ``OrderIsBlockedForCustomer`` in the sales area or on ``A_Customer``. No change date: read
  whole on every pull into the snapshot's ``customers`` file.

Deltas (``full=False``): ``state.json`` beside the snapshots keeps high-water marks. The pricing
EDMX has no last-change property, so prices use ``CreationDate ge`` (a date): records created
since the mark; rate edits or deletions of *older* records are only seen by a full pull (run one
nightly). Products use ``LastChangeDateTime ge`` (DateTimeOffset). Stock has no change date and
is always pulled whole. Changed records replace the previous snapshot's rows with the same key
(prices: sku, price_type, customer_group, customer_id, valid_to, i.e. SAP's condition key incl.
its validity end; supply: sku). ``ge`` re-reads the boundary records, which is idempotent.
"""

from __future__ import annotations

from sources.sap.client import BasicAuth, BearerAuth
from sources.sap.pull import PullResult, pull_erp_snapshot

__all__ = ["BasicAuth", "BearerAuth", "PullResult", "pull_erp_snapshot"]
