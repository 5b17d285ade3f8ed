from __future__ import annotations

import base64
import csv
import json
import logging
import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import servers.sap as sap
from servers.sap import (
    CONDITIONS,
    PRODUCTS,
    STOCK,
    SapHandler,
    SapService,
    from_snapshot,
    serve_sap,
)

from contracts.config import SapSource
from sources.erp_files import PRICE_COLUMNS, STOCK_COLUMNS, SUPPLY_COLUMNS
from sources.http import SourceError
from sources.sap.client import BasicAuth, BearerAuth, ODataClient
from sources.sap.edm import parse_date, parse_decimal, plain
from sources.sap.mapping import map_prices, map_stock
from sources.sap.pull import PullResult, pull_erp_snapshot
from sources.sap.snapshot import read_table

PLANTS = {"1010": "Main", "1020": "East"}
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
NUMERIC = {"amount", "per_quantity", "min_quantity", "on_hand", "reserved", "lead_time_days"}
PRICES = """\
sku,price_type,customer_group,customer_id,currency,amount,per_quantity,min_quantity,valid_from,valid_to
SKU-1,list,,,EUR,19.990,1,1,2026-01-01,
SKU-1,list,,,EUR,17.5,1,10,2026-01-01,
SKU-1,list,,,EUR,15.25,1,100,2026-01-01,
SKU-1,list,,,USD,21.5,1,1,2026-01-01,2026-12-31
SKU-1,group,B2B,,EUR,18.000,1,1,,
SKU-1,customer,,C-1000,EUR,16.105,1,1,2026-02-01,2026-06-30
SKU-2,list,,,EUR,0.105,100,1,2026-01-01,2026-12-31
SKU-2,list,,,EUR,0.095,100,5,2027-01-01,
SKU-3,customer,,C-2000,CHF,1234.5,1,1,2026-03-01,
"""
STOCK_CSV = "sku,warehouse,on_hand,reserved\nSKU-1,Main,25,0\nSKU-1,East,3,0\nSKU-2,Main,0,0\n"
SUPPLY_CSV = "sku,lead_time_days,next_receipt_date\nSKU-1,5,\nSKU-2,,\nSKU-3,1,\n"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop" / "20261122T050000Z"
    folder.mkdir(parents=True)
    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    (folder / "stock.csv").write_text(STOCK_CSV, encoding="utf-8")
    (folder / "supply.csv").write_text(SUPPLY_CSV, encoding="utf-8")
    return folder


@pytest.fixture
def service(drop: Path, sap_server: tuple[type[SapHandler], str]) -> SapService:
    sap_server[0].service = SapService(from_snapshot(drop, PLANTS), page_size=2)
    return sap_server[0].service


@pytest.fixture
def base_url(service: SapService, sap_server: tuple[type[SapHandler], str]) -> str:
    return sap_server[1]


AUTH = BasicAuth(user="PRISM", password="s3cret")


def settings_for(base_url: str, **overrides: object) -> SapSource:
    values: dict[str, object] = {
        "kind": "sap",
        "base_url": base_url,
        "root": "unused",
        "plants": PLANTS,
        "page_size": 4,
        "timeout": 5.0,
        "retry_attempts": 3,
    }
    return SapSource.model_validate(values | overrides)


def pull(
    settings: SapSource, root: Path, auth: BasicAuth | BearerAuth = AUTH, **kwargs: Any
) -> PullResult:
    """Pull ``settings`` into ``root``."""
    return pull_erp_snapshot(settings.model_copy(update={"root": root}), auth, **kwargs)


def rows(folder: Path, name: str) -> Counter[tuple[tuple[str, object], ...]]:
    """Rows read with the csv module, numbers as exact Decimals, order ignored."""
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return Counter(normalise(row) for row in csv.DictReader(handle))


def normalise(row: dict[str, str]) -> tuple[tuple[str, object], ...]:
    return tuple((k, Decimal(v) if k in NUMERIC and v else v) for k, v in sorted(row.items()))


def price_row(line: str) -> dict[str, str]:
    return dict(zip(PRICE_COLUMNS, line.split(","), strict=True))


def snapshot_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# --- full pull --------------------------------------------------------------------------------


