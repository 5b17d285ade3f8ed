"""Quality reports on disk: one folder per snapshot id, summaries read back for trends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.snapshots import SnapshotError
from quality.report_store import SUMMARY, ReportStore

SNAPSHOT = "20261122T195600Z-ab12cd34"
IDS = [
    "20261118T060000Z-00000001",
    "20261119T060000Z-00000002",
    "20261120T060000Z-00000003",
    "20261121T060000Z-00000004",
    "20261122T060000Z-00000005",
]
INVALID_IDS = [
    "",
    "latest",
    "..",
    "../20261122T195600Z-ab12cd34",
    "20261122T195600Z-ab12cd34/..",
    "20261122T195600Z-AB12CD34",  # hex digits are lower case
    "20261122T195600-ab12cd34",
    "20261122T195600Z-ab12cd3",
    "20261122T195600Z-ab12cd345",
    " 20261122T195600Z-ab12cd34",
    "20261122t195600z-ab12cd34",
]


def summary_of(snapshot_id: str, **extra: Any) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, "verdict": "passed", "channels": {}, **extra}


def store_with(root: Path, ids: list[str], summaries: bool = True) -> ReportStore:
    store = ReportStore(root)
    for snapshot_id in ids:
        store.fresh_folder(snapshot_id)
        if summaries:
            store.write_summary(snapshot_id, summary_of(snapshot_id))
    return store


# --- folders ------------------------------------------------------------------------------


def test_folder_is_named_for_the_snapshot_under_the_root(tmp_path: Path) -> None:
    store = ReportStore(tmp_path / "reports")
    assert store.folder(SNAPSHOT) == tmp_path / "reports" / SNAPSHOT
    assert not (tmp_path / "reports").exists()  # naming a folder creates nothing


def test_fresh_folder_creates_the_root_and_an_empty_folder(tmp_path: Path) -> None:
    store = ReportStore(tmp_path / "var" / "reports")
    folder = store.fresh_folder(SNAPSHOT)
    assert folder == store.folder(SNAPSHOT)
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


def test_fresh_folder_on_a_retry_starts_over(tmp_path: Path) -> None:
    store = ReportStore(tmp_path)
    folder = store.fresh_folder(SNAPSHOT)
    (folder / "index.html").write_text("<p>first try</p>", encoding="utf-8")
    (folder / "expectations").mkdir()
    (folder / "expectations" / "shop.json").write_text("{}", encoding="utf-8")
    store.write_summary(SNAPSHOT, summary_of(SNAPSHOT))
    other = store.fresh_folder(IDS[0])
    (other / "index.html").write_text("<p>other</p>", encoding="utf-8")

    again = store.fresh_folder(SNAPSHOT)
    assert again == folder
    assert list(again.iterdir()) == []
    assert store.summary(SNAPSHOT) is None
    assert (other / "index.html").read_text(encoding="utf-8") == "<p>other</p>"


# --- summaries ----------------------------------------------------------------------------


def test_summary_round_trip(tmp_path: Path) -> None:
    store = store_with(tmp_path, [], summaries=False)
    store.fresh_folder(SNAPSHOT)
    summary = summary_of(
        SNAPSHOT,
        verdict="blocked",
        previous_snapshot=None,
        channels={"shop": {"published": 90, "quarantined": 8}, "portal": {"published": 0}},
        breakers=[{"name": "freshness", "channel": None, "tripped": True, "value": 50.04}],
        note="Industriebedarf Süd AG",
    )
    store.write_summary(SNAPSHOT, summary)
    assert store.summary(SNAPSHOT) == summary
    assert sorted(p.name for p in store.folder(SNAPSHOT).iterdir()) == [SUMMARY]


def test_write_summary_replaces_the_previous_one(tmp_path: Path) -> None:
    store = store_with(tmp_path, [SNAPSHOT])
    store.write_summary(SNAPSHOT, summary_of(SNAPSHOT, verdict="overridden"))
    assert store.summary(SNAPSHOT) == summary_of(SNAPSHOT, verdict="overridden")


@pytest.mark.parametrize("exists", [False, True])
def test_summary_of_an_unknown_snapshot_is_none(tmp_path: Path, exists: bool) -> None:
    store = ReportStore(tmp_path)
    if exists:
        store.fresh_folder(SNAPSHOT)  # a folder without summary.json (a failed run)
    assert store.summary(SNAPSHOT) is None


# --- damaged summaries -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['{"snapshot_id": "x", "chan', "", "[1, 2]", '{"snapshot_id": "x"}', "\x00\xff"],
    ids=["truncated", "empty", "not-an-object", "no-channels", "binary"],
)
def test_a_damaged_summary_is_skipped_not_fatal(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_with(tmp_path, IDS[:2])
    (store.folder(IDS[1]) / SUMMARY).write_text(text, encoding="latin-1")
    assert store.summary(IDS[1]) is None
    assert [s["snapshot_id"] for s in store.history(5)] == [IDS[0]]
    assert "ignoring" in caplog.text


# --- ids and history ----------------------------------------------------------------------


def test_ids_are_sorted_and_ignore_other_entries(tmp_path: Path) -> None:
    store = store_with(tmp_path, [IDS[3], IDS[0], IDS[2]])
    (tmp_path / "notes").mkdir()
    (tmp_path / "20261122T195600Z-ab12cd3").mkdir()
    (tmp_path / "README.txt").write_text("reports", encoding="utf-8")
    assert store.ids() == [IDS[0], IDS[2], IDS[3]]


def test_ids_without_a_root_is_empty(tmp_path: Path) -> None:
    store = ReportStore(tmp_path / "missing")
    assert store.ids() == []
    assert store.history(10) == []


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1, IDS[4:]),
        (2, IDS[3:]),
        (5, IDS),
        (10, IDS),
    ],
)
def test_history_returns_the_newest_summaries_oldest_first(
    tmp_path: Path, limit: int, expected: list[str]
) -> None:
    store = store_with(tmp_path, [IDS[2], IDS[4], IDS[0], IDS[1], IDS[3]])
    assert [s["snapshot_id"] for s in store.history(limit)] == expected


def test_history_skips_reports_without_a_summary(tmp_path: Path) -> None:
    store = store_with(tmp_path, IDS[:3])
    store.fresh_folder(IDS[3])  # a run that failed before writing its summary
    assert [s["snapshot_id"] for s in store.history(2)] == [IDS[1], IDS[2]]


def test_history_of_zero_is_empty(tmp_path: Path) -> None:
    store = store_with(tmp_path, IDS)
    assert store.history(0) == []


# --- prune --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep", "protect", "left"),
    [
        (5, set(), IDS),
        (10, set(), IDS),
        (3, set(), IDS[2:]),
        (1, set(), IDS[4:]),
        (2, {IDS[0]}, [IDS[0], *IDS[3:]]),  # protected ids stay on top of the newest ones
        (2, {IDS[0], IDS[4]}, [IDS[0], *IDS[3:]]),
        (1, {IDS[1], ""}, [IDS[1], IDS[4]]),  # the gate passes "" when there is no live one
        (0, set(), []),
        (0, {IDS[2]}, [IDS[2]]),
    ],
)
def test_prune_keeps_the_newest_and_the_protected(
    tmp_path: Path, keep: int, protect: set[str], left: list[str]
) -> None:
    store = store_with(tmp_path, IDS)
    store.prune(keep, protect)
    assert store.ids() == left
    assert sorted(p.name for p in tmp_path.iterdir()) == left


def test_prune_leaves_other_entries_alone(tmp_path: Path) -> None:
    store = store_with(tmp_path, IDS)
    (tmp_path / "notes").mkdir()
    store.prune(1, set())
    assert sorted(p.name for p in tmp_path.iterdir()) == [IDS[4], "notes"]


def test_prune_without_a_root_does_nothing(tmp_path: Path) -> None:
    store = ReportStore(tmp_path / "missing")
    store.prune(1, set())
    assert not store.root.exists()


# --- invalid ids --------------------------------------------------------------------------


@pytest.mark.parametrize("snapshot_id", INVALID_IDS)
@pytest.mark.parametrize(
    "use",
    [
        pytest.param(lambda s, i: s.folder(i), id="folder"),
        pytest.param(lambda s, i: s.fresh_folder(i), id="fresh_folder"),
        pytest.param(lambda s, i: s.write_summary(i, {}), id="write_summary"),
        pytest.param(lambda s, i: s.summary(i), id="summary"),
    ],
)
def test_invalid_snapshot_ids_are_refused(
    tmp_path: Path, snapshot_id: str, use: Callable[[ReportStore, str], object]
) -> None:
    store = ReportStore(tmp_path / "reports")
    with pytest.raises(SnapshotError, match="invalid snapshot id"):
        use(store, snapshot_id)
    assert list(tmp_path.iterdir()) == []


def test_a_trailing_newline_is_not_a_valid_snapshot_id(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError):
        ReportStore(tmp_path).fresh_folder(SNAPSHOT + "\n")
