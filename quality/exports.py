"""The quarantine as files for merchandisers who work in spreadsheets: CSV and Excel.

The CSV has every row, one per product, channel and finding (the HTML report's lookup pages
show the same, per product). The Excel sheet has one row per finding to fix, with the channels
it affects in one cell: a price missing for five channels is one thing to fix, and the sheet
stays a third as long.
Text cells a spreadsheet would run as a formula are neutralized, as in the shop feed: the values
come from the PIM and ERP.

The report writes the Excel file in a child process while it renders its pages: xlsxwriter is
pure Python (one call per cell, about a third of the report step at 1M products before) and
holds the interpreter, so only another process runs it beside the page rendering.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl
import xlsxwriter

from contracts.text import neutralized

EXCEL_MAX_ROWS = 1_048_575
"""Rows of one Excel sheet, less the header; a larger quarantine is exported as CSV only."""
FINDING = ("sku", "rule", "field", "value", "source", "severity")
WORKBOOK = "quarantine.xlsx"
BACKGROUND_ROWS = 20_000
"""Findings from which the workbook is written by a child process: below, starting the child
(a Python with polars) costs more than the sheet."""


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
    with quarantine_exports(quarantine, folder, background=False) as files:
        return files


@contextlib.contextmanager
def quarantine_exports(
    quarantine: pl.DataFrame, folder: Path, background: bool = True
) -> Iterator[dict[str, str]]:
    """``write_quarantine_exports`` whose Excel file is written, with ``background`` and at
    least ``BACKGROUND_ROWS`` findings, by a child process while the block runs; yields
    label -> file name at once, and the block's end waits for the file (a failure to write it
    fails the block). In a daemonic process (Celery's pool workers), which may not have
    children, the file is written inline."""
    safe = _safe(quarantine)
    safe.write_csv(folder / "quarantine.csv")
    files = {"Quarantine (CSV)": "quarantine.csv"}
    findings = by_finding(safe)
    if findings.height > EXCEL_MAX_ROWS:
        yield files
        return
    files["Quarantine (Excel)"] = WORKBOOK
    # a daemonic process (a Celery worker's pool process) may not start children: inline there
    inline = not background or findings.height < BACKGROUND_ROWS
    if inline or multiprocessing.current_process().daemon:
        write_workbook(findings, folder / WORKBOOK)
        yield files
        return
    # spawn, not fork: a forked copy of a process running polars' threads can deadlock
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        written = pool.submit(write_workbook, findings, folder / WORKBOOK)
        yield files
        written.result()


def write_workbook(findings: pl.DataFrame, path: Path) -> None:
    """``findings`` (``by_finding``, neutralized) as one sheet with a filter on its header."""
    # URLs stay text: xlsxwriter would drop a cell holding an over-long or 65,531st link;
    # no string ever becomes a formula (product data is untrusted), neutralized or not.
    options = {"strings_to_urls": False, "strings_to_formulas": False}
    with xlsxwriter.Workbook(path, options) as book:
        findings.write_excel(
            book,
            worksheet="quarantine",
            autofilter=True,
            freeze_panes=(1, 0),
            column_widths={"value": 320, "source": 220},
        )
