"""File drops are read only when complete, and only when they match their ready marker."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sources.drops import (
    DropError,
    announced_rows,
    check_rows,
    newest_drop,
    verify_drop,
    write_marker,
)

PRICES = "sku,price_type,customer_group,customer_id,currency,amount\nA,list,,,EUR,123.45\n"


def drop(folder: Path, name: str = "prices.csv", text: str = PRICES) -> Path:
    folder.mkdir(parents=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_without_a_marker_the_main_file_makes_a_folder_complete(tmp_path: Path) -> None:
    drop(tmp_path / "20261121T060000Z")
    newest = drop(tmp_path / "20261122T060000Z")
    (tmp_path / "20261123T060000Z").mkdir()  # still being dropped: no prices yet
    assert newest_drop(tmp_path, "erp") == newest
    assert newest_drop(newest, "erp") == newest


def test_each_side_looks_for_its_own_main_file(tmp_path: Path) -> None:
    pim = drop(tmp_path / "20261122T060000Z", "products.jsonl", "{}\n")
    assert newest_drop(tmp_path, "pim") == pim
    with pytest.raises(DropError, match=r"ERP file drop .*: no complete snapshot folder"):
        newest_drop(tmp_path, "erp")


def test_a_missing_location_is_named(tmp_path: Path) -> None:
    with pytest.raises(DropError, match=r"PIM file drop .*nowhere: no such folder"):
        newest_drop(tmp_path / "nowhere", "pim")


def test_with_a_marker_a_folder_still_being_copied_is_skipped(tmp_path: Path) -> None:
    complete = drop(tmp_path / "20261121T060000Z")
    write_marker(complete, {"prices.csv": 1})
    drop(tmp_path / "20261122T060000Z")  # newer, all files there, but no marker yet
    assert newest_drop(tmp_path, "erp", "manifest.json") == complete


def test_no_complete_folder_at_all_names_the_marker(tmp_path: Path) -> None:
    drop(tmp_path / "20261122T060000Z")
    with pytest.raises(DropError, match=r"no complete snapshot folder \(with a _SUCCESS\)"):
        newest_drop(tmp_path, "erp", "_SUCCESS")


def test_a_matching_drop_passes_and_announces_its_rows(tmp_path: Path) -> None:
    folder = drop(tmp_path / "d")
    marker = write_marker(folder, {"prices.csv": 1})
    listed = json.loads(marker.read_text())["files"]["prices.csv"]
    assert listed["sha256"] == hashlib.sha256(PRICES.encode()).hexdigest()
    assert listed["bytes"] == len(PRICES.encode())
    assert verify_drop(folder, "manifest.json") == {"prices.csv": 1}
    assert announced_rows(folder, "manifest.json") == {"prices.csv": 1}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "prices.csv").write_text(PRICES[:-5] + "\n"), "bytes, the ready marker"),
        (lambda f: (f / "prices.csv").write_text(PRICES.replace("123", "321")), "sha256"),
        (lambda f: (f / "prices.csv").unlink(), "listed in the ready marker .* but missing"),
        (lambda f: (f / "stock.csv").write_text("sku\n"), "stock.csv not listed"),
    ],
    ids=["cut-off", "changed", "missing", "unlisted"],
)
def test_a_drop_that_does_not_match_its_marker_fails(
    tmp_path: Path, damage: object, message: str
) -> None:
    folder = drop(tmp_path / "d")
    write_marker(folder, {"prices.csv": 1})
    damage(folder)  # type: ignore[operator]
    with pytest.raises(DropError, match=message):
        verify_drop(folder, "manifest.json")


def test_a_presence_only_marker_is_not_verified(tmp_path: Path) -> None:
    folder = drop(tmp_path / "d")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")
    assert verify_drop(folder, "_SUCCESS") is None
    assert verify_drop(folder, None) is None


def test_a_json_marker_of_another_shape_is_refused(tmp_path: Path) -> None:
    folder = drop(tmp_path / "d")
    (folder / "manifest.json").write_text('{"prices.csv": "ok"}', encoding="utf-8")
    with pytest.raises(DropError, match="not a ready marker"):
        verify_drop(folder, "manifest.json")


def test_rows_read_must_match_the_announced_rows(tmp_path: Path) -> None:
    check_rows(tmp_path, {"prices.csv": 3}, {"prices.csv": 3, "stock.csv": 9})
    check_rows(tmp_path, None, {"prices.csv": 3})
    with pytest.raises(DropError, match=r"prices\.csv: 2 rows read, the ready marker says 3"):
        check_rows(tmp_path, {"prices.csv": 3}, {"prices.csv": 2})
