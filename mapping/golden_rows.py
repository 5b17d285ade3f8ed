"""Some rows of the golden record, named by a mask instead of copied.

A channel's view carries the golden rows of its products (most of the catalog, ~50 columns with
lists). Copying them costs a second of CPU and a catalog's worth of memory per channel at 1M
products, and most steps read only a few of their columns (the golden rules, the view store);
so the rows are kept as the golden record plus a mask, and a query filters only the columns it
reads. Pure polars; no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class GoldenRows:
    """The rows of ``source`` where ``mask`` holds, in its order, followed by the columns in
    ``added`` (one row per masked row: what a mapping computed for them)."""

    source: pl.DataFrame | pl.LazyFrame
    """the golden record, or a scan of its file (a step that only writes feeds never holds
    the whole record: each query reads the columns it selects)"""
    mask: pl.Series
    """one flag per row of ``source`` (no nulls)"""
    added: pl.DataFrame

    @classmethod
    def where(
        cls,
        source: pl.DataFrame | pl.LazyFrame,
        mask: pl.Series,
        added: pl.DataFrame | None = None,
    ) -> GoldenRows:
        """``mask`` with nulls as false; ``added`` defaults to no columns."""
        return cls(source, mask.fill_null(False), pl.DataFrame() if added is None else added)

    def lazy(self) -> pl.LazyFrame:
        rows = self.source.lazy().filter(pl.lit(self.mask))
        if not self.added.width:
            return rows
        return pl.concat([rows, self.added.lazy()], how="horizontal")

    def collect(self) -> pl.DataFrame:
        """The rows, copied (every column)."""
        return self.lazy().collect()

    def columns(self) -> list[str]:
        return [*self.source.collect_schema().names(), *self.added.columns]

    def subset(self, keep: pl.Series) -> GoldenRows:
        """The rows where ``keep`` (one flag per row of these rows) holds, still uncopied."""
        dropped = self.mask.arg_true().filter(~keep)
        mask = self.mask.clone().scatter(dropped, False)  # scatter writes in place
        added = self.added.filter(keep) if self.added.width else self.added
        return GoldenRows(self.source, mask, added)
