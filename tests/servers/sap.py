"""A local SAP S/4HANA OData V2 server (JSON) for the connector tests, with fault injection.

Serves the entity sets the connector reads, under ``/sap/opu/odata/sap/<SERVICE>/``:
``API_SLSPRICINGCONDITIONRECORD_SRV/A_SlsPrcgConditionRecord`` (expandable validity and scales),
``API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod`` and ``API_PRODUCT_SRV/A_Product`` (expandable
``to_Plant/to_ProductSupplyPlanning``), ``API_BUSINESS_PARTNER/A_CustomerSalesArea`` and
``API_BUSINESS_PARTNER/A_Customer``. Query options: ``$top``, ``$skip``, ``$skiptoken``
(server-driven paging, ``__next``, page size ``SapService.page_size``), ``$inlinecount=allpages``
(``__count`` as a string), ``$select`` (nested paths), ``$expand``, ``$filter`` (``eq ne gt ge lt
le``, ``and or not``, parentheses, ``'text'``, ``datetime'...'``, ``datetimeoffset'...'``,
``true``/``false``/``null``, numbers). Dates go out as ``/Date(ms)/`` (Edm.DateTime) or
``/Date(ms+0000)/`` (Edm.DateTimeOffset), decimals as strings, as SAP Gateway does.

``from_snapshot`` builds the data from an ERP file-drop folder, so a test can check that a pull
reproduces the drop. Faults are armed with ``SapService.fail(kind, entity_set, offset, times)``;
``echo`` answers a 400 whose message repeats the credentials received (a careless Gateway).
"""

from __future__ import annotations

import base64
import csv
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from servers.running import serve

PREFIX = "/sap/opu/odata/sap/"
CONDITIONS = "API_SLSPRICINGCONDITIONRECORD_SRV/A_SlsPrcgConditionRecord"
STOCK = "API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod"
PRODUCTS = "API_PRODUCT_SRV/A_Product"
SALES_AREAS = "API_BUSINESS_PARTNER/A_CustomerSalesArea"
CUSTOMERS = "API_BUSINESS_PARTNER/A_Customer"
KEYS = {
    CONDITIONS: "ConditionRecord",
    STOCK: "Material",
    PRODUCTS: "Product",
    SALES_AREAS: "Customer",
    CUSTOMERS: "Customer",
}
SALES_AREA = {"SalesOrganization": "1010", "DistributionChannel": "10", "Division": "00"}
OFFSET_FIELDS = frozenset({"LastChangeDateTime"})
FAULTS = frozenset(
    {
        "429", "503", "slow", "reset", "malformed", "no_d", "no_key", "broken_next",
        "garbage_next", "duplicate", "short_count", "401", "echo",
    }
)  # fmt: skip
TABLES = {"list": ("PPR0", "304"), "group": ("PPR0", "032"), "customer": ("PPR0", "305")}
OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)
GROUPING = (
    "sku",
    "price_type",
    "customer_group",
    "customer_id",
    "currency",
    "per_quantity",
    "valid_from",
    "valid_to",
)
Record = dict[str, Any]


@dataclass
class Fault:
    kind: str
    entity_set: str | None
    offset: int
    times: int


@dataclass
class SapService:
    """The served data (entity set -> records with Python values) and the server's behaviour."""

    data: dict[str, list[Record]]
    page_size: int = 1000
    user: str | None = "PRISM"
    password: str | None = "s3cret"
    token: str | None = None
    slow_seconds: float = 1.0
    retry_after: str = "3"
    cache_filters: bool = False  # memoise $filter results; only for data that no longer changes
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    filtered: dict[tuple[str, str | None], list[Record]] = field(default_factory=dict)

    def fail(
        self, kind: str, entity_set: str | None = None, offset: int = 0, times: int = 1
    ) -> None:
        """Arm a fault for ``entity_set`` (None: any) requests whose page starts at ``offset``."""
        assert kind in FAULTS, kind
        self.faults.append(Fault(kind, entity_set, offset, times))

    def take_fault(self, entity_set: str, offset: int) -> str | None:
        with self.lock:
            for fault in self.faults:
                matches = fault.entity_set in (None, entity_set) and fault.offset == offset
                if matches and fault.times > 0:
                    fault.times -= 1
                    return fault.kind
        return None

    def select(self, entity_set: str, expression: str | None) -> list[Record]:
        """The records matching ``$filter``, in key order (memoised when ``cache_filters``)."""
        key = (entity_set, expression)
        if self.cache_filters and key in self.filtered:
            return self.filtered[key]
        predicate = parse_filter(expression) if expression else None
        records = [r for r in self.data[entity_set] if predicate is None or predicate(r)]
        if self.cache_filters:
            self.filtered[key] = records
        return records

    def log(self, path: str, params: dict[str, str]) -> None:
        with self.lock:
            self.requests.append((path, params))

    def authorized(self, header: str | None) -> bool:
        if self.token is not None:
            return header == f"Bearer {self.token}"
        pair = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {pair}"


