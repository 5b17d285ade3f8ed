"""What is live and how to change it outside a run: status, crash recovery and rollback.

Used by the ``prism status|recover|rollback`` commands and by ``prism run`` to tell what a run
really did. Recovery and rollback take the publish lock like a run, so they never interleave
with a publish.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.config import PrismConfig
from sinks.delivery import Receipt, deliver_live, last_receipts
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
    deliveries: dict[tuple[str, int], Receipt | None]
    """the last receipt per channel and push target (None: never delivered)"""


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
    history = read_history(store, 10)
    return Status(state, holder, store.snapshots(), history, problems, _deliveries(config))


def _deliveries(config: PrismConfig) -> dict[tuple[str, int], Receipt | None]:
    last = last_receipts(config.publish.directory)
    return {
        (channel, index): last.get((channel, index))
        for channel, targets in config.deliveries().items()
        for index in range(len(targets))
    }


def deliver_now(
    config: PrismConfig,
    channel: str,
    target: int | None,
    environ: Mapping[str, str],
    force: bool = False,
) -> list[Receipt]:
    """Push the live snapshot to ``channel``'s targets still owed it (``force``: all), or to
    target ``target`` only. No publish lock: a push never changes what is live, and a long
    retry must not hold up a run; the files pushed are the sealed snapshot's."""
    targets = config.deliveries()[channel]
    indexes = range(len(targets)) if target is None else [target]
    selected = [(channel, index) for index in indexes]
    return deliver_live(store_of(config), config.deliveries(), environ, selected, force)


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