def test_full_pull_reproduces_the_file_drop(drop: Path, base_url: str, tmp_path: Path) -> None:
    root = tmp_path / "erp"
    result = pull(settings_for(base_url), root, full=True, now=NOW)
    assert result.snapshot == root / "20261122T060000Z"
    assert snapshot_dirs(root) == ["20261122T060000Z", "state.json"]
    for name in ("prices", "stock", "supply"):
        assert rows(result.snapshot, name) == rows(drop, name), name
    assert (result.prices, result.stock, result.supply) == (9, 3, 3)
    assert (
        result.records == 7 + 6 + 3
    )  # conditions, unrestricted stock records (QI filtered), products
    assert result.unmapped_plants == {}
    assert result.records_per_second > 0


def test_csv_header_and_exact_text(base_url: str, tmp_path: Path) -> None:
    result = pull(settings_for(base_url), tmp_path, full=True, now=NOW)
    lines = (result.snapshot / "prices.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(PRICE_COLUMNS)
    assert "SKU-1,customer,,C-1000,EUR,16.105,1,1,2026-02-01,2026-06-30" in lines
    assert "SKU-2,list,,,EUR,0.095,100,5,2027-01-01," in lines
    stock = (result.snapshot / "stock.csv").read_text(encoding="utf-8").splitlines()
    assert stock[0] == ",".join(STOCK_COLUMNS)
    assert "SKU-1,East,3,0" in stock


def test_parquet_snapshot_has_string_columns(drop: Path, base_url: str, tmp_path: Path) -> None:
    settings = settings_for(base_url, file_format="parquet")
    result = pull(settings, tmp_path, full=True, now=NOW)
    supply = read_table(result.snapshot, "supply")
    assert sorted(r["sku"] for r in supply) == ["SKU-1", "SKU-2", "SKU-3"]
    assert Counter(normalise(r) for r in read_table(result.snapshot, "prices")) == rows(
        drop, "prices"
    )
    schema = pl.read_parquet_schema(result.snapshot / "supply.parquet")
    assert list(schema) == list(SUPPLY_COLUMNS)
    assert set(schema.values()) == {pl.String}


def test_select_expand_filter_and_paging_are_sent(
    service: SapService, base_url: str, tmp_path: Path
) -> None:
    pull(settings_for(base_url), tmp_path, full=True, now=NOW)
    first = {path: params for path, params in reversed(service.requests)}
    prices = first["/sap/opu/odata/sap/" + CONDITIONS]
    assert prices["$format"] == "json"
    assert prices["$inlinecount"] == "allpages"
    assert (prices["$top"], prices["$skip"]) == ("4", "0")
    assert prices["$filter"] == "ConditionType eq 'PPR0'"
    assert prices["$expand"] == "to_SlsPrcgCndnRecdValidity,to_SlsPrcgCndnRecordScale"
    assert "to_SlsPrcgCndnRecdValidity/CustomerPriceGroup" in prices["$select"].split(",")
    assert "ConditionRateValue" in prices["$select"].split(",")
    stock = first["/sap/opu/odata/sap/" + STOCK]
    assert stock["$filter"] == "InventoryStockType eq '01' and InventorySpecialStockType eq ''"
    assert "MatlWrhsStkQtyInMatlBaseUnit" in stock["$select"]
    products = first["/sap/opu/odata/sap/" + PRODUCTS]
    assert "$filter" not in products
    assert products["$expand"] == "to_Plant,to_Plant/to_ProductSupplyPlanning"
    skips = sorted(
        {p.get("$skiptoken", p["$skip"]) for path, p in service.requests if CONDITIONS in path}
    )
    assert skips == ["0", "2", "4", "6"]  # client pages of 4, server pages of 2 via __next


def test_bearer_token_auth(
    drop: Path, sap_server: tuple[type[SapHandler], str], tmp_path: Path
) -> None:
    handler, url = sap_server
    handler.service = SapService(
        from_snapshot(drop, PLANTS), token="tok-123", user=None, password=None
    )
    settings = settings_for(url, auth="bearer")
    token = BearerAuth(token="tok-123")
    result = pull(settings, tmp_path / "erp", token, full=True, now=NOW)
    assert result.prices == 9
    assert "tok-123" not in repr(token)
    stale = BearerAuth(token="stale-tok-999")
    with pytest.raises(SourceError, match="HTTP 401") as error:
        pull(settings, tmp_path / "other", stale, full=True, now=NOW)
    assert "stale-tok-999" not in str(error.value)


# --- deltas -----------------------------------------------------------------------------------


def test_delta_pull_merges_changes_and_advances_the_mark(
    service: SapService, base_url: str, tmp_path: Path
) -> None:
    settings = settings_for(base_url)
    root = tmp_path / "erp"
    first = pull(settings, root, now=NOW)
    assert first.full
    state = json.loads((root / "state.json").read_text())
    assert state["marks"] == {
        "prices": "2026-11-01T00:00:00+00:00",
        "supply": "2026-11-01T06:00:00+00:00",
    }

    created = date(2026, 11, 23)
    new_list = [price_row("SKU-1,list,,,EUR,18.990,1,1,2026-01-01,")]
    new_customer = [price_row("SKU-2,customer,,C-3000,EUR,0.09,100,1,2026-11-23,")]
    # SAP ends or removes a record that a new one for the same key fully overlaps
    old = next(r for r in service.data[CONDITIONS] if r["ConditionRecord"] == "0000000001")
    service.data[CONDITIONS].remove(old)
    service.data[CONDITIONS] += [
        sap.condition_record("0000000101", new_list, created),
        sap.condition_record("0000000102", new_customer, created),
    ]
    changed = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    sku2 = next(p for p in service.data[PRODUCTS] if p["Product"] == "SKU-2")
    sku2["LastChangeDateTime"] = changed
    sku2["to_Plant"] = [sap.product_plant("SKU-2", "1010", Decimal(9), Decimal(2))]
    service.data[STOCK][0]["MatlWrhsStkQtyInMatlBaseUnit"] = Decimal("40.75")
    service.requests.clear()

    second = pull(settings, root, now=datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert not second.full
    filters = {path: p.get("$filter") for path, p in service.requests}
    assert filters[sap.PREFIX + CONDITIONS] == (
        "(ConditionType eq 'PPR0') and (CreationDate ge datetime'2026-11-01T00:00:00')"
    )
    assert (
        filters[sap.PREFIX + PRODUCTS]
        == "LastChangeDateTime ge datetimeoffset'2026-11-01T06:00:00.000Z'"
    )
    prices = read_table(second.snapshot, "prices")
    sku1_list_eur = [
        r
        for r in prices
        if r["sku"] == "SKU-1" and r["price_type"] == "list" and r["currency"] == "EUR"
    ]
    assert [(r["amount"], r["min_quantity"]) for r in sku1_list_eur] == [("18.990", "1")]
    assert {"SKU-2", "customer", "C-3000", "0.090"} <= set(
        next(r for r in prices if r["customer_id"] == "C-3000").values()
    )
    assert len(prices) == 9 - 3 + 1 + 1
    supply = {r["sku"]: r["lead_time_days"] for r in read_table(second.snapshot, "supply")}
    assert supply == {"SKU-1": "5", "SKU-2": "11", "SKU-3": "1"}
    stock = {(r["sku"], r["warehouse"]): r["on_hand"] for r in read_table(second.snapshot, "stock")}
    assert stock[("SKU-1", "Main")] == "53"  # 40.75 + 13 in the other location, floored
    state = json.loads((root / "state.json").read_text())
    assert state == {
        "snapshot": "20261123T090000Z",
        "marks": {"prices": "2026-11-23T00:00:00+00:00", "supply": "2026-11-23T08:30:00+00:00"},
    }
    third = pull(settings, root, now=datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert third.records == 2 + 6 + 1  # only the two new conditions, all stock, one product
    assert rows(third.snapshot, "prices") == rows(second.snapshot, "prices")
    assert snapshot_dirs(root) == [
        "20261122T060000Z",
        "20261123T090000Z",
        "20261123T100000Z",
        "state.json",
    ]


def test_incremental_without_state_pulls_in_full(base_url: str, tmp_path: Path) -> None:
    result = pull(settings_for(base_url), tmp_path, full=False, now=NOW)
    assert result.full
    assert result.prices == 9


# --- parsing and mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1700000000000)/", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("/Date(1700000000000+0000)/", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("/Date(1700000000123+0060)/", datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("/Date(253402214400000)/", datetime(9999, 12, 31, tzinfo=UTC)),
    ],
)
def test_parse_date_is_exact(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("bad", ["2026-01-01", "/Date(12.5)/", None, 1700000000000])
def test_parse_date_rejects_other_forms(bad: object) -> None:
    with pytest.raises(SourceError, match="not an OData date"):
        parse_date(bad)


def test_decimals_are_exact_and_floats_refused() -> None:
    assert parse_decimal("0.105") + parse_decimal("0.2") == Decimal("0.305")
    assert plain(parse_decimal("25.00000000000000")) == "25"
    assert plain(parse_decimal("100")) == "100"
    with pytest.raises(SourceError, match="not a decimal"):
        parse_decimal(0.1)
    with pytest.raises(SourceError, match="not a decimal"):
        parse_decimal("1,5")


def test_stock_is_summed_exactly_then_floored() -> None:
    records = [
        sap.stock_record("M1", "1010", "0001", "01", Decimal("0.1")),
        sap.stock_record("M1", "1010", "0002", "01", Decimal("0.2")),
        sap.stock_record("M1", "1010", "0003", "01", Decimal("2.7")),
        sap.stock_record("M2", "1020", "0001", "01", Decimal("5")),
    ]
    shaped = [sap.shape(r, None, None) for r in records]
    stock, unmapped = map_stock(shaped, PLANTS)
    assert stock == [
        {"sku": "M1", "warehouse": "Main", "on_hand": "3", "reserved": "0"},
        {"sku": "M2", "warehouse": "East", "on_hand": "5", "reserved": "0"},
    ]
    assert unmapped == {}


def test_unmapped_plants_are_reported_not_dropped_silently(
    service: SapService, base_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service.data[STOCK].append(sap.stock_record("SKU-3", "9999", "0001", "01", Decimal("4.25")))
    with caplog.at_level(logging.WARNING, logger="sources.sap"):
        result = pull(settings_for(base_url), tmp_path, full=True, now=NOW)
    assert result.unmapped_plants == {"9999": Decimal("4.25")}
    assert {r["warehouse"] for r in read_table(result.snapshot, "stock")} == {"Main", "East"}
    assert "plant 9999 is not mapped" in caplog.text


def condition(table: str, validity: dict[str, object], **fields: object) -> dict[str, object]:
    base = {
        "ConditionRecord": "0000000001",
        "ConditionType": "PPR0",
        "ConditionTable": table,
        "ConditionCalculationType": "C",
        "ConditionRateValue": "10.000",
        "ConditionRateValueUnit": "EUR",
        "ConditionQuantity": "1",
        "to_SlsPrcgCndnRecdValidity": {"results": [{
            "ConditionValidityStartDate": "/Date(1767225600000)/",
            "ConditionValidityEndDate": "/Date(253402214400000)/",
            "SalesOrganization": "1010",
            "DistributionChannel": "10",
            **validity,
        }]},
        "to_SlsPrcgCndnRecordScale": {"results": []},
    }  # fmt: skip
    return base | fields


def test_condition_mapping_by_type_and_table(tmp_path: Path) -> None:
    settings = settings_for(
        "http://127.0.0.1:1", condition_types={"PPR0/305": "customer", "ZPR1": "list"}
    )
    records = [
        condition("305", {"Material": "M1", "Customer": "C1"}),
        condition("304", {"Material": "M1"}),  # PPR0/304 not mapped here
        condition("900", {"Material": "M2"}, ConditionType="ZPR1", ConditionRecord="2"),
    ]
    rows_, keys, skipped = map_prices(records, settings)
    assert skipped == 1
    assert [
        (r["sku"], r["price_type"], r["customer_id"], r["valid_from"], r["valid_to"]) for r in rows_
    ] == [
        ("M1", "customer", "C1", "2026-01-01", ""),
        ("M2", "list", "", "2026-01-01", ""),
    ]
    assert ("M1", "customer", "", "C1", "") in keys


M1 = {"Material": "M1"}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (condition("032", M1), r"group price\) lacks key field\(s\) \['CustomerPriceGroup'\]"),
        (condition("304", M1, ConditionRateValueUnit="%"), "not an ISO 4217 currency"),
        (condition("304", M1, ConditionCalculationType="A"), "not a quantity price"),
        (condition("304", M1, ConditionRateValue=1.5), "not a decimal"),
        (
            condition(
                "304",
                M1,
                to_SlsPrcgCndnRecordScale={"results": [{}]},
                PricingScaleType="B",
                PricingScaleBasis="C",
            ),
            "quantity from-scale",
        ),
    ],
)
def test_condition_records_that_cannot_be_priced_are_errors(
    record: dict[str, object], message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        map_prices([record], settings_for("http://127.0.0.1:1"))


def test_sales_org_filter_and_next_link_to_other_host_refused() -> None:
    settings = settings_for("http://127.0.0.1:1", sales_organization="2020")
    assert map_prices([condition("304", {"Material": "M1"})], settings)[0] == []
    odata = ODataClient(settings, AUTH, httpx.Client())
    current = httpx.URL("http://127.0.0.1:1/sap/opu/odata/sap/X/Y?$top=1")
    assert odata._next_url("Y?$skiptoken=2", current).path == "/sap/opu/odata/sap/X/Y"
    with pytest.raises(SourceError, match="__next leaves the SAP host"):
        odata._next_url("https://evil.example/steal", current)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="base_url"):
        settings_for("http://user:pw@host")
    with pytest.raises(ValueError, match="condition_types"):
        settings_for("http://host", condition_types={"PPR0/30455": "list"})
    with pytest.raises(ValueError, match="extra"):
        settings_for("http://host", page=3)


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "entity_set", "offset"),
    [("429", CONDITIONS, 0), ("503", STOCK, 0), ("reset", PRODUCTS, 0), ("slow", CONDITIONS, 2)],
)
def test_transient_faults_are_retried(
    kind: str,
    entity_set: str,
    offset: int,
    drop: Path,
    service: SapService,
    base_url: str,
    tmp_path: Path,
) -> None:
    service.fail(kind, entity_set, offset)
    service.slow_seconds = 1.5
    waits: list[float] = []
    settings = settings_for(base_url, timeout=0.5 if kind == "slow" else 5.0)
    result = pull(settings, tmp_path, full=True, now=NOW, sleep=waits.append)
    assert len(waits) == 1
    if kind == "429":
        assert waits == [3.0]
    assert rows(result.snapshot, "prices") == rows(drop, "prices")


