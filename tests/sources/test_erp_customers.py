"""The ERP customer master of a file drop (``customers.csv|parquet``): typed, every bad row
rejected with its file:line and reason code, required only when a channel asks for it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts.customers import CUSTOMERS_SCHEMA
from sources.drops import check_rows, verify_drop, write_marker
from sources.erp_files import ErpFileError, read_erp_snapshot

HEADER = "customer_id,customer_group,name,currency,active"
PRICES = "sku,price_type,customer_group,customer_id,currency,amount\nA,list,,,EUR,1.00\n"
STOCK = "sku,warehouse,on_hand,reserved\nA,Main,5,0\n"


def drop(folder: Path, customers: list[str] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prices.csv").write_text(PRICES, encoding="utf-8")
    (folder / "stock.csv").write_text(STOCK, encoding="utf-8")
    if customers is not None:
        body = "".join(f"{line}\n" for line in (HEADER, *customers))
        (folder / "customers.csv").write_text(body, encoding="utf-8")
    return folder


def test_customers_are_typed_with_ids_kept_as_written(tmp_path: Path) -> None:
    rows = [
        "C1000,retail,Baumarkt Nord GmbH,EUR,true",
        "0000100042,wholesale,Export Partners Ltd,,X",
        "c-7,,,USD,No",
    ]
    result = read_erp_snapshot(drop(tmp_path / "s", rows))
    assert result.customers.schema == CUSTOMERS_SCHEMA
    assert result.customers.rows() == [
        ("C1000", "retail", "Baumarkt Nord GmbH", "EUR", True, "customers.csv:2"),
        ("0000100042", "wholesale", "Export Partners Ltd", None, True, "customers.csv:3"),
        ("c-7", None, None, "USD", False, "customers.csv:4"),
    ]
    assert result.rejects.is_empty()
    assert result.rows_read["customers.csv"] == 3


@pytest.mark.parametrize(
    ("row", "field", "value", "reason"),
    [
        (",retail,Nobody,EUR,true", "customer_id", None, "missing_customer_id"),
        ("C123456789012345678901,retail,Long,EUR,true", "customer_id",
         "C123456789012345678901", "invalid_customer_id"),
        ("C9,retail,Euro,EURO,true", "currency", "EURO", "invalid_currency"),
        ("C9,retail,Maybe,EUR,maybe", "active", "maybe", "invalid_active"),
        ("C9,retail,Empty,EUR,", "active", None, "invalid_active"),
    ],
)  # fmt: skip
def test_each_bad_customer_row_is_rejected_with_file_line_and_reason(
    tmp_path: Path, row: str, field: str, value: str | None, reason: str
) -> None:
    result = read_erp_snapshot(drop(tmp_path / "s", ["C1,retail,Good,EUR,true", row]))
    assert result.customers["customer_id"].to_list() == ["C1"]
    assert result.rejects.rows() == [(None, field, value, reason, "customers.csv:3")]


def test_a_repeated_id_is_rejected_case_insensitively_the_first_kept(tmp_path: Path) -> None:
    rows = ["C1000,retail,First,EUR,true", "C2,wholesale,Other,EUR,true", "c1000,x,Again,EUR,1"]
    result = read_erp_snapshot(drop(tmp_path / "s", rows))
    assert result.customers["name"].to_list() == ["First", "Other"]
    assert result.rejects.rows() == [
        (None, "customer_id", "c1000", "duplicate_customer_id", "customers.csv:4")
    ]


def test_rows_in_equal_customers_plus_rejects_and_the_marker_count_holds(tmp_path: Path) -> None:
    rows = ["C1,retail,A,EUR,true", ",retail,B,EUR,true", "C3,,C,XXX,false", 'C4,,"Two\nlines",,1']
    folder = drop(tmp_path / "s", rows)
    write_marker(folder, {"prices.csv": 1, "stock.csv": 1, "customers.csv": 4})
    verify_drop(folder, "manifest.json")
    result = read_erp_snapshot(folder)
    assert result.customers.height + result.rejects.height == result.rows_read["customers.csv"]
    assert result.customers["erp_source"].to_list() == ["customers.csv:2", "customers.csv:5"]
    check_rows(folder, {"customers.csv": 4}, result.rows_read)


def test_a_drop_without_customers_is_fine_unless_a_channel_asks(tmp_path: Path) -> None:
    folder = drop(tmp_path / "20261122T060000Z", None)
    assert_frame_equal(read_erp_snapshot(folder).customers, pl.DataFrame(schema=CUSTOMERS_SCHEMA))
    with pytest.raises(ErpFileError) as caught:
        read_erp_snapshot(folder, customers_for=("quoting",))
    message = str(caught.value)
    assert str(folder) in message
    assert "customers.csv or customers.parquet is missing" in message
    assert "quoting" in message


def test_parquet_customers_read_like_csv(tmp_path: Path) -> None:
    rows = ["C1,retail,A,EUR,true", "c1,retail,B,EUR,true"]
    from_csv = read_erp_snapshot(drop(tmp_path / "csv", rows))
    folder = drop(tmp_path / "parquet", None)
    pl.read_csv(tmp_path / "csv" / "customers.csv", infer_schema=False).write_parquet(
        folder / "customers.parquet"
    )
    from_parquet = read_erp_snapshot(folder)
    assert_frame_equal(
        from_parquet.customers.drop("erp_source"), from_csv.customers.drop("erp_source")
    )
    assert from_parquet.rejects["source"].to_list() == ["customers.parquet:row 2"]
    assert from_parquet.rejects["reason"].to_list() == ["duplicate_customer_id"]


def test_a_missing_customer_column_names_the_file(tmp_path: Path) -> None:
    folder = drop(tmp_path / "s", None)
    (folder / "customers.csv").write_text("customer_id,name\nC1,A\n", encoding="utf-8")
    with pytest.raises(ErpFileError, match=r"customers\.csv: required column 'customer_group'"):
        read_erp_snapshot(folder)