def handler_for(service: SapService) -> type[SapHandler]:
    """A handler class bound to ``service``; rebind with ``handler.service = other``."""
    return type("BoundSapHandler", (SapHandler,), {"service": service})


@contextmanager
def serve_sap(service: SapService) -> Iterator[str]:
    """Yield the base URL of a running server for ``service``."""
    with serve(handler_for(service)) as url:
        yield url


# --- the handler ------------------------------------------------------------------------------


class SapHandler(BaseHTTPRequestHandler):
    service: ClassVar[SapService]
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms stalls

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.service.log(parts.path, params)
        if parts.path == "/garbage":
            self._send(200, b"<html>not OData</html>", "text/html")
            return
        entity_set = parts.path.removeprefix(PREFIX)
        if not self.service.authorized(self.headers.get("Authorization")):
            self._error(401, "Unauthorized")
            return
        if entity_set not in self.service.data:
            self._error(404, f"Resource not found for segment '{entity_set}'")
            return
        self._collection(entity_set, params)

    def _collection(self, entity_set: str, params: dict[str, str]) -> None:
        records = self.service.select(entity_set, params.get("$filter"))
        skip = int(params.get("$skip", 0))
        end = skip + int(params["$top"]) if "$top" in params else len(records)
        start = int(params.get("$skiptoken", skip))
        stop = min(start + self.service.page_size, end, len(records))
        fault = self.service.take_fault(entity_set, start)
        if fault is not None and self._transport_fault(fault):
            return
        select, expand = parse_paths(params.get("$select")), parse_paths(params.get("$expand"))
        page = [shape(r, select, expand) for r in records[start:stop]]
        body: Record = {"results": page}
        if params.get("$inlinecount") == "allpages":
            body["__count"] = str(len(records))
        if stop < min(end, len(records)):
            query = {**params, "$skiptoken": str(stop)}
            body["__next"] = (
                f"{self._base()}{PREFIX}{entity_set}?{urlencode(query, quote_via=quote)}"
            )
        if fault is not None:
            body = self._data_fault(fault, body, records, start)
        self._json(200, {"d": body} if fault != "no_d" else body)

    def _transport_fault(self, fault: str) -> bool:
        """Faults that replace the response; True when the request is answered (or dropped)."""
        if fault == "429":
            self._error(429, "Too many requests", {"Retry-After": self.service.retry_after})
        elif fault == "503":
            self._error(503, "Service unavailable")
        elif fault == "401":
            self._error(401, "Token expired")
        elif fault == "echo":
            self._error(400, self._echo())
        elif fault == "malformed":
            self._send(200, b'{"d": {"results": [{"ConditionRecord": "00', "application/json")
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault == "slow":
            time.sleep(self.service.slow_seconds)
            return False
        else:
            return False
        return True

    def _data_fault(self, fault: str, body: Record, records: list[Record], start: int) -> Record:
        results = body["results"]
        if fault == "no_key" and results:
            results[0] = {k: v for k, v in results[0].items() if k not in KEYS.values()}
        elif fault == "duplicate" and start > 0 and results:
            results.insert(0, shape_like(records[start - 1], results[0]))
        elif fault == "short_count":
            body["__count"] = str(int(body.get("__count", len(records))) + 3)
        elif fault == "broken_next" and "__next" in body:
            body["__next"] = body["__next"].replace("?", "_Broken?", 1)
        elif fault == "garbage_next" and "__next" in body:
            body["__next"] = f"{self._base()}/garbage"
        return body

    def _echo(self) -> str:
        """A Gateway error that repeats the credentials: the header, decoded, and as configured."""
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        decoded = base64.b64decode(value).decode() if scheme == "Basic" else value
        service = self.service
        return (
            f"Logon failed for {decoded} (Authorization: {header}); "
            f"password {service.password}, token {service.token}"
        )

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _json(self, status: int, body: object) -> None:
        self._send(status, json.dumps(body, default=str).encode(), "application/json")

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        body = {"error": {"code": f"/IWFND/{status}", "message": {"lang": "en", "value": message}}}
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client gave up (timeout test)

    def handle(self) -> None:
        with suppress(ConnectionError):
            super().handle()  # a client that timed out or reset is part of the test

    def finish(self) -> None:
        with suppress(OSError, ValueError):
            super().finish()

    def log_message(self, *args: object) -> None:
        pass


