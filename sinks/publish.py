"""Makes a snapshot live everywhere at once, or nowhere, and recovers from a crash in between.

A switch (publish, rollback) changes several things that cannot change in one atomic step: each
portal database's views (one transaction each) and the ``current`` link of the files. So:

1. the intent is recorded durably first, in ``publish.journal`` (target, what was live before
   on the files and on each portal, who switches);
2. each portal is switched (compare-and-swap: only if it still shows what was live before), then
   the ``current`` link;
3. the journal is removed: only now is the switch complete, and it is appended to
   ``history.jsonl``.

A switch that fails is undone at once (portals switched back, link left or put back). A switch
that was killed (SIGKILL, power cut) leaves its journal; ``recover`` — run before every publish,
by ``prism recover`` and ``prism rollback`` — rolls it back, so the files and every portal name
the same snapshot again: the one that was live before (a failed run never leaves a half-switched
publish). Callers hold the publish lock (``sinks.publish_lock``).

Cleanup after a switch (pruning old snapshots, dropping old portal tables) never turns a
completed publish into a failure: its errors are returned in ``PublishOutcome.cleanup_errors``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, NoReturn

from contracts import clock
from contracts.faults import checkpoint
from contracts.snapshots import Manifest, SnapshotError
from sinks.portal_errors import LiveSnapshotMoved
from sinks.portal_sql import (
    ANY,
    activate_portal_snapshot,
    deactivate_portal,
    drop_portal_snapshots,
    live_portal_snapshot,
)
from sinks.snapshot_store import SnapshotStore

log = logging.getLogger(__name__)

JOURNAL = "publish.journal"
HISTORY = "history.jsonl"
Portals = Mapping[str, str]
"""channel name -> the portal database's URL"""
Action = Literal["publish", "rollback"]


class PublishError(RuntimeError):
    """A switch did not happen; the message says what is live now."""


class LiveSnapshotChanged(PublishError):
    """What is live is not what this run's breakers compared against: the publish aborts."""


@dataclass(frozen=True)
class Journal:
    """A switch in progress: to ``target``, from ``previous`` (files) and ``portals``."""

    action: Action
    target: str
    previous: str | None
    portals: dict[str, str | None]
    run_id: str | None
    started_at: str


@dataclass(frozen=True)
class PublishOutcome:
    snapshot_id: str
    previous: str | None
    cleanup_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LiveState:
    """What is live: the files' snapshot, each portal's (or why it could not be read), and a
    pending journal if a switch was interrupted."""

    files: str | None
    portals: dict[str, str | None]
    portal_errors: dict[str, str]
    journal: Journal | None

    @property
    def consistent(self) -> bool:
        return (
            self.journal is None
            and not self.portal_errors
            and all(p == self.files for p in self.portals.values())
        )


# --- journal and history -----------------------------------------------------------------------


def journal_path(store: SnapshotStore) -> Path:
    return store.root / JOURNAL


