"""SAP S/4HANA OData V2 connector: pulls prices, stock and lead times into an ERP snapshot folder.

The snapshot it writes is the ERP file-drop format (``prices``, ``stock``, ``supply``; every column
a string, money as exact decimal text), so the rest of the pipeline cannot tell a pull from a drop.

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

Deltas (``full=False``): ``state.json`` beside the snapshots keeps high-water marks. The pricing
EDMX has no last-change property, so prices use ``CreationDate ge`` (a date): records created
since the mark; rate edits or deletions of *older* records are only seen by a full pull (run one
nightly). Products use ``LastChangeDateTime ge`` (DateTimeOffset). Stock has no change date and
is always pulled whole. Changed records replace the previous snapshot's rows with the same key
(prices: sku, price_type, customer_group, customer_id, valid_to, i.e. SAP's condition key incl.
its validity end; supply: sku). ``ge`` re-reads the boundary records, which is idempotent.
"""

from __future__ import annotations

import base64
import csv
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.config import PriceType, SapSource
from sources.erp_files import PRICE_COLUMNS, STOCK_COLUMNS, SUPPLY_COLUMNS
from sources.http import RetryPolicy, SourceError, safe_url, send

log = logging.getLogger(__name__)

SOURCE = "sap"
Record = dict[str, Any]
Row = dict[str, str]

PRICE_KEY = ("sku", "price_type", "customer_group", "customer_id", "valid_to")

OPEN_END = date(9999, 12, 31)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATE_RE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{4}))?\)/$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class BasicAuth(BaseModel):
    """HTTP basic authentication (communication user)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["basic"] = "basic"
    user: str = Field(min_length=1)
    password: SecretStr


class BearerAuth(BaseModel):
    """OAuth bearer token obtained by the caller (e.g. from the BTP destination service)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["bearer"] = "bearer"
    token: SecretStr


@dataclass(frozen=True)
class PullResult:
    """What one pull wrote; ``records`` counts top-level SAP entities fetched."""

    snapshot: Path
    full: bool
    prices: int
    stock: int
    supply: int
    records: int
    skipped_conditions: int
    unmapped_plants: dict[str, Decimal]
    seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.inf


# --- parsing ----------------------------------------------------------------------------------


def parse_date(value: object, what: str = "date") -> datetime:
    """``/Date(ms)/`` or ``/Date(ms+mmmm)/`` (V2 JSON) -> the exact UTC instant (offset is info)."""
    match = DATE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        msg = f"{SOURCE}: {what} is not an OData date: {value!r}"
        raise SourceError(msg)
    return EPOCH + timedelta(milliseconds=int(match.group(1)))


def parse_decimal(value: object, what: str = "decimal") -> Decimal:
    """Exact decimal from an Edm.Decimal string (V2 sends strings; floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        msg = f"{SOURCE}: {what} is not a decimal: {value!r}"
        raise SourceError(msg)
    try:
        number = Decimal(value)
    except InvalidOperation:
        msg = f"{SOURCE}: {what} is not a decimal: {value!r}"
        raise SourceError(msg) from None
    if not number.is_finite():
        msg = f"{SOURCE}: {what} is not finite: {value!r}"
        raise SourceError(msg)
    return number


def plain(number: Decimal) -> str:
    """Decimal text without exponent or trailing fractional zeros ("10.000" -> "10")."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def datetime_literal(moment: datetime) -> str:
    """``$filter`` literal for Edm.DateTime (UTC, no offset)."""
    return f"datetime'{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}'"


def datetimeoffset_literal(moment: datetime) -> str:
    """``$filter`` literal for Edm.DateTimeOffset (UTC, millisecond precision)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"datetimeoffset'{text}'"


# --- client -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One entity set read: its service, key properties and the system query options."""

    service: str
    entity_set: str
    key: tuple[str, ...]
    select: tuple[str, ...]
    expand: tuple[str, ...] = ()
    filter: str | None = None


@dataclass
class Page:
    records: list[Record]
    count: int | None = None


