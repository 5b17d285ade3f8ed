"""Deliver a published snapshot's files of one channel to its push targets, with receipts.

Runs after the switch, on the snapshot as sealed (``snapshots/<id>/``, the manifest's sha256
and bytes), and never changes what is published: a failed target gets a ``failed`` receipt and
is owed the live snapshot until a later receipt for it says ``ok`` (``pending``), which the
next run or ``prism deliver`` sends. Credentials are read from the variables the target names,
and held in a ``contracts.secrets.Secrets`` while it is pushed, so they read ``***`` in every
log record, error and receipt.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath

from contracts.clock import utc_now
from contracts.delivery_config import DeliveryTarget, HttpTarget
from contracts.secrets import Secrets, logger
from contracts.snapshots import Manifest
from sinks.delivery.errors import DeliveryError
from sinks.delivery.http import push_http
from sinks.delivery.receipts import (
    FAILED,
    OK,
    DeliveredFile,
    Receipt,
    append_receipt,
    last_receipts,
)
from sinks.delivery.sftp import push_sftp
from sinks.snapshot_store import SnapshotStore

log = logger(__name__)
Sleep = Callable[[float], None]


def channel_files(
    store: SnapshotStore, manifest: Manifest, channel: str
) -> list[tuple[Path, DeliveredFile]]:
    """The channel's feed files in the sealed snapshot (not its SQL tables or internal rows)."""
    folder = store.snapshot_dir(manifest.snapshot_id)
    return [
        (folder / f.path, DeliveredFile(PurePosixPath(f.path).name, f.bytes, f.sha256))
        for f in manifest.channel_files(channel)
        if f.kind == "file"
    ]


def pending(
    store: SnapshotStore, snapshot_id: str, deliveries: Mapping[str, tuple[DeliveryTarget, ...]]
) -> list[tuple[str, int]]:
    """(channel, target index) still owed ``snapshot_id``: no receipt yet, or the last one is
    for another snapshot or failed."""
    last = last_receipts(store.root)
    return [
        (channel, index)
        for channel, targets in deliveries.items()
        for index in range(len(targets))
        if not ((r := last.get((channel, index))) and r.ok and r.snapshot_id == snapshot_id)
    ]


def deliver_live(
    store: SnapshotStore,
    deliveries: Mapping[str, tuple[DeliveryTarget, ...]],
    environ: Mapping[str, str],
    selected: Collection[tuple[str, int]] | None = None,
    force: bool = False,
    sleep: Sleep = time.sleep,
) -> list[Receipt]:
    """Push the live snapshot to every target still owed it (``force``: to every target),
    of ``selected`` (channel, index) pairs if given; the receipts, in order. A run does this
    after its publish, ``prism deliver`` when asked."""
    snapshot_id = store.live_snapshot()
    if snapshot_id is None:
        msg = "nothing is live: there is no snapshot to deliver"
        raise DeliveryError(msg)
    manifest = store.manifest(snapshot_id)
    every = [(c, i) for c, targets in deliveries.items() for i in range(len(targets))]
    owed = every if force else pending(store, snapshot_id, deliveries)
    chosen = [key for key in owed if selected is None or key in selected]
    return [
        deliver(store, manifest, channel, index, deliveries[channel][index], environ, sleep)
        for channel, index in chosen
    ]


def deliver(
    store: SnapshotStore,
    manifest: Manifest,
    channel: str,
    index: int,
    target: DeliveryTarget,
    environ: Mapping[str, str],
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
) -> Receipt:
    """Push the channel's files of ``manifest`` to ``target``; append and return the receipt.
    Never raises for a failed push: the receipt says it failed and why."""
    files = channel_files(store, manifest, channel)
    started = utc_now()
    attempts, error = 0, None
    try:
        credentials = _credentials(target, environ)
    except DeliveryError as problem:
        error = str(problem)
    else:
        with Secrets(*_secret_values(credentials)):
            attempts, error = _push(target, files, manifest.snapshot_id, credentials, sleep, rng)
    receipt = Receipt(
        channel=channel,
        target=index,
        destination=target.label(),
        snapshot_id=manifest.snapshot_id,
        started_at=started.isoformat(),
        finished_at=utc_now().isoformat(),
        attempts=attempts,
        outcome=FAILED if error else OK,
        error=error,
        files=[f for _, f in files],
    )
    append_receipt(store.root, receipt)
    if error:
        log.warning("delivery of %s to %s failed: %s", channel, target.label(), error)
    else:
        log.info("delivered %s (%d files) to %s", channel, len(files), target.label())
    return receipt


def _push(
    target: DeliveryTarget,
    files: list[tuple[Path, DeliveredFile]],
    snapshot_id: str,
    credentials: Mapping[str, str],
    sleep: Sleep,
    rng: random.Random | None,
) -> tuple[int, str | None]:
    rng = rng or random.Random()
    try:
        if isinstance(target, HttpTarget):
            sent = push_http(target, files, snapshot_id, credentials, sleep, rng)
        else:
            sent = push_sftp(target, files, snapshot_id, credentials, sleep, rng)
    except DeliveryError as error:
        return error.attempts, str(error)
    except OSError as error:  # e.g. a snapshot file pruned meanwhile
        return 0, str(DeliveryError(f"{target.label()}: {type(error).__name__}: {error}"))
    return sent, None


def _secret_values(credentials: Mapping[str, str]) -> list[str]:
    """Every value to mask: the credentials, and each value of a JSON headers credential (a
    server echoing one header would show that value alone)."""
    values = list(credentials.values())
    try:
        headers = json.loads(credentials.get("headers", "null"))
    except ValueError:
        headers = None
    if isinstance(headers, dict):
        values += [v for v in headers.values() if isinstance(v, str)]
    return values


def _credentials(target: DeliveryTarget, environ: Mapping[str, str]) -> dict[str, str]:
    """Each credential from its variable; a missing one fails naming the variable only."""
    found = {}
    for credential, variable in target.credential_variables().items():
        value = environ.get(variable, "")
        if not value.strip():
            msg = f"{target.label()}: environment variable {variable} ({credential}) is not set"
            raise DeliveryError(msg)
        found[credential] = value
    return found
