"""The quarantine as files for merchandisers who work in spreadsheets: CSV and Excel.

Both carry every row (the HTML report shows a capped list). Text cells a spreadsheet would run
as a formula are neutralized, as in the shop feed: the values come from the PIM and ERP.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter

from sinks.shop_csv import neutralized

EXCEL_MAX_ROWS = 1_048_575
"""Rows of one Excel sheet, less the header; a larger quarantine is exported as CSV only."""


def _safe(quarantine: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, dtype in quarantine.schema.items() if dtype == pl.String]
    return quarantine.with_columns(neutralized(pl.col(c)).alias(c) for c in text)


def write_quarantine_exports(quarantine: pl.DataFrame, folder: Path) -> dict[str, str]:
    """Write ``quarantine.csv`` (and ``quarantine.xlsx`` when it fits); label -> file name."""
    safe = _safe(quarantine)
    safe.write_csv(folder / "quarantine.csv")
    files = {"Quarantine (CSV)": "quarantine.csv"}
    if safe.height <= EXCEL_MAX_ROWS:
        # URLs stay text: xlsxwriter would drop a cell holding an over-long or 65,531st link.
        with xlsxwriter.Workbook(folder / "quarantine.xlsx", {"strings_to_urls": False}) as book:
            safe.write_excel(
                book,
                worksheet="quarantine",
                autofilter=True,
                freeze_panes=(1, 0),
                column_widths={"value": 320, "source": 220},
            )
        files["Quarantine (Excel)"] = "quarantine.xlsx"
    return files
