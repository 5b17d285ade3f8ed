from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from contracts.folders import hidden_sibling, move_folder, new_folder, point_link


class Boom(RuntimeError):
    pass


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def write_then_fail(target: Path) -> None:
    """A writer that dies half way through filling ``target``."""
    with new_folder(target) as folder:
        (folder / "products.jsonl").write_text("half", encoding="utf-8")
        raise Boom


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths fsync'd, in order (os.open is wrapped to learn which path a descriptor has)."""
    paths: dict[int, str] = {}
    calls: list[str] = []
    real_open, real_fsync = os.open, os.fsync

    def opened(path: str, flags: int, *args: int, **kwargs: int) -> int:
        descriptor = real_open(path, flags, *args, **kwargs)
        paths[descriptor] = str(path)
        return descriptor

    def fsync(descriptor: int) -> None:
        calls.append(paths.get(descriptor, f"fd {descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "open", opened)
    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_new_folder_appears_whole_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "snapshots" / "20261122T060000Z"
    with new_folder(target) as folder:
        assert folder.parent == target.parent
        assert folder.name.startswith(".20261122T060000Z.")
        assert folder.name.endswith(".partial")
        assert not target.exists()
        (folder / "prices.csv").write_text("sku\n", encoding="utf-8")
        (folder / "sub").mkdir()
        (folder / "sub" / "part.txt").write_text("x", encoding="utf-8")
    assert (target / "prices.csv").read_text(encoding="utf-8") == "sku\n"
    assert (target / "sub" / "part.txt").read_text(encoding="utf-8") == "x"
    assert listing(target.parent) == ["20261122T060000Z"]


def test_contents_are_synced_before_the_rename_and_the_parent_after(
    tmp_path: Path, synced: list[str]
) -> None:
    target = tmp_path / "snap"
    with new_folder(target) as folder:
        (folder / "a.csv").write_text("a", encoding="utf-8")
        (folder / "sub").mkdir()
        (folder / "sub" / "b.csv").write_text("b", encoding="utf-8")
    temp = str(folder)
    assert set(synced[:-1]) == {
        f"{temp}/a.csv",
        f"{temp}/sub/b.csv",
        f"{temp}/sub",
        temp,
    }
    assert synced[-1] == str(tmp_path)


def test_a_failure_while_writing_leaves_no_folder(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    with pytest.raises(Boom):
        write_then_fail(target)
    assert listing(tmp_path) == []


def test_a_failed_rename_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise OSError("rename refused")

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(OSError, match="rename refused"), new_folder(tmp_path / "snap") as folder:
        (folder / "prices.csv").write_text("all", encoding="utf-8")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("existing", ["folder", "empty folder", "link"])
def test_an_existing_target_is_refused_and_kept(tmp_path: Path, existing: str) -> None:
    target = tmp_path / "snap"
    if existing == "link":
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to("elsewhere")
    else:
        target.mkdir()
        if existing == "folder":
            (target / "old.csv").write_text("old", encoding="utf-8")
    before = listing(tmp_path)
    with pytest.raises(FileExistsError, match="already exists"), new_folder(target):
        pytest.fail("the block must not run")
    staged = tmp_path / "staged"
    staged.mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        move_folder(staged, target)
    assert listing(tmp_path) == sorted([*before, "staged"])
    if existing == "folder":
        assert (target / "old.csv").read_text(encoding="utf-8") == "old"


def test_move_folder_renames_a_written_folder(tmp_path: Path, synced: list[str]) -> None:
    staging = tmp_path / "staging" / "s1"
    staging.mkdir(parents=True)
    (staging / "feed.xml").write_text("<x/>", encoding="utf-8")
    target = move_folder(staging, tmp_path / "snapshots" / "s1")
    assert (target / "feed.xml").read_text(encoding="utf-8") == "<x/>"
    assert not staging.exists()
    assert f"{staging}/feed.xml" in synced
    assert synced[-2:] == [str(tmp_path / "snapshots"), str(tmp_path / "staging")]


def test_point_link_creates_then_switches_with_no_leftovers(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "id.txt").write_text(name, encoding="utf-8")
    link = tmp_path / "current"
    point_link(link, "a")
    assert (link / "id.txt").read_text(encoding="utf-8") == "a"
    point_link(link, Path("b"))
    assert os.readlink(link) == "b"
    assert (link / "id.txt").read_text(encoding="utf-8") == "b"
    assert listing(tmp_path) == ["a", "b", "current"]


def test_a_failed_switch_keeps_the_previous_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    link = tmp_path / "current"
    point_link(link, "a")

    def failing(source: object, target: object) -> None:
        raise OSError("replace failed")

    monkeypatch.setattr(os, "replace", failing)
    (tmp_path / "b").mkdir()
    with pytest.raises(OSError, match="replace failed"):
        point_link(link, "b")
    assert os.readlink(link) == "a"
    assert listing(tmp_path) == ["a", "b", "current"]


def test_a_failure_while_writing_keeps_the_link_on_the_previous_folder(tmp_path: Path) -> None:
    """The publish pattern: write the new generation, then switch; a failed write switches
    nothing and leaves the live generation as it was."""
    link = tmp_path / "store"
    with new_folder(tmp_path / "g1") as folder:
        (folder / "products.jsonl").write_text("{}\n", encoding="utf-8")
    point_link(link, "g1")
    with pytest.raises(Boom):
        write_then_fail(tmp_path / "g2")
    assert os.readlink(link) == "g1"
    assert (link / "products.jsonl").read_text(encoding="utf-8") == "{}\n"
    assert listing(tmp_path) == ["g1", "store"]


def test_a_real_folder_in_the_links_place_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "current").mkdir()
    (tmp_path / "current" / "keep.txt").write_text("k", encoding="utf-8")
    with pytest.raises(IsADirectoryError):
        point_link(tmp_path / "current", "a")
    assert (tmp_path / "current" / "keep.txt").read_text(encoding="utf-8") == "k"
    assert listing(tmp_path) == ["a", "current"]


def test_readers_never_see_the_link_missing_while_it_switches(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    link = tmp_path / "current"
    point_link(link, "a")
    done, missing = threading.Event(), []

    def read() -> None:
        while not done.is_set():
            try:
                os.readlink(link)
            except FileNotFoundError:
                missing.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for turn in range(300):
            point_link(link, "ab"[turn % 2])
    finally:
        done.set()
        reader.join()
    assert missing == []


def test_hidden_siblings_have_one_leading_dot_and_differ() -> None:
    store = Path("/x/.store.abc")
    first, second = hidden_sibling(store, "partial"), hidden_sibling(store, "partial")
    assert first.parent == store.parent
    assert first.name.startswith(".store.abc.")
    assert first.name.endswith(".partial")
    assert first != second
    assert hidden_sibling(Path("/x/current"), "link").name.startswith(".current.")