# --- $select / $expand / serialisation --------------------------------------------------------

Paths = dict[str, "Paths"]


def parse_paths(text: str | None) -> Paths | None:
    """``a,b/c,b/d`` -> ``{"a": {}, "b": {"c": {}, "d": {}}}``; None when absent."""
    if text is None:
        return None
    tree: Paths = {}
    for path in filter(None, (p.strip() for p in text.split(","))):
        node = tree
        for part in path.split("/"):
            node = node.setdefault(part, {})
    return tree


def shape(record: Record, select: Paths | None, expand: Paths | None) -> Record:
    """The record as V2 JSON with only the selected properties and the expanded navigations."""
    out: Record = {}
    for name, value in record.items():
        is_nav = name.startswith("to_")
        if is_nav and (expand is None or name not in expand):
            continue
        if select is not None and "*" not in select and name not in select:
            continue
        if not is_nav:
            out[name] = encode(name, value)
            continue
        sub_select = None if select is None or not select.get(name) else select[name]
        out[name] = _nav(value, sub_select, expand[name] if expand else None)
    return out


def shape_like(record: Record, example: Record) -> Record:
    """``record`` with the same top-level properties as an already shaped ``example``."""
    return {k: encode(k, record[k]) if not k.startswith("to_") else example[k] for k in example}


def _nav(value: Any, select: Paths | None, expand: Paths | None) -> Any:
    if isinstance(value, list):
        return {"results": [shape(item, select, expand or {}) for item in value]}
    return None if value is None else shape(value, select, expand or {})


def encode(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        ms = (value - datetime(1970, 1, 1, tzinfo=UTC)) // _MS
        return f"/Date({ms}+0000)/" if name in OFFSET_FIELDS else f"/Date({ms})/"
    if isinstance(value, Decimal):
        return str(value)
    return value


_MS = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)


# --- $filter ----------------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<lit>(?:datetimeoffset|datetime)?'(?:[^']|'')*')|(?P<paren>[()])"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][\w/]*))"
)
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}
Predicate = Callable[[Record], bool]


def parse_filter(text: str) -> Predicate:
    tokens = tokenize(text)
    predicate = _or(tokens)
    if tokens:
        msg = f"unexpected {tokens[0]!r} in $filter"
        raise ValueError(msg)
    return predicate


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            msg = f"cannot parse $filter at {text[position:]!r}"
            raise ValueError(msg)
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _or(tokens: list[tuple[str, str]]) -> Predicate:
    parts = [_and(tokens)]
    while tokens and tokens[0] == ("word", "or"):
        tokens.pop(0)
        parts.append(_and(tokens))
    return lambda r: any(p(r) for p in parts)


def _and(tokens: list[tuple[str, str]]) -> Predicate:
    parts = [_factor(tokens)]
    while tokens and tokens[0] == ("word", "and"):
        tokens.pop(0)
        parts.append(_factor(tokens))
    return lambda r: all(p(r) for p in parts)


def _factor(tokens: list[tuple[str, str]]) -> Predicate:
    kind, text = tokens.pop(0)
    if (kind, text) == ("paren", "("):
        inner = _or(tokens)
        tokens.pop(0)
        return inner
    if (kind, text) == ("word", "not"):
        inner = _factor(tokens)
        return lambda r: not inner(r)
    op = OPS[tokens.pop(0)[1]]
    value = literal(*tokens.pop(0))
    return lambda r: op(r.get(text), value)


def literal(kind: str, text: str) -> Any:
    if kind == "num":
        return Decimal(text)
    if kind == "word":
        return {"true": True, "false": False, "null": None}[text]
    prefix, _, rest = text.partition("'")
    value = rest[:-1].replace("''", "'")
    if prefix == "datetime":
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if prefix == "datetimeoffset":
        return datetime.fromisoformat(value).astimezone(UTC)
    return value


