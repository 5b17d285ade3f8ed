"""The channels of a run as the assets need them: compiled mappings and their views.

The PIM model comes from the structure assets (``pim_attributes``, ``pim_attribute_options``,
``pim_channels``, ``pim_families``, ``pim_family_variants``), so every step compiles the same
mappings the PIM step checked; the views are pure polars (``mapping.view``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import polars as pl

from assets.resources import cache_folder
from assets.view_cache import FOLDER as VIEWS_CACHE
from assets.view_cache import ViewCache, view_key
from contracts.config import PrismConfig
from mapping.compile import CompiledChannel
from mapping.golden_rows import GoldenRows
from mapping.model import PimModel
from mapping.plan import compiled_channels, pim_model
from mapping.view import ChannelView, channel_view
from mapping.view_reuse import RowChanges, row_changes, row_hashes, spliced_view
from sinks.formats import FORMATS


@dataclass(frozen=True)
class PimStructureFrames:
    attributes: pl.DataFrame
    attribute_options: pl.DataFrame
    channels: pl.DataFrame
    families: pl.DataFrame
    family_variants: pl.DataFrame

    def frames(self) -> dict[str, pl.DataFrame]:
        """Each structure frame by its field name (not copied, as ``asdict`` would)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def model(self, config: PrismConfig) -> PimModel:
        return pim_model(
            config,
            self.attributes,
            self.attribute_options,
            self.channels,
            self.families,
            self.family_variants,
        )


def compiled(
    config: PrismConfig, structure: PimStructureFrames, golden: pl.DataFrame | pl.LazyFrame
) -> dict[str, CompiledChannel]:
    columns = golden.collect_schema().names()
    return compiled_channels(config, FORMATS, structure.model(config), columns)


class ChannelViews(Mapping[str, ChannelView]):
    """Every channel's view of the golden record, computed when first asked for and not
    kept: a step that walks the channels holds one view at a time (a view's golden rows are
    copied out of the catalog when a step reads them all, as a writer does).

    With a ``store``, a view is mapped once per run: the quarantine step maps each channel
    and keeps the view there, the feed step of the same run reads it back instead of mapping
    again (reading is a fraction of the mapping's cost; the mapping is deterministic, so
    both steps see the same rows). A view not in the store is mapped (a channel staged in a
    run of its own).

    ``golden`` may be a scan of the golden record's file (the feed step's): views read back
    from the store then read only the golden columns their writers select, and the record is
    read whole only to map a view the store lacks."""

    def __init__(
        self,
        golden: pl.DataFrame | pl.LazyFrame,
        channels: Mapping[str, CompiledChannel],
        erp_source: str,
        store: ViewStore | None = None,
        cache: ViewCache | None = None,
    ) -> None:
        self._source, self._channels, self._erp_source = golden, channels, erp_source
        self._store, self._cache = store, cache
        self._hashes: pl.DataFrame | None = None
        self._hashes_file: Path | None = None
        self._changes: dict[tuple[int, int, int, int], RowChanges] = {}
        self.seconds: dict[str, float] = {}
        """wall seconds of each channel's mapping (filters, fields, checks): the bench
        reports them, so a mapping that stops being vectorized shows up"""
        self.remapped: dict[str, int] = {}
        """per channel built from the cache's previous view: the golden rows mapped again"""

    def __getitem__(self, name: str) -> ChannelView:
        started = time.perf_counter()
        view = self._store.load(name, self._source) if self._store else None
        if view is None:
            view = self._map(name)
            if self._store is not None:
                written = self._store.save(view, self._golden)
                if written is not None and self._cache is not None and self._hashes_file:
                    files = written | {"hashes": self._hashes_file}
                    self._cache.keep(name, files, self._erp_source)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return view

    @cached_property
    def _golden(self) -> pl.DataFrame:
        """The golden record itself (read whole once, when a view must be mapped)."""
        source = self._source
        return source if isinstance(source, pl.DataFrame) else source.collect()

    def _map(self, name: str) -> ChannelView:
        """The channel's view: from the cache's previous view and the golden rows that
        changed since, where the cache holds one; else mapped whole."""
        golden, compiled = self._golden, self._channels[name]
        hashes = self._row_hashes()
        cached = self._cache.previous(name) if self._cache and hashes is not None else None
        if cached is not None and hashes is not None:
            previous, hashes_file = cached
            changes = self._changes_since(hashes, hashes_file)
            if changes is not None:
                view = spliced_view(golden, changes, compiled, self._erp_source, previous)
                if view is not None:
                    self.remapped[name] = changes.remapped
                    return view
        return channel_view(golden, compiled, self._erp_source)

    def _changes_since(self, hashes: pl.DataFrame, earlier: Path) -> RowChanges | None:
        """The golden rows changed since the run whose row hashes ``earlier`` holds; the
        channels kept by one run link one file, so it is compared once (None: unreadable)."""
        try:
            stat = earlier.stat()
            identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if identity not in self._changes:
                self._changes[identity] = row_changes(hashes, pl.read_parquet(earlier))
        except (OSError, pl.exceptions.PolarsError):
            return None
        return self._changes[identity]

    def _row_hashes(self) -> pl.DataFrame | None:
        """The golden rows' hashes (once per step), written beside the run's views for the
        cache; None without a cache and store, or where skus repeat."""
        if self._cache is None or self._store is None:
            return None
        if self._hashes is None:
            self._hashes = row_hashes(self._golden)
            if self._hashes is not None:
                self._hashes_file = self._store.write("_golden.hashes", self._hashes)
        return self._hashes

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)

    def metadata(self) -> dict[str, float]:
        """``mapping_seconds`` (all channels), ``mapping_seconds/<channel>`` and, for each
        view built from the previous run's, ``remapped_rows/<channel>``: the golden rows
        mapped again."""
        total = {"mapping_seconds": round(sum(self.seconds.values()), 2)}
        total |= {f"mapping_seconds/{n}": round(s, 3) for n, s in self.seconds.items()}
        return total | {f"remapped_rows/{n}": rows for n, rows in self.remapped.items()}


