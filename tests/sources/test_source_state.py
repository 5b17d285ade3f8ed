"""A source state's key follows the snapshot's contents and the settings it is read with; a
stored state reads back as stored, whole or not at all."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import contracts
import sources
from contracts import folders
from sources.source_state import KEPT, STALE_SECONDS, load_state, save_state, state_key

CODE = (contracts, sources)
SETTINGS = {"scopes": ["ecommerce"], "attributes": frozenset({"name", "color"})}


def export(folder: Path, products: str = '{"identifier": "A"}\n') -> Path:
    folder.mkdir(parents=True)
    (folder / "products.jsonl").write_text(products, encoding="utf-8")
    (folder / "attributes.jsonl").write_text('{"code": "name"}\n', encoding="utf-8")
    return folder


def test_the_key_follows_contents_not_names_or_times(tmp_path: Path) -> None:
    key = state_key(export(tmp_path / "monday"), SETTINGS, CODE)
    tuesday = export(tmp_path / "tuesday")
    os.utime(tuesday / "products.jsonl", (0, 0))
    assert state_key(tuesday, SETTINGS, CODE) == key
    changed = export(tmp_path / "wednesday", '{"identifier": "B"}\n')
    assert state_key(changed, SETTINGS, CODE) != key
    (tuesday / "product_models.jsonl").write_text("", encoding="utf-8")
    assert state_key(tuesday, SETTINGS, CODE) != key


def test_verified_digests_stand_for_the_files_they_name(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    marked = {"products.jsonl": "ab" * 32}
    key = state_key(folder, SETTINGS, CODE, marked)
    (folder / "products.jsonl").write_text("not read again", encoding="utf-8")
    assert state_key(folder, SETTINGS, CODE, marked) == key
    assert state_key(folder, SETTINGS, CODE, {"products.jsonl": "cd" * 32}) != key
    (folder / "attributes.jsonl").write_text('{"code": "size"}\n', encoding="utf-8")
    assert state_key(folder, SETTINGS, CODE, marked) != key


def test_the_key_follows_the_settings_and_the_code(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    key = state_key(folder, SETTINGS, CODE)
    assert state_key(folder, {**SETTINGS, "attributes": frozenset({"color", "name"})}, CODE) == key
    assert state_key(folder, {**SETTINGS, "scopes": ["print"]}, CODE) != key
    assert state_key(folder, SETTINGS, (contracts,)) != key
    with pytest.raises(TypeError, match="cannot be part of a state key"):
        state_key(folder, {"path": Path("x")}, CODE)


def test_a_state_reads_back_as_stored(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"], "attr.name": ["Ä"]})}
    save_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    state = load_state(tmp_path, "k1")
    assert state is not None
    assert state.rows_read == {"products.jsonl": 1}
    assert_frame_equal(state.frames["pim_master_data"], frames["pim_master_data"])
    assert load_state(tmp_path, "k2") is None


def test_a_damaged_state_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    save_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    (tmp_path / "k1" / "rows_read.json").write_text("{", encoding="utf-8")
    assert load_state(tmp_path, "k1") is None
    save_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    assert load_state(tmp_path, "k1") is not None


def test_only_the_newest_states_stay_and_stale_partials_go(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    leftover = tmp_path / ".k0.0123456789ab.partial"
    leftover.mkdir()
    old = time.time() - STALE_SECONDS - 60
    os.utime(leftover, (old, old))
    for index in range(KEPT + 2):
        save_state(tmp_path, f"k{index}", frames, {})
        stamp = time.time() - 1000 + index
        os.utime(tmp_path / f"k{index}", (stamp, stamp))
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == [f"k{i}" for i in range(2, KEPT + 2)]


def test_a_second_writer_of_one_key_leaves_the_first_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    save_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "k1", other)
    move = folders.move_folder

    def racing(source: Path, target: Path) -> Path:
        """The other run renames its copy into place just before this one does."""
        other.rename(target)
        return move(source, target)

    monkeypatch.setattr(folders, "move_folder", racing)
    save_state(tmp_path, "k1", frames, {"products.jsonl": 2})
    state = load_state(tmp_path, "k1")
    assert state is not None
    assert state.rows_read == {"products.jsonl": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1"]
