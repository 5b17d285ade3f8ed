from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from contracts.snapshots import FeedFile, Manifest, SnapshotError, new_snapshot_id
from sinks import snapshot_store
from sinks.snapshot_store import SnapshotStore

CREATED = dt.datetime(2026, 11, 22, 19, 56, tzinfo=dt.UTC)


def stage(store: SnapshotStore, snapshot_id: str, text: str) -> Manifest:
    folder = store.channel_dir(snapshot_id, "shop")
    (folder / "products.csv").write_text(text, encoding="utf-8")
    return Manifest(
        snapshot_id=snapshot_id,
        as_of="2026-11-22",
        created_at=CREATED.isoformat(),
        sources={"pim": "p1", "erp": "e1"},
        files=[
            FeedFile("shop", "shop/products.csv", 1),
            FeedFile("portal", "products", 3, "table"),
        ],
    )


def publish(store: SnapshotStore, snapshot_id: str, text: str) -> Manifest:
    sealed = store.seal(stage(store, snapshot_id, text))
    store.activate(snapshot_id)
    return sealed


def test_snapshot_ids_sort_by_time_and_are_validated() -> None:
    first = new_snapshot_id(CREATED, "0f1e2d3c-aaaa-bbbb-cccc-000000000000")
    later = new_snapshot_id(CREATED + dt.timedelta(seconds=1), "00000000-0000")
    assert first == "20261122T195600Z-0f1e2d3c"
    assert sorted([later, first]) == [first, later]
    with pytest.raises(SnapshotError, match="invalid snapshot id"):
        SnapshotStore(Path("x")).staging_dir("../../etc")


def test_seal_writes_a_manifest_with_hashes_and_activate_switches_current(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    sealed = publish(store, "20261122T195600Z-00000001", "sku\nA\n")
    assert store.live_snapshot() == "20261122T195600Z-00000001"
    live = tmp_path / "current" / "shop" / "products.csv"
    assert live.read_text(encoding="utf-8") == "sku\nA\n"
    manifest = json.loads((tmp_path / "current" / "manifest.json").read_text(encoding="utf-8"))
    shop = next(f for f in manifest["files"] if f["channel"] == "shop")
    assert shop["sha256"] == hashlib.sha256(b"sku\nA\n").hexdigest()
    assert shop["bytes"] == 6
    assert store.manifest(sealed.snapshot_id) == sealed
    assert not (tmp_path / "staging" / sealed.snapshot_id).exists()


def test_files_already_hashed_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delta feeds hash the new full files to name their record indexes; the seal takes
    those digests instead of reading the files again (the byte counts are still stat's)."""
    store = SnapshotStore(tmp_path)
    manifest = stage(store, "20261122T195600Z-00000001", "sku\nA\n")
    digest = hashlib.sha256(b"sku\nA\n").hexdigest()
    read: list[Path] = []
    monkeypatch.setattr(snapshot_store, "sha256_of", lambda path: read.append(path) or "")
    sealed = store.seal(manifest, {"shop/products.csv": digest})
    shop = next(f for f in sealed.files if f.channel == "shop")
    assert (shop.sha256, shop.bytes, read) == (digest, 6, [])
    monkeypatch.undo()
    assert store.verify(sealed.snapshot_id) == sealed  # the digest is the file's


def test_files_hashed_side_by_side_keep_their_order_and_a_missing_one_is_named(
    tmp_path: Path,
) -> None:
    """The seal hashes ``HASHING_LANES`` files at a time: each entry still gets its own
    file's digest and size, in the manifest's order; a file missing from staging fails the
    seal naming it, and nothing is moved into snapshots/."""
    store = SnapshotStore(tmp_path)
    snapshot_id = "20261122T195600Z-00000001"
    texts = {f"c{i}": f"sku\n{'x' * i * 1000}\n" for i in range(7)}
    for channel, text in texts.items():
        (store.channel_dir(snapshot_id, channel) / "feed.csv").write_text(text, "utf-8")
    files = [FeedFile(c, f"{c}/feed.csv", 1) for c in texts]
    manifest = Manifest(snapshot_id, "2026-11-22", CREATED.isoformat(), {}, files)
    missing = FeedFile("gone", "gone/feed.csv", 1)
    with pytest.raises(SnapshotError, match=r"channel gone: file gone/feed\.csv is missing"):
        store.seal(Manifest(snapshot_id, "2026-11-22", CREATED.isoformat(), {}, [*files, missing]))
    assert not store.snapshot_dir(snapshot_id).exists()
    sealed = store.seal(manifest)
    expected = [
        (c, hashlib.sha256(t.encode()).hexdigest(), len(t.encode())) for c, t in texts.items()
    ]
    assert [(f.channel, f.sha256, f.bytes) for f in sealed.files] == expected


def test_a_failed_run_leaves_the_live_snapshot_untouched(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    publish(store, "20261122T195600Z-00000001", "old\n")
    broken = stage(store, "20261122T195700Z-00000002", "new\n")
    (store.staging_dir(broken.snapshot_id) / "shop" / "products.csv").unlink()
    with pytest.raises(SnapshotError, match="missing"):
        store.seal(broken)
    with pytest.raises(SnapshotError, match="not sealed"):
        store.activate(broken.snapshot_id)
    assert (tmp_path / "current" / "shop" / "products.csv").read_text(encoding="utf-8") == "old\n"
    store.discard_staging()
    assert not (tmp_path / "staging" / broken.snapshot_id).exists()


def test_prune_keeps_the_newest_and_never_the_live_one(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    ids = [f"20261122T19560{i}Z-0000000{i}" for i in range(4)]
    for snapshot_id in ids:
        publish(store, snapshot_id, snapshot_id)
    store.activate(ids[0])  # rolled back to the oldest
    assert store.prune(keep=2) == [ids[1]]
    assert store.snapshots() == [ids[0], ids[2], ids[3]]
    assert store.live_snapshot() == ids[0]
