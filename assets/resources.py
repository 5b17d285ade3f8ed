"""Dagster resources: where the sources are, where feeds go, how frames move between assets.

Environments differ only in which resources are bound; assets never read paths themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from quality.report_store import ReportStore
from sinks.snapshot_store import SnapshotStore
from sources.akeneo_api import AkeneoSettings, pull_catalog
from sources.sap_odata import SapSettings, pull_erp_snapshot


class SnapshotSource(dg.ConfigurableResource):
    """Where a run's PIM export or ERP snapshot comes from: a folder in the file-drop format."""

    def snapshot(self) -> tuple[Path, dict[str, object]]:
        """The folder to read for this run, and metadata about how it was obtained."""
        raise NotImplementedError


class FileDropResource(SnapshotSource):
    """A file-drop folder: one snapshot folder, or a folder of snapshot folders.

    ``marker`` is the file stem every snapshot has (``products`` for the PIM, ``prices`` for
    the ERP); a folder still being dropped, without it, is not read yet.
    """

    path: str
    marker: str

    def snapshot(self) -> tuple[Path, dict[str, object]]:
        root = Path(self.path)
        if any(root.glob(f"{self.marker}.*")):
            return root, {}
        candidates = sorted(p for p in root.glob("*/") if any(p.glob(f"{self.marker}.*")))
        if not candidates:
            msg = f"file drop {root}: no snapshot folder with a {self.marker}.* file"
            raise FileNotFoundError(msg)
        return candidates[-1], {}


class AkeneoResource(SnapshotSource):
    """Pulls an Akeneo PIM over its REST API into ``store`` (full or incremental), then reads
    the store like a file drop. Credentials are bound from environment variables."""

    base_url: str
    client_id: str
    client_secret: str
    username: str
    password: str
    store: str
    locales: list[str]
    scope: str
    page_size: int = 100
    timeout: float = 30.0
    retry_attempts: int = 5
    concurrency: int = 4
    full_pull_every_hours: float | None = 24.0
    server_timezone: str = "UTC"
    full_pull: bool = Field(default=False, description="pull everything (picks up deletions)")

    def settings(self) -> AkeneoSettings:
        fields = self.model_dump(exclude={"store", "full_pull"})
        return AkeneoSettings.model_validate(fields)

    def snapshot(self) -> tuple[Path, dict[str, object]]:
        result = pull_catalog(self.settings(), Path(self.store), full=self.full_pull)
        metadata = {
            "pull_mode": result.mode,
            "pulled": result.pulled,
            "products_per_second": round(result.products_per_second, 1),
            "high_water_mark": str(result.high_water_mark),
        }
        return result.generation, metadata


class SapResource(SnapshotSource):
    """Pulls SAP S/4HANA prices, stock and lead times over OData V2 into a new ERP snapshot
    folder under ``root``. Credentials are bound from environment variables."""

    base_url: str
    root: str
    auth: str = "basic"
    user: str | None = None
    password: str | None = None
    token: str | None = None
    plants: dict[str, str]
    condition_types: dict[str, str] | None = None
    group_field: str = "CustomerPriceGroup"
    sales_organization: str | None = None
    distribution_channel: str | None = None
    page_size: int = 1000
    timeout: float = 60.0
    retry_attempts: int = 5
    concurrency: int = 4
    full_pull: bool = Field(default=False, description="pull everything (picks up deletions)")

    def settings(self) -> SapSettings:
        fields = self.model_dump(exclude={"root", "full_pull", "user", "password", "token"})
        if fields["condition_types"] is None:
            del fields["condition_types"]
        if self.auth == "bearer":
            fields["auth"] = {"kind": "bearer", "token": self.token}
        else:
            fields["auth"] = {"kind": "basic", "user": self.user, "password": self.password}
        return SapSettings.model_validate(fields)

    def snapshot(self) -> tuple[Path, dict[str, object]]:
        result = pull_erp_snapshot(self.settings(), Path(self.root), full=self.full_pull)
        metadata = {
            "pull_mode": "full" if result.full else "incremental",
            "records": result.records,
            "records_per_second": round(result.records_per_second, 1),
            "unmapped_plants": sorted(result.unmapped_plants),
        }
        return result.snapshot, metadata


class FeedStoreResource(dg.ConfigurableResource):
    directory: str
    keep: int = 5

    def store(self) -> SnapshotStore:
        return SnapshotStore(Path(self.directory))

    def reports(self) -> ReportStore:
        return ReportStore(Path(self.directory) / "reports")


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
