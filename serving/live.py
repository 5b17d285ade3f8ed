"""The snapshot a request is served from: one immutable object, swapped whole.

A watcher thread looks at the ``current`` link every ``poll_seconds`` (one readlink); when it
names another snapshot, that snapshot is loaded (manifest parsed, every file's size and sha256
checked, its price data read into a ``PriceBook`` with its indexes) and only then swapped in,
by one reference assignment. A request takes the reference
once and reads its files from ``snapshots/<id>/`` (never through ``current``), so it sees one
snapshot from start to end. A snapshot that does not load is logged and skipped; the previous
one stays live.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from contracts.snapshots import MANIFEST, SNAPSHOT_ID, Manifest, SnapshotError
from serving.price_book import PriceBook, load_price_book
from sinks.snapshot_store import SnapshotStore, sha256_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """A verified, complete snapshot: its manifest and its folder."""

    snapshot_id: str
    manifest: Manifest
    folder: Path
    etag: str
    """the manifest file's sha256 in quotes: the ETag of the manifest itself"""
    prices: PriceBook | None = None
    """the price API's data (live snapshots; None: not loaded, or the snapshot has none)"""


def load_snapshot(store: SnapshotStore, snapshot_id: str, *, prices: bool = False) -> Snapshot:
    """Parse and verify a sealed snapshot, with its price book when ``prices`` (the live one:
    pinned snapshots serve files only); ``SnapshotError`` naming what is wrong."""
    folder = store.snapshot_dir(snapshot_id)
    try:
        manifest = store.verify(snapshot_id)
        digest = sha256_of(folder / MANIFEST)
    except OSError as error:
        msg = f"snapshot {snapshot_id}: unreadable ({error})"
        raise SnapshotError(msg) from None
    book = load_price_book(folder, manifest) if prices else None
    return Snapshot(snapshot_id, manifest, folder, f'"{digest}"', book)


class LiveSnapshots:
    """The live snapshot (``current``), and pinned earlier ones loaded on demand (a few cached)."""

    def __init__(self, store: SnapshotStore, *, pinned_cache: int = 8) -> None:
        self.store = store
        self._live: Snapshot | None = None
        self._failed: str | None = None
        self._lock = threading.Lock()
        self._pinned_lock = threading.Lock()  # a slow live load never holds up pinned requests
        self._pinned: OrderedDict[str, Snapshot] = OrderedDict()
        self._pinned_cache = pinned_cache
        self.load_failures = 0
        self.switches = 0

    @property
    def live(self) -> Snapshot | None:
        return self._live

    def refresh(self) -> Snapshot | None:
        """Load the snapshot ``current`` names if it is new; keep the previous one on failure."""
        with self._lock:
            target = self.store.live_snapshot()
            live = self._live
            if target is None or target == self._failed:
                return live
            if live is not None and live.snapshot_id == target:
                return live
            try:
                loaded = load_snapshot(self.store, target, prices=True)
            except SnapshotError as error:
                self._failed = target
                self.load_failures += 1
                kept = live.snapshot_id if live else "nothing"
                log.error(
                    "snapshot %s cannot be served (%s); still serving %s", target, error, kept
                )
                return live
            self._live = loaded
            self._failed = None
            self.switches += 1
            log.info("now serving snapshot %s", target)
            return loaded

    def pinned(self, snapshot_id: str) -> Snapshot | None:
        """A kept, complete snapshot by id (None: unknown, not sealed or damaged)."""
        live = self._live
        if live is not None and live.snapshot_id == snapshot_id:
            return live
        if not SNAPSHOT_ID.fullmatch(snapshot_id):
            return None
        with self._pinned_lock:
            found = self._pinned.pop(snapshot_id, None)
            if found is not None and (found.folder / MANIFEST).is_file():  # not pruned since
                self._pinned[snapshot_id] = found
                return found
            try:
                found = load_snapshot(self.store, snapshot_id)
            except SnapshotError as error:
                log.warning("pinned snapshot %s cannot be served: %s", snapshot_id, error)
                return None
            self._pinned[snapshot_id] = found
            while len(self._pinned) > self._pinned_cache:
                self._pinned.popitem(last=False)
            return found


class Watcher:
    """Calls ``LiveSnapshots.refresh`` every ``seconds`` on a daemon thread until stopped."""

    def __init__(self, snapshots: LiveSnapshots, seconds: float) -> None:
        self.snapshots = snapshots
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prism-serve-watcher", daemon=True)

    def start(self) -> None:
        self.snapshots.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.snapshots.refresh()
            except OSError as error:  # e.g. the publish folder briefly unreadable
                log.error("looking for a new snapshot failed: %s", error)
