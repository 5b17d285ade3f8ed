"""great-expectations' worker process (``quality.expectations_worker``): it gives the results
the suites give in process, says when great-expectations failed inside it or when it died, starts
again on the next request, and exits when the process that started it is killed."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
from factories import REPO, config_with, feed_suite, golden_products, product

from quality.expectations import validate_feeds
from quality.expectations_worker import ExpectationsWorker, ExpectationsWorkerError
from quality.rules import References

REFERENCES: References = {"families": ["shirts", "shoes"]}
CONFIG = config_with(
    {
        "shop": {
            "format": "csv",
            "locale": "de_DE",
            "currency": "EUR",
            "product_url": "https://shop.example.com/de/p/{sku}",
        },
        "marketplace": {
            "format": "google_merchant",
            "locale": "de_DE",
            "currency": "EUR",
            "product_url": "https://www.example.com/de/p/{sku}",
        },
    }
)
GOLDEN = golden_products(
    product("OK"),
    product("HOSTILE", name_de_DE='</script>=HYPERLINK("x")\x00 😀'),
    product("NOBRAND", brand=None),
    product("FAMILY", family="ghosts"),
)
SUITES = {name: feed_suite(CONFIG, name, GOLDEN) for name in CONFIG.channels}


@pytest.fixture
def worker() -> ExpectationsWorker:
    found = ExpectationsWorker()
    yield found
    found.stop()


def _without_run_times(result: dict) -> dict:
    """A result without what differs from one validation to the next (times, ids)."""
    return {
        "success": result["success"],
        "statistics": result["statistics"],
        "results": [
            (r["expectation_config"]["type"], r["expectation_config"]["kwargs"], r["result"])
            for r in result["results"]
        ],
    }


def test_the_worker_gives_the_results_of_the_suites_in_process(
    worker: ExpectationsWorker,
) -> None:
    here = validate_feeds(SUITES, REFERENCES)
    there = worker.validate(SUITES, REFERENCES)
    assert list(there) == list(SUITES)
    for name in SUITES:
        assert _without_run_times(there[name]) == _without_run_times(here[name])
    assert not there["marketplace"]["success"]  # the unknown family and the missing brand
    assert _evaluated(worker.validate({"shop": SUITES["shop"]}, REFERENCES)["shop"])


def test_a_failure_inside_the_worker_is_raised_with_its_traceback(
    worker: ExpectationsWorker,
) -> None:
    broken = dataclasses.replace(SUITES["shop"], frame=pl.DataFrame({"other": [1]}))
    with pytest.raises(ExpectationsWorkerError, match="great-expectations failed") as raised:
        worker.validate({"shop": broken}, REFERENCES)
    assert "Traceback" in str(raised.value)
    assert _evaluated(worker.validate({"shop": SUITES["shop"]}, REFERENCES)["shop"])


def test_a_dead_worker_is_named_and_the_next_request_starts_another(
    worker: ExpectationsWorker,
) -> None:
    worker.start()
    first = _child_pid(worker)
    os.kill(first, signal.SIGKILL)
    with pytest.raises(ExpectationsWorkerError, match=r"died \(exit code -9\)"):
        worker.validate({"shop": SUITES["shop"]}, REFERENCES)
    assert _evaluated(worker.validate({"shop": SUITES["shop"]}, REFERENCES)["shop"])
    assert _child_pid(worker) != first


def test_the_worker_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of a run must not leave great-expectations' process behind: it reads the end
    of its requests and exits."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from quality.expectations_worker import shared_worker
        worker = shared_worker()
        worker.start()
        print(worker._child.process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    parent = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    child = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 60  # it may still be importing great-expectations
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _evaluated(result: dict) -> int:
    evaluated: int = result["statistics"]["evaluated_expectations"]
    return evaluated


def _child_pid(worker: ExpectationsWorker) -> int:
    child = worker._child
    assert child is not None
    return child.process.pid


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not reaped by init yet, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
