"""The feed step validates each channel's feed while the other writers still work: a feed's
suite runs as soon as it is staged, and the results come back in the order of the selected
channels, whatever order the writers finished in."""

from __future__ import annotations

import threading
from typing import Any

import dagster as dg
import polars as pl
import pytest
from factories import compiled, config_with, golden_products, product, view_of

from assets import feeds
from assets.feeds import Staged, stage_and_validate
from quality.expectations import FeedSuite, FeedValidator, validation_frame
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
        "social": {
            "format": "meta_catalog",
            "locale": "en_US",
            "currency": "USD",
            "product_url": "https://www.example.com/en/p/{sku}",
        },
    }
)
GOLDEN = golden_products(product("A"), product("B", brand=None))
WAIT_SECONDS = 60


def staged(name: str) -> Staged:
    view = view_of(CONFIG, name, GOLDEN)
    fields = [f.spec for f in compiled(CONFIG, name, GOLDEN).fields.values()]
    channel = CONFIG.channels[name]
    frame = validation_frame(view.frame, view.golden, channel, fields, None)
    suite = FeedSuite(channel, fields, frame)
    return Staged(view.frame.height, [], suite, view.frame.schema, pl.DataFrame())


def test_a_feed_is_validated_while_another_is_still_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``social`` is written only once ``shop``'s suite has run: with the suites after the
    writers, this would wait for ever."""
    shop_validated = threading.Event()

    class Recording(FeedValidator):
        def validate(self, name: str, feed: FeedSuite) -> dict[str, Any]:
            result = super().validate(name, feed)
            if name == "shop":
                shop_validated.set()
            return result

    def stage(name: str) -> Staged:
        if name == "social":
            assert shop_validated.wait(WAIT_SECONDS), "shop's suite waited for every writer"
        return staged(name)

    monkeypatch.setattr(feeds, "FeedValidator", Recording)
    done = stage_and_validate(dg.build_asset_context(), ["social", "shop"], stage, REFERENCES)
    assert list(done.staged) == list(done.results) == ["social", "shop"]
    assert all(r["statistics"]["evaluated_expectations"] for r in done.results.values())
    assert done.results["shop"]["suite_name"] == "prism_shop"
    assert done.cpu_seconds > 0
    assert done.wait_seconds >= 0


def test_a_failing_writer_fails_the_step() -> None:
    def stage(name: str) -> Staged:
        if name == "shop":
            msg = "disk full"
            raise OSError(msg)
        return staged(name)

    with pytest.raises(OSError, match="disk full"):
        stage_and_validate(dg.build_asset_context(), ["social", "shop"], stage, REFERENCES)