@pytest.mark.parametrize(
    ("kind", "entity_set", "offset", "times", "message"),
    [
        ("503", CONDITIONS, 0, 10, r"failed after 3 attempts \(HTTP 503\)"),
        ("malformed", CONDITIONS, 0, 1, "malformed JSON"),
        ("no_d", STOCK, 0, 1, "page has no 'd' object"),
        ("no_key", PRODUCTS, 0, 1, r"record without its key \['Product'\]"),
        ("broken_next", CONDITIONS, 0, 1, r"HTTP 404 \(Resource not found.*paging chain broken"),
        ("garbage_next", CONDITIONS, 0, 1, r"/garbage: malformed JSON.*paging chain broken"),
        (
            "duplicate",
            CONDITIONS,
            2,
            1,
            "duplicate record across pages: {'ConditionRecord': '0000000002'}",
        ),
        ("short_count", STOCK, 0, 1, "paging truncated, got 6 records but __count announced 9"),
        ("401", PRODUCTS, 0, 1, r"HTTP 401 Unauthorized \(credentials rejected or token expired\)"),
    ],
)
def test_fatal_faults_raise_and_leave_no_snapshot(
    kind: str, entity_set: str, offset: int, times: int, message: str,
    service: SapService, base_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    service.fail(kind, entity_set, offset, times)
    root = tmp_path / "erp"
    with pytest.raises(SourceError, match=message) as error:
        pull(settings_for(base_url), root, full=True, now=NOW, sleep=lambda _: None)
    text = str(error.value)
    assert text.startswith("sap: ")
    assert base_url in text
    assert "s3cret" not in text
    assert "UFJJU006czNjcmV0" not in text  # base64 of the basic credentials
    assert snapshot_dirs(root) == []


ECHO_TOKEN = "tok-echo-42"


@pytest.mark.parametrize("kind", ["basic", "bearer"])
def test_credentials_echoed_by_the_server_are_masked_in_errors_and_logs(
    kind: str,
    drop: Path,
    sap_server: tuple[type[SapHandler], str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, url = sap_server
    if kind == "basic":
        handler.service = SapService(from_snapshot(drop, PLANTS), page_size=2)
        auth: BasicAuth | BearerAuth = AUTH
        secrets = ["s3cret", "PRISM:s3cret", "UFJJU006czNjcmV0"]
    else:
        data = from_snapshot(drop, PLANTS)
        handler.service = SapService(data, token=ECHO_TOKEN, user=None, password=None)
        auth = BearerAuth(token=ECHO_TOKEN)
        secrets = [ECHO_TOKEN, base64.b64encode(ECHO_TOKEN.encode()).decode()]
    handler.service.fail("echo", STOCK, 0)
    settings = settings_for(url, auth=kind)
    with caplog.at_level(logging.DEBUG, logger="sources"), pytest.raises(SourceError) as error:
        pull(settings, tmp_path / "erp", auth, full=True, now=NOW)
    message = str(error.value)
    assert "HTTP 400 (Logon failed for *** (Authorization: " in message
    texts = [message, caplog.text, *(r.getMessage() for r in caplog.records)]
    assert [s for s in secrets if any(s in text for text in texts)] == []
    assert snapshot_dirs(tmp_path / "erp") == []


def test_a_long_echo_is_masked_before_it_is_cut() -> None:
    """SAP messages are cut to 200 characters; cutting before masking would show the head of
    a secret that straddles the cut."""

    def answer(request: httpx.Request) -> httpx.Response:
        value = "x" * 190 + request.headers["Authorization"]
        return httpx.Response(400, json={"error": {"message": {"value": value}}})

    settings = settings_for("http://127.0.0.1:1")
    client = httpx.Client(transport=httpx.MockTransport(answer))
    with ODataClient(settings, AUTH, client) as odata, pytest.raises(SourceError) as error:
        odata.get_json(httpx.URL("http://127.0.0.1:1/sap/opu/odata/sap/X/Y"))
    assert str(error.value).endswith("x" * 190 + "Basic ***)")


def test_failed_delta_keeps_previous_snapshot_and_state(
    service: SapService, base_url: str, tmp_path: Path
) -> None:
    settings = settings_for(base_url)
    root = tmp_path / "erp"
    pull(settings, root, now=NOW)
    state = (root / "state.json").read_text()
    service.fail("malformed", STOCK, 0)
    with pytest.raises(SourceError, match="malformed JSON"):
        pull(settings, root, now=datetime(2026, 11, 23, tzinfo=UTC))
    assert snapshot_dirs(root) == ["20261122T060000Z", "state.json"]
    assert (root / "state.json").read_text() == state


# --- throughput -------------------------------------------------------------------------------


def generated_drop(folder: Path, products: int) -> Path:
    """``products`` SKUs x (list with 2 tiers, group, customer) prices, 2 warehouses, supply."""
    folder.mkdir(parents=True)
    prices, stock, supply = (
        [PRICES.splitlines()[0]],
        [STOCK_CSV.splitlines()[0]],
        [SUPPLY_CSV.splitlines()[0]],
    )
    for n in range(products):
        sku = f"P{n:06d}"
        prices += [
            f"{sku},list,,,EUR,{n % 997}.125,1,1,2026-01-01,",
            f"{sku},list,,,EUR,{n % 997}.005,1,10,2026-01-01,",
            f"{sku},group,B2B,,EUR,{n % 991}.5,1,1,2026-01-01,",
            f"{sku},customer,,C{n % 50:04d},EUR,{n % 983}.25,1,1,2026-01-01,2026-12-31",
        ]
        stock += [f"{sku},Main,{n % 40},0", f"{sku},East,{n % 7 + 1000},0"]
        supply.append(f"{sku},{n % 30 + 1},")
    for name, lines in (("prices", prices), ("stock", stock), ("supply", supply)):
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def pull_throughput(tmp_path: Path, products: int) -> tuple[Path, float]:
    drop = generated_drop(tmp_path / "drop", products)
    service = SapService(from_snapshot(drop, PLANTS), page_size=1000, cache_filters=True)
    with serve_sap(service) as url:
        started = time.perf_counter()
        result = pull(settings_for(url, page_size=1000), tmp_path / "erp", full=True, now=NOW)
        seconds = time.perf_counter() - started
    logging.getLogger(__name__).info(
        "%d products: %d records in %.2f s = %.0f records/s",
        products, result.records, seconds, result.records_per_second,
    )  # fmt: skip
    assert rows(result.snapshot, "prices") == rows(drop, "prices")
    return result.snapshot, result.records_per_second


def test_throughput_against_local_server(tmp_path: Path) -> None:
    _, rate = pull_throughput(tmp_path, 1000)
    assert rate > 500
