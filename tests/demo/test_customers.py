"""The demo ERP's customer master, with the extra customers a fan-out benchmark asks for."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from demo.customers import CUSTOMERS, active_ids, customers, write_customers


def test_extra_customers_are_active_group_priced_and_come_after_the_demos_own() -> None:
    assert customers() == CUSTOMERS
    ids = active_ids(4)
    assert ids[:6] == ["C1000", "C2000", "C3000", "C4000", "C6000", "0000100042"]
    assert ids[6:] == ["K0001", "K0002", "K0003", "K0004"]
    assert [row[1] for row in customers(4)[-4:]] == ["wholesale", "retail", "wholesale", "retail"]


def test_the_master_file_holds_them(tmp_path: Path) -> None:
    assert write_customers(tmp_path / "customers.csv", 2) == len(CUSTOMERS) + 2
    frame = pl.read_csv(tmp_path / "customers.csv", infer_schema=False)
    assert frame["customer_id"].to_list()[-2:] == ["K0001", "K0002"]
    assert frame["active"].to_list()[-2:] == ["true", "true"]