# --- data from an ERP file drop ---------------------------------------------------------------


def from_snapshot(
    folder: Path,
    plants: dict[str, str],
    created: date = date(2026, 11, 1),
    changed: datetime = datetime(2026, 11, 1, 6, tzinfo=UTC),
) -> dict[str, list[Record]]:
    """SAP entities equivalent to a file drop (prices/stock/supply CSV, customers CSV if any).

    Limits of the SAP side, enforced here: amounts with at most 3 decimals, ``reserved`` 0,
    ``next_receipt_date`` empty, ``lead_time_days`` not 0 (0 means "not maintained" in SAP).
    Each customer is in the default sales area (1010/10/00), an inactive one flagged for
    deletion there; a second sales area per customer (another division, another price group)
    must be filtered out by the pull.
    """
    rows = {name: _read(folder / f"{name}.csv") for name in ("prices", "stock", "supply")}
    warehouses = {warehouse: plant for plant, warehouse in plants.items()}
    first_plant = sorted(plants)[0]
    conditions = condition_records(rows["prices"], created)
    stock = [r for row in rows["stock"] for r in stock_records(row, warehouses[row["warehouse"]])]
    supplied = {row["sku"]: row for row in rows["supply"]}
    skus = sorted({r["sku"] for table in rows.values() for r in table})
    products = [product(sku, supplied.get(sku), first_plant, changed) for sku in skus]
    customers = _read(folder / "customers.csv") if (folder / "customers.csv").exists() else []
    areas = [r for row in customers for r in sales_areas(row)]
    central = [customer(row) for row in customers]
    data = {CONDITIONS: conditions, STOCK: stock, PRODUCTS: products}
    return data | {SALES_AREAS: sorted(areas, key=_area_key), CUSTOMERS: central}


def sales_areas(row: dict[str, str]) -> list[Record]:
    """A_CustomerSalesArea: the default area with the row's price group, and one in division 99
    with another group (to be filtered out)."""
    own = {
        "Customer": row["customer_id"],
        **SALES_AREA,
        "CustomerPriceGroup": row["customer_group"],
        "CustomerGroup": "",
        "Currency": row["currency"],
        "DeletionIndicator": row["active"].lower() not in {"true", "1", "yes", "x"},
        "OrderIsBlockedForCustomer": "",
    }
    other = own | {"Division": "99", "CustomerPriceGroup": "ZZ", "DeletionIndicator": False}
    return [own, other]


def customer(row: dict[str, str]) -> Record:
    """A_Customer: the name (nothing here for a customer without one) and no central block."""
    return {
        "Customer": row["customer_id"],
        "CustomerName": row["name"],
        "DeletionIndicator": False,
        "OrderIsBlockedForCustomer": "",
    }


def _area_key(record: Record) -> tuple[str, ...]:
    return tuple(
        record[k] for k in ("Customer", "SalesOrganization", "DistributionChannel", "Division")
    )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def condition_records(prices: list[dict[str, str]], created: date) -> list[Record]:
    """One condition record per price (key, currency, unit, validity); tiers become scales."""
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in prices:
        key = tuple(row[c] for c in GROUPING)
        groups.setdefault(key, []).append(row)
    return [
        condition_record(f"{number:010d}", tiers, created)
        for number, tiers in enumerate(groups.values(), start=1)
    ]


