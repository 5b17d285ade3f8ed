"""Quality reports on disk: one folder per snapshot under ``<publish.directory>/reports/``.

Each folder holds ``index.html`` (the report) with its lookup pages ``quarantine/NNNN.html``
(every quarantined product, by sku), ``summary.json`` (per-channel counts and the gate's
verdict, read back for the trends), ``completeness.parquet`` (the score per product, channel
and locale), the quarantine exports and the great-expectations results. A blocked snapshot
keeps its report: it says why. Reports are for people: the breakers never depend on them
(their baseline is in the live snapshot itself), and a damaged one is skipped.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.snapshots import SNAPSHOT_ID, check_snapshot_id

log = logging.getLogger(__name__)
SUMMARY = "summary.json"


@dataclass(frozen=True)
class ReportStore:
    root: Path

    def folder(self, snapshot_id: str) -> Path:
        return self.root / check_snapshot_id(snapshot_id)

    def fresh_folder(self, snapshot_id: str) -> Path:
        """An empty folder for a snapshot's report (a retry starts over)."""
        folder = self.folder(snapshot_id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def write_summary(self, snapshot_id: str, summary: dict[str, Any]) -> None:
        path = self.folder(snapshot_id) / SUMMARY
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    def summary(self, snapshot_id: str) -> dict[str, Any] | None:
        """A report's summary, or None when it is missing or damaged: reports are for people,
        so a torn or deleted one is skipped (with a warning), never a reason to stop a run."""
        path = self.folder(snapshot_id) / SUMMARY
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("ignoring the damaged report summary %s: %s", path, error)
            return None
        if not isinstance(summary, dict) or not isinstance(summary.get("channels"), dict):
            log.warning("ignoring the report summary %s: not a Prism summary", path)
            return None
        return summary

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if SNAPSHOT_ID.fullmatch(p.name))

    def history(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` summaries, oldest first."""
        found = [s for s in (self.summary(i) for i in self.ids()) if s is not None]
        return found[max(len(found) - limit, 0) :]

    def prune(self, keep: int, protect: set[str]) -> None:
        """Delete all but the newest ``keep`` reports, never those in ``protect``."""
        ids = self.ids()
        for snapshot_id in ids[: max(len(ids) - keep, 0)]:
            if snapshot_id not in protect:
                shutil.rmtree(self.folder(snapshot_id))
