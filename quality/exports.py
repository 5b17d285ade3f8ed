"""The quarantine as files for merchandisers who work in spreadsheets: CSV and Excel.

The CSV has every row, one per product, channel and finding (the HTML report's lookup pages
show the same, per product). The Excel sheet has one row per finding to fix, with the channels
it affects in one cell: a price missing for five channels is one thing to fix, and the sheet
stays a third as long.
Text cells a spreadsheet would run as a formula are neutralized, as in the shop feed: the values
come from the PIM and ERP. The sheet is rendered column-wise (``sinks.xlsx_sheet``): at 1M
products, 0.8 s for what xlsxwriter, cell by cell, took 6 s in a child process of its own.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.text import neutralized
from sinks.xlsx_sheet import MAX_ROWS, write_text_sheet

EXCEL_MAX_ROWS = MAX_ROWS - 1
"""Rows of one Excel sheet, less the header; a larger quarantine is exported as CSV only."""
FINDING = ("sku", "rule", "field", "value", "source", "severity")
WORKBOOK = "quarantine.xlsx"
WIDTHS = {"value": 45.7, "source": 31.4}
"""Column widths in Excel's units (characters): the long texts readable without a click."""


def _safe(quarantine: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, dtype in quarantine.schema.items() if dtype == pl.String]
    return quarantine.with_columns(neutralized(pl.col(c)).alias(c) for c in text)


def by_finding(quarantine: pl.DataFrame) -> pl.DataFrame:
    """One row per finding (sku, rule, field, value, source, severity), its channels joined."""
    return (
        quarantine.group_by(FINDING, maintain_order=True)
        .agg(channels=pl.col("channel").unique().sort().str.join(", "))
        .select(*FINDING[:2], "channels", *FINDING[2:])
    )


def write_quarantine_exports(quarantine: pl.DataFrame, folder: Path) -> dict[str, str]:
    """Write ``quarantine.csv`` and ``quarantine.xlsx`` (when its findings fit one sheet);
    return label -> file name."""
    safe = _safe(quarantine)
    safe.write_csv(folder / "quarantine.csv")
    files = {"Quarantine (CSV)": "quarantine.csv"}
    findings = by_finding(safe)
    if findings.height > EXCEL_MAX_ROWS:
        return files
    text = findings.with_columns(pl.all().cast(pl.String))
    write_text_sheet(text, folder / WORKBOOK, "quarantine", WIDTHS)
    files["Quarantine (Excel)"] = WORKBOOK
    return files
