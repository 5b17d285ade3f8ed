"""Dagster resources: where a run's sources come from, where feeds go, how frames move.

Environments differ only in which resources are bound; assets never read paths themselves.
The settings of each source have one model, in ``contracts.config`` (``pim:``/``erp:`` of
prism.yaml); a resource adds only what differs per deployment: the secrets, bound from
environment variables (``dg.EnvVar``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import polars as pl

from contracts.config import AkeneoSource, FileSource, PrismConfig, SapSource
from contracts.memory import release_free_memory
from quality.report_store import ReportStore
from sinks.publish_lock import PublishLock
from sinks.snapshot_store import SnapshotStore
from sources.akeneo import AkeneoCredentials, AkeneoPull, pull_catalog
from sources.drops import newest_drop, verify_drop
from sources.sap import BasicAuth, BearerAuth, pull_erp_snapshot


@dataclass(frozen=True)
class PinnedSnapshot:
    """The folder (file-drop format) a run reads for one side, and how it was obtained."""

    folder: Path
    details: dict[str, Any] = field(default_factory=dict)


class SnapshotSource(dg.ConfigurableResource):
    """Where a run's PIM export or ERP snapshot comes from: a folder in the file-drop format."""

    def snapshot(self, config: PrismConfig, full_pull: bool) -> PinnedSnapshot:
        """The folder to read for this run (a live source pulls into a new one first)."""
        raise NotImplementedError


class FileDropResource(SnapshotSource):
    """The newest snapshot folder of the ``pim:`` or ``erp:`` file drop of the configuration."""

    side: Literal["pim", "erp"]

    def snapshot(self, config: PrismConfig, full_pull: bool) -> PinnedSnapshot:
        source = config.pim if self.side == "pim" else config.erp
        if not isinstance(source, FileSource):
            msg = f"{self.side}: the configuration has kind {source.kind!r}, not a file drop"
            raise TypeError(msg)
        folder = newest_drop(source.path, self.side, source.ready_marker)
        verify_drop(folder, source.ready_marker)
        return PinnedSnapshot(folder, {"ready_marker": source.ready_marker or "none"})


class AkeneoResource(SnapshotSource):
    """Pulls the ``pim:`` Akeneo of the configuration over its REST API into its store (full
    or incremental), then the run reads the store like a file drop."""

    client_id: str
    client_secret: str
    username: str
    password: str

    def snapshot(self, config: PrismConfig, full_pull: bool) -> PinnedSnapshot:
        if not isinstance(config.pim, AkeneoSource):
            msg = f"pim: the configuration has kind {config.pim.kind!r}, not akeneo"
            raise TypeError(msg)
        credentials = AkeneoCredentials.model_validate(
            self.model_dump(include={"client_id", "client_secret", "username", "password"})
        )
        pull = AkeneoPull(config.pim, credentials, config.locales, config.scopes)
        result = pull_catalog(pull, full=full_pull)
        details = {
            "pull_mode": result.mode,
            "pulled": result.pulled,
            "products_per_second": round(result.products_per_second, 1),
            "high_water_mark": str(result.high_water_mark),
        }
        return PinnedSnapshot(result.generation, details)


class SapResource(SnapshotSource):
    """Pulls prices, stock and lead times from the ``erp:`` SAP S/4HANA of the configuration
    over OData V2 into a new ERP snapshot folder."""

    user: str | None = None
    password: str | None = None
    token: str | None = None

    def snapshot(self, config: PrismConfig, full_pull: bool) -> PinnedSnapshot:
        if not isinstance(config.erp, SapSource):
            msg = f"erp: the configuration has kind {config.erp.kind!r}, not sap"
            raise TypeError(msg)
        auth: BasicAuth | BearerAuth
        if config.erp.auth == "bearer":
            auth = BearerAuth.model_validate({"token": self.token})
        else:
            auth = BasicAuth.model_validate({"user": self.user, "password": self.password})
        result = pull_erp_snapshot(config.erp, auth, full=full_pull)
        details = {
            "pull_mode": "full" if result.full else "incremental",
            "records": result.records,
            "records_per_second": round(result.records_per_second, 1),
            "unmapped_plants": sorted(result.unmapped_plants),
        }
        return PinnedSnapshot(result.snapshot, details)


