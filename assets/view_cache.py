"""Each channel's view kept across runs, so the next run maps only the products whose golden
row changed (``mapping.view_reuse``).

A run's views are already written to its work folder (``ViewStore``) for its feed step; the
cache links those files (no second write) under ``<work>/cache/views/<channel>/<key>/`` with
the hashes of the golden rows they were mapped from and the ERP source their findings name.
The key covers everything a view depends on besides the golden rows: the whole configuration
(mappings, formats, filters, locales), the PIM structure (attributes, options and their labels,
channels, families, variants), the golden record's columns and types, the code that maps (the
``mapping``, ``golden``, ``contracts`` and ``sinks.formats`` packages) and polars' version (its row
hashes are not stable across versions). Any difference is a miss: the view is mapped whole,
as before. An entry appears whole or not at all (``contracts.folders.new_folder``); an
unreadable one is a miss; each channel keeps its ``KEPT`` newest entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

import contracts
import golden
import mapping
import sinks.formats
from contracts.config import PrismConfig
from contracts.folders import new_folder
from mapping.view_reuse import PreviousView
from sources.source_state import code_digest, prune_states

FOLDER = "views"
"""The cache's folder under the work directory's cache folder."""
KEPT = 2
"""Entries a channel keeps (the newest): the current mapping's and the one before."""
PARTS = ("hashes", "frame", "findings", "added", "rows")
ERP_SOURCE = "erp_source.txt"


@cache
def _code() -> str:
    return code_digest([mapping, golden, contracts, sinks.formats])


def view_key(config: PrismConfig, structure: Mapping[str, pl.DataFrame], golden: pl.Schema) -> str:
    """The key of the views of ``config``'s channels over a golden record of schema
    ``golden``, with the PIM ``structure`` frames (name -> frame)."""
    digest = hashlib.sha1(usedforsecurity=False)
    described = {
        "config": config.model_dump(mode="json"),
        "golden": {name: str(dtype) for name, dtype in golden.items()},
        "code": _code(),
        "polars": pl.__version__,
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    for name in sorted(structure):
        digest.update(f"\0{name}\0".encode())
        digest.update(structure[name].write_json().encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ViewCache:
    """The cache folder of one mapping (``key``, see ``view_key``)."""

    folder: Path
    key: str

    def previous(self, channel: str) -> tuple[PreviousView, Path] | None:
        """The channel's view kept under this key and the file of the golden row hashes it
        was mapped from, or None (never kept, or unreadable)."""
        entry = self.folder / channel / self.key
        if not entry.is_dir():
            return None
        with contextlib.suppress(OSError, pl.exceptions.PolarsError):
            parts = {p: pl.read_parquet(entry / f"{p}.parquet") for p in PARTS if p != "hashes"}
            source = (entry / ERP_SOURCE).read_text(encoding="utf-8")
            hashes = entry / "hashes.parquet"
            if not hashes.is_file():
                return None
            entry.touch()  # the newest use keeps it among the KEPT
            view = PreviousView(
                parts["frame"],
                parts["findings"],
                parts["added"],
                parts["rows"].to_series(),
                source,
            )
            return view, hashes
        return None

    def keep(self, channel: str, files: Mapping[str, Path], erp_source: str) -> None:
        """Keep the channel's view from the files a run wrote (``PARTS`` -> path; linked, or
        copied where the cache is on another file system), replacing the entry of this key;
        when two runs keep one at once, the first rename wins (both hold the same view)."""
        target = self.folder / channel / self.key
        shutil.rmtree(target, ignore_errors=True)
        with contextlib.suppress(FileExistsError), new_folder(target) as entry:
            for part in PARTS:
                _link(files[part], entry / f"{part}.parquet")
            (entry / ERP_SOURCE).write_text(erp_source, encoding="utf-8")
        prune_states(self.folder / channel, KEPT)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