def views(
    golden: pl.DataFrame | pl.LazyFrame,
    channels: Mapping[str, CompiledChannel],
    erp_source: str,
    store: ViewStore | None = None,
    cache: ViewCache | None = None,
) -> ChannelViews:
    """Every channel's view of the golden record, each computed (and timed) when used, or
    read from ``store`` when a step of the same run mapped it already; with a ``cache`` (and
    a store), built from the view an earlier run kept there, mapping only the golden rows
    that changed since."""
    return ChannelViews(golden, channels, erp_source, store, cache)


@dataclass(frozen=True)
class ViewStore:
    """The channel views of one run, as Parquet in the run's work folder
    (``<work>/<run id>/views/``): the mapped frame, the findings, which golden rows the view
    holds (``rows``: one flag per row of the run's golden record) and of those rows only the
    columns the mapping added (product URLs, completeness); the rest are the run's golden
    rows themselves."""

    folder: Path

    @classmethod
    def of_run(cls, work_directory: Path, run_id: str) -> ViewStore:
        return cls(Path(work_directory) / run_id / "views")

    def save(self, view: ChannelView, golden: pl.DataFrame) -> dict[str, Path] | None:
        """Keep ``view``; its files by part. A view whose golden rows are not the golden
        columns followed by the added ones (none today) is not kept (None), and the next
        step maps it again."""
        columns = view.golden_columns()
        if columns[: golden.width] != golden.columns:
            return None
        added = columns[golden.width :]
        parts = {
            "frame": view.frame,
            "findings": view.findings,
            "rows": _rows_mask(view, golden).to_frame("row"),
            "added": view.golden_lazy().select(added).collect(),
        }
        return {part: self.write(f"{view.name}.{part}", frame) for part, frame in parts.items()}

    def write(self, name: str, frame: pl.DataFrame) -> Path:
        """``frame`` as ``<name>.parquet`` in the store, written whole (renamed into place)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.parquet"
        tmp = path.with_suffix(".tmp")
        frame.write_parquet(tmp, compression="lz4", statistics=False)
        tmp.replace(path)
        return path

    def load(self, name: str, golden: pl.DataFrame | pl.LazyFrame) -> ChannelView | None:
        """The view kept by ``save``, its golden rows not copied until read (``GoldenRows``;
        ``golden`` may be a scan of the record's file); None when not kept or kept for
        another golden record."""
        paths = {p: self.folder / f"{name}.{p}.parquet" for p in _PARTS}
        if not all(p.is_file() for p in paths.values()):
            return None
        frame = pl.read_parquet(paths["frame"])
        mask = pl.read_parquet(paths["rows"]).to_series()
        skus = golden.lazy().select("sku").collect().to_series()
        if mask.len() != skus.len() or not skus.filter(mask).equals(frame["sku"]):
            return None  # not this golden record's view: map again
        rows = GoldenRows.where(golden, mask, pl.read_parquet(paths["added"]))
        return ChannelView(name, frame, pl.read_parquet(paths["findings"]), rows)


_PARTS = ("frame", "findings", "rows", "added")


def _rows_mask(view: ChannelView, golden: pl.DataFrame) -> pl.Series:
    """Which rows of ``golden`` the view holds, one flag per row."""
    if isinstance(view.rows, GoldenRows) and view.rows.source is golden:
        return view.rows.mask
    skus = view.frame.get_column("sku").implode()
    return golden.select(pl.col("enabled").fill_null(False) & pl.col("sku").is_in(skus)).to_series()


def view_cache(
    config: PrismConfig, structure: PimStructureFrames, golden: pl.DataFrame | pl.LazyFrame
) -> ViewCache:
    """The cache of the views of ``config``'s channels over ``golden`` with ``structure``."""
    key = view_key(config, structure.frames(), golden.collect_schema())
    return ViewCache(cache_folder(config.publish.work_directory, VIEWS_CACHE), key)


def erp_source_of(snapshot_id: str) -> str:
    """How a finding on an ERP value names its source."""
    return f"ERP snapshot {snapshot_id}, prices"