def condition_record(number: str, tiers: list[dict[str, str]], created: date) -> Record:
    """A_SlsPrcgConditionRecord with its validity and (when tiered) its scale lines."""
    tiers = sorted(tiers, key=lambda r: Decimal(r["min_quantity"] or "1"))
    head = tiers[0]
    kind, table = TABLES[head["price_type"]]
    scaled = len(tiers) > 1 or Decimal(head["min_quantity"] or "1") != 1
    start = _day(head["valid_from"]) if head["valid_from"] else None
    end = _day(head["valid_to"]) if head["valid_to"] else OPEN_END
    return {
        "ConditionRecord": number,
        "ConditionSequentialNumber": "01",
        "ConditionTable": table,
        "ConditionApplication": "V",
        "ConditionType": kind,
        "ConditionValidityStartDate": start,
        "ConditionValidityEndDate": end,
        "CreationDate": datetime(created.year, created.month, created.day, tzinfo=UTC),
        "ConditionCalculationType": "C",
        "PricingScaleType": "A" if scaled else "",
        "PricingScaleBasis": "C" if scaled else "",
        "ConditionRateValue": _amount(head["amount"]),
        "ConditionRateValueUnit": head["currency"],
        "ConditionQuantity": Decimal(head["per_quantity"] or "1"),
        "ConditionQuantityUnit": "PC",
        "ConditionIsDeleted": False,
        "to_SlsPrcgCndnRecdValidity": [validity(number, head, kind, start, end)],
        "to_SlsPrcgCndnRecordScale": [scale(number, i, t) for i, t in enumerate(tiers, 1)]
        if scaled
        else [],
    }


def validity(number: str, row: dict[str, str], kind: str, start: Any, end: datetime) -> Record:
    return {
        "ConditionRecord": number,
        "ConditionValidityEndDate": end,
        "ConditionValidityStartDate": start,
        "ConditionApplication": "V",
        "ConditionType": kind,
        "SalesOrganization": "1010",
        "DistributionChannel": "10",
        "Material": row["sku"],
        "Customer": row["customer_id"],
        "CustomerPriceGroup": row["customer_group"],
        "CustomerGroup": "",
    }


def scale(number: str, line: int, row: dict[str, str]) -> Record:
    return {
        "ConditionRecord": number,
        "ConditionSequentialNumber": "01",
        "ConditionScaleLine": f"{line:04d}",
        "ConditionScaleQuantity": Decimal(row["min_quantity"] or "1").quantize(Decimal("0.001")),
        "ConditionScaleQuantityUnit": "PC",
        "ConditionRateValue": _amount(row["amount"]),
        "ConditionRateValueUnit": row["currency"],
    }


def stock_records(row: dict[str, str], plant: str) -> list[Record]:
    """Unrestricted stock split over two storage locations, plus quality stock to be ignored."""
    assert row["reserved"] in ("", "0"), "SAP stock APIs carry no reservations"
    on_hand = Decimal(row["on_hand"])
    first = (on_hand / 2).to_integral_value()
    split = [("0001", "01", first), ("0002", "01", on_hand - first), ("0001", "02", Decimal(7))]
    return [stock_record(row["sku"], plant, place, kind, q) for place, kind, q in split]


def stock_record(sku: str, plant: str, place: str, kind: str, quantity: Decimal) -> Record:
    return {
        "Material": sku,
        "Plant": plant,
        "StorageLocation": place,
        "Batch": "",
        "Supplier": "",
        "Customer": "",
        "WBSElementInternalID": "",
        "SDDocument": "",
        "SDDocumentItem": "",
        "InventorySpecialStockType": "",
        "InventoryStockType": kind,
        "WBSElementExternalID": "",
        "MaterialBaseUnit": "PC",
        "MatlWrhsStkQtyInMatlBaseUnit": quantity.quantize(Decimal("1e-14")),
    }


def product(sku: str, supply: dict[str, str] | None, plant: str, changed: datetime) -> Record:
    """A_Product; a supply row becomes a plant whose lead time = planned delivery + GR time."""
    plants = []
    if supply is not None:
        assert not supply["next_receipt_date"], "SAP product APIs carry no receipt dates"
        assert supply["lead_time_days"] != "0", "0 means not maintained in SAP"
        lead = Decimal(supply["lead_time_days"] or "0")
        receipt = Decimal(1) if lead >= 1 else Decimal(0)
        plants.append(product_plant(sku, plant, lead - receipt, receipt))
    return {"Product": sku, "LastChangeDateTime": changed, "to_Plant": plants}


def product_plant(sku: str, plant: str, delivery: Decimal, receipt: Decimal) -> Record:
    planning = {
        "Product": sku,
        "Plant": plant,
        "PlannedDeliveryDurationInDays": delivery,
        "GoodsReceiptDuration": receipt,
    }
    return {"Product": sku, "Plant": plant, "to_ProductSupplyPlanning": planning}


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _amount(text: str) -> Decimal:
    amount = Decimal(text)
    assert amount == amount.quantize(Decimal("0.001")), f"SAP rates have 3 decimals: {text}"
    return amount.quantize(Decimal("0.001"))
