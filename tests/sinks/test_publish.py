"""The switch that makes a snapshot live: journaled, compare-and-swap, undone on failure,
rolled back after a crash, and a rollback command through the same journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import golden_products, price_tiers, product, tier
from portals import portal_url

from contracts.faults import VARIABLE
from contracts.snapshots import FeedFile, Manifest
from sinks import portal_duckdb
from sinks import publish as publish_module
from sinks.portal_sql import (
    AVAILABILITY_COLUMNS,
    activate_portal_snapshot,
    live_portal_snapshot,
    load_portal_snapshot,
)
from sinks.publish import (
    JOURNAL,
    Journal,
    LiveSnapshotChanged,
    PublishError,
    live_state,
    publish_snapshot,
    read_history,
    recover,
    rollback,
)
from sinks.snapshot_store import SnapshotStore

S1, S2, S3 = ("20261120T080000Z-0000000a", "20261121T080000Z-0000000b", "20261122T080000Z-0000000c")


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with portal_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "feeds")


def stage(store: SnapshotStore, portal: str, snapshot_id: str) -> Manifest:
    """A staged snapshot: one shop file and the portal's tables loaded (not live)."""
    folder = store.channel_dir(snapshot_id, "shop")
    (folder / "products.csv").write_text(f"sku\n{snapshot_id}\n", encoding="utf-8")
    products = golden_products(product(snapshot_id[-1])).select("sku", *AVAILABILITY_COLUMNS)
    load_portal_snapshot(portal, products, price_tiers(tier(snapshot_id[-1], "1")), snapshot_id)
    return Manifest(
        snapshot_id=snapshot_id,
        as_of="2026-11-22",
        created_at="2026-11-22T08:00:00+00:00",
        sources={},
        files=[
            FeedFile("shop", "shop/products.csv", 1),
            FeedFile("portal", "products", 1, "table"),
        ],
        channels={"shop": 1, "portal": 1},
    )


def publish(store: SnapshotStore, portal: str, snapshot_id: str, expected: str | None) -> None:
    publish_snapshot(store, stage(store, portal, snapshot_id), {"portal": portal}, 5, expected)


def live(store: SnapshotStore, portal: str) -> tuple[str | None, str | None]:
    return store.live_snapshot(), live_portal_snapshot(portal)


def test_publishes_files_and_portal_together_and_records_history(
    store: SnapshotStore, portal: str
) -> None:
    publish(store, portal, S1, None)
    assert live(store, portal) == (S1, S1)
    publish(store, portal, S2, S1)
    assert live(store, portal) == (S2, S2)
    assert not (store.root / JOURNAL).exists()
    history = read_history(store)
    assert [(h["action"], h["snapshot"], h["previous"]) for h in history] == [
        ("publish", S1, None),
        ("publish", S2, S1),
    ]
    assert live_state(store, {"portal": portal}).consistent


def test_a_publish_judged_against_another_snapshot_aborts(
    store: SnapshotStore, portal: str
) -> None:
    publish(store, portal, S1, None)
    publish(store, portal, S2, S1)
    with pytest.raises(LiveSnapshotChanged, match=f"live snapshot is {S2}, not {S1}"):
        publish(store, portal, S3, S1)  # its breakers compared with S1
    assert live(store, portal) == (S2, S2)


def test_a_portal_moved_by_someone_else_aborts_the_switch(
    store: SnapshotStore, portal: str
) -> None:
    publish(store, portal, S1, None)
    publish(store, portal, S2, S1)
    activate_portal_snapshot(portal, S1)  # another deployment switched this database back
    with pytest.raises(LiveSnapshotChanged, match=f"portal live snapshot is {S1}, expected {S2}"):
        publish(store, portal, S3, S2)
    assert live(store, portal) == (S2, S1)  # nothing of S3 went live


