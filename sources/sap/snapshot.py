"""The snapshot folder a pull writes (the ERP file-drop format) and ``state.json`` beside it.

Tables are written into a hidden folder that is renamed into place, so readers see a snapshot
whole or not at all; ``state.json`` is replaced only after the snapshot it names exists.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from contracts.customers import CUSTOMER_COLUMNS
from contracts.folders import new_folder
from sources.erp_files import PRICE_COLUMNS, STOCK_COLUMNS, SUPPLY_COLUMNS
from sources.http import SourceError
from sources.sap.edm import SOURCE

Row = dict[str, str]


@dataclass
class Tables:
    prices: list[Row] = field(default_factory=list)
    stock: list[Row] = field(default_factory=list)
    supply: list[Row] = field(default_factory=list)
    customers: list[Row] | None = None
    """the customer master; None = not pulled (no customers file)"""


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
    with new_folder(target) as folder:
        write_table(folder, "prices", PRICE_COLUMNS, tables.prices, fmt)
        write_table(folder, "stock", STOCK_COLUMNS, tables.stock, fmt)
        write_table(folder, "supply", SUPPLY_COLUMNS, tables.supply, fmt)
        if tables.customers is not None:
            write_table(folder, "customers", CUSTOMER_COLUMNS, tables.customers, fmt)
    return target


def load_state(root: Path) -> dict[str, Any]:
    path = root / "state.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_state(root: Path, state: dict[str, Any]) -> None:
    """Replace ``state.json`` atomically (after the snapshot it describes is in place)."""
    temp = root / f".state.{uuid.uuid4().hex}.json"
    temp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temp, root / "state.json")
