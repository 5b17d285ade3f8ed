"""The PIM state's key follows the export's contents and what the channels need of it; a
stored state reads back as stored, whole or not at all."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts import folders
from golden.master_data import MasterNeeds
from golden.pim_state import (
    KEPT,
    STALE_SECONDS,
    load_pim_state,
    pim_state_key,
    save_pim_state,
)

NEEDS = MasterNeeds(
    locales=("de_DE",),
    trees=("master",),
    attributes=frozenset({"name", "color"}),
    image_role=None,
    media_base_url="https://media.example.com/",
)


def export(folder: Path, products: str = '{"identifier": "A"}\n') -> Path:
    folder.mkdir(parents=True)
    (folder / "products.jsonl").write_text(products, encoding="utf-8")
    (folder / "attributes.jsonl").write_text('{"code": "name"}\n', encoding="utf-8")
    return folder


def test_the_key_follows_contents_not_names_or_times(tmp_path: Path) -> None:
    key = pim_state_key(export(tmp_path / "monday"), ("ecommerce",), NEEDS)
    tuesday = export(tmp_path / "tuesday")
    os.utime(tuesday / "products.jsonl", (0, 0))
    assert pim_state_key(tuesday, ("ecommerce",), NEEDS) == key
    changed = export(tmp_path / "wednesday", '{"identifier": "B"}\n')
    assert pim_state_key(changed, ("ecommerce",), NEEDS) != key
    (tuesday / "product_models.jsonl").write_text("", encoding="utf-8")
    assert pim_state_key(tuesday, ("ecommerce",), NEEDS) != key


def test_verified_digests_stand_for_the_files_they_name(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    marked = {"products.jsonl": "ab" * 32}
    key = pim_state_key(folder, ("ecommerce",), NEEDS, marked)
    (folder / "products.jsonl").write_text("not read again", encoding="utf-8")
    assert pim_state_key(folder, ("ecommerce",), NEEDS, marked) == key
    assert pim_state_key(folder, ("ecommerce",), NEEDS, {"products.jsonl": "cd" * 32}) != key
    (folder / "attributes.jsonl").write_text('{"code": "size"}\n', encoding="utf-8")
    assert pim_state_key(folder, ("ecommerce",), NEEDS, marked) != key


def test_the_key_follows_what_the_channels_need(tmp_path: Path) -> None:
    folder = export(tmp_path / "export")
    key = pim_state_key(folder, ("ecommerce",), NEEDS)
    more = MasterNeeds(**{**NEEDS.__dict__, "attributes": NEEDS.attributes | {"size"}})
    assert pim_state_key(folder, ("ecommerce",), more) != key
    assert pim_state_key(folder, ("print",), NEEDS) != key
    assert pim_state_key(folder, ("ecommerce",), NEEDS) == key


def test_a_state_reads_back_as_stored(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"], "attr.name": ["Ä"]})}
    save_pim_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    state = load_pim_state(tmp_path, "k1")
    assert state is not None
    assert state.rows_read == {"products.jsonl": 1}
    assert_frame_equal(state.frames["pim_master_data"], frames["pim_master_data"])
    assert load_pim_state(tmp_path, "k2") is None


def test_a_damaged_state_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    save_pim_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    (tmp_path / "k1" / "rows_read.json").write_text("{", encoding="utf-8")
    assert load_pim_state(tmp_path, "k1") is None
    save_pim_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    assert load_pim_state(tmp_path, "k1") is not None


def test_only_the_newest_states_stay_and_stale_partials_go(tmp_path: Path) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    leftover = tmp_path / ".k0.0123456789ab.partial"
    leftover.mkdir()
    old = time.time() - STALE_SECONDS - 60
    os.utime(leftover, (old, old))
    for index in range(KEPT + 2):
        save_pim_state(tmp_path, f"k{index}", frames, {})
        stamp = time.time() - 1000 + index
        os.utime(tmp_path / f"k{index}", (stamp, stamp))
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == [f"k{i}" for i in range(2, KEPT + 2)]


def test_a_second_writer_of_one_key_leaves_the_first_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = {"pim_master_data": pl.DataFrame({"sku": ["A"]})}
    save_pim_state(tmp_path, "k1", frames, {"products.jsonl": 1})
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "k1", other)
    move = folders.move_folder

    def racing(source: Path, target: Path) -> Path:
        """The other run renames its copy into place just before this one does."""
        other.rename(target)
        return move(source, target)

    monkeypatch.setattr(folders, "move_folder", racing)
    save_pim_state(tmp_path, "k1", frames, {"products.jsonl": 2})
    state = load_pim_state(tmp_path, "k1")
    assert state is not None
    assert state.rows_read == {"products.jsonl": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k1"]