def test_a_failure_after_the_portal_switch_switches_the_portal_back(
    store: SnapshotStore, portal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(store, portal, S1, None)
    monkeypatch.setenv(VARIABLE, "publish.after_portal_switch:raise")
    with pytest.raises(PublishError, match=f"publish of {S2} failed .*; {S1} stays live"):
        publish(store, portal, S2, S1)
    assert live(store, portal) == (S1, S1)
    assert not (store.root / JOURNAL).exists()


def test_a_first_publish_that_fails_leaves_nothing_live(
    store: SnapshotStore, portal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, "publish.after_files_switch:raise")
    with pytest.raises(PublishError, match="nothing stays live"):
        publish(store, portal, S1, None)
    assert live(store, portal) == (None, None)
    if portal.startswith("duckdb"):
        assert not portal_duckdb.live_path(portal).is_symlink()
        return
    engine = sa.create_engine(portal)
    try:
        with engine.connect() as conn:
            views = sa.inspect(conn).get_view_names()
    finally:
        engine.dispose()
    assert "products" not in views


def test_recovery_rolls_back_a_switch_a_crash_left_half_done(
    store: SnapshotStore, portal: str
) -> None:
    publish(store, portal, S1, None)
    manifest = store.seal(stage(store, portal, S2))
    # What a SIGKILL right after the portal switch leaves: the journal, the portal on S2.
    journal = Journal("publish", S2, S1, {"portal": S1}, "run-x", "2026-11-22T08:00:00+00:00")
    (store.root / JOURNAL).write_text(json.dumps(journal.__dict__), encoding="utf-8")
    activate_portal_snapshot(portal, manifest.snapshot_id)
    assert live_state(store, {"portal": portal}).journal == journal
    assert not live_state(store, {"portal": portal}).consistent
    done = recover(store, {"portal": portal})
    assert done is not None
    assert f"rolled back the interrupted publish of {S2}" in done
    assert live(store, portal) == (S1, S1)
    assert live_state(store, {"portal": portal}).consistent
    assert read_history(store)[-1]["action"] == "recover"
    assert recover(store, {"portal": portal}) is None


def test_a_torn_journal_announced_a_switch_that_never_started(
    store: SnapshotStore, portal: str
) -> None:
    publish(store, portal, S1, None)
    (store.root / JOURNAL).write_text('{"action": "pub', encoding="utf-8")
    assert recover(store, {"portal": portal}) is None
    assert live(store, portal) == (S1, S1)


def test_rollback_makes_the_previous_snapshot_live_again(store: SnapshotStore, portal: str) -> None:
    publish(store, portal, S1, None)
    publish(store, portal, S2, S1)
    outcome = rollback(store, {"portal": portal})
    assert (outcome.snapshot_id, outcome.previous) == (S1, S2)
    assert live(store, portal) == (S1, S1)
    assert read_history(store)[-1]["action"] == "rollback"
    with pytest.raises(PublishError, match="no kept snapshot older"):
        rollback(store, {"portal": portal})
    with pytest.raises(PublishError, match="is not kept"):
        rollback(store, {"portal": portal}, S3)
    assert rollback(store, {"portal": portal}, S2).snapshot_id == S2
    assert live(store, portal) == (S2, S2)


def test_rollback_refuses_a_damaged_snapshot(store: SnapshotStore, portal: str) -> None:
    publish(store, portal, S1, None)
    publish(store, portal, S2, S1)
    (store.snapshot_dir(S1) / "shop" / "products.csv").write_text("tampered\n")
    with pytest.raises(PublishError, match="does not match its manifest"):
        rollback(store, {"portal": portal}, S1)
    assert live(store, portal) == (S2, S2)


def test_cleanup_failures_do_not_fail_a_publish(
    store: SnapshotStore, portal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(store, portal, S1, None)

    def dead_database(*_: object) -> list[str]:
        raise sa.exc.OperationalError("DROP TABLE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(publish_module, "drop_portal_snapshots", dead_database)
    _, outcome = publish_snapshot(
        store, stage(store, portal, S2), {"portal": portal}, keep=1, expected_live=S1
    )
    assert live(store, portal) == (S2, S2)
    assert len(outcome.cleanup_errors) == 1
    assert "dropping old tables of portal portal" in outcome.cleanup_errors[0]
    assert store.snapshots() == [S2]  # the files were pruned all the same
