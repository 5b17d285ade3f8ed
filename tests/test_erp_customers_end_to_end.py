"""The quoting channel takes its customers from the ERP drop's ``customers.csv`` (all, or by
group): one BMEcat per active customer, each priced with its ERP group's prices; read back
with lxml and the BMEcat XSD, the expected prices computed from ``prices.csv`` with csv."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from factories import REPO, default_config
from lxml import etree

from contracts.config import parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions
from sources.drops import write_marker

AS_OF = dt.date(2026, 11, 22)
NS = {"b": "http://www.bmecat.org/bmecat/2005"}
BMECAT_XSD = REPO / "tests" / "fixtures" / "bmecat" / "bmecat_2005.xsd"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("customers")
    generate_demo_data(root / "data", products=300, seed=11, as_of=AS_OF)
    return root / "data"


@pytest.fixture(scope="module")
def instance() -> Any:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def publish(data: Path, root: Path, customers: object, instance: Any) -> Path:
    """Run the pipeline with only the quoting channel; return its live folder."""
    result = run(data, root, customers, instance)
    assert result.success
    return root / "feeds" / "current" / "quoting"


def run(data: Path, root: Path, customers: object, instance: Any, **channel: Any) -> Any:
    config = default_config()
    config["as_of"] = AS_OF.isoformat()
    config["pim"]["path"] = str(data / "pim")
    config["erp"]["path"] = str(data / "erp")
    config["publish"] = {"directory": str(root / "feeds"), "work_directory": str(root / "work")}
    quoting = config["channels"]["quoting"] | {"customers": customers} | channel
    config["channels"] = {"quoting": quoting}
    job = build_definitions(parse_config(config, base=REPO)).resolve_job_def(JOB_NAME)
    return job.execute_in_process(instance=instance, raise_on_error=False)


def records(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def drop_copy(data: Path, target: Path, customers: str | None) -> Path:
    """``data`` with its ERP drop's customers.csv replaced (None: removed), resealed."""
    shutil.copytree(data, target)
    erp = next((target / "erp").iterdir())
    (erp / "customers.csv").unlink()
    if customers is not None:
        (erp / "customers.csv").write_text(customers, encoding="utf-8")
    rows = {path.name: records(path) for path in erp.glob("*.csv")}
    write_marker(erp, rows)
    return target


def catalog(path: Path) -> dict[str, dict[tuple[str, int], Decimal]]:
    """sku -> (price_type, lower bound) -> amount, of a schema-valid BMEcat file."""
    text = BMECAT_XSD.read_bytes().replace(b"bmecat/2005fd", b"bmecat/2005")
    document = etree.parse(str(path))
    etree.XMLSchema(etree.fromstring(text)).assertValid(document)
    found = {}
    for product in document.xpath("//b:PRODUCT", namespaces=NS):
        sku = product.findtext("b:SUPPLIER_PID", namespaces=NS)
        found[sku] = {
            (price.get("price_type"), int(price.findtext("b:LOWER_BOUND", namespaces=NS))): (
                Decimal(price.findtext("b:PRICE_AMOUNT", namespaces=NS))
            )
            for price in product.xpath(".//b:PRODUCT_PRICE", namespaces=NS)
        }
    return found


