"""Makes a staged snapshot live everywhere at once, or nowhere.

Order: seal the files (manifest, rename out of staging), switch every portal database's views
(one transaction each), then switch the ``current`` link. If the link switch fails, portals are
switched back to the previous snapshot so files and tables never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.config import PortalChannel
from contracts.snapshots import Manifest
from sinks.portal_sql import activate_portal_snapshot, drop_portal_snapshots, live_portal_snapshot
from sinks.snapshot_store import SnapshotStore


def publish_snapshot(
    store: SnapshotStore, manifest: Manifest, portals: Sequence[PortalChannel], keep: int
) -> Manifest:
    """Make ``manifest``'s snapshot live; keep the newest ``keep`` snapshots."""
    sealed = store.seal(manifest)
    previous = {id(p): live_portal_snapshot(p) for p in portals}
    switched: list[PortalChannel] = []
    try:
        for portal in portals:
            activate_portal_snapshot(portal, manifest.snapshot_id)
            switched.append(portal)
        store.activate(manifest.snapshot_id)
    except Exception:
        for portal in switched:
            if previous[id(portal)] is not None:
                activate_portal_snapshot(portal, previous[id(portal)])
        raise
    kept = set(store.snapshots()) - set(store.prune(keep))
    for portal in portals:
        drop_portal_snapshots(portal, kept)
    store.discard_staging()
    return sealed
