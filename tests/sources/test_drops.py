from __future__ import annotations

from pathlib import Path

import pytest

from sources.drops import DropError, newest_drop


def drop(folder: Path, marker: str) -> Path:
    folder.mkdir(parents=True)
    (folder / f"{marker}.csv").write_text("sku\n", encoding="utf-8")
    return folder


def test_the_greatest_complete_folder_is_the_newest(tmp_path: Path) -> None:
    drop(tmp_path / "20261121T060000Z", "prices")
    newest = drop(tmp_path / "20261122T060000Z", "prices")
    (tmp_path / "20261123T060000Z").mkdir()  # still being dropped: no prices yet
    assert newest_drop(tmp_path, "erp") == newest
    assert newest_drop(newest, "erp") == newest


def test_each_side_looks_for_its_own_marker(tmp_path: Path) -> None:
    pim = drop(tmp_path / "20261122T060000Z", "products")
    assert newest_drop(tmp_path, "pim") == pim
    with pytest.raises(DropError, match=r"ERP file drop .*: no snapshot folder with a prices"):
        newest_drop(tmp_path, "erp")


def test_a_missing_location_is_named(tmp_path: Path) -> None:
    with pytest.raises(DropError, match=r"PIM file drop .*nowhere: no such folder"):
        newest_drop(tmp_path / "nowhere", "pim")