class FeedStoreResource(dg.ConfigurableResource):
    """The publish directory: snapshots, the ``current`` link, reports, the publish lock."""

    directory: str
    keep: int = 5
    lock_wait_seconds: float = 0.0
    lock_lease_seconds: float = 120.0

    def store(self) -> SnapshotStore:
        return SnapshotStore(Path(self.directory))

    def lock(self, run_id: str) -> PublishLock:
        return PublishLock(
            Path(self.directory), run_id, self.lock_wait_seconds, self.lock_lease_seconds
        )

    def reports(self) -> ReportStore:
        return ReportStore(Path(self.directory) / "reports")


class DeliveryResource(dg.ConfigurableResource):
    """The push targets' credentials, read from the environment variables ``variables``
    (the names come from ``channels.<name>.deliver`` in prism.yaml) when the deliveries run.

    Unlike the sources' credentials these are not bound with ``dg.EnvVar``: Dagster resolves
    an ``EnvVar`` when it validates the run's configuration, before any step, so one unset
    push credential would stop the publish itself. Read at delivery time, an unset variable is
    a failed receipt naming it (and ``prism validate-config`` names it before a run); the value
    is never part of the run's configuration either way."""

    variables: list[str]

    def environ(self) -> Mapping[str, str]:
        return {name: os.environ[name] for name in self.variables if name in os.environ}


class PolarsParquetIOManager(dg.ConfigurableIOManager):
    """Stores polars DataFrames as Parquet files, one folder per run (``<base_dir>/<run id>/``),
    so two runs never read each other's intermediates; an asset re-materialized alone reads its
    inputs from the run that materialized them last. dagster-polars would do this but does not
    support Dagster 1.13."""

    base_dir: str

    def path(self, run_id: str, key: dg.AssetKey) -> Path:
        return Path(self.base_dir, run_id, *key.path).with_suffix(".parquet")

    def op_path(self, run_id: str, step_key: str, name: str, mapping_key: str | None) -> Path:
        """Where an op's output lives (the sharded job's steps are ops, not assets): by the
        run and step that wrote it, so a re-execution reads the steps it did not redo from
        the run that did them. A mapped step's key (``shard_master[shard_0]``) is written
        without brackets, which Parquet readers take for a glob."""
        step = step_key.replace("[", ".").replace("]", "")
        file = f"{name}.{mapping_key}" if mapping_key else name
        return Path(self.base_dir, run_id, "steps", step, f"{file}.parquet")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if context.has_asset_key:
            what, path = (
                context.asset_key.to_user_string(),
                self.path(context.run_id, context.asset_key),
            )
        else:
            what = f"{context.step_key}.{context.name}"
            path = self.op_path(context.run_id, context.step_key, context.name, context.mapping_key)
        if not isinstance(obj, pl.DataFrame):
            msg = f"{what}: expected a polars DataFrame, got {type(obj).__name__}"
            raise TypeError(msg)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        obj.write_parquet(tmp, compression="lz4", statistics=False)
        tmp.replace(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame:
        """The input's frame; an input typed ``pl.LazyFrame`` is a scan of its file, so the
        step reads only the columns (and reads them only when) it uses them."""
        # a step starts by loading its inputs: what the steps before it freed goes back to
        # the system first, rather than stay held by the C library's heaps (contracts.memory)
        release_free_memory()
        lazy = context.dagster_type.typing_type is pl.LazyFrame
        read = pl.scan_parquet if lazy else pl.read_parquet
        upstream = context.upstream_output
        if upstream is not None and not context.has_asset_key:
            path = self.op_path(
                upstream.run_id, upstream.step_key, upstream.name, upstream.mapping_key
            )
            return read(path)
        same_run = self.path(upstream.run_id, context.asset_key) if upstream else None
        if same_run is not None and same_run.is_file():
            return read(same_run)
        event = context.instance.get_latest_materialization_event(context.asset_key)
        if event is None:
            key = context.asset_key.to_user_string()
            msg = f"{key} was never materialized; materialize it (or the whole job) first"
            raise FileNotFoundError(msg)
        return read(self.path(event.run_id, context.asset_key))


CACHE_FOLDER = "cache"
"""In the work directory: state kept across runs (``<work>/cache/``), never pruned as a run's."""


def cache_folder(work_directory: Path | str, name: str) -> Path:
    return Path(work_directory, CACHE_FOLDER, name)


def prune_run_folders(root: Path, keep: Callable[[str], bool]) -> list[str]:
    """Delete the per-run work folders (named by run id) ``keep`` says no to; return their ids.
    The cache folder is no run's."""
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and p.name != CACHE_FOLDER]
    doomed = [p for p in runs if not keep(p.name)]
    for folder in doomed:
        shutil.rmtree(folder, ignore_errors=True)
    return [p.name for p in doomed]
