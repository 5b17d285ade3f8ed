"""One publish at a time: a lease on the publish directory, held by a run from staging to switch.

The lock is the record ``<publish dir>/publish.lock`` (JSON: run id, host, pid, since, renewed).
It is read and written only under a short ``fcntl`` lock of ``publish.mutex``, which works across
processes and, on NFS with lock support, across machines sharing the directory.

A run takes the lock in its first step that stages feeds and keeps it until it published (or
failed). Its steps may run in different processes (Dagster's multiprocess executor), so the
record names the run, not a process: a later step of the same run re-enters it. While a step
runs, a heartbeat renews the record every ``lease / 4`` seconds and the record names the step's
process; between steps it names none and only the lease counts. The lock is free when the record
is missing, when its lease ran out (the holder stopped renewing), or when it names a process on
this host that no longer exists (a run killed with SIGKILL frees it at once).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from contracts import clock

LOCK_FILE = "publish.lock"
MUTEX_FILE = "publish.mutex"
POLL_SECONDS = 0.2
_THREADS = threading.Lock()  # fcntl locks are per process; this orders our own threads


class PublishLockHeld(RuntimeError):
    """Another run holds the publish lock; the message names it and since when."""

    def __init__(self, holder: LockRecord, waited: float) -> None:
        self.holder = holder
        waited_text = f" (waited {waited:.0f} s)" if waited >= 1 else ""
        super().__init__(
            f"another run holds the publish lock since {holder.since}, run id {holder.run_id} "
            f"on {holder.host}{waited_text}; it is freed when that run ends or stops renewing "
            "it (lease), or run `prism recover` once that run is gone"
        )


@dataclass(frozen=True)
class LockRecord:
    run_id: str
    host: str
    pid: int | None
    """the process of the step that holds the lock now; None between steps"""
    since: str
    renewed: str

    def age(self, now: dt.datetime) -> float:
        return (now - dt.datetime.fromisoformat(self.renewed)).total_seconds()


@dataclass
class PublishLock:
    """The publish lock of ``directory`` as seen by run ``run_id``."""

    directory: Path
    run_id: str
    wait_seconds: float = 0.0
    lease_seconds: float = 120.0

    @property
    def path(self) -> Path:
        return self.directory / LOCK_FILE

    def holder(self) -> LockRecord | None:
        """The current record, if any (whether or not its lease still holds)."""
        with self._mutex():
            return self._read()

    def acquire(self) -> LockRecord:
        """Take (or re-enter) the lock for this run, waiting up to ``wait_seconds``."""
        started = time.monotonic()
        while True:
            with self._mutex():
                record = self._read()
                if record is None or record.run_id == self.run_id or self._stale(record):
                    return self._write(record, pid=os.getpid())
            waited = time.monotonic() - started
            if waited >= self.wait_seconds and record is not None:
                raise PublishLockHeld(record, waited)
            time.sleep(min(POLL_SECONDS, max(self.wait_seconds - waited, 0.01)))

    def release(self) -> bool:
        """Give the lock up if this run holds it; True when it did."""
        with self._mutex():
            record = self._read()
            if record is None or record.run_id != self.run_id:
                return False
            self.path.unlink(missing_ok=True)
            return True

    @contextlib.contextmanager
    def held(self, *, release: bool) -> Iterator[LockRecord]:
        """Hold the lock for one step: acquire, renew while the step runs, then either release
        it (``release``, or the step failed) or keep it for the run's next step."""
        record = self.acquire()
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(stop,), daemon=True)
        beat.start()
        failed = True
        try:
            yield record
            failed = False
        finally:
            stop.set()
            beat.join()
            if release or failed:
                self.release()
            else:
                self._handover()

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(self.lease_seconds / 4):
            with self._mutex():
                record = self._read()
                if record is not None and record.run_id == self.run_id:
                    self._write(record, pid=os.getpid())

    def _handover(self) -> None:
        """Between steps: the record keeps the run and the lease, but names no process."""
        with self._mutex():
            record = self._read()
            if record is not None and record.run_id == self.run_id:
                self._write(record, pid=None)

    def _stale(self, record: LockRecord) -> bool:
        if record.age(clock.utc_now()) > self.lease_seconds:
            return True
        return (
            record.host == socket.gethostname()
            and record.pid is not None
            and not _alive(record.pid)
        )

    def _read(self) -> LockRecord | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return LockRecord(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            return None  # a torn or foreign record holds nothing: it is replaced

    def _write(self, previous: LockRecord | None, pid: int | None) -> LockRecord:
        now = clock.utc_now().isoformat()
        if previous is not None and previous.run_id == self.run_id:
            record = replace(previous, pid=pid, renewed=now)
        else:
            record = LockRecord(self.run_id, socket.gethostname(), pid, now, now)
        tmp = self.path.with_name(f".{LOCK_FILE}.{os.getpid()}")
        tmp.write_text(json.dumps(asdict(record)), encoding="utf-8")
        tmp.replace(self.path)
        return record

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with _THREADS, (self.directory / MUTEX_FILE).open("a") as handle:
            fcntl.lockf(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