class ODataClient:
    """OData V2 JSON reads with paging, bounded concurrency and strict page checks."""

    def __init__(
        self,
        settings: SapSource,
        auth: BasicAuth | BearerAuth,
        client: httpx.Client,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.client = client
        self.sleep = sleep
        self.policy = RetryPolicy(attempts=settings.retry_attempts)
        self.slots = threading.BoundedSemaphore(settings.concurrency)
        self.origin = httpx.URL(settings.base_url)
        self.headers = {"Accept": "application/json", "Authorization": _authorization(auth)}

    def url(self, query: Query, skip: int, count: bool) -> httpx.URL:
        """The collection URL; ``$`` and quotes stay literal, spaces are %20 as SAP expects."""
        params: list[tuple[str, str]] = [("$format", "json"), ("$select", ",".join(query.select))]
        if query.expand:
            params.append(("$expand", ",".join(query.expand)))
        if query.filter:
            params.append(("$filter", query.filter))
        params += [("$top", str(self.settings.page_size)), ("$skip", str(skip))]
        if count:
            params.append(("$inlinecount", "allpages"))
        text = urlencode(params, quote_via=quote, safe="$,/:'()*")
        path = f"/sap/opu/odata/sap/{query.service}/{query.entity_set}"
        return httpx.URL(f"{self.settings.base_url}{path}?{text}")

    def get_json(self, url: httpx.URL) -> dict[str, Any]:
        """GET one page; transient faults are retried by ``send``; the rest raise SourceError."""
        request = self.client.build_request("GET", url, headers=self.headers)
        with self.slots:
            response = send(self.client, request, SOURCE, self.policy, sleep=self.sleep)
        where = f"{SOURCE}: GET {safe_url(url)}"
        if response.status_code == 401:
            msg = f"{where}: HTTP 401 Unauthorized (credentials rejected or token expired)"
            raise SourceError(msg)
        if response.status_code != 200:
            msg = f"{where}: HTTP {response.status_code}{_sap_message(response)}"
            raise SourceError(msg)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as error:
            msg = f"{where}: malformed JSON ({error})"
            raise SourceError(msg) from None
        if not isinstance(body, dict) or not isinstance(body.get("d"), dict):
            msg = f"{where}: page has no 'd' object"
            raise SourceError(msg)
        return body["d"]

    def page(self, query: Query, skip: int, count: bool = False) -> Page:
        """One client page ($top/$skip), following server-driven ``__next`` links inside it."""
        url = self.url(query, skip, count)
        body = self.get_json(url)
        first = Page(self._results(body, query, url), _count(body, url))
        hops = 0
        while (link := body.get("__next")) is not None:
            url = self._next_url(link, url)
            hops += 1
            if hops > self.settings.page_size:
                msg = f"{SOURCE}: GET {safe_url(url)}: paging chain does not end"
                raise SourceError(msg)
            try:
                body = self.get_json(url)
            except SourceError as error:
                msg = f"{error} (paging chain broken at __next)"
                raise SourceError(msg) from None
            first.records += self._results(body, query, url)
        return first

    def fetch_all(self, query: Query) -> list[Record]:
        """All records; pages after the first run concurrently; duplicates and gaps are errors."""
        first = self.page(query, 0, count=True)
        if first.count is None:
            pages = [first, *self._sequential(query, first)]
        else:
            skips = range(self.settings.page_size, first.count, self.settings.page_size)
            with ThreadPoolExecutor(self.settings.concurrency) as pool:
                pages = [first, *pool.map(lambda skip: self.page(query, skip), skips)]
        records = [record for page in pages for record in page.records]
        _check_unique(records, query, self.settings.base_url)
        if first.count is not None and len(records) != first.count:
            where = f"{self.settings.base_url}/.../{query.service}/{query.entity_set}"
            msg = (
                f"{SOURCE}: {where}: paging truncated, got {len(records)} records "
                f"but __count announced {first.count}"
            )
            raise SourceError(msg)
        return records

    def _sequential(self, query: Query, first: Page) -> Iterator[Page]:
        """Without ``__count``: read on until a page comes back short."""
        page, skip = first, 0
        while len(page.records) >= self.settings.page_size:
            skip += self.settings.page_size
            page = self.page(query, skip)
            yield page

    def _results(self, body: dict[str, Any], query: Query, url: httpx.URL) -> list[Record]:
        results = body.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            msg = f"{SOURCE}: GET {safe_url(url)}: page has no 'd.results' list of records"
            raise SourceError(msg)
        for record in results:
            missing = [name for name in query.key if record.get(name) is None]
            if missing:
                msg = f"{SOURCE}: GET {safe_url(url)}: record without its key {missing}: {record!r}"
                raise SourceError(msg[:500])
        return results

    def _next_url(self, link: object, current: httpx.URL) -> httpx.URL:
        """Resolve ``__next``; refuse other origins so credentials never leave the ERP host."""
        if not isinstance(link, str) or not link:
            msg = f"{SOURCE}: GET {safe_url(current)}: __next is not a URL: {link!r}"
            raise SourceError(msg)
        url = current.join(link)
        if (url.scheme, url.host, url.port) != (
            self.origin.scheme,
            self.origin.host,
            self.origin.port,
        ):
            msg = f"{SOURCE}: GET {safe_url(current)}: __next leaves the SAP host: {safe_url(url)}"
            raise SourceError(msg)
        return url


def _authorization(auth: BasicAuth | BearerAuth) -> str:
    if isinstance(auth, BearerAuth):
        return f"Bearer {auth.token.get_secret_value()}"
    pair = f"{auth.user}:{auth.password.get_secret_value()}".encode()
    return f"Basic {base64.b64encode(pair).decode()}"


def _sap_message(response: httpx.Response) -> str:
    """The SAP Gateway error text (``error.message.value``), if the body has one."""
    try:
        value = response.json()["error"]["message"]["value"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" ({str(value)[:200]})"


def _count(body: dict[str, Any], url: httpx.URL) -> int | None:
    raw = body.get("__count")
    if raw is None:
        return None
    if isinstance(raw, str | int) and str(raw).isdigit():
        return int(raw)
    msg = f"{SOURCE}: GET {safe_url(url)}: __count is not a number: {raw!r}"
    raise SourceError(msg)


def _check_unique(records: Iterable[Record], query: Query, base_url: str) -> None:
    seen: set[tuple[Any, ...]] = set()
    for record in records:
        key = tuple(record[name] for name in query.key)
        if key in seen:
            where = f"{base_url}/.../{query.service}/{query.entity_set}"
            shown = dict(zip(query.key, key, strict=True))
            msg = f"{SOURCE}: {where}: duplicate record across pages: {shown}"
            raise SourceError(msg)
        seen.add(key)


# --- queries ----------------------------------------------------------------------------------

PRICING = "API_SLSPRICINGCONDITIONRECORD_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PRODUCT = "API_PRODUCT_SRV"
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


# --- mapping ----------------------------------------------------------------------------------

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


# --- snapshot ---------------------------------------------------------------------------------


@dataclass
class Tables:
    prices: list[Row] = field(default_factory=list)
    stock: list[Row] = field(default_factory=list)
    supply: list[Row] = field(default_factory=list)


def write_table(
    folder: Path, name: str, columns: tuple[str, ...], rows: list[Row], fmt: str
) -> None:
    """One snapshot table, every column a string (the reader parses exact decimals itself)."""
    if fmt == "parquet":
        data = {column: [row[column] for row in rows] for column in columns}
        pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String)).write_parquet(
            folder / f"{name}.parquet"
        )
        return
    with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_table(folder: Path, name: str) -> list[Row]:
    """A previous snapshot's table as string rows (CSV or Parquet, empty cells as "")."""
    if (folder / f"{name}.parquet").exists():
        frame = pl.read_parquet(folder / f"{name}.parquet").cast(pl.String).fill_null("")
        return frame.to_dicts()
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def commit_snapshot(root: Path, name: str, tables: Tables, fmt: str) -> Path:
    """Write into a hidden temp folder, then rename: readers never see a partial snapshot."""
    target = root / name
    if target.exists():
        msg = f"{SOURCE}: snapshot {target} already exists"
        raise SourceError(msg)
    temp = root / f".{name}.{uuid.uuid4().hex}.partial"
    temp.mkdir(parents=True)
    try:
        write_table(temp, "prices", PRICE_COLUMNS, tables.prices, fmt)
        write_table(temp, "stock", STOCK_COLUMNS, tables.stock, fmt)
        write_table(temp, "supply", SUPPLY_COLUMNS, tables.supply, fmt)
        temp.rename(target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def load_state(root: Path) -> dict[str, Any]:
    path = root / "state.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_state(root: Path, state: dict[str, Any]) -> None:
    """Replace ``state.json`` atomically (after the snapshot it describes is in place)."""
    temp = root / f".state.{uuid.uuid4().hex}.json"
    temp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temp, root / "state.json")


