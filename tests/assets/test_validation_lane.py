"""The feed step's validating task: each feed validated as its writer finishes, in the order
the writers finish, the seconds spent waiting for writers not counted, a failed writer failing
it (``assets.feeds.validated_as_written``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import polars as pl
import pytest

from assets import feeds
from assets.feeds import Staged, validated_as_written
from contracts.config import ChannelConfig
from quality.expectations import FeedSuite
from quality.rules import References


def staged(name: str) -> Staged:
    suite = FeedSuite(
        ChannelConfig(format="csv", locale="de_DE", currency="EUR"),
        (),
        pl.DataFrame({"sku": [name]}),
    )
    return Staged(1, [], suite, pl.Schema(), pl.DataFrame())


def recording(seen: list[str], seconds: float = 0.0) -> Any:
    def validate(suites: Iterable[tuple[str, FeedSuite]], _: References) -> dict[str, Any]:
        results = {}
        for name, suite in suites:
            seen.append(name)
            time.sleep(seconds)
            results[name] = {"sku": suite.frame["sku"].to_list()}
        return results

    return validate


def test_feeds_are_validated_as_their_writers_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(feeds, "validate_feeds", recording(seen))
    slow_may_finish = threading.Event()

    def write(name: str) -> tuple[Staged, float]:
        if name == "slow":
            assert slow_may_finish.wait(10)
        return staged(name), 0.0

    with ThreadPoolExecutor(max_workers=3) as pool:
        writers = {pool.submit(write, n): n for n in ("slow", "fast")}
        validation = pool.submit(validated_as_written, writers, {})
        deadline = time.monotonic() + 10
        while seen != ["fast"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == ["fast"]  # validated while the other writer still runs
        slow_may_finish.set()
        results, _ = validation.result(timeout=10)
    assert seen == ["fast", "slow"]
    assert results == {"fast": {"sku": ["fast"]}, "slow": {"sku": ["slow"]}}


def test_the_seconds_leave_out_waiting_for_writers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "validate_feeds", recording([], seconds=0.05))

    def write(name: str) -> tuple[Staged, float]:
        time.sleep(0.5)
        return staged(name), 0.5

    with ThreadPoolExecutor(max_workers=2) as pool:
        writers = {pool.submit(write, "a"): "a"}
        _, seconds = pool.submit(validated_as_written, writers, {}).result(timeout=10)
    assert 0.05 <= seconds < 0.4


def test_a_failed_writer_fails_the_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(feeds, "validate_feeds", recording(seen))
    failed: Future[tuple[Staged, float]] = Future()
    failed.set_exception(OSError("disk full: shop/products.csv"))
    done: Future[tuple[Staged, float]] = Future()
    done.set_result((staged("web"), 0.0))
    with pytest.raises(OSError, match=r"disk full: shop/products\.csv"):
        validated_as_written({done: "web", failed: "shop"}, {})
    assert "shop" not in seen
