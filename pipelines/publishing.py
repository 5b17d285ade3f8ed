"""What is live and how to change it outside a run: status, crash recovery and rollback.

Used by the ``prism status|recover|rollback`` commands and by ``prism run`` to tell what a run
really did. Recovery and rollback take the publish lock like a run, so they never interleave
with a publish.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from contracts.config import PrismConfig
from sinks.publish import LiveState, PublishOutcome, live_state, read_history, recover, rollback
from sinks.publish_lock import LockRecord, PublishLock
from sinks.snapshot_store import SnapshotStore


@dataclass(frozen=True)
class Status:
    state: LiveState
    lock: LockRecord | None
    snapshots: list[str]
    history: list[dict[str, object]]
    problems: list[str]
    """the live snapshot's files or manifest failing verification, if asked to verify"""


def portals(config: PrismConfig) -> dict[str, str]:
    return config.portals()


def store_of(config: PrismConfig) -> SnapshotStore:
    return SnapshotStore(config.publish.directory)


def _lock(config: PrismConfig, purpose: str) -> PublishLock:
    run_id = f"{purpose}-{uuid.uuid4().hex[:12]}"
    return PublishLock(
        config.publish.directory,
        run_id,
        config.publish.lock_wait_seconds,
        config.publish.lock_lease_seconds,
    )


def status(config: PrismConfig, verify: bool = False) -> Status:
    """What is live per channel and portal, the lock, kept snapshots, recent history (read-only)."""
    store = store_of(config)
    state = live_state(store, portals(config))
    problems = []
    if verify and state.files is not None:
        try:
            store.verify(state.files)
        except Exception as error:
            problems.append(f"{state.files}: {error}")
    holder = _lock(config, "status").holder()
    return Status(state, holder, store.snapshots(), read_history(store, 10), problems)


def recover_now(config: PrismConfig) -> str | None:
    """Roll back a switch a crash left pending (under the publish lock); what was done."""
    lock = _lock(config, "recover")
    with lock.held(release=True):
        return recover(store_of(config), portals(config))


def rollback_now(config: PrismConfig, target: str | None) -> PublishOutcome:
    """Make ``target`` (default: the snapshot before the live one) live again, under the lock."""
    lock = _lock(config, "rollback")
    with lock.held(release=True):
        return rollback(store_of(config), portals(config), target, run_id=lock.run_id)


def release_run_lock(config: PrismConfig, run_id: str) -> bool:
    """After a run ended (however): give its lock up if it still holds one."""
    lock = PublishLock(config.publish.directory, run_id)
    return lock.release()