# --- pull -------------------------------------------------------------------------------------


@dataclass
class Fetched:
    prices: list[Record]
    stock: list[Record]
    products: list[Record]

    @property
    def count(self) -> int:
        return len(self.prices) + len(self.stock) + len(self.products)


def pull_erp_snapshot(
    settings: SapSource,
    auth: BasicAuth | BearerAuth,
    full: bool = False,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull SAP into a new snapshot folder ``<settings.root>/<now:%Y%m%dT%H%M%SZ>`` (atomic).

    Incremental unless ``full`` or there is no usable previous state; see the module docstring.
    """
    started = time.perf_counter()
    root = settings.root
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    root.mkdir(parents=True, exist_ok=True)
    state = {} if full else load_state(root)
    previous = root / state["snapshot"] if state.get("snapshot") else None
    incremental = previous is not None and previous.is_dir()
    if not full and not incremental:
        log.info("sap: no previous snapshot state in %s; pulling in full", root)
    marks = state.get("marks", {}) if incremental else {}
    fetched = _fetch(settings, auth, client, marks, sleep)
    tables, skipped, unmapped = _tables(fetched, settings, previous if incremental else None)
    name = f"{moment:%Y%m%dT%H%M%SZ}"
    target = commit_snapshot(root, name, tables, settings.file_format)
    save_state(root, {"snapshot": name, "marks": _advance(marks, fetched)})
    counts = (len(tables.prices), len(tables.stock), len(tables.supply))
    seconds = time.perf_counter() - started
    result = PullResult(target, not incremental, *counts, fetched.count, skipped, unmapped, seconds)
    log.info(
        "sap: wrote %s (%s): %s price/stock/supply rows; %d records in %.1f s (%.0f/s)",
        target,
        "full" if result.full else "delta",
        counts,
        result.records,
        result.seconds,
        result.records_per_second,
    )
    return result


def _fetch(
    settings: SapSource,
    auth: BasicAuth | BearerAuth,
    client: httpx.Client | None,
    marks: dict[str, str],
    sleep: Callable[[float], None],
) -> Fetched:
    """The three entity sets, concurrently (requests in flight bounded by ``concurrency``)."""
    own = client is None
    http = client or httpx.Client(
        timeout=settings.timeout, limits=httpx.Limits(max_connections=settings.concurrency)
    )
    try:
        odata = ODataClient(settings, auth, http, sleep)
        queries = (
            price_query(settings, _mark(marks, "prices")),
            stock_query(),
            supply_query(_mark(marks, "supply")),
        )
        with ThreadPoolExecutor(len(queries)) as pool:
            prices, stock, products = pool.map(odata.fetch_all, queries)
    finally:
        if own:
            http.close()
    return Fetched(prices, stock, products)


def _mark(marks: dict[str, str], name: str) -> datetime | None:
    return datetime.fromisoformat(marks[name]) if marks.get(name) else None


def _advance(marks: dict[str, str], fetched: Fetched) -> dict[str, str]:
    """New high-water marks: the newest change the server reported (its clock, not ours)."""
    advanced = dict(marks)
    for name, records, prop in (
        ("prices", fetched.prices, "CreationDate"),
        ("supply", fetched.products, "LastChangeDateTime"),
    ):
        seen = [parse_date(r[prop], prop) for r in records if r.get(prop) is not None]
        old = _mark(marks, name)
        newest = max([*seen, *([old] if old else [])], default=None)
        if newest is not None:
            advanced[name] = newest.isoformat()
    return advanced


def _tables(
    fetched: Fetched, settings: SapSource, previous: Path | None
) -> tuple[Tables, int, dict[str, Decimal]]:
    prices, touched, skipped = map_prices(fetched.prices, settings)
    stock, unmapped = map_stock(fetched.stock, settings.plants)
    supply = map_supply(fetched.products, settings.plants)
    for plant, quantity in sorted(unmapped.items()):
        log.warning(
            "sap: plant %s is not mapped to a warehouse; %s units left out", plant, plain(quantity)
        )
    if skipped:
        log.info("sap: %d condition records of unmapped type/table skipped", skipped)
    if previous is not None:
        prices = [
            r for r in read_table(previous, "prices") if _price_key(r) not in touched
        ] + prices
        changed = {product["Product"] for product in fetched.products}
        supply = [r for r in read_table(previous, "supply") if r["sku"] not in changed] + supply
    return Tables(prices, stock, supply), skipped, unmapped


def _price_key(row: Row) -> tuple[str, ...]:
    return tuple(row[column] for column in PRICE_KEY)