def read_journal(store: SnapshotStore) -> Journal | None:
    """The pending journal; a torn one (crash while writing it) counts as none: the switch it
    announced had not started, since switching begins only after the journal is durable."""
    try:
        return Journal(**json.loads(journal_path(store).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        log.warning("ignoring a torn %s (written by a switch that never started)", JOURNAL)
        return None


def _write_journal(store: SnapshotStore, journal: Journal) -> None:
    store.root.mkdir(parents=True, exist_ok=True)
    _write_durably(journal_path(store), json.dumps(asdict(journal), indent=2))


def _clear_journal(store: SnapshotStore) -> None:
    journal_path(store).unlink(missing_ok=True)
    _fsync_dir(store.root)


def record_history(store: SnapshotStore, entry: dict[str, object]) -> None:
    """Append one line to ``history.jsonl``: every switch, rollback and recovery."""
    line = json.dumps({"at": clock.utc_now().isoformat(), **entry}, sort_keys=True)
    with (store.root / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_history(store: SnapshotStore, limit: int = 20) -> list[dict[str, object]]:
    """The newest ``limit`` entries, oldest first (a torn last line is skipped)."""
    path = store.root / HISTORY
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines()[-limit:]:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- state ------------------------------------------------------------------------------------


def live_state(store: SnapshotStore, portals: Portals) -> LiveState:
    """What is live now, read-only (``prism status``)."""
    found: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name, portal in portals.items():
        try:
            found[name] = live_portal_snapshot(portal)
        except Exception as error:
            errors[name] = f"{type(error).__name__}: {error}"
    return LiveState(store.live_snapshot(), found, errors, read_journal(store))


# --- switching --------------------------------------------------------------------------------


def publish_snapshot(
    store: SnapshotStore,
    manifest: Manifest,
    portals: Portals,
    keep: int,
    expected_live: str | None,
    run_id: str | None = None,
    digests: Mapping[str, str] | None = None,
) -> tuple[Manifest, PublishOutcome]:
    """Seal ``manifest``'s staged snapshot and make it live, if what is live is still
    ``expected_live`` (the snapshot this run's breakers compared against); keep the newest
    ``keep`` snapshots. ``digests``: staged files already hashed (``SnapshotStore.seal``)."""
    recover(store, portals)
    sealed = store.seal(manifest, digests)
    checkpoint("publish.sealed")
    _switch(store, portals, "publish", manifest.snapshot_id, expected_live, run_id)
    errors = cleanup(store, portals, keep)
    return sealed, PublishOutcome(manifest.snapshot_id, expected_live, errors)


def rollback(
    store: SnapshotStore, portals: Portals, target: str | None = None, run_id: str | None = None
) -> PublishOutcome:
    """Make a kept earlier snapshot live again (default: the newest one older than the live
    one), files and portals, through the same journal as a publish."""
    recover(store, portals)
    live = store.live_snapshot()
    if target is None:
        older = [s for s in store.snapshots() if live is None or s < live]
        if not older:
            msg = f"no kept snapshot older than the live one ({live or 'nothing live'})"
            raise PublishError(msg)
        target = older[-1]
    if target not in store.snapshots():
        msg = f"snapshot {target} is not kept (kept: {', '.join(store.snapshots()) or 'none'})"
        raise PublishError(msg)
    try:
        store.verify(target)
    except (OSError, SnapshotError) as error:
        msg = f"snapshot {target} cannot be made live: {error}"
        raise PublishError(msg) from None
    _switch(store, portals, "rollback", target, live, run_id)
    return PublishOutcome(target, live)


def _switch(
    store: SnapshotStore,
    portals: Portals,
    action: Action,
    target: str,
    expected_live: str | None,
    run_id: str | None,
) -> None:
    live = store.live_snapshot()
    if live != expected_live:
        msg = (
            f"the live snapshot is {live or 'nothing'}, not {expected_live or 'nothing'} as "
            f"when this run's breakers compared; {target} is not published (run again)"
        )
        raise LiveSnapshotChanged(msg)
    journal = Journal(
        action, target, live, dict.fromkeys(portals, live), run_id, clock.utc_now().isoformat()
    )
    _write_journal(store, journal)
    checkpoint("publish.journal_written")
    switched: list[str] = []
    try:
        for name, portal in portals.items():
            activate_portal_snapshot(portal, target, expected=live)
            switched.append(name)
            checkpoint("publish.after_portal_switch")
        store.activate(target)
        checkpoint("publish.after_files_switch")
    except Exception as error:
        _undo(store, portals, journal, switched, error)
    record_history(store, {"action": action, "snapshot": target, "previous": live, "run": run_id})
    _clear_journal(store)
    checkpoint("publish.journal_cleared")
    log.info("%s: %s is live (was %s)", action, target, live or "nothing")


def _undo(
    store: SnapshotStore,
    portals: Portals,
    journal: Journal,
    switched: list[str],
    error: Exception,
) -> NoReturn:
    """Put back what this switch changed, then raise a ``PublishError`` that says what is live."""
    cause = f"{type(error).__name__}: {error}"
    try:
        _restore(store, {n: portals[n] for n in switched}, journal)
    except Exception as undo_error:
        msg = (
            f"{journal.action} of {journal.target} failed ({cause}) and could not be undone "
            f"({type(undo_error).__name__}: {undo_error}); the switch is pending in "
            f"{journal_path(store)}: run `prism recover` once the portal is reachable"
        )
        raise PublishError(msg) from error
    _clear_journal(store)
    live = journal.previous or "nothing"
    msg = f"{journal.action} of {journal.target} failed ({cause}); {live} stays live"
    if isinstance(error, LiveSnapshotMoved):
        raise LiveSnapshotChanged(msg) from error
    raise PublishError(msg) from error


def _restore(store: SnapshotStore, portals: Portals, journal: Journal) -> None:
    """Files and ``portals`` back to what the journal says was live before (idempotent)."""
    for name, portal in portals.items():
        previous = journal.portals.get(name, journal.previous)
        if previous is None:
            deactivate_portal(portal)
        else:
            activate_portal_snapshot(portal, previous, expected=ANY)
    if journal.previous is None:
        store.deactivate()
    else:
        store.activate(journal.previous)


def recover(store: SnapshotStore, portals: Portals) -> str | None:
    """Roll back a switch a crash left pending; a description of what was done, or None.

    Every portal the journal names is put back, switched or not (which ones were switched before
    the crash is unknown, and switching back is idempotent)."""
    journal = read_journal(store)
    if journal is None:
        return None
    known = {n: p for n, p in portals.items() if n in journal.portals}
    _restore(store, known, journal)
    missing = sorted(set(journal.portals) - set(portals))
    record_history(
        store,
        {
            "action": "recover",
            "snapshot": journal.previous,
            "interrupted": f"{journal.action} of {journal.target}",
            "run": journal.run_id,
        },
    )
    _clear_journal(store)
    done = (
        f"rolled back the interrupted {journal.action} of {journal.target} "
        f"(run {journal.run_id}); {journal.previous or 'nothing'} is live"
    )
    if missing:
        done += f"; portals no longer configured were not touched: {missing}"
    log.warning("%s", done)
    return done


def _dropper(portal: str, kept: set[str]) -> Callable[[], object]:
    return lambda: drop_portal_snapshots(portal, kept)


def cleanup(store: SnapshotStore, portals: Portals, keep: int) -> list[str]:
    """Prune snapshots beyond ``keep``, their portal tables and staging leftovers; errors are
    returned, not raised (the publish is complete when this runs)."""
    errors: list[str] = []
    kept: set[str] = set(store.snapshots())

    def attempt(what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as error:
            errors.append(f"{what}: {type(error).__name__}: {error}")
            log.warning("cleanup failed: %s: %s", what, error)

    def prune() -> None:
        kept.difference_update(store.prune(keep))

    attempt("pruning old snapshots", prune)
    for name, portal in portals.items():
        attempt(f"dropping old tables of portal {name}", _dropper(portal, kept))
    attempt("removing staging leftovers", store.discard_staging)
    return errors
