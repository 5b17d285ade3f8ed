"""Asset metadata helpers: row counts and small previews shown in the Dagster UI."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl


def preview(frame: pl.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A Markdown table of the first rows (wide text cut so the UI stays readable)."""
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_cols=12,
        fmt_str_lengths=40,
    ):
        return dg.MetadataValue.md(str(frame.head(rows)))


def frame_metadata(frame: pl.DataFrame, **extra: Any) -> dict[str, Any]:
    return {"dagster/row_count": frame.height, "preview": preview(frame), **extra}