def group_prices(data: Path, group: str) -> dict[str, Decimal]:
    """sku -> the group's EUR unit price from 1 piece valid on AS_OF, rounded like BMEcat."""
    folder = next((data / "erp").iterdir())
    with (folder / "prices.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    day = AS_OF.isoformat()
    return {
        r["sku"]: (Decimal(r["amount"]) / Decimal(r["per_quantity"] or 1)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        for r in rows
        if r["price_type"] == "group"
        and r["customer_group"] == group
        and r["currency"] == "EUR"
        and r["min_quantity"] in ("", "1")
        and r["valid_from"] <= day
        and (not r["valid_to"] or r["valid_to"] >= day)
        and r["valid_from"] <= (r["valid_to"] or "9999")
    }


def test_every_active_erp_customer_gets_its_groups_prices(
    data: Path, tmp_path: Path, instance: Any
) -> None:
    live = publish(data, tmp_path, {"from": "erp"}, instance)
    files = sorted(p.name for p in live.iterdir())
    # C5000 is inactive: no catalog
    assert files == [
        "0000100042.xml", "C1000.xml", "C2000.xml", "C3000.xml", "C4000.xml", "C6000.xml",
    ]  # fmt: skip
    for customer, group in (("C3000", "retail"), ("C4000", "wholesale")):
        expected, prices = group_prices(data, group), catalog(live / f"{customer}.xml")
        checked = [sku for sku in prices if sku in expected]
        assert len(checked) > 50, customer
        for sku in checked:
            assert prices[sku][("net_customer", 1)] == expected[sku], (customer, sku)
    # same group, no own prices: the same catalog prices; no group: list prices only
    assert catalog(live / "0000100042.xml") == catalog(live / "C4000.xml")
    no_group = catalog(live / "C6000.xml")
    assert no_group
    assert {kind for tiers in no_group.values() for kind, _ in tiers} == {"net_list"}


def test_a_group_selection_writes_only_that_groups_customers(
    data: Path, tmp_path: Path, instance: Any
) -> None:
    live = publish(data, tmp_path, {"from": "erp", "groups": ["Wholesale"]}, instance)
    assert sorted(p.name for p in live.iterdir()) == ["0000100042.xml", "C2000.xml", "C4000.xml"]
    expected = group_prices(data, "wholesale")
    prices = catalog(live / "C4000.xml")
    assert all(prices[s][("net_customer", 1)] == expected[s] for s in prices if s in expected)


def test_group_assortments_leave_products_out_of_gzip_catalogs_and_are_counted(
    data: Path, tmp_path: Path, instance: Any
) -> None:
    """The retail group's assortment excludes the fasteners (ECLASS 23110101 by the shipped
    value map): C1000's catalog has none, C2000's has them; the catalogs are gzip files the
    manifest hashes as stored; the left-out products are counted per catalog and reason."""
    customers = {
        "from": "erp",
        "ids": ["C1000", "C2000"],
        "group_filters": {"Retail": {"exclude": {"categories": ["print_fasteners"]}}},
    }
    result = run(data, tmp_path, customers, instance, compress="gzip")
    assert result.success
    live = tmp_path / "feeds" / "current"
    assert sorted(p.name for p in (live / "quoting").iterdir()) == ["C1000.xml.gz", "C2000.xml.gz"]
    retail, wholesale = (
        catalog(live / "quoting/C1000.xml.gz"),
        catalog(live / "quoting/C2000.xml.gz"),
    )
    fasteners = set(eclass_group(live / "quoting/C2000.xml.gz", "23110101"))
    assert len(fasteners) > 10
    assert not fasteners & set(retail)
    assert set(retail) <= set(wholesale)
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    for entry in (
        f for f in manifest["files"] if f["channel"] == "quoting" and f["kind"] == "file"
    ):
        stored = (live / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(stored).hexdigest()
        assert entry["bytes"] == len(stored)
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "accounted"]
    assert check.passed
    counts = {c["customer"]: c for c in check.metadata["catalogs"].value}
    assert counts["C1000"]["written"] == len(retail)
    assert counts["C1000"]["filtered_by_exclude"] >= len(fasteners)
    assert counts["C2000"]["filtered_by_exclude"] == 0
    for row in counts.values():
        left_out = row["filtered_by_exclude"] + row["no_price"]
        assert row["written"] + left_out == row["published"] == manifest["channels"]["quoting"]


def eclass_group(path: Path, group: str) -> list[str]:
    """The skus of a catalog whose classification is ``group``."""
    document = etree.parse(str(path))
    return document.xpath(
        "//b:PRODUCT[.//b:REFERENCE_FEATURE_GROUP_ID = $group]/b:SUPPLIER_PID/text()",
        namespaces=NS,
        group=group,
    )


def test_bad_customer_rows_are_rejected_and_reported(
    data: Path, tmp_path: Path, instance: Any
) -> None:
    customers = (
        "customer_id,customer_group,name,currency,active\n"
        "C1000,retail,Baumarkt Nord GmbH,EUR,true\n"
        "c1000,wholesale,Again,EUR,true\n"
        "C2000,wholesale,Industriebedarf Süd AG,EURO,true\n"
        "C3000,retail,Werkzeughandel West KG,EUR,perhaps\n"
        ",retail,Nobody,EUR,true\n"
    )
    copy = drop_copy(data, tmp_path / "data", customers)
    result = run(copy, tmp_path, {"from": "erp"}, instance)
    assert result.success
    assert sorted(p.name for p in (tmp_path / "feeds" / "current" / "quoting").iterdir()) == [
        "C1000.xml"
    ]
    quarantine = pl.read_parquet(tmp_path / "work" / result.run_id / "quarantine.parquet")
    rejects = quarantine.filter(pl.col("source").str.starts_with("customers.csv"))
    assert sorted(rejects.select("source", "rule").rows()) == [
        ("customers.csv:3", "duplicate_customer_id"),
        ("customers.csv:4", "invalid_currency"),
        ("customers.csv:5", "invalid_active"),
        ("customers.csv:6", "missing_customer_id"),
    ]
    report = next((tmp_path / "feeds" / "reports").glob("*/index.html")).read_text("utf-8")
    assert "duplicate_customer_id" in report
    assert "customers.csv:3" in report


def test_a_drop_without_customers_fails_when_the_channel_asks(
    data: Path, tmp_path: Path, instance: Any
) -> None:
    copy = drop_copy(data, tmp_path / "data", None)
    result = run(copy, tmp_path, {"from": "erp"}, instance)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error, message = failure.step_failure_data.error, ""
    while error is not None:  # Dagster wraps the reader's error: read the chain
        message, error = message + error.message, error.cause
    assert "customers.csv or customers.parquet is missing" in message
    assert str(next((copy / "erp").iterdir())) in message
    assert "quoting" in message
