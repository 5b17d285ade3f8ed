"""The SAP pull's customer master: A_CustomerSalesArea of the configured sales area (price
group, currency, deletion flag) with names from A_Customer, into the snapshot's customers file,
read back by the file-drop reader; paged, and retried through a transient fault."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from servers.sap import CUSTOMERS, SALES_AREAS, SapHandler, SapService, from_snapshot

from contracts.config import SapSource
from sources.erp_files import read_erp_snapshot
from sources.http import SourceError
from sources.sap.client import BasicAuth
from sources.sap.pull import pull_erp_snapshot
from sources.sap.queries import customer_area_query

PLANTS = {"1010": "Main"}
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
AUTH = BasicAuth(user="PRISM", password="s3cret")
PRICES = (
    "sku,price_type,customer_group,customer_id,currency,amount,per_quantity,min_quantity,"
    "valid_from,valid_to\nSKU-1,list,,,EUR,10.000,1,1,,\nSKU-1,group,01,,EUR,9.000,1,1,,\n"
)
CUSTOMERS_CSV = """customer_id,customer_group,name,currency,active
0000100001,01,Baumarkt Nord GmbH,EUR,true
0000100002,02,Industriebedarf Süd AG,EUR,true
0000100003,01,Alt OHG,EUR,false
0000100004,,,USD,true
0000100005,02,Export Ltd,USD,true
"""


@pytest.fixture
def service(tmp_path: Path, sap_server: tuple[type[SapHandler], str]) -> SapService:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    (folder / "stock.csv").write_text("sku,warehouse,on_hand,reserved\nSKU-1,Main,1,0\n")
    (folder / "supply.csv").write_text("sku,lead_time_days,next_receipt_date\n")
    (folder / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    sap_server[0].service = SapService(from_snapshot(folder, PLANTS), page_size=2)
    return sap_server[0].service


def settings(base_url: str, root: Path, **overrides: object) -> SapSource:
    values = {"kind": "sap", "base_url": base_url, "root": str(root), "plants": PLANTS}
    return SapSource.model_validate(values | {"page_size": 3, "retry_attempts": 3} | overrides)


def test_the_sales_areas_customers_land_in_the_snapshot_with_their_price_group(
    service: SapService, sap_server: tuple[type[SapHandler], str], tmp_path: Path
) -> None:
    result = pull_erp_snapshot(settings(sap_server[1], tmp_path / "erp"), AUTH, full=True, now=NOW)
    assert result.customers == 5
    snapshot = read_erp_snapshot(result.snapshot, customers_for=("quoting",))
    assert snapshot.rejects.is_empty()
    assert snapshot.customers.drop("erp_source").rows() == [
        ("0000100001", "01", "Baumarkt Nord GmbH", "EUR", True),
        ("0000100002", "02", "Industriebedarf Süd AG", "EUR", True),
        ("0000100003", "01", "Alt OHG", "EUR", False),
        ("0000100004", None, None, "USD", True),
        ("0000100005", "02", "Export Ltd", "USD", True),
    ]
    # 10 sales areas (two divisions) filtered to 5 by the server, read 2 per page
    areas = [p for path, p in service.requests if path.endswith(SALES_AREAS)]
    assert len(areas) == 3
    assert "Division eq '00'" in areas[0]["$filter"]
    assert any(path.endswith(CUSTOMERS) for path, _ in service.requests)


def test_a_transient_fault_on_the_customers_is_retried(
    service: SapService, sap_server: tuple[type[SapHandler], str], tmp_path: Path
) -> None:
    service.fail("503", SALES_AREAS, 2)
    waits: list[float] = []
    result = pull_erp_snapshot(
        settings(sap_server[1], tmp_path / "erp"), AUTH, full=True, now=NOW, sleep=waits.append
    )
    assert len(waits) == 1
    assert result.customers == 5


def test_a_lasting_fault_fails_the_pull_and_leaves_no_snapshot(
    service: SapService, sap_server: tuple[type[SapHandler], str], tmp_path: Path
) -> None:
    service.fail("503", CUSTOMERS, 0, times=10)
    root = tmp_path / "erp"
    with pytest.raises(SourceError, match=r"A_Customer.*HTTP 503"):
        pull_erp_snapshot(settings(sap_server[1], root), AUTH, full=True, sleep=lambda _: None)
    assert not [p for p in root.iterdir() if p.is_dir()]


def test_without_a_sales_area_no_customers_are_pulled(
    service: SapService, sap_server: tuple[type[SapHandler], str], tmp_path: Path
) -> None:
    config = settings(
        sap_server[1], tmp_path / "erp", customer_sales_area=None, file_format="parquet"
    )
    result = pull_erp_snapshot(config, AUTH, full=True, now=NOW)
    assert result.customers is None
    assert not (result.snapshot / "customers.parquet").exists()
    assert not any("API_BUSINESS_PARTNER" in path for path, _ in service.requests)


def test_the_group_field_and_sales_area_are_configurable() -> None:
    config = SapSource.model_validate(
        {
            "kind": "sap",
            "base_url": "http://sap",
            "root": "x",
            "plants": PLANTS,
            "group_field": "CustomerGroup",
            "customer_sales_area": {"sales_organization": "1710", "division": "01"},
        }
    )
    query = customer_area_query(config)
    assert query.filter == (
        "SalesOrganization eq '1710' and DistributionChannel eq '10' and Division eq '01'"
    )
    assert "CustomerGroup" in query.select
    with pytest.raises(ValueError, match=r"customer_sales_area\.division"):
        SapSource.model_validate(
            {"kind": "sap", "base_url": "http://sap", "root": "x", "plants": PLANTS,
             "customer_sales_area": {"division": "0'1"}}
        )  # fmt: skip
