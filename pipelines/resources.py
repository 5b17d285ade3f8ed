"""Dagster resources: where the sources are, where feeds go, how frames move between assets.

Environments differ only in which resources are bound; assets never read paths themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from sinks.snapshot_store import SnapshotStore


class FileDropResource(dg.ConfigurableResource):
    """A file-drop folder: one snapshot folder, or a folder of snapshot folders."""

    path: str

    def latest(self, marker: str) -> Path:
        """The snapshot folder to read: ``path`` itself when it holds ``marker.*``, else the
        sub-folder with the greatest name that does (names sort by time, e.g. 20261122T0600Z)."""
        root = Path(self.path)
        if any(root.glob(f"{marker}.*")):
            return root
        candidates = sorted(p for p in root.glob("*/") if any(p.glob(f"{marker}.*")))
        if not candidates:
            msg = f"file drop {root}: no snapshot folder with a {marker}.* file"
            raise FileNotFoundError(msg)
        return candidates[-1]


class FeedStoreResource(dg.ConfigurableResource):
    directory: str
    keep: int = 5

    def store(self) -> SnapshotStore:
        return SnapshotStore(Path(self.directory))


class PolarsParquetIOManager(dg.ConfigurableIOManager):
    """Stores polars DataFrames as Parquet files (one per asset) so any asset can be
    re-materialized alone; dagster-polars would do this but does not support Dagster 1.13."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        return Path(self.base_dir, *context.asset_key.path).with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not isinstance(obj, pl.DataFrame):
            key = context.asset_key.to_user_string()
            msg = f"{key}: expected a polars DataFrame, got {type(obj).__name__}"
            raise TypeError(msg)
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        obj.write_parquet(tmp, compression="lz4", statistics=False)
        tmp.replace(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return pl.read_parquet(self._path(context))
