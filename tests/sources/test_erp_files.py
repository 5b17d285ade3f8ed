from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from contracts.golden import REJECTS_SCHEMA
from sources.erp_files import (
    PRICES_SCHEMA,
    STOCK_SCHEMA,
    SUPPLY_SCHEMA,
    ErpFileError,
    read_erp_snapshot,
)
from sources.text_files import InputFileError

PRICE_HEADER = (
    "sku,price_type,customer_group,customer_id,currency,amount,per_quantity,min_quantity,"
    "valid_from,valid_to"
)
GOOD_PRICE = "A,list,,,EUR,12.50,100,1,2026-01-01,"
STOCK = "sku,warehouse,on_hand,reserved\nA,DE-HAM,5,2\n"


def snapshot(
    folder: Path,
    prices: list[str] | None = None,
    stock: str = STOCK,
    supply: str | None = None,
) -> Path:
    """A snapshot folder with prices (header added), stock and optionally supply CSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [PRICE_HEADER, *(prices if prices is not None else [GOOD_PRICE])]
    (folder / "prices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "stock.csv").write_text(stock, encoding="utf-8")
    if supply is not None:
        (folder / "supply.csv").write_text(supply, encoding="utf-8")
    return folder


def lines(header: str, row: str) -> str:
    """A CSV file body: the header and ``row`` unless it is empty."""
    return "".join(f"{line}\n" for line in (header, row) if line)


def test_prices_are_typed_with_defaults_and_sources(tmp_path: Path) -> None:
    rows = [GOOD_PRICE, "B,customer,,C1000,USD,3,,,,2026-12-31", "C,group,retail,,EUR,0.5,2,10,,"]
    result = read_erp_snapshot(snapshot(tmp_path / "20261122T060000Z", rows))
    assert result.snapshot_id == "20261122T060000Z"
    assert result.prices.schema == PRICES_SCHEMA
    assert result.prices.rows() == [
        ("A", "list", None, None, "EUR", Decimal("12.5"), 100, 1, dt.date(2026, 1, 1), None,
         "prices.csv:2"),
        ("B", "customer", None, "C1000", "USD", Decimal(3), 1, 1, None, dt.date(2026, 12, 31),
         "prices.csv:3"),
        ("C", "group", "retail", None, "EUR", Decimal("0.5"), 2, 10, None, None, "prices.csv:4"),
    ]  # fmt: skip
    assert result.rejects.is_empty()
    assert result.rejects.schema == REJECTS_SCHEMA


def test_stock_and_supply_are_typed(tmp_path: Path) -> None:
    supply = "sku,lead_time_days,next_receipt_date\nA,5,2026-12-01\nB,,\nC,0,\n"
    stock = "sku,warehouse,on_hand,reserved\nA,DE-HAM,5,2\nA,,-3,\n"
    result = read_erp_snapshot(snapshot(tmp_path / "s", stock=stock, supply=supply))
    assert result.stock.schema == STOCK_SCHEMA
    assert result.stock.rows() == [
        ("A", "DE-HAM", 5, 2, "stock.csv:2"),
        ("A", None, -3, 0, "stock.csv:3"),
    ]
    assert result.supply.schema == SUPPLY_SCHEMA
    assert result.supply.rows() == [
        ("A", 5, dt.date(2026, 12, 1), "supply.csv:2"),
        ("B", None, None, "supply.csv:3"),
        ("C", 0, None, "supply.csv:4"),
    ]


def test_supply_is_optional(tmp_path: Path) -> None:
    result = read_erp_snapshot(snapshot(tmp_path / "s"))
    assert result.supply.is_empty()
    assert result.supply.schema == SUPPLY_SCHEMA


PRICE_REJECTS = [
    (",list,,,EUR,1,,,,", None, "sku", None, "missing_sku"),
    ("A,promo,,,EUR,1,,,,", "A", "price_type", "promo", "invalid_price_type"),
    ("A,,,,EUR,1,,,,", "A", "price_type", None, "invalid_price_type"),
    ("A,group,,,EUR,1,,,,", "A", "customer_group", None, "missing_customer_group"),
    ("A,customer,retail,,EUR,1,,,,", "A", "customer_id", None, "missing_customer_id"),
    ("A,list,,,eur,1,,,,", "A", "currency", "eur", "invalid_currency"),
    ("A,list,,,EURO,1,,,,", "A", "currency", "EURO", "invalid_currency"),
    ("A,list,,,,1,,,,", "A", "currency", None, "invalid_currency"),
    ('A,list,,,EUR,"1,5",,,,', "A", "amount", "1,5", "invalid_amount"),
    ("A,list,,,EUR,abc,,,,", "A", "amount", "abc", "invalid_amount"),
    ("A,list,,,EUR,1e3,,,,", "A", "amount", "1e3", "invalid_amount"),
    ("A,list,,,EUR, 1.5,,,,", "A", "amount", " 1.5", "invalid_amount"),
    ("A,list,,,EUR,1.0000001,,,,", "A", "amount", "1.0000001", "invalid_amount"),
    ("A,list,,,EUR,,,,,", "A", "amount", None, "invalid_amount"),
    ("A,list,,,EUR,0,,,,", "A", "amount", "0", "non_positive_amount"),
    ("A,list,,,EUR,-2.50,,,,", "A", "amount", "-2.50", "non_positive_amount"),
    ("A,list,,,EUR,1,0,,,", "A", "per_quantity", "0", "invalid_per_quantity"),
    ("A,list,,,EUR,1,1.5,,,", "A", "per_quantity", "1.5", "invalid_per_quantity"),
    ("A,list,,,EUR,1,,-1,,", "A", "min_quantity", "-1", "invalid_min_quantity"),
    ("A,list,,,EUR,1,,x,,", "A", "min_quantity", "x", "invalid_min_quantity"),
    ("A,list,,,EUR,1,,,2026-02-30,", "A", "valid_from", "2026-02-30", "invalid_date"),
    ("A,list,,,EUR,1,,,2026-1-1,", "A", "valid_from", "2026-1-1", "invalid_date"),
    ("A,list,,,EUR,1,,,,01.02.2026", "A", "valid_to", "01.02.2026", "invalid_date"),
    ("A,list,,,EUR,1,,,2026-03-01,2026-02-28", "A", "valid_to", "2026-02-28", "invalid_validity"),
    # the first failing field in column order is reported
    ("A,list,,,eur,-1,0,,,", "A", "currency", "eur", "invalid_currency"),
]


@pytest.mark.parametrize(("row", "sku", "field", "value", "reason"), PRICE_REJECTS)
def test_each_bad_price_row_is_rejected_with_its_reason(
    tmp_path: Path, row: str, sku: str | None, field: str, value: str | None, reason: str
) -> None:
    result = read_erp_snapshot(snapshot(tmp_path / "s", [GOOD_PRICE, row]))
    assert result.rejects.rows() == [(sku, field, value, reason, "prices.csv:3")]
    assert result.prices["erp_source"].to_list() == ["prices.csv:2"]


@pytest.mark.parametrize(
    ("stock", "supply", "expected"),
    [
        ("A,W1,x,0", "", ("A", "on_hand", "x", "invalid_quantity", "stock.csv:2")),
        ("A,W1,,0", "", ("A", "on_hand", None, "invalid_quantity", "stock.csv:2")),
        ("A,W1,5,-1", "", ("A", "reserved", "-1", "invalid_quantity", "stock.csv:2")),
        ("A,W1,5,2.5", "", ("A", "reserved", "2.5", "invalid_quantity", "stock.csv:2")),
        (",W1,5,1", "", (None, "sku", None, "missing_sku", "stock.csv:2")),
        ("", "A,-3,", ("A", "lead_time_days", "-3", "invalid_lead_time", "supply.csv:2")),
        ("", "A,1.5,", ("A", "lead_time_days", "1.5", "invalid_lead_time", "supply.csv:2")),
        ("", "A,,2026-13-01",
         ("A", "next_receipt_date", "2026-13-01", "invalid_date", "supply.csv:2")),
        ("", ",3,", (None, "sku", None, "missing_sku", "supply.csv:2")),
    ],
)  # fmt: skip
def test_bad_stock_and_supply_rows_are_rejected(
    tmp_path: Path, stock: str, supply: str, expected: tuple[str | None, ...]
) -> None:
    folder = snapshot(
        tmp_path / "s",
        stock=lines("sku,warehouse,on_hand,reserved", stock),
        supply=lines("sku,lead_time_days,next_receipt_date", supply),
    )
    result = read_erp_snapshot(folder)
    assert result.rejects.rows() == [expected]
    assert result.stock.height + result.supply.height == 0


def test_rows_in_equal_typed_rows_plus_rejects(tmp_path: Path) -> None:
    rows = [GOOD_PRICE] * 3 + [row for row, *_ in PRICE_REJECTS]
    result = read_erp_snapshot(snapshot(tmp_path / "s", rows))
    assert result.prices.height + result.rejects.height == len(rows)
    sources = sorted([*result.prices["erp_source"], *result.rejects["source"]])
    assert sources == sorted(f"prices.csv:{line}" for line in range(2, len(rows) + 2))


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(tmp_path: Path) -> None:
    rows = ['"A\nB",list,,,EUR,1,,,,', "", "C,list,,,EUR,2,,,,"]
    result = read_erp_snapshot(snapshot(tmp_path / "s", rows))
    assert result.prices.select("sku", "erp_source").rows() == [
        ("A\nB", "prices.csv:2"),
        ("C", "prices.csv:5"),
    ]
    assert result.rejects.rows() == [(None, "sku", None, "missing_sku", "prices.csv:4")]


def test_quoted_empty_cells_are_null(tmp_path: Path) -> None:
    result = read_erp_snapshot(snapshot(tmp_path / "s", ['A,list,"","",EUR,1,"","","",""']))
    assert result.prices.row(0)[:4] == ("A", "list", None, None)
    assert result.prices["per_quantity"].to_list() == [1]


def test_csv_and_parquet_give_the_same_frames(tmp_path: Path) -> None:
    rows = [GOOD_PRICE, "B,customer,,C1000,USD,3.333,3,5,,2026-12-31", "C,list,,,EUR,0,,,,"]
    from_csv = read_erp_snapshot(
        snapshot(tmp_path / "csv", rows, supply="sku,lead_time_days,next_receipt_date\nA,4,\n")
    )
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name in ("prices", "stock", "supply"):
        pl.read_csv(tmp_path / "csv" / f"{name}.csv", infer_schema=False).write_parquet(
            folder / f"{name}.parquet"
        )
    from_parquet = read_erp_snapshot(folder)
    for name in ("prices", "stock", "supply"):
        csv_frame, parquet_frame = getattr(from_csv, name), getattr(from_parquet, name)
        assert_frame_equal(csv_frame.drop("erp_source"), parquet_frame.drop("erp_source"))
    assert from_parquet.prices["erp_source"].to_list() == [
        "prices.parquet:row 1",
        "prices.parquet:row 2",
    ]
    assert from_parquet.rejects.rows() == [
        ("C", "amount", "0", "non_positive_amount", "prices.parquet:row 3")
    ]


def test_typed_parquet_columns_are_read_as_text_too(tmp_path: Path) -> None:
    folder = snapshot(tmp_path / "s")
    (folder / "prices.csv").unlink()
    pl.DataFrame(
        {
            "sku": ["A"], "price_type": ["list"], "customer_group": [None], "customer_id": [None],
            "currency": ["EUR"], "amount": [Decimal("12.50")], "per_quantity": [100],
            "min_quantity": [1], "valid_from": [dt.date(2026, 1, 1)], "valid_to": [None],
        },
        schema_overrides={
            "customer_group": pl.String, "customer_id": pl.String, "valid_to": pl.Date
        },
    ).write_parquet(folder / "prices.parquet")  # fmt: skip
    result = read_erp_snapshot(folder)
    assert result.prices.drop("erp_source").row(0) == (
        "A", "list", None, None, "EUR", Decimal("12.5"), 100, 1, dt.date(2026, 1, 1), None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "header", "column"),
    [
        ("prices", "sku,price_type,customer_group,customer_id,amount", "currency"),
        ("stock", "sku,warehouse,on_hand", "reserved"),
        ("supply", "sku,next_receipt_date", "lead_time_days"),
    ],
)
def test_a_missing_column_names_the_file_and_the_column(
    tmp_path: Path, name: str, header: str, column: str
) -> None:
    folder = snapshot(tmp_path / "s", supply="sku,lead_time_days,next_receipt_date\n")
    (folder / f"{name}.csv").write_text(header + "\n", encoding="utf-8")
    with pytest.raises(ErpFileError, match=rf"{name}\.csv: required column '{column}'"):
        read_erp_snapshot(folder)


def test_an_unreadable_file_names_the_file(tmp_path: Path) -> None:
    folder = snapshot(tmp_path / "s")
    (folder / "stock.csv").write_bytes(b"sku,warehouse,on_hand,reserved\n\xff\xfe,W,1,0\n")
    with pytest.raises(InputFileError, match=r"stock\.csv:2: not valid UTF-8 \(byte 0xff"):
        read_erp_snapshot(folder)


@pytest.mark.parametrize("name", ["prices", "stock"])
def test_a_missing_required_file_fails(tmp_path: Path, name: str) -> None:
    folder = snapshot(tmp_path / "s")
    (folder / f"{name}.csv").unlink()
    with pytest.raises(ErpFileError, match=rf"{name}\.csv or {name}\.parquet is missing"):
        read_erp_snapshot(folder)


def test_csv_and_parquet_of_one_file_is_ambiguous(tmp_path: Path) -> None:
    folder = snapshot(tmp_path / "s")
    pl.read_csv(folder / "stock.csv").write_parquet(folder / "stock.parquet")
    with pytest.raises(ErpFileError, match=r"both stock\.csv and stock\.parquet"):
        read_erp_snapshot(folder)


@settings(max_examples=40, deadline=None)
@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e12"), places=6))
def test_amounts_are_parsed_exactly(amount: Decimal) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        row = f"A,list,,,EUR,{amount:f},,,,"
        result = read_erp_snapshot(snapshot(Path(tmp), [row]))
    assert result.prices["amount"].to_list() == [amount]


def test_extra_columns_are_ignored_but_their_line_breaks_counted(tmp_path: Path) -> None:
    folder = snapshot(tmp_path / "s")
    (folder / "stock.csv").write_text(
        'note,sku,warehouse,on_hand,reserved\n"two\nlines",A,W1,5,0\n,B,W1,1,0\n', encoding="utf-8"
    )
    result = read_erp_snapshot(folder)
    assert result.stock.rows() == [
        ("A", "W1", 5, 0, "stock.csv:2"),
        ("B", "W1", 1, 0, "stock.csv:4"),
    ]
