"""One publish at a time: the lease on the publish directory."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import clock
from sinks.publish_lock import LOCK_FILE, PublishLock, PublishLockHeld


def test_a_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = PublishLock(tmp_path, "run-a")
    record = first.acquire()
    assert (record.run_id, record.pid) == ("run-a", os.getpid())
    with pytest.raises(PublishLockHeld) as refused:
        PublishLock(tmp_path, "run-b").acquire()
    message = str(refused.value)
    assert "another run holds the publish lock since" in message
    assert record.since in message
    assert "run id run-a" in message
    assert first.release()
    assert PublishLock(tmp_path, "run-b").acquire().run_id == "run-b"


def test_the_same_run_re_enters_in_a_later_step(tmp_path: Path) -> None:
    lock = PublishLock(tmp_path, "run-a")
    with lock.held(release=False) as first:
        pass
    record = lock.holder()
    assert record is not None
    assert (record.run_id, record.pid, record.since) == ("run-a", None, first.since)
    with lock.held(release=True) as again:
        assert again.since == first.since
    assert lock.holder() is None


def test_a_failing_step_gives_the_lock_up(tmp_path: Path) -> None:
    lock = PublishLock(tmp_path, "run-a")
    with pytest.raises(RuntimeError), lock.held(release=False):
        raise RuntimeError("staging failed")
    assert lock.holder() is None


def test_a_second_run_waits_a_bounded_time(tmp_path: Path) -> None:
    PublishLock(tmp_path, "run-a").acquire()
    started = time.monotonic()
    with pytest.raises(PublishLockHeld, match=r"waited"):
        PublishLock(tmp_path, "run-b", wait_seconds=1.0).acquire()
    assert 0.9 <= time.monotonic() - started < 5


def test_a_waiting_run_gets_the_lock_when_it_is_given_up(tmp_path: Path) -> None:
    with _holder(tmp_path, seconds=2) as holder:
        record = PublishLock(tmp_path, "run-b", wait_seconds=30).acquire()
        assert record.run_id == "run-b"
        assert holder.wait(10) == 0


def test_a_lock_whose_process_was_killed_is_free_at_once(tmp_path: Path) -> None:
    with _holder(tmp_path, seconds=600) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    assert PublishLock(tmp_path, "run-b").acquire().run_id == "run-b"


def test_a_lease_that_ran_out_is_free(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = PublishLock(tmp_path, "run-a", lease_seconds=60)
    with lock.held(release=False):
        pass  # between steps: no process named, only the lease holds it
    later = clock.utc_now() + dt.timedelta(seconds=61)
    monkeypatch.setattr(clock, "utc_now", lambda: later)
    assert PublishLock(tmp_path, "run-b", lease_seconds=60).acquire().run_id == "run-b"


def test_a_torn_record_holds_nothing(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text('{"run_id": "run-a", "ho', encoding="utf-8")
    assert PublishLock(tmp_path, "run-b").acquire().run_id == "run-b"
    assert json.loads((tmp_path / LOCK_FILE).read_text())["run_id"] == "run-b"


def test_the_heartbeat_renews_a_long_step(tmp_path: Path) -> None:
    lock = PublishLock(tmp_path, "run-a", lease_seconds=0.4)
    with lock.held(release=True) as first:
        time.sleep(0.5)
        renewed = lock.holder()
        assert renewed is not None
        assert renewed.renewed > first.renewed
        with pytest.raises(PublishLockHeld):
            PublishLock(tmp_path, "run-b", lease_seconds=0.4).acquire()


@contextlib.contextmanager
def _holder(folder: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock for ``seconds``, once it says so."""
    command = [sys.executable, "-c", _HOLD, str(folder), str(seconds)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield holder


_HOLD = """
import sys, time
from pathlib import Path
from sinks.publish_lock import PublishLock
lock = PublishLock(Path(sys.argv[1]), "holder")
with lock.held(release=True):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""
